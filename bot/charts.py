"""The /progress picture: ruptures and repairs per week, and days from rupture to repair."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen: render to bytes

import matplotlib.pyplot as plt

WARM, CALM, INK = "#d9826b", "#6b9ac4", "#3d3d3d"


def _png(fig: Any, axes: tuple[Any, ...], hidden: list[str]) -> bytes:
    """The house style's finish (no box, ink-coloured ticks) and the figure as PNG bytes."""
    for ax in axes:
        ax.spines[hidden].set_visible(False)
        ax.tick_params(colors=INK)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def progress_png(figures: dict[str, Any], labels: dict[str, str]) -> bytes:
    """A PNG of the weekly figures; every word comes from `labels` (content's chart group)."""
    weeks = figures.get("week_labels") or [w[5:] for w in figures["weeks"]]  # "Nov 23"
    x = list(range(len(weeks)))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.2), dpi=110, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    try:
        width = 0.38
        top.bar([i - width / 2 for i in x], figures["ruptures"], width, color=WARM,
                label=labels["ruptures"])  # fmt: skip
        top.bar([i + width / 2 for i in x], figures["repairs"], width, color=CALM,
                label=labels["repairs"])  # fmt: skip
        top.set_ylabel(labels["count"], color=INK)
        top.yaxis.get_major_locator().set_params(integer=True)
        top.set_ylim(0, max(1, *figures["ruptures"], *figures["repairs"]) * 1.15)  # never below 0
        top.legend(frameon=False, loc="upper left")
        top.set_title(labels["title"], color=INK, loc="left", fontsize=12)
        days = figures["days_to_repair"]
        points = [(i, d) for i, d in zip(x, days, strict=True) if d is not None]
        if points:
            bottom.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=CALM)
        bottom.set_ylabel(labels["days"], color=INK)
        bottom.set_ylim(bottom=0)
        bottom.set_xticks(x, weeks)
        bottom.set_xlabel(labels["week"], color=INK)
        return _png(fig, (top, bottom), ["top", "right"])
    finally:
        plt.close(fig)


def rehearsal_png(figures: dict[str, Any], labels: dict[str, str]) -> bytes:
    """A PNG of a rehearsal: the other's arousal (0-10) and openness (0-1) after each turn."""
    arousal, openness = figures["arousal"], figures["openness"]
    x = list(range(len(arousal)))
    fig, top = plt.subplots(figsize=(7, 4), dpi=110)
    try:
        top.plot(x, arousal, marker="o", color=WARM, label=labels["arousal"])
        top.set_ylim(0, 10)
        top.set_ylabel(labels["arousal"], color=WARM)
        right = top.twinx()
        right.plot(x, openness, marker="s", color=CALM, label=labels["openness"])
        right.set_ylim(0, 1)
        right.set_ylabel(labels["openness"], color=CALM)
        top.set_xlabel(labels["turn"], color=INK)
        top.xaxis.get_major_locator().set_params(integer=True)
        top.set_title(labels["rehearsal_title"], color=INK, loc="left", fontsize=12)
        return _png(fig, (top, right), ["top"])  # the right spine is openness's axis
    finally:
        plt.close(fig)
