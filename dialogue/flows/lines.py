"""Opening lines from the user's own words, and feedback on a line the user wrote.

Pure functions over the locale's word lists (content/<locale>/data/voice.yaml) and the
language analyzer: no English here. Two jobs:

- `act` turns what the user said they did ("I yelled at her when she wouldn't listen") into a
  verb phrase said to the other ("yelled at you"), or "" whenever it cannot do so cleanly: a
  label the user used ("called her a brat"), a third person left over, an unknown name.
- `read_line` splits the user's own opening line into clauses and says what works in it, the
  phrase that may sting, whether a "but" undoes the apology, any rule or request in it (a
  limit, not pressure: for a later talk), and a rewrite of the user's own sentence that keeps
  their apology and the name and leaves the sting and the request out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dialogue.language.analyzer import HARSH_CUES, Analyzer, normalize
from dialogue.replies import excerpt

ACT_MAX = 90  # the longest act said back in a draft
NOT_A_NEED = "unsure"  # the need step's "I'm not sure" (flows/conflict.py, issue 9 part 7)
SHORT_ACT = 4  # words: what a preschooler hears back ("I yelled.")
GOOD_ORDER = ("apology", "ownership", "curiosity", "empathy", "appreciation", "warmth",
              "respect_space", "gentle_startup")  # fmt: skip
STING = ("contempt", "criticism", "defensiveness", "stonewalling", "evaluation", "pressure")
_WORD = re.compile(r"[\w'’]+|[^\w\s]")
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|\s*[;:—–]\s*|,\s*|\s+(?=but\b)|\s+-\s+", re.I)
_BUT = re.compile(r"^(but|though|however|except|only)\b[\s,]*", re.I)
_END = ".!?…"
_YOU = ("you", "youre", "your", "yours", "yourself")


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: one per locale
class Voice:
    """The locale's word lists for turning the user's words into a line to the other."""

    first_person: tuple[str, ...]
    to_you: dict[str, str]
    past_verbs: frozenset[str]
    her_is_you_before: frozenset[str]
    act_ends: tuple[str, ...]
    third_person: frozenset[str]
    labels: tuple[str, ...]
    you_not_label: frozenset[str]
    called_not_label: frozenset[str]
    cause_emotions: tuple[str, ...]
    softer_emotions: tuple[str, ...]
    softer_default: str
    requests: dict[str, tuple[str, ...]]
    directives: tuple[str, ...]
    rule_words: tuple[str, ...]
    loud: tuple[str, ...]


def voice_of(data: dict[str, Any]) -> Voice:
    """The word lists of a locale's data/voice.yaml (the engine keeps one per locale)."""
    d = data.get("voice") or {}

    def words(name: str) -> tuple[str, ...]:
        return tuple(normalize(str(w)).strip() for w in d.get(name, []) if str(w).strip())

    return Voice(
        first_person=tuple(str(p) for p in d.get("first_person", [])),
        to_you={str(k).lower(): str(v) for k, v in (d.get("to_you") or {}).items()},
        past_verbs=frozenset(words("past_verbs")),
        her_is_you_before=frozenset(words("her_is_you_before")),
        act_ends=words("act_ends"),
        third_person=frozenset(words("third_person")),
        labels=words("labels"),
        you_not_label=frozenset(words("you_not_label")),
        called_not_label=frozenset(words("called_not_label")),
        cause_emotions=tuple(d.get("cause_emotions", [])),
        softer_emotions=tuple(d.get("softer_emotions", [])),
        softer_default=str(d.get("softer_default", "")),
        requests={
            str(k): tuple(normalize(str(w)).strip() for w in v)
            for k, v in (d.get("requests") or {}).items()
        },
        directives=words("directives"),
        rule_words=words("rule_words"),
        loud=words("loud"),
    )


def _has(norm: str, phrases: tuple[str, ...] | frozenset[str]) -> str:
    """The first phrase found as whole words in normalized text, or ""."""
    return next((p for p in phrases if f" {p} " in norm), "")


_CALLED = re.compile(r" called (?:you|him|her|them|my \w+|\w+) (\w+)")


def labelled(text: str, voice: Voice) -> bool:
    """Whether the text holds a label for a person ("annoying", "brat", "called him a nag",
    whatever the word) or a quote."""
    norm = normalize(text)
    if any(m.group(1) not in voice.called_not_label for m in _CALLED.finditer(norm)):
        return True
    words = norm.split()
    if 2 <= len(words) <= 3 and words[0] == "you" and words[1] not in voice.you_not_label:
        return True  # ", you nag"
    return bool(_has(norm, voice.labels)) or any(q in text for q in '"“”«»')


def topic(text: str, voice: Voice) -> str:
    """The rule or request a text is about (content's words for it), or ""."""
    norm = normalize(text)
    return next((t for t, ws in voice.requests.items() if _has(norm, ws)), "")


def _swap_her(words: list[str], voice: Voice) -> list[str]:
    out = []
    for i, w in enumerate(words):
        if w.lower() == "her":
            nxt = words[i + 1].lower() if i + 1 < len(words) else ""
            out.append("you" if not nxt[:1].isalpha() or nxt in voice.her_is_you_before
                       else "your")  # fmt: skip
        else:
            out.append(w)
    return out


