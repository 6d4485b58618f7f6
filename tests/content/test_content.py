"""The content check over every locale, and proof that it catches each kind of mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest
import yaml

from dialogue.check import check
from dialogue.content import Content, ContentError, check_markup, content_root, to_plain


def test_every_locale_passes(content: Content) -> None:
    assert check(content) == []


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped content, with a second locale."""
    root = tmp_path / "content"
    shutil.copytree(content_root(), root)
    shutil.copytree(root / "en", root / "xx")
    return root


def edit(path: Path, change: dict) -> None:
    data = yaml.safe_load(path.read_text())
    for key, value in change.items():
        node = data
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        if value is None:
            del node[last]
        else:
            node[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        ("conflict.yaml", {"my_part": None}, "no text 'conflict.my_part'"),
        ("conflict.yaml", {"my_part": "Hi {{ nobody }}"}, "unknown variables ['nobody']"),
        ("conflict.yaml", {"my_part": "Hi {{ plan.nope }}"}, "does not render"),
        ("conflict.yaml", {"my_part": "<b>open"}, "never closed"),
        ("conflict.yaml", {"my_part": "<div>x</div>"}, "tag <div> is not allowed"),
        ("conflict.yaml", {"my_part": "{% for i in range(900) %}{{ them }}{% endfor %}"}, "> 4096"),
        (
            "labels.yaml",
            {"emotion.anger": "A label that is far too long to show"},
            "label emotion.anger",
        ),
        ("labels.yaml", {"move.hold": None}, "no label 'move.hold'"),
        (
            "labels.yaml",
            {"move.a_very_long_button_identifier_that_goes_on_and_on_past_sixty": "x"},
            "over 64 bytes",
        ),
        ("accept.yaml", {"shame": None}, "no text 'accept.shame'"),
        (
            "onboarding.yaml",
            {"tz": "{% if time %}At {{ time }}: {% endif %}where are you?"},
            "onboarding.tz[0]: starts in lowercase",
        ),
        ("persona.yaml", {"teen.wary": None}, "rehearsal needs text 'persona.teen.wary'"),
        ("persona.yaml", {"baby.escalates": ["x"]}, "'persona.baby.escalates' is never said"),
    ],
)
def test_each_mistake_is_named(copy: Path, file: str, change: dict, expected: str) -> None:
    edit(copy / "xx" / file, change)
    problems = check(Content(copy))
    assert any(expected in p and p.startswith("xx") for p in problems), problems


def test_a_key_missing_in_another_locale_is_named(copy: Path) -> None:
    edit(copy / "en" / "common.yaml", {"brand_new": "Only in English."})
    assert "xx: no text 'common.brand_new' (in en)" in check(Content(copy))


def test_a_syntax_error_stops_loading(copy: Path) -> None:
    (copy / "xx" / "common.yaml").write_text("stale: '{% if %}'\n")
    with pytest.raises(ContentError, match=r"common\.stale"):
        Content(copy)


def test_a_bad_pattern_is_named(copy: Path) -> None:
    edit(copy / "xx" / "data" / "cues.yaml", {"warmth": ["(unclosed"]})
    assert any("cues.warmth" in p for p in check(Content(copy)))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"labels.self_harm.sure": ["(kill myself"]}, "crisis.self_harm.sure[0]"),
        ({"labels.self_harm.ask": ["<nolist> myself"]}, "no word list <nolist>"),
        ({"labels.made_up": {"sure": ["x"]}}, "unknown labels"),
        ({"labels.burden": None}, "lacks labels"),
    ],
)
def test_each_risk_pattern_mistake_is_named(copy: Path, change: dict, expected: str) -> None:
    edit(copy / "xx" / "data" / "crisis.yaml", change)
    problems = check(Content(copy))
    assert any(expected in p and p.startswith("xx") for p in problems), problems


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("train\tself_harm\n", "expected split<TAB>labels<TAB>text"),
        ("later\tself_harm\tsome words\n", "unknown split"),
        ("train\tsad_thoughts\tsome words\n", "unknown labels"),
        ("test\tnone\tthis traffic is killing me lol\n", "the same text as"),
    ],
)
def test_each_corpus_mistake_is_named(copy: Path, line: str, expected: str) -> None:
    path = copy / "xx" / "corpus" / "crisis_zz.tsv"
    existing = (copy / "xx" / "corpus" / "crisis_near_miss.tsv").read_text().splitlines()[0]
    text = line if "killing me lol" not in line else existing + "\n"
    path.write_text(text)
    problems = check(Content(copy))
    assert any(expected in p and p.startswith("xx/corpus") for p in problems), problems


