"""A small linear model read from a shipped JSON file: features in, class probabilities out.

The run time needs no training stack: `features()` turns stems into sparse binary features
(words, word pairs, and the letter fours of longer words, which survive misspellings), and a
model is a table feature -> weight per class plus a bias per class. `bot/train.py` fits the
tables with scikit-learn from the corpus and writes them; both sides call `features()`, so
what was trained is what runs.

Exceptions: ModelError (an unreadable or inconsistent weights file) derives from ValueError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from dialogue.language.text import BOUNDARY

FORMAT = 1
_CHAR_MIN_WORD = 6  # letter fours only for words at least this long (the distinctive ones)


class ModelError(ValueError):
    """A weights file cannot be used: unreadable, another format, or inconsistent."""


def word_features(word: str) -> tuple[str, ...]:
    """The features of one word on its own: the word, and its letter fours if it is long."""
    if len(word) >= _CHAR_MIN_WORD and word.isalpha():
        padded = f"<{word}>"
        return (word, *(f"#{padded[i : i + 4]}" for i in range(len(padded) - 3)))
    return (word,)


@lru_cache(maxsize=256)
def features(stems: str) -> frozenset[str]:
    """Sparse binary features of a stems string (see text.Folder.stems)."""
    out: set[str] = set()
    prev = BOUNDARY
    for word in stems.split():
        if word != BOUNDARY:
            out.update(word_features(word))
            if prev != BOUNDARY:
                out.add(f"{prev} {word}")
        prev = word
    return frozenset(out)


@dataclass(frozen=True)
class LinearModel:
    """Softmax (one label per text) or one-vs-rest sigmoids (several labels per text)."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]  # feature -> ((class index, weight), ...)
    multilabel: bool
    thresholds: dict[str, float]
    meta: dict[str, Any]
    rows: dict[str, int] = field(init=False, repr=False)
    matrix: Any = field(init=False, repr=False)  # one row of class weights per feature
    # word -> the rows of its own features (word_features), kept across messages
    word_rows: dict[str, tuple[int, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rows = {f: i for i, f in enumerate(self.weights)}
        matrix = np.zeros((len(rows) + 1, len(self.classes)), dtype=np.float64)
        for f, pairs in self.weights.items():
            for c, w in pairs:
                matrix[rows[f], c] = w
        matrix[len(rows)] = self.bias  # the last row: the biases, always present
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "word_rows", {})

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a weights file written by `repair-coach train`."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ModelError(f"{path}: {err}") from err
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "model") -> LinearModel:
        """Build from the JSON form."""
        if raw.get("format") != FORMAT:
            raise ModelError(f"{where}: format {raw.get('format')!r}, expected {FORMAT}")
        classes = tuple(raw["classes"])
        scale = float(raw.get("scale", 1.0))
        weights: dict[str, tuple[tuple[int, float], ...]] = {}
        for feature, pairs in raw["weights"].items():
            weights[feature] = tuple((int(i), int(w) / scale) for i, w in pairs)
            if any(not 0 <= i < len(classes) for i, _ in weights[feature]):
                raise ModelError(f"{where}: feature {feature!r} names a class that does not exist")
        bias = tuple(float(b) for b in raw["bias"])
        if len(bias) != len(classes):
            raise ModelError(f"{where}: {len(bias)} biases for {len(classes)} classes")
        return cls(
            classes, bias, weights, bool(raw.get("multilabel")), dict(raw.get("thresholds", {})),
            dict(raw.get("meta", {})),
        )  # fmt: skip

    def scores(self, feats: frozenset[str]) -> Any:
        """Raw class scores (logits) for a set of features, biases included."""
        rows = self.rows
        index = [i for i in map(rows.get, feats) if i is not None]
        index.append(len(rows))
        return self.matrix[index].sum(axis=0)

    def feature_rows(self, stems: str) -> list[int]:
        """The rows of features(stems) this model knows, the biases' row last (what scores
        computes from the features, without building them: each word's own rows are cached)."""
        rows, cache = self.rows, self.word_rows
        found: set[int] = set()
        prev = BOUNDARY
        for word in stems.split():
            if word != BOUNDARY:
                mine = cache.get(word)
                if mine is None:
                    mine = tuple(i for i in map(rows.get, word_features(word)) if i is not None)
                    if len(cache) < 100_000:
                        cache[word] = mine
                found.update(mine)
                if prev != BOUNDARY:
                    pair = rows.get(f"{prev} {word}")
                    if pair is not None:
                        found.add(pair)
            prev = word
        return [*found, len(rows)]

    def probabilities(self, stems: str) -> dict[str, float]:
        """Class -> probability (softmax), or -> independent probability (multilabel)."""
        z = self.matrix[self.feature_rows(stems)].sum(axis=0)
        if self.multilabel:
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        else:
            e = np.exp(z - z.max())
            p = e / e.sum()
        return dict(zip(self.classes, p.tolist(), strict=True))
