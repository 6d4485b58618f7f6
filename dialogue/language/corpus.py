"""The labelled corpora in content/<locale>/corpus/: what the nets are trained and measured on.

Each file is tab-separated text, one message a line: `split<TAB>labels<TAB>text`. The split
is `train`, `dev` or `test`; labels are comma-separated (`none` for a message without any).
`crisis_*.tsv` holds risk lines (one label each: risk.LABELS) and near-misses (`none`);
`cues_*.tsv` holds conversation lines labelled with every cue they carry. Lines starting
with "#" are comments. The test split is frozen: it is written once, when a line is added
(`assign_split`), and nothing is ever tuned on it.

Exceptions: CorpusError (a malformed line, an unknown label or split) derives from ValueError.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "dev", "test")


class CorpusError(ValueError):
    """A corpus file is malformed."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message."""

    split: str
    labels: tuple[str, ...]
    text: str
    where: str  # "file:line", for messages about the corpus itself

    @property
    def label(self) -> str:
        """The first (main) label."""
        return self.labels[0]


def assign_split(text: str) -> str:
    """The split of a new line: a stable hash of its text (60% train, 15% dev, 25% test)."""
    bucket = zlib.crc32(text.strip().lower().encode()) % 20
    return "test" if bucket < 5 else "dev" if bucket < 8 else "train"


def read(path: Path, allowed: Iterable[str]) -> list[Example]:
    """The examples of one file, checked against the allowed labels."""
    allowed = set(allowed)
    out: list[Example] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{n}"
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise CorpusError(f"{where}: expected split<TAB>labels<TAB>text")
        split, labels, text = parts
        if split not in SPLITS:
            raise CorpusError(f"{where}: unknown split {split!r}")
        names = tuple(labels.split(","))
        bad = [x for x in names if x not in allowed]
        if bad or not text.strip():
            raise CorpusError(f"{where}: unknown labels {bad}" if bad else f"{where}: no text")
        out.append(Example(split, names, text, where))
    return out


def load(folder: Path, prefix: str, allowed: Iterable[str]) -> list[Example]:
    """Every example of the `<prefix>_*.tsv` / `<prefix>.tsv` files of a corpus folder."""
    allowed = list(allowed)
    out: list[Example] = []
    for path in sorted(folder.glob(f"{prefix}*.tsv")):
        out.extend(read(path, allowed))
    seen: dict[str, str] = {}
    for ex in out:
        key = " ".join(ex.text.lower().split())
        if key in seen:
            raise CorpusError(f"{ex.where}: the same text as {seen[key]}")
        seen[key] = ex.where
    return out
