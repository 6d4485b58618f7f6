"""Recall and false alarms of the analyzer on a corpus split (bench/language.py prints them).

Risk: a line is *caught* when the analyzer acts (sure) or asks (unsure); *right* when the
leading risk needs the line's answer (risk.LABELS). A near-miss is a *false alarm* when the
analyzer acts or asks at all. Cues: recall per cue over the lines labelled with it; false
alarms are Four-Horsemen cues (criticism, contempt, defensiveness, stonewalling) found on
kind lines — lines labelled only with kind cues, or with none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogue.language import corpus
from dialogue.language.analyzer import CUES, Analyzer
from dialogue.language.risk import LABELS, NONE

HORSEMEN = ("criticism", "contempt", "defensiveness", "stonewalling")
KIND_CUES = frozenset(
    {"ownership", "apology", "empathy", "curiosity", "respect_space", "appreciation",
     "gentle_startup", "warmth", "none"}
)  # fmt: skip


def crisis_examples(folder: Path) -> list[corpus.Example]:
    """The risk corpus of a locale folder."""
    return corpus.load(folder / "corpus", "crisis", [*LABELS, NONE])


def cue_examples(folder: Path) -> list[corpus.Example]:
    """The cue corpus of a locale folder."""
    return corpus.load(folder / "corpus", "cues", [*CUES, NONE])


@dataclass
class Tally:
    """Counts for one label or cue."""

    total: int = 0
    caught: int = 0
    right: int = 0
    sure: int = 0
    misses: list[str] = field(default_factory=list)

    def rate(self, n: int) -> float:
        """n as a fraction of the total."""
        return n / self.total if self.total else 0.0


def crisis_report(analyzer: Analyzer, examples: list[corpus.Example], split: str) -> dict[str, Any]:
    """Per label: caught, right answer, sure; for near-misses: false alarms (acted or asked)."""
    labels: dict[str, Tally] = defaultdict(Tally)
    near = Tally()
    for ex in examples:
        if ex.split != split:
            continue
        risks = analyzer.risks(ex.text)
        if ex.label == NONE:
            near.total += 1
            if risks:
                near.caught += 1
                near.sure += any(r.sure for r in risks)
                near.misses.append(ex.text)
            continue
        t = labels[ex.label]
        t.total += 1
        if risks:
            t.caught += 1
            t.sure += risks[0].sure
            t.right += risks[0].kind == LABELS[ex.label][0]
        else:
            t.misses.append(ex.text)
    return {"labels": dict(labels), "near_miss": near}


def cue_report(analyzer: Analyzer, examples: list[corpus.Example], split: str) -> dict[str, Any]:
    """Per cue: recall; on kind lines: how many carry a Four-Horsemen cue."""
    cues: dict[str, Tally] = defaultdict(Tally)
    kind = Tally()
    for ex in examples:
        if ex.split != split:
            continue
        found = set(analyzer.cues(ex.text))
        for cue in ex.labels:
            if cue == NONE:
                continue
            t = cues[cue]
            t.total += 1
            if cue in found:
                t.caught += 1
            else:
                t.misses.append(ex.text)
        if set(ex.labels) <= KIND_CUES:
            kind.total += 1
            if found & set(HORSEMEN):
                kind.caught += 1
                kind.misses.append(f"{sorted(found & set(HORSEMEN))} {ex.text}")
    return {"cues": dict(cues), "kind_lines": kind}
