"""The language layer measured: risk recall and false alarms, cue recall, time per message.

Run: python bench/language.py [--split test|dev|train] [--rounds N]. Prints figures; asserts
nothing. Figures come from the corpus in content/<locale>/corpus/ (the test split is frozen and
never tuned on) and the analyzer as shipped: patterns and model together.
Targets (issue 7): crisis recall 100% on the test split with at most 5% false alarms on
near-misses; each cue at least 90% recall with at most 3% Four-Horsemen cues on kind lines;
p99 under 1 ms per message.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from dialogue.content import Content
from dialogue.language import Analyzer, normalize
from dialogue.language.evaluate import (
    crisis_examples,
    crisis_report,
    cue_examples,
    cue_report,
)
from dialogue.language.model import features
from dialogue.language.risk import KINDS, LABELS


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def risk_figures(analyzer: Analyzer, content: Content, split: str) -> None:
    """Per label and per answer: caught (acted or asked), right answer first, acted at once."""
    loc = content.locale("en")
    report = crisis_report(analyzer, crisis_examples(loc.folder), split)
    print(f"risk, {split} split: caught = acted or asked; right = the answer for its kind led")
    print(f"  {'label':18} {'kind':14} {'n':>4} {'caught':>7} {'right':>7} {'acted':>7}")
    by_kind: dict[str, list[int]] = {k: [0, 0, 0] for k in KINDS}
    for label, (kind, _) in LABELS.items():
        t = report["labels"].get(label)
        if not t:
            continue
        k = by_kind[kind]
        k[0], k[1], k[2] = k[0] + t.total, k[1] + t.caught, k[2] + t.right
        print(f"  {label:18} {kind:14} {t.total:4} {_pct(t.rate(t.caught))} "
              f"{_pct(t.rate(t.right))} {_pct(t.rate(t.sure))}")  # fmt: skip
    total = sum(k[0] for k in by_kind.values())
    caught = sum(k[1] for k in by_kind.values())
    for kind, (n, c, r) in by_kind.items():
        print(
            f"  answer {kind:14} n={n:4} recall {_pct(c / max(1, n))} right {_pct(r / max(1, n))}"
        )
    near = report["near_miss"]
    print(f"  ALL RISK n={total} recall {_pct(caught / max(1, total))}")
    print(
        f"  NEAR-MISSES n={near.total} false alarms {_pct(near.rate(near.caught))} "
        f"(acted {_pct(near.rate(near.sure))}, asked {_pct(near.rate(near.caught - near.sure))})"
    )


def cue_figures(analyzer: Analyzer, content: Content, split: str) -> None:
    """Per cue: recall; Four-Horsemen cues on kind lines."""
    loc = content.locale("en")
    report = cue_report(analyzer, cue_examples(loc.folder), split)
    print(f"cues, {split} split")
    for cue, t in sorted(report["cues"].items()):
        print(f"  {cue:15} n={t.total:4} recall {_pct(t.rate(t.caught))}")
    k = report["kind_lines"]
    print(f"  KIND LINES n={k.total} with a Four-Horsemen cue {_pct(k.rate(k.caught))}")


def timing(analyzer: Analyzer, content: Content, rounds: int) -> None:
    """Analysis time per message over every corpus line, caches cleared before each round."""
    loc = content.locale("en")
    texts = [e.text for e in crisis_examples(loc.folder) + cue_examples(loc.folder)]
    samples: list[float] = []
    for _ in range(rounds):
        analyzer.folder.fold.cache_clear()
        analyzer.folder.stems.cache_clear()
        normalize.cache_clear()
        features.cache_clear()
        gc.collect()
        for text in texts:
            t0 = time.perf_counter()
            analyzer.analyze(text)
            samples.append(time.perf_counter() - t0)
    samples.sort()
    p50 = statistics.median(samples) * 1e6
    p99 = samples[int(len(samples) * 0.99)] * 1e6
    print(
        f"analysis time per message ({len(texts)} messages x {rounds} rounds, caches cleared "
        f"each round): p50 {p50:.0f} us, p99 {p99:.0f} us, max {samples[-1] * 1e6:.0f} us"
    )


def main() -> None:
    """Print every figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", default="test", choices=("train", "dev", "test"))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    content = Content()
    analyzer = Analyzer(content.locale("en").data)
    risk_figures(analyzer, content, args.split)
    cue_figures(analyzer, content, args.split)
    timing(analyzer, content, args.rounds)


if __name__ == "__main__":
    main()