@lru_cache(maxsize=64)
def _swaps(voice: Voice, name: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """The words for the other person ("him", "my son", their name) and "you" for each."""
    swaps = {**voice.to_you, **({name.lower(): "you"} if name else {})}
    keys = sorted(swaps, key=len, reverse=True) or ["(?!x)x"]
    return re.compile(r"\b(" + "|".join(map(re.escape, keys)) + r")\b", re.I), swaps


def act(text: str, voice: Voice, name: str = "") -> str:
    """'I yelled at him when he...' -> 'yelled at you': the user's own act, said to the other.

    "" when the words cannot be said back cleanly: not about the user's own act, a label
    or a quote in it, a third person left after the swaps, a capitalised name we do not know.
    """
    text = " ".join(text.split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(_END + ",;: ")
    low = first.lower()
    lead = next((p for p in voice.first_person if low.startswith(p)), None)
    head = (normalize(first).split() or [""])[0]
    if lead is not None:
        first = first[len(lead) :]
    elif head in voice.past_verbs:  # "Yelled at her", "lost my temper"
        first = first[:1].lower() + first[1:]
    else:
        return ""
    words = _WORD.findall(first)
    norm_words = [normalize(w).strip() for w in words]
    for i in range(1, len(words)):  # the user's own act ends where their account begins
        rest = " " + " ".join(norm_words[i:]) + " "
        if words[i] == "," or any(rest.startswith(f" {e} ") for e in voice.act_ends):
            words = words[:i]
            break
    phrase = " ".join(words).strip(" ,")
    if not phrase or labelled(phrase, voice):
        return ""
    pattern, swaps = _swaps(voice, name)
    phrase = pattern.sub(lambda m: swaps[m.group(0).lower()], phrase)
    out = _swap_her(phrase.split(" "), voice)
    if any(normalize(w).strip() in voice.third_person for w in out):
        return ""
    if any(w[:1].isupper() and w not in ("I", "I'm", "I've", "I'd") for w in out):
        return ""  # a name we don't know: it may be theirs, said back as if to someone else
    return re.sub(r"\s+([,.!?])", r"\1", " ".join(out)) if len(phrase) <= ACT_MAX else ""


def need_label(value: Any, labels: dict[str, str]) -> str:
    """A need the user chose, in content's words (label need.<id>), lowercased; else ""."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    if not isinstance(value, str) or value in ("", NOT_A_NEED):
        return ""
    label = labels.get(f"need.{value}", "")
    return label[:1].lower() + label[1:]


def draft_facts(
    draft: dict[str, Any], voice: Voice, name: str, labels: dict[str, str]
) -> dict[str, Any]:
    """What the drafted lines are built from: the user's own act (or "" and whether words
    were hurtful), the emotion that may have driven it, the softer one under anger, the
    moves chosen, and what a later, separate talk would be about."""
    emotions = list(draft.get("emotions", []))
    my_part = str(draft.get("my_part", ""))
    said = act(my_part, voice, name)
    cause = next((e for e in emotions if e in voice.cause_emotions), "")
    softer = next((e for e in emotions if e in voice.softer_emotions), "")
    if not softer and cause in ("anger", "frustration"):
        softer = voice.softer_default
    words = " ".join(str(draft.get(k, "")) for k in ("what_happened", "camera", "my_part"))
    return {
        "act": said,
        "short": bool(said) and len(said.split()) <= SHORT_ACT,
        "hurtful": not said and labelled(my_part, voice),
        "loud": bool(_has(normalize(my_part), voice.loud)),
        "cause": cause,
        "softer": softer,
        "moves": list(draft.get("moves", [])),
        "my_need": need_label(draft.get("my_need"), labels),
        "their_need": need_label(draft.get("their_need"), labels),
        "topic": topic(words, voice),
    }


@dataclass
class LineReading:
    """What feedback on the user's own line says (see `read_line`; shared, read only)."""

    works: str = ""  # the user's clause that already works, quoted back
    works_kind: str = ""  # apology, ownership, curiosity, empathy, appreciation, warmth...
    sting: str = ""  # the user's phrase that may sting
    cues: list[str] = field(default_factory=list)  # the sting's cues, harsh first
    but_undo: bool = False  # "Sorry I yelled, but..."
    limit: bool = False  # a rule or request: keep it, for a later talk
    topic: str = ""  # what the rule is about (content's words), or ""
    request: str = ""  # the user's clause with the rule or request, when it stings no other way
    rewrite: str = ""  # the user's own sentence, kept where it works
    needs_feedback: bool = False


def _clauses(line: str) -> list[tuple[int, int]]:
    """Where the line's clauses are: split at sentence ends, commas, dashes and "but"."""
    spans, pos = [], 0
    for m in [*_CLAUSE.finditer(line), None]:
        stop = m.start() if m else len(line)
        part = line[pos:stop]
        if part.strip():
            lead = len(part) - len(part.lstrip())
            spans.append((pos + lead, pos + len(part.rstrip())))
        pos = m.end() if m else pos
    return spans


def _is_limit(clause: str, cues: set[str], voice: Voice) -> str | None:
    """A rule or request in the clause: its topic, or None."""
    norm = normalize(_BUT.sub("", clause))
    subject = topic(clause, voice)
    directive = _has(norm, voice.directives)
    if subject and (directive or _has(norm, voice.rule_words) or cues & {"pressure"}):
        return subject
    return None  # "you need to understand...": without a topic, no rule to keep


@lru_cache(maxsize=256)  # a feedback turn asks three times (guard, before, its text)
def read_line(line: str, analyzer: Analyzer, voice: Voice, name: str = "") -> LineReading:
    """Feedback on the user's line, clause by clause (a sorry in one sentence does not hide a
    label in the next clause; a label the line owns, "sorry I called you lazy", is not one)."""
    r = LineReading()
    kept: list[tuple[int, int]] = []
    apologised = False
    for start, stop in _clauses(line):
        clause = line[start:stop]
        cues = set(analyzer.cues(clause))
        undo = apologised and bool(_BUT.match(clause))
        owns = bool(cues & {"apology", "ownership"})
        harsh = cues & (HARSH_CUES | {"evaluation"})
        if "evaluation" in harsh and not _has(normalize(clause), _YOU):
            harsh -= {"evaluation"}  # a verdict on no one in particular ("it was a mess")
        if not owns and labelled(clause, voice):
            harsh |= {"contempt"}  # a label for them ("annoying", "brat") is contempt's word
        limit = _is_limit(clause, cues, voice)
        if limit is not None and not owns:
            r.limit, r.topic = True, r.topic or limit
            harsh -= {"pressure", "defensiveness", "criticism"}
        if undo:
            r.but_undo = True
        if harsh or undo:
            if harsh and not r.sting:
                r.sting = _quote(clause)
                r.cues = [c for c in STING if c in harsh]
            elif not harsh and limit is not None:
                r.request = r.request or _quote(_BUT.sub("", clause))
            continue
        if limit is not None and not owns:
            r.request = r.request or _quote(clause)
            continue
        good = next((g for g in GOOD_ORDER if g in cues), "")
        if len(clause.split()) < 3 and good == "warmth":
            good = ""  # "Mia", "Hey love": a greeting, not yet what works
        rank = GOOD_ORDER.index(good) if good else len(GOOD_ORDER)
        if rank < (GOOD_ORDER.index(r.works_kind) if r.works_kind else len(GOOD_ORDER)):
            r.works, r.works_kind = _quote(_BUT.sub("", clause)), good
        apologised = apologised or "apology" in cues or "ownership" in cues
        kept.append((start, stop))
    r.needs_feedback = bool(r.sting or r.limit or r.but_undo)
    warm = r.works_kind in ("apology", "ownership", "curiosity", "empathy", "appreciation")
    r.rewrite = _rejoin(kept, line, name) if apologised or warm else ""
    return r


def _quote(clause: str) -> str:
    """A clause of the user's, quoted back: shortened, without its closing comma or stop."""
    return excerpt(clause.rstrip(".,;: "), 120)


def _rejoin(kept: list[tuple[int, int]], line: str, name: str) -> str:
    """The clauses kept, joined as the user joined them where they were neighbours (a full
    stop where something was left out between), the name kept, a stop at the end."""
    text, last = "", None
    for start, stop in kept:
        clause = line[start:stop]
        if last is None or start != _next_start(line, last):
            clause = _BUT.sub("", clause)  # a "but" whose first half was left out
            clause = clause[:1].upper() + clause[1:]
            if text and len(text.split()) <= 2 and text[-1] not in _END:  # "Hey Mia, ..."
                keep = clause.split(" ", 1)[0] in ("I", "I'm", "I've", "I'd", "I'll")
                text += ", " + (clause if keep else clause[:1].lower() + clause[1:])
            else:
                text = clause if not text else (text.rstrip(",;: ") + _stop(text) + " " + clause)
        else:
            text += line[last:start] + clause
        last = stop
    text = with_name(text.strip(" ,;:"), name, line)
    if text and text[-1] not in _END:
        text += "."
    return text[:1].upper() + text[1:]


def with_name(text: str, name: str, line: str) -> str:
    """The text with the name in front, when the user's line used it and the text does not."""
    if not text or not name or name.lower() not in line.lower() or name.lower() in text.lower():
        return text
    first = text.split(" ", 1)[0]
    keep = first in ("I", "I'm", "I've", "I'd", "I'll") or first[1:2].isupper()
    return f"{name}, {text if keep else text[:1].lower() + text[1:]}"


def _next_start(line: str, after: int) -> int:
    """Where the clause after the one ending at `after` starts in the line (kept or not)."""
    later = [s for s, _ in _clauses(line) if s >= after]
    return min(later) if later else -1


def _stop(text: str) -> str:
    return "" if text.rstrip(",;: ")[-1:] in _END else "."
