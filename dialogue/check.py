"""The content check: every key, label, variable and limit, in every locale, or a loud failure."""

from __future__ import annotations

import itertools
import re
from typing import Any

import jinja2
from jinja2 import meta

from dialogue.content import (
    Content,
    ContentError,
    Locale,
    check_markup,
    to_plain,
    visible_length,
)
from dialogue.daily import RELS as RELS_TAGGED
from dialogue.daily import matching
from dialogue.flows import FLOWS
from dialogue.flows.base import GOTO
from dialogue.flows.conflict import sample_plan
from dialogue.flows.journal import PAGE, sample_entries
from dialogue.flows.rehearsal import RAISED
from dialogue.language.analyzer import CUES, Analyzer, LexiconError
from dialogue.language.corpus import SPLITS, CorpusError
from dialogue.language.evaluate import crisis_examples, cue_examples
from dialogue.language.risk import LABELS, NONE
from dialogue.rehearsal.model import BEHAVIOURS, PERSONAS, SITUATIONS, SPEAKING_ONLY
from dialogue.replies import CALLBACK_MAX_BYTES, TOKEN_MAX, VARS, Var, callback_data

_INCLUDED = re.compile(r"""{%-?\s*include\s+["']([^"']+)["']""")
MESSAGE_MAX = 4096  # Telegram's limit on a message's text, after entities are parsed
LABEL_MAX = 32  # what a phone-width inline button shows without cutting


def _values(var: Var, loc: Locale) -> list[Any]:
    """Every value an enum or list variable can take, longest first."""
    if var.group:
        ids = [k.partition(".")[2] for k in loc.labels if k.startswith(var.group + ".")]
        return sorted(ids, key=lambda i: -len(loc.labels[f"{var.group}.{i}"]))
    return list(var.values)


def samples(loc: Locale) -> list[dict[str, Any]]:
    """Contexts covering every enum value once, all at their longest, and one all-empty."""
    enums = {n: _values(v, loc) for n, v in VARS.items() if v.kind == "enum"}
    widest = max(len(vals) for vals in enums.values())
    out = []
    for i in range(widest):
        ctx: dict[str, Any] = {}
        for name, var in VARS.items():
            if var.kind == "str":
                ctx[name] = "W" * var.size
            elif var.kind == "int":
                ctx[name] = var.size if i % 2 == 0 else 1
            elif var.kind == "enum":
                ctx[name] = enums[name][i % len(enums[name])]
            elif var.kind == "list":
                ctx[name] = _values(var, loc)[: var.size]
            elif var.kind == "entries":
                ctx[name] = (sample_entries() * PAGE)[:PAGE]
            elif var.kind == "entry":
                ctx[name] = sample_entries()[i % 3]
            elif var.kind == "prompt":
                keys = list(loc.data.get("prompts", {})) or [""]
                ctx[name] = keys[i % len(keys)]
            else:
                ctx[name] = sample_plan()
        out.append(ctx)
    empty = dict(out[0])
    for name, var in VARS.items():
        if var.optional:
            empty[name] = [] if var.kind == "list" else ""
    empty["count"] = 0
    empty["entries"] = []
    out.append(empty)
    return out


def check_locale(loc: Locale) -> list[str]:
    """Problems in one locale's templates and labels."""
    problems: list[str] = []
    contexts = samples(loc)
    included = {k for src in loc.sources.values() for v in src for k in _INCLUDED.findall(v)}
    included |= {k for k in loc.sources if k.partition(".over.")[2] in included}  # theirs too
    for key, templates in loc.templates.items():
        for n, source in enumerate(loc.sources[key]):
            where = f"{loc.name}/{key}[{n}]"
            used = meta.find_undeclared_variables(loc.env.parse(source))
            unknown = used - set(VARS)
            if unknown:
                problems.append(f"{where}: unknown variables {sorted(unknown)}")
                continue
            problems += _rendered(where, templates[n], contexts, fragment=key in included)
            if not source.strip():
                problems.append(f"{where}: empty text")
    for key, label in loc.labels.items():
        if len(label) > LABEL_MAX:
            problems.append(f"{loc.name}: label {key} is {len(label)} > {LABEL_MAX} characters")
        data = callback_data("z" * TOKEN_MAX, key.partition(".")[2])
        if len(data.encode()) > CALLBACK_MAX_BYTES:
            problems.append(f"{loc.name}: button {key} makes callback data over 64 bytes")
    try:
        Analyzer(loc.data)
    except (LexiconError, KeyError, TypeError) as err:
        problems.append(f"{loc.name}/data: {err}")
    problems += check_corpus(loc)
    return problems


