"""Load content/, compile every template once, render replies with StrictUndefined."""

from __future__ import annotations

import copy
import html
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
import yaml

from dialogue.replies import Reply

CHILD_RELS = ("baby", "toddler", "child", "teen")
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "blockquote", "tg-spoiler", "span"}
)  # fmt: skip


class ContentError(Exception):
    """The content folder is broken: unreadable YAML, a bad template, a missing key."""


def content_root() -> Path:
    """Where the words live: $REPAIR_COACH_CONTENT_DIR, the wheel's copy, or the checkout's."""
    env = os.environ.get("REPAIR_COACH_CONTENT_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    shipped = here / "_content"
    return shipped if shipped.is_dir() else here.parent / "content"


@dataclass(frozen=True)
class Rendered:
    """A reply made concrete: Telegram HTML, labelled button rows, and plain text on demand."""

    html: str
    buttons: tuple[tuple[tuple[str, str], ...], ...]  # rows of (id, label)
    edit: bool = False
    token: str = ""

    @cached_property
    def text(self) -> str:
        """The same message as plain terminal text."""
        return to_plain(self.html)


class Locale:
    """One locale's compiled templates, labels and word lists."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.templates: dict[str, list[jinja2.Template]] = {}
        self.sources: dict[str, list[str]] = {}
        # A variant with no Jinja syntax renders to its own text: kept ready, it skips Jinja's
        # per-render context (half the texts of a rehearsal turn are like this).
        self.static: dict[str, list[str | None]] = {}
        self.labels: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.views: dict[str, Locale] = {}  # this locale as each channel says it (channel())
        self.env = jinja2.Environment(
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            loader=jinja2.FunctionLoader(self._source),  # {% include "cards.plan" %}
        )
        self.env.filters["label"] = self.label
        # A quoted phrase of the user's ends with a full stop, unless it was cut ("…").
        self.env.filters["closed"] = lambda text: text if str(text).endswith("…") else f"{text}."
        self.env.filters["labels"] = lambda ids, group: [self.label(f"{group}.{i}") for i in ids]
        errors: list[str] = []  # every broken file and text, not only the first
        for path in sorted(folder.glob("*.yaml")):
            try:
                self._load_texts(path, errors)
            except ContentError as err:
                errors.append(str(err))
        if errors:
            raise ContentError("\n".join(errors))
        for path in sorted((folder / "data").glob("*.yaml")):
            self.data[path.stem] = _read_yaml(path)
        self.data["models"] = {p.stem: _read_json(p) for p in sorted(folder.glob("model/*.json"))}
        self.folder = folder

    def _source(self, key: str) -> str | None:
        variants = self.sources.get(key)
        return variants[0].strip() if variants else None

    def _load_texts(self, path: Path, errors: list[str]) -> None:
        raw = _read_yaml(path)
        if path.stem == "labels":
            for group, items in raw.items():
                for key, label in items.items():
                    self.labels[f"{group}.{key}"] = str(label)
            return
        for key, entry in _flatten(path.stem, raw):
            variants = entry if isinstance(entry, list) else [entry]
            self.sources[key] = [str(v) for v in variants]
            try:
                self.templates[key] = [self.env.from_string(str(v).strip()) for v in variants]
            except jinja2.TemplateSyntaxError as err:
                errors.append(f"{self.name}/{key}: {err.message} (line {err.lineno})")
                continue
            self.static[key] = [None if _JINJA.search(s) else s.strip() for s in self.sources[key]]

    def label(self, key: str) -> str:
        """A button or list label by key; a missing one is an error, never silent."""
        try:
            return self.labels[key]
        except KeyError:
            raise ContentError(f"{self.name}: no label {key!r}") from None

    def channel(self, name: str) -> Locale:
        """This locale as one channel says it: `<name>.over.<key>` in place of <key>."""
        if not name:
            return self
        if name not in self.views:
            self.views[name] = _channel_view(self, name)
        return self.views[name]

    def render_text(self, key: str, variables: dict[str, Any], variant: int = 0) -> str:
        """Render one text's chosen variant to Telegram HTML."""
        try:
            options = self.templates[key]
        except KeyError:
            raise ContentError(f"{self.name}: no text {key!r}") from None
        ready = self.static[key][variant % len(options)]
        if ready is not None:
            return ready
        template = options[variant % len(options)]
        try:
            # Template.render without its copy of Jinja's globals into every context (a third of
            # a short text's render): content uses none of them (range, dict, namespace...), and
            # a test renders every text both ways and compares.
            ctx = template.new_context(variables, shared=True)
            return "".join(template.root_render_func(ctx)).strip()
        except jinja2.UndefinedError as err:
            raise ContentError(f"{self.name}/{key}: {err.message}") from err


_JINJA = re.compile(r"\{[{%#]")  # where Jinja syntax starts; without one a text is static
_INCLUDE = re.compile(r"\{%-?\s*include\b")


def _channel_view(loc: Locale, channel: str) -> Locale:
    """A copy of `loc` whose overridden texts are the channel's versions (content/README.md).

    Texts that include others are compiled again, so an override reaches them too; the labels,
    data and every other compiled text are shared.
    """
    prefix = f"{channel}.over."
    swaps = {k.removeprefix(prefix): k for k in loc.sources if k.startswith(prefix)}
    swaps = {key: over for key, over in swaps.items() if key in loc.sources}
    if not swaps:
        return loc
    view = copy.copy(loc)
    view.views = {}
    view.sources = {**loc.sources, **{key: loc.sources[over] for key, over in swaps.items()}}
    view.env = loc.env.overlay(loader=jinja2.FunctionLoader(view._source))
    again = [k for k, v in view.sources.items() if k in swaps or any(map(_INCLUDE.search, v))]
    view.templates = {**loc.templates}
    for key in again:
        view.templates[key] = [view.env.from_string(v.strip()) for v in view.sources[key]]
    view.static = {**loc.static, **{key: loc.static[over] for key, over in swaps.items()}}
    return view


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except yaml.YAMLError as err:
        raise ContentError(f"{path}: {err}") from err


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ContentError(f"{path}: {err}") from err


def _flatten(prefix: str, node: Any) -> list[tuple[str, Any]]:
    """Nested mappings become dotted keys; a string or a list of strings is a text."""
    if isinstance(node, str | list):
        return [(prefix, node)]
    if isinstance(node, dict):
        if set(node) == {"text"}:
            return [(prefix, node["text"])]
        out: list[tuple[str, Any]] = []
        for key, child in node.items():
            out.extend(_flatten(f"{prefix}.{key}", child))
        return out
    raise ContentError(f"{prefix}: a text must be a string or a list of strings")


class Content:
    """Every locale under one root; renders Replies."""

    def __init__(self, root: Path | None = None, default_locale: str = "en") -> None:
        self.root = root or content_root()
        if not self.root.is_dir():
            raise ContentError(f"no content folder at {self.root}")
        self.locales = {
            p.name: Locale(p.name, p) for p in sorted(self.root.iterdir()) if p.is_dir()
        }
        if default_locale not in self.locales:
            raise ContentError(f"no content for the default locale {default_locale!r}")
        self.default = default_locale

    def locale(self, name: str) -> Locale:
        """The named locale, or the default one."""
        return self.locales.get(name) or self.locales[self.default]

    def render(self, reply: Reply, locale: str, channel: str = "") -> Rendered:
        """Render a reply: text through its template (the channel's version where content has
        one), labels from the label table."""
        loc = self.locale(locale).channel(channel)
        variables = dict(reply.vars)
        if "rel" in variables and "them" not in variables:
            them = variables.get("name") or loc.label(f"them.{variables['rel']}")
            variables["them"] = them
            variables["Them"] = them[:1].upper() + them[1:]
            # The child a safety text speaks of: never the partner's name (CHILD_RELS).
            rel = variables["rel"]
            child = variables.get("name") if rel in CHILD_RELS else ""
            variables["child"] = child or loc.label(f"them.{rel if rel in CHILD_RELS else 'child'}")
        body = loc.render_text(reply.key, variables, reply.variant)
        tick = loc.label("ui.tick")
        buttons = tuple(
            tuple((b.id, (tick + " " if b.ticked else "") + loc.label(b.label)) for b in row)
            for row in reply.buttons
        )
        return Rendered(body, buttons, reply.edit, reply.token)


_LINK = re.compile(r'<a\s[^>]*href="([^"]*)"[^>]*>(.*?)</a>', re.S)
_TAG = re.compile(r"<[^>]*>")


def _link(m: re.Match[str]) -> str:
    href, label = m.group(1), m.group(2)
    return label if href.startswith("tg:") or href == label else f"{label} ({href})"


def to_plain(markup: str) -> str:
    """Plain text of a Telegram-HTML message: tags dropped, links shown, entities decoded."""
    text = _LINK.sub(_link, markup).replace("<blockquote>", "\n")
    text = html.unescape(_TAG.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def check_markup(markup: str) -> list[str]:
    """Problems Telegram would reject in an HTML message: unknown or unbalanced tags."""
    problems: list[str] = []
    stack: list[str] = []
    for m in re.finditer(r"<(/?)([a-zA-Z-]+)[^>]*>", markup):
        closing, tag = m.group(1) == "/", m.group(2).lower()
        if tag not in ALLOWED_TAGS:
            problems.append(f"tag <{tag}> is not allowed")
        elif closing:
            if not stack or stack.pop() != tag:
                problems.append(f"</{tag}> closes nothing open")
        else:
            stack.append(tag)
    problems.extend(f"<{t}> is never closed" for t in stack)
    stray = re.sub(r"<[^>]*>", "", markup)
    if (
        "<" in stray
        or ">" in stray
        or re.search(r"&(?!(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)", stray)
    ):
        problems.append("a bare '<', '>' or '&' outside an entity")
    return problems


def visible_length(markup: str) -> int:
    """Length Telegram counts: after the entities are parsed."""
    return len(html.unescape(re.sub(r"<[^>]*>", "", markup)))
