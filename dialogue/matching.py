"""Typed answers to buttons: which options a message names, in the user's own words.

Pure and locale-driven: every word comes from content/<locale>/data/answers.yaml (synonyms
per button group, and the words that mean the same at every step) and the button labels.

How a message is read, most certain first:
- the whole message is an option's id, label or listed synonym (`exact`: its id or label);
- a number on a scale ("6", "like a 6 i guess", "9/10", "six", "between 5 and 6");
- phrases found anywhere in it ("my chest is tight and there's a lump in my throat"), the
  longest first, skipping a phrase just after a negation ("not really angry");
- the same after small typos are corrected, word by word, against the group's own words
  (rapidfuzz; words of 4 letters or more only, so "yes" and "no" never turn into each other).

When nothing fits, `closest` ranks the options by how near their words are to the message.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from dialogue.language import normalize

DONE, UNSURE, NEXT = "__done__", "__unsure__", "__next__"  # phrases for every step
FUZZ_MIN_LEN = 4  # shorter words must be typed exactly
FUZZ_CUTOFF = 82  # rapidfuzz ratio a typo must reach (one slip in a 5-letter word is 89)
FUZZ_WORDS = 40  # typos are mended in a message's first words only
SHORT = 3  # a one-word phrase this short ("no", "ok") counts only as the message's first word
NEGATION_REACH = 2  # words before a phrase that may negate it
SCALE_DENOMINATOR = 10
# A number with its sign (a minus sign right before the digits, not inside a range: "5-6",
# or a minus word: "{minus}"), a "%" or "/10" after it, and the word after it (a unit:
# "18 months", "4yo").
_NUMBER = (
    r"(?:(?<![\w.,])([-\u2212\u2013])\s?|\b(?:{minus})\s+)?"
    r"(\d+(?:[.,]\d+)?)\s*(%|/\s*10\b|out of 10\b)?\s*([a-z]*)"
)
_DECIMAL = re.compile(r"\d[.,]\d")  # "1.5": not a list of button numbers


@dataclass(frozen=True, slots=True)
class Found:
    """What a message named: options in the order found, and the every-step words."""

    ids: tuple[str, ...] = ()
    whole: bool = False  # the whole message was one option's words (id, label or synonym)
    exact: bool = False  # ... its id or label: nothing to say back
    done: bool = False  # "that's it", "nothing else"
    unsure: bool = False  # "i don't know", "not sure"
    next: bool = False  # "ok", "go on"
    covered: float = 0.0  # share of the message's words the options' phrases took


@dataclass
class _Group:
    phrases: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # words -> ids
    vocab: list[str] = field(default_factory=list)  # words long enough to correct typos to
    known: frozenset[str] = frozenset()
    own: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)  # id -> its id and label
    texts: list[str] = field(default_factory=list)  # the phrases as text, for `closest`
    owners: list[list[str]] = field(default_factory=list)  # the ids of each of `texts`
    longest: int = 1


def _words(text: str) -> list[str]:
    return normalize(text).replace("?", " ").split()


class Matcher:
    """One locale's typed-answer reader, built once from its labels and answers.yaml."""

    def __init__(self, data: dict[str, Any], labels: dict[str, str]) -> None:
        answers: dict[str, Any] = data.get("answers", {}) or {}
        every = answers.get("every_step", {}) or {}
        self.negations = frozenset(_words(" ".join(every.get("negations", []))))
        self.numbers = {" ".join(_words(str(k))): int(v) for k, v in
                        (every.get("numbers", {}) or {}).items()}  # fmt: skip
        self.units = {unit: frozenset(w for x in ws for w in _words(str(x)))
                      for unit, ws in (every.get("age_units", {}) or {}).items()}  # fmt: skip
        self.half = frozenset(_words(" ".join(every.get("half", []))))
        self.minus = frozenset(_words(" ".join(every.get("minus", []))))
        self.number_words = frozenset(_words(" ".join(every.get("number_words", []))))
        minus = "|".join(re.escape(w) for w in sorted(self.minus)) or "(?!)"
        self.number = re.compile(_NUMBER.replace("{minus}", minus))
        self.unsure_means: dict[str, list[str]] = {
            g: [v] if isinstance(v, str) else list(v)
            for g, v in (every.get("unsure_means", {}) or {}).items()
        }
        common = {DONE: every.get("done", []), UNSURE: every.get("unsure", []),
                  NEXT: every.get("next", [])}  # fmt: skip
        self.asides = {name: _phrases(spec) for name, spec in
                       (every.get("asides", {}) or {}).items()}  # fmt: skip
        groups: dict[str, dict[str, list[str]]] = {}
        for key, label in labels.items():
            group, _, option = key.partition(".")
            groups.setdefault(group, {}).setdefault(option, []).extend(
                [label, option.replace("_", " ")]
            )
        for emotion, entry in (data.get("emotions", {}) or {}).items():  # the analyzer's words
            groups.setdefault("emotion", {}).setdefault(emotion, []).extend(
                str(w) for w in (entry or {}).get("words", ())
            )
        for group, options in answers.items():
            if group != "every_step" and isinstance(options, dict):
                for option, words in options.items():
                    groups.setdefault(group, {}).setdefault(str(option), []).extend(
                        str(w) for w in words or ()
                    )
        own: dict[str, dict[str, str]] = {}
        for key, label in labels.items():
            group, _, option = key.partition(".")
            own.setdefault(group, {})[option] = label
        self.groups = {g: self._build(common, opts, own.get(g, {})) for g, opts in groups.items()}
        self.common = self._build(common, {}, {})

    @staticmethod
    def _build(
        common: dict[str, list[str]], options: dict[str, list[str]], labels: dict[str, str]
    ) -> _Group:
        g = _Group()
        for option, label in labels.items():
            g.own[option] = {tuple(_words(label)), tuple(_words(option.replace("_", " ")))}
        for source in (options, common):  # an option's own words come before every step's
            for option, phrases in source.items():
                for p in phrases:
                    words = tuple(_words(str(p)))
                    ids = g.phrases.setdefault(words, []) if words else []
                    if words and ids and option.startswith("__") and ids[-1].startswith("__"):
                        ids[-1] = f"{ids[-1]} {option}"  # several every-step meanings at once
                    elif words and option not in ids:
                        ids.append(option)
        g.longest = max((len(w) for w in g.phrases), default=1)
        g.known = frozenset(w for ws in g.phrases for w in ws)
        g.texts = [" ".join(ws) for ws in g.phrases]
        g.owners = list(g.phrases.values())
        g.vocab = sorted(w for w in g.known if len(w) >= FUZZ_MIN_LEN)
        return g

    # -- options --------------------------------------------------------------------------

    def match(self, text: str, group: str, options: list[str], many: bool = False) -> Found:
        """The options of a step that a message names (its every-step words too).

        `many`: a multi-select, where a short word is an answer anywhere in the message
        ("sad"), but "no" or "none" finish it only in a message of three words at most.
        """
        g = self.groups.get(group, self.common)
        words = _words(text)
        if not words:
            return Found()
        whole = _pick(g.phrases.get(tuple(words)), options)
        if whole is not None:
            found = self._found([(whole, len(words))], group, options, len(words), whole=True)
            exact = tuple(words) in g.own.get(whole, ())
            return Found(found.ids, True, exact, found.done, found.unsure, found.next, 1.0)
        fixed = self._correct(words, g)
        hits = self._scan(fixed, g, options, many)
        if fixed != words and not any(h[0] in options for h in hits):
            hits = self._scan(words, g, options, many)
        return self._found(hits, group, options, len(words))

    def _found(self, hits: list[tuple[str, int]], group: str, options: list[str], total: int,
               whole: bool = False) -> Found:  # fmt: skip
        kinds = {k for h, _ in hits for k in h.split()}
        ids: list[str] = []
        unsure = UNSURE in kinds
        if unsure:
            mapped = next((o for o in self.unsure_means.get(group, []) if o in options), None)
            hits = [(mapped, n) if mapped and UNSURE in h.split() else (h, n) for h, n in hits]
        for h, _ in hits:
            if h in options and h not in ids:
                ids.append(h)
        covered = sum(n for h, n in hits if h in options) / total
        return Found(tuple(ids), whole, False, DONE in kinds, unsure, NEXT in kinds, covered)

    def _scan(
        self, words: list[str], g: _Group, options: list[str], many: bool
    ) -> list[tuple[str, int]]:
        """Phrases found in the words, the longest at each place, not after a negation."""
        hits: list[tuple[str, int]] = []
        i = 0
        while i < len(words):
            for n in range(min(g.longest, len(words) - i), 0, -1):
                option = _pick(g.phrases.get(tuple(words[i : i + n])), options)
                if option is None:
                    continue
                if (
                    n == 1
                    and len(words[i]) <= SHORT
                    and len(words) > SHORT
                    and (option.startswith("__") if many else i > 0)
                ):
                    continue  # "no" inside a sentence is not an answer
                before = words[max(0, i - NEGATION_REACH) : i]
                if words[i] not in self.negations and self.negations.intersection(before):
                    continue
                hits.append((option, n))
                i += n - 1
                break
            i += 1
        return hits

    def _correct(self, words: list[str], g: _Group) -> list[str]:
        """Small typos mended against the group's own words ("restles" -> "restless")."""
        if not g.vocab:
            return words
        out = []
        for n, w in enumerate(words):
            if n < FUZZ_WORDS and len(w) >= FUZZ_MIN_LEN and w not in g.known and not w.isdigit():
                best = process.extractOne(w, g.vocab, scorer=fuzz.ratio, score_cutoff=FUZZ_CUTOFF)
                out.append(best[0] if best else w)
            else:
                out.append(w)
        return out

    def closest(self, text: str, group: str, options: list[str], k: int = 3) -> list[str]:
        """The k options whose words are nearest the message, nearest first."""
        g = self.groups.get(group, self.common)
        said = " ".join(_words(text))
        by_option: dict[str, float] = dict.fromkeys(options, 0.0)
        scores = process.cdist([said], g.texts, scorer=fuzz.token_set_ratio)[0]
        for ids, score in zip(g.owners, scores, strict=True):
            for o in ids:
                if o in by_option and score > by_option[o]:
                    by_option[o] = float(score)
        ranked = sorted(options, key=lambda o: -by_option[o])  # stable: ties keep the order
        return ranked[:k]

    def aside(self, text: str, name: str) -> bool:
        """Whether a message holds one of an aside's phrases (the calming step's urge)."""
        phrases = self.asides.get(name, ())
        words = _words(text)
        joined = f" {' '.join(words)} "
        return any(f" {p} " in joined for p in phrases)

    # -- numbers ----------------------------------------------------------------------------

    def numbers_in(self, text: str) -> list[tuple[float, str]]:
        """Numbers in a message with the word after each: digits, "9/10", "six", "half", and
        their sign ("-1", "minus 3", "minus three")."""
        raw = normalize(text.replace("/", " / ").replace("%", " % "))
        out: list[tuple[float, str]] = []
        for m in self.number.finditer(text.lower()):
            value = float(m.group(2).replace(",", "."))
            if m.group(3) == "%":
                value /= SCALE_DENOMINATOR
            negative = m.group(1) is not None or m.group(0)[:1].isalpha()
            out.append((-value if negative else value, m.group(4) if not m.group(3) else ""))
        words = raw.split()
        for i, w in enumerate(words):
            if w in self.numbers:
                value = float(self.numbers[w])
                negative = i > 0 and words[i - 1] in self.minus
                unit = words[i + 1] if i + 1 < len(words) else ""
                out.append((-value if negative else value, unit))
            elif w in self.half and out:  # away from 0: "minus two and a half" is -2.5
                out[-1] = (out[-1][0] + math.copysign(0.5, out[-1][0]), out[-1][1])
        return out

    def scale(self, text: str) -> tuple[int, float] | None:
        """A point on a scale, as typed: one number, or the middle of two (rounded up), with
        the number furthest out of the two (a range may reach past either end)."""
        found = [v for v, _ in self.numbers_in(text)]
        if not found or len(found) > 2:
            return None
        value = math.floor(sum(found) / len(found) + 0.5)
        return value, min(found) if min(found) < 0 else max(found)

    def bare_numbers(self, text: str) -> list[int] | None:
        """Button numbers: a message of whole numbers only ("2", "1, 3, 99", "option 2",
        "1 and 3"), else None (a sign or a decimal point makes it something else)."""
        if _DECIMAL.search(text) or re.search(r"[-\u2212]\s?\d", text):
            return None
        words = _words(text)
        numbers = [int(w) for w in words if w.isdigit()]
        if not numbers or any(not w.isdigit() and w not in self.number_words for w in words):
            return None
        return numbers

    def age_years(self, text: str) -> float | None:
        """An age from "4", "she's 4", "18 months", "two and a half": in years."""
        found = self.numbers_in(text)
        if not found:
            return None
        value, unit = found[0]
        per_year = {"month": 12, "week": 52, "day": 365}
        for name, words in self.units.items():
            if unit in words and name in per_year:
                return value / per_year[name]
        return value


def _pick(ids: list[str] | None, options: list[str]) -> str | None:
    """The first of a phrase's ids the step offers, or an every-step word."""
    for i in ids or ():
        if i in options or i.startswith("__"):
            return i
    return None


def _phrases(spec: Any) -> tuple[str, ...]:
    """An aside's phrases: a list, or {phrases, verbs, objects} whose pairs are phrases too."""
    if isinstance(spec, dict):
        pairs = [f"{v} {o}" for v in spec.get("verbs", []) for o in spec.get("objects", [])]
        items = [*spec.get("phrases", []), *pairs]
    else:
        items = list(spec or [])
    return tuple(dict.fromkeys(" ".join(_words(str(p))) for p in items if _words(str(p))))