# What a locale's corpus must hold before its figures mean anything (issue 7's floor).
MIN_RISK, MIN_NEAR_MISS, MIN_PER_LABEL, MIN_PER_CUE = 800, 600, 30, 50


def check_corpus(loc: Locale) -> list[str]:
    """The labelled corpus: readable, known labels, no duplicates, enough of every kind."""
    folder = getattr(loc, "folder", None)
    if folder is None or not (folder / "corpus").is_dir():
        return [f"{loc.name}: no corpus/ folder (risk figures cannot be measured)"]
    try:
        risk = crisis_examples(folder)
        cues = cue_examples(folder)
    except CorpusError as err:
        return [f"{loc.name}/corpus: {err}"]
    problems = []
    n_risk = sum(e.label != NONE for e in risk)
    n_near = sum(e.label == NONE for e in risk)
    if n_risk < MIN_RISK or n_near < MIN_NEAR_MISS:
        problems.append(f"{loc.name}/corpus: {n_risk} risk lines and {n_near} near-misses; "
                        f"at least {MIN_RISK} and {MIN_NEAR_MISS} are needed")  # fmt: skip
    for label in (*LABELS, NONE):
        ex = [e for e in risk if e.label == label]
        splits = {e.split for e in ex}
        if len(ex) < MIN_PER_LABEL or splits != set(SPLITS):
            problems.append(
                f"{loc.name}/corpus: label {label} has {len(ex)} lines in splits "
                f"{sorted(splits)}; {MIN_PER_LABEL} across all three are needed"
            )
    for cue in CUES:
        n = sum(cue in e.labels for e in cues)
        if n < MIN_PER_CUE:
            problems.append(f"{loc.name}/corpus: cue {cue} has {n} lines; {MIN_PER_CUE} needed")
    return problems


def _rendered(where: str, template: jinja2.Template, contexts: list[dict[str, Any]], *,
              fragment: bool) -> list[str]:  # fmt: skip
    """One text rendered in every sample context: markup, length, and a lowercase start (a
    fragment that others include may start small, and so may a /command)."""
    problems: list[str] = []
    longest, small = 0, set()
    for ctx in contexts:
        try:
            out = template.render(ctx)
        except (jinja2.TemplateError, ContentError, KeyError, TypeError) as err:
            return [*problems, f"{where}: does not render: {err}"]
        problems.extend(f"{where}: {p}" for p in set(check_markup(out)))
        longest = max(longest, visible_length(out))
        plain = to_plain(out)
        first = next((c for c in plain if c.isalpha()), "")
        if first.islower() and not plain.startswith("/"):
            small.add(first)
    if small and not fragment:
        problems.append(f"{where}: starts in lowercase ({min(small)!r})")
    if longest > MESSAGE_MAX:
        problems.append(f"{where}: can reach {longest} > {MESSAGE_MAX} chars")
    return problems


THEMES = ("attunement", "space", "noticing", "repair", "self_compassion", "appreciation")
PER_THEME = 2  # prompts every relationship must have in every theme (its own or for anyone)
MIN_PROMPTS = 60


def check_prompts(loc: Locale) -> list[str]:
    """The daily prompts: a text for every tag entry and back, known tags, enough of each."""
    tags = loc.data.get("prompts") or {}
    texts = {
        k.removeprefix("daily.prompt.") for k in loc.templates if k.startswith("daily.prompt.")
    }
    where = f"{loc.name}/data/prompts.yaml"
    problems = [f"{where}: {k!r} has no text daily.prompt.{k}" for k in sorted(set(tags) - texts)]
    problems += [f"{loc.name}: daily.prompt.{k} has no tags" for k in sorted(texts - set(tags))]
    for key, tag in tags.items():
        rels = tag.get("for") if isinstance(tag, dict) else None
        if not rels or set(rels) - {*RELS_TAGGED, "anyone"} or tag.get("theme") not in THEMES:
            problems.append(f"{where}: {key!r} needs `for` in {RELS_TAGGED} or anyone, and a "
                            f"theme in {THEMES}")  # fmt: skip
    if len(tags) < MIN_PROMPTS:
        problems.append(f"{where}: {len(tags)} prompts; at least {MIN_PROMPTS} are needed")
    for rel in RELS_TAGGED:
        for theme in THEMES:
            n = sum(1 for k in matching(tags, rel) if tags[k].get("theme") == theme)
            if n < PER_THEME:
                problems.append(f"{where}: {rel} has {n} {theme} prompts; {PER_THEME} needed")
    return problems


