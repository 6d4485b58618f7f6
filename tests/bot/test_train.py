"""`repair-coach train`: reproducible, blind to the frozen test split, and what ships."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from dialogue.content import Content, content_root
from dialogue.language import Analyzer


def _locale_copy(tmp: Path, drop_test: bool = False) -> Path:
    root = tmp / "content"
    shutil.copytree(content_root() / "en", root / "en")
    shutil.rmtree(root / "en" / "model")
    if drop_test:
        for path in (root / "en" / "corpus").glob("*.tsv"):
            kept = [x for x in path.read_text().splitlines() if not x.startswith("test\t")]
            path.write_text("\n".join(kept) + "\n")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The model folders trained from the shipped corpus, and from it without its test split."""
    full = _locale_copy(tmp_path_factory.mktemp("full"))
    blind = _locale_copy(tmp_path_factory.mktemp("blind"), drop_test=True)
    for root in (full, blind):
        assert main(["train", "--dir", str(root), "--locale", "en"]) == 0
    return full / "en" / "model", blind / "en" / "model"


def test_training_reproduces_the_shipped_weights(trained: tuple[Path, Path]) -> None:
    full, _ = trained
    shipped = content_root() / "en" / "model"
    for name in ("risk.json", "cues.json"):
        assert (full / name).read_bytes() == (shipped / name).read_bytes(), name


def test_the_test_split_never_reaches_training(trained: tuple[Path, Path]) -> None:
    full, blind = trained
    for name in ("risk.json", "cues.json"):
        assert (full / name).read_bytes() == (blind / name).read_bytes(), name


def test_trained_weights_load_and_run(trained: tuple[Path, Path]) -> None:
    full, _ = trained
    root = full.parent.parent
    lead = Analyzer(Content(root).locale("en").data).analyze("i want to end my life").lead
    assert lead is not None and lead.sure