def test_a_thin_corpus_is_named(copy: Path) -> None:
    for path in (copy / "xx" / "corpus").glob("crisis_*.tsv"):
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines[: len(lines) // 10]) + "\n")
    problems = check(Content(copy))
    assert any("risk lines" in p and p.startswith("xx/corpus") for p in problems), problems


def test_plain_text_and_markup_helpers() -> None:
    assert to_plain('<b>Hi</b> &amp; <a href="https://x.org">x</a>') == "Hi & x (https://x.org)"
    assert check_markup("<b>fine</b> &lt;") == []
    assert check_markup("a & b") != []


def test_a_text_kept_ready_is_what_jinja_would_render(content: Content) -> None:
    """Texts without Jinja syntax skip the engine: each must equal Jinja's own rendering."""
    loc = content.locale("en")
    ready = [(k, i, t) for k, ts in loc.static.items() for i, t in enumerate(ts) if t is not None]
    assert len(ready) > 100  # the fast path is taken, not just defined
    for key, i, text in ready:
        assert loc.templates[key][i].render({}).strip() == text, key
    dynamic = [k for k, ts in loc.static.items() if None in ts]
    assert "rehearsal.intro" in dynamic  # a text with variables still goes through Jinja


def test_a_renamed_text_that_a_state_says_is_named(copy: Path) -> None:
    """Renaming onboarding's `done:` used to pass and the coach silently skipped the line."""
    path = copy / "xx" / "onboarding.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["finished"] = raw.pop("done")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    assert any("onboarding.done" in p and "no text" in p for p in check(Content(copy)))


def test_every_syntax_error_is_named_in_one_run(copy: Path) -> None:
    (copy / "xx" / "common.yaml").write_text("one: '{% if %}'\ntwo: '{{ ok }'\nthree: fine\n")
    (copy / "xx" / "menu.yaml").write_text("broken: '{% for %}'\n")
    with pytest.raises(ContentError) as err:
        Content(copy)
    lines = str(err.value).splitlines()
    assert [ln.split(":")[0] for ln in lines] == [
        "xx/common.one",
        "xx/common.two",
        "xx/menu.broken",
    ]


def test_every_text_renders_as_jinja_itself_would(content: Content) -> None:
    """render_text skips Jinja's copy of its globals: each text must come out the same."""
    from dialogue.check import samples  # noqa: PLC0415

    loc = content.locale("en")
    contexts = samples(loc)[:2] + samples(loc)[-1:]
    compared = 0
    for key, templates in loc.templates.items():
        for n, template in enumerate(templates):
            for ctx in contexts:
                try:
                    expected = template.render(ctx).strip()
                except (jinja2.TemplateError, ContentError, KeyError, TypeError):
                    continue  # a context this text was not written for
                assert loc.render_text(key, ctx, n) == expected, key
                compared += 1
    assert compared > 1000


def test_a_line_ending_in_an_include_keeps_its_line_break(content: Content) -> None:
    """trim_blocks eats the newline after a tag; an include that ends a line must not."""
    loc = content.locale("en")
    for view in (loc, loc.channel("console")):
        assert "\n\n/start" in view.render_text("menu.help", {})
        assert "\n\n<b>Your control</b>" in view.render_text("menu.privacy", {})
