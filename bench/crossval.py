"""Honest figures without the test split: k-fold cross-validation over train + dev.

The shipped models are fitted on train + dev, so the dev figures of bench/language.py are
in-sample for the models. Here each fold of train + dev is scored by the whole analyzer
(patterns and models) with models fitted on the other folds only, at the shipped thresholds
(or at the thresholds given). The test split is never read.

Run: python bench/crossval.py [--folds 5] [--misses LABEL_OR_CUE ...] [--max 40]
Prints out-of-fold risk recall per label and near-miss false alarms, cue recall per cue and
Four-Horsemen cues on kind lines; with --misses, the out-of-fold misses of those labels or cues
(and `near` for false alarms, `kind` for Horsemen on kind lines). For pattern writers only.
"""

from __future__ import annotations

import argparse
import zlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bot.train import _cue_dict, _fit_cues, _fit_risk, _risk_dict, as_none
from dialogue.content import Content
from dialogue.language import Analyzer
from dialogue.language.corpus import Example
from dialogue.language.evaluate import HORSEMEN, KIND_CUES, crisis_examples, cue_examples
from dialogue.language.risk import NONE
from dialogue.language.text import Folder


def fold_of(text: str, folds: int) -> int:
    """A stable fold, independent of the train/dev/test hash."""
    return zlib.crc32(b"fold:" + text.strip().lower().encode()) % folds


def out_of_fold(
    data: dict[str, Any], risk_ex: Sequence[Example], cue_ex: Sequence[Example], folds: int,
    *, risk_thresholds: dict[str, float], cue_thresholds: dict[str, float], cues: bool = True,
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:  # fmt: skip
    """Per held-out line: (example, risks found) and (example, cues found). The risk model is
    always fitted with the conversation lines as everyday text, as shipped; `cues=False`
    skips the cue model."""
    assert all(e.split != "test" for e in [*risk_ex, *cue_ex])
    folder = Folder(data.get("language", {}))
    base = {k: v for k, v in data.items() if k != "models"}
    risk_out: dict[str, list[Any]] = defaultdict(list)
    cue_out: dict[str, list[Any]] = defaultdict(list)
    everyday = as_none(cue_ex)
    for k in range(folds):
        fit_r = [e for e in [*risk_ex, *everyday] if fold_of(e.text, folds) != k]
        vec, clf = _fit_risk(folder, fit_r, 4.0)
        risk = _risk_dict(vec, clf, risk_thresholds, {})
        models = {"risk": risk}
        if cues:
            vec, fitted = _fit_cues(folder, [e for e in cue_ex if fold_of(e.text, folds) != k])
            models["cues"] = _cue_dict(vec, fitted, cue_thresholds)
        analyzer = Analyzer({**base, "models": models})
        for e in risk_ex:
            if fold_of(e.text, folds) == k:
                risk_out[e.label].append((e, analyzer.risks(e.text)))
        for e in cue_ex if cues else ():
            if fold_of(e.text, folds) == k:
                cue_out["all"].append((e, set(analyzer.cues(e.text))))
    return risk_out, cue_out


def print_misses(
    names: list[str], most: int, risk_out: dict[str, list[Any]], cue_out: dict[str, list[Any]]
) -> None:
    """The out-of-fold misses of labels or cues; `near` false alarms, `kind` Horsemen."""
    near = risk_out.get(NONE, [])
    for name in names:
        print(f"--- misses: {name}")
        if name in risk_out and name != NONE:
            rows = [e.text for e, r in risk_out[name] if not r]
        elif name == "near":
            rows = [f"{[x.label for x in r]} {e.text}" for e, r in near if r]
        elif name == "kind":
            rows = [f"{sorted(f & set(HORSEMEN))} {e.text}" for e, f in cue_out["all"]
                    if set(e.labels) <= KIND_CUES and f & set(HORSEMEN)]  # fmt: skip
        else:
            rows = [f"{sorted(f)} {e.text}" for e, f in cue_out["all"]
                    if name in e.labels and name not in f]  # fmt: skip
        for row in rows[:most]:
            print("  " + row)


def main() -> None:
    """Print the out-of-fold figures (and misses, when asked)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--misses", nargs="*", default=[])
    ap.add_argument("--max", type=int, default=40)
    ap.add_argument("--risk-only", action="store_true")
    args = ap.parse_args()
    loc = Content().locale("en")
    data = loc.data
    shipped = Analyzer(data)
    risk_th = dict(shipped.risk_net.model.thresholds) if shipped.risk_net.model else {}
    cue_th = dict(shipped.cue_model.thresholds) if shipped.cue_model else {}
    risk_ex = [e for e in crisis_examples(loc.folder) if e.split != "test"]
    cue_ex = [e for e in cue_examples(loc.folder) if e.split != "test"]
    risk_out, cue_out = out_of_fold(
        data, risk_ex, cue_ex, args.folds, risk_thresholds=risk_th, cue_thresholds=cue_th,
        cues=not args.risk_only,
    )  # fmt: skip
    caught = total = 0
    print(f"risk, {args.folds}-fold out-of-fold over train + dev")
    for label, rows in sorted(risk_out.items()):
        if label == NONE:
            continue
        c = sum(bool(r) for _, r in rows)
        caught, total = caught + c, total + len(rows)
        print(f"  {label:18} n={len(rows):4} caught {100 * c / len(rows):5.1f}%")
    near = risk_out.get(NONE, [])
    fa = sum(bool(r) for _, r in near)
    print(f"  ALL RISK n={total} recall {100 * caught / max(1, total):5.1f}%")
    print(f"  NEAR-MISSES n={len(near)} false alarms {100 * fa / max(1, len(near)):5.1f}%")
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    kind = [0, 0]
    for e, found in cue_out["all"]:
        for cue in e.labels:
            if cue != NONE:
                tallies[cue][0] += 1
                tallies[cue][1] += cue in found
        if set(e.labels) <= KIND_CUES:
            kind[0] += 1
            kind[1] += bool(found & set(HORSEMEN))
    if not args.risk_only:
        print("cues, out-of-fold")
        for cue, (n, c) in sorted(tallies.items()):
            print(f"  {cue:15} n={n:4} recall {100 * c / n:5.1f}%")
        print(f"  KIND LINES n={kind[0]} with a Four-Horsemen cue {100 * kind[1] / kind[0]:5.1f}%")
    print_misses(args.misses, args.max, risk_out, cue_out)


if __name__ == "__main__":
    main()
