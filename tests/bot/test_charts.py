"""The /progress picture: counts never below zero, weeks labelled as the engine gave them."""

from __future__ import annotations

from typing import Any

import pytest

from bot import charts

LABELS = {w: w.title() for w in ("title", "ruptures", "repairs", "days", "count", "week")}


def drawn(monkeypatch: pytest.MonkeyPatch, figures: dict[str, Any]) -> Any:
    """Draw the picture and keep its figure to look at."""
    kept: list[Any] = []
    monkeypatch.setattr(charts.plt, "close", kept.append)
    png = charts.progress_png(figures, LABELS)
    assert png.startswith(b"\x89PNG")
    return kept[0]


def figures(ruptures: list[int], labels: list[str] | None = None) -> dict[str, Any]:
    weeks = [f"2026-10-{d:02d}" for d in (5, 12, 19, 26)]
    out = {"weeks": weeks, "ruptures": ruptures, "repairs": [0] * 4,
           "days_to_repair": [None] * 4, "reading": "first"}  # fmt: skip
    return {**out, "week_labels": labels} if labels else out


def test_the_count_axis_starts_at_zero_even_with_no_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    fig = drawn(monkeypatch, figures([0, 0, 0, 0]))
    try:
        low, high = fig.axes[0].get_ylim()
        assert low == 0 and high >= 1
    finally:
        monkeypatch.undo()
        charts.plt.close(fig)


def test_weeks_are_labelled_with_the_engines_words(monkeypatch: pytest.MonkeyPatch) -> None:
    fig = drawn(monkeypatch, figures([1, 0, 2, 3], ["5 oct", "12 oct", "19 oct", "26 oct"]))
    try:
        ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
        assert ticks == ["5 oct", "12 oct", "19 oct", "26 oct"]
        assert fig.axes[0].get_ylim()[0] == 0
    finally:
        monkeypatch.undo()
        charts.plt.close(fig)