def check_flows(loc: Locale) -> list[str]:
    """Every state says a key that exists; every button has a label."""
    problems: list[str] = []
    for flow in FLOWS:
        for step in flow.steps:
            where = f"{loc.name}: state {flow.name}.{step.name}"
            if callable(step.key):
                keys = list(step.keys) or [f"<{step.name} lists no keys>"]
            elif step.ask == GOTO and not step.says:  # its entry says what it says, by key
                keys = []
            else:
                keys = [step.key or f"{flow.name}.{step.name}"]
            keys += [f"{k}_{aside}" for k in keys for aside in step.asides]
            asides = loc.data.get("answers", {}).get("every_step", {}).get("asides", {})
            problems.extend(f"{where}: no aside {a!r} in answers" for a in step.asides
                            if a not in asides)  # fmt: skip
            problems.extend(f"{where}: no text {k!r}" for k in keys if k not in loc.templates)
            options = step.every_option if callable(step.options) else step.options
            if callable(step.options) and not options:
                problems.append(f"{where}: callable options without every_option")
            labels = [f"{step.group}.{o}" for o in options]
            extras = step.every_extra if callable(step.extra) else step.extra
            if callable(step.extra) and not extras:
                problems.append(f"{where}: callable extra without every_extra")
            labels += [f"ui.{x}" for x in (*extras, "next", "done", "skip", "all")]
            problems.extend(f"{where}: no label {k!r}" for k in labels if k not in loc.labels)
    return problems


def check_rehearsal(loc: Locale) -> list[str]:
    """The simulated person's replies: one for every persona, start and behaviour the model
    can produce, and no key it never asks for (flows/rehearsal.py picks them by name)."""
    needed = {f"persona.{p}.start_{s}" for p in PERSONAS for s in SITUATIONS}
    for name, persona in PERSONAS.items():
        needed |= {f"persona.{name}.{b}" for b in BEHAVIOURS
                   if persona.words or b not in SPEAKING_ONLY}  # fmt: skip
    extra = {f"{k}_{x}" for k in needed for x in (*RAISED, "calm", "tense", "flooded")}
    have = {k for k in loc.templates if k.startswith("persona.")}
    problems = [f"{loc.name}: rehearsal needs text {k!r}" for k in sorted(needed - have)]
    problems += [f"{loc.name}: {k!r} is never said (persona, behaviour, cue or band unknown)"
                 for k in sorted(have - needed - extra)]  # fmt: skip
    return problems


def check_overrides(loc: Locale) -> list[str]:
    """A channel's version of a text (`<channel>.over.<key>`) must replace a text that exists."""
    return [f"{loc.name}: {k!r} overrides no text {k.partition('.over.')[2]!r}"
            for k in loc.templates
            if ".over." in k and k.partition(".over.")[2] not in loc.templates]  # fmt: skip


def check(content: Content) -> list[str]:
    """All problems in all locales, including keys one locale has and another lacks."""
    problems: list[str] = []
    for loc in content.locales.values():
        problems += check_locale(loc) + check_flows(loc) + check_prompts(loc)
        problems += check_rehearsal(loc) + check_overrides(loc)
    for a, b in itertools.permutations(content.locales.values(), 2):
        problems += [
            f"{b.name}: no text {k!r} (in {a.name})"
            for k in a.templates.keys() - b.templates.keys()
        ]
        problems += [
            f"{b.name}: no label {k!r} (in {a.name})" for k in a.labels.keys() - b.labels.keys()
        ]
    return problems
