"""Writers' patterns, compiled to match stemmed text (see text.py), with guards around a match.

A pattern is a Python regular expression over words, written in plain words ("killing
myself") and stemmed here the same way the text is, so one form covers "kill", "killed",
"killing". Macros: `<list>` is any entry of a named word list; `<gap>` up to three words in
the same sentence, `<gapN>` up to N; `<w>` exactly one word. Each match is checked by guards:
a negation shortly before it in the same clause ("i would never hurt my baby"), a statement
about the long past with nothing current ("years ago", "when i was a teen"), or a film, a book
or the news ("a movie where he kills himself"). A guarded match is not thrown away: it is
weak evidence, for the statistical net to confirm or not (risk.py).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from re import _constants as sre_c  # the parser's op codes, to read a pattern's first word
from re import _parser as sre_parse
from typing import Any

from dialogue.language.text import BOUNDARY, Folder

_MACRO = re.compile(r"<([ns]?gap\d*|w|[a-z_]+)>")
_WORD = rf"[^ {re.escape(BOUNDARY)}]+"
# Pieces of a pattern: escapes, group openers, quantifiers, classes, words, anything else.
_PIECE = re.compile(r"\\.|\(\?[:!=]|\(\?<[!=]|\{\d+(?:,\d*)?\}|\[[^\]]*\]|[^\W_]+|.", re.S)
_NO_MATCH = re.compile(r"(?!x)x")


class PatternError(ValueError):
    """A pattern does not compile, or names a word list that does not exist."""


def _gap(n: int, not_before: str = "") -> str:
    """Up to n words of the same sentence; `not_before` a lookahead no word may match."""
    return rf"(?:{not_before}[^ {re.escape(BOUNDARY)}]+ ){{0,{n}}}"


def _sentence(stems: str, start: int, end: int, back: int = 0) -> tuple[int, int]:
    """The bounds of the sentence around stems[start:end] (or of `back` sentences before it
    up to its end): a slice that starts with a space and ends with one."""
    left = start
    for _ in range(back + 1):
        left = stems.rfind(f" {BOUNDARY} ", 0, max(0, left))
    right = stems.find(f" {BOUNDARY} ", end)
    return (left + 2 if left >= 0 else 0), (right + 1 if right >= 0 else len(stems))


class Compiler:
    """Turns writers' patterns into regexes over one locale's stems."""

    def __init__(
        self, folder: Folder, lists: dict[str, list[str]] | None = None,
        negators: list[str] | None = None, first_person: list[str] | None = None,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.not_before = {
            "n": self._none_of(negators),
            "s": self._none_of(
                [*(first_person or []), *(negators or [])]
            ),  # same subject, not negated
        }
        self.lists: dict[str, str] = {}
        for name, words in (lists or {}).items():
            raw = [str(w)[3:] for w in words if str(w).startswith("re:")]
            stems = sorted(
                {folder.stem_phrase(str(w)) for w in words if not str(w).startswith("re:")} - {""},
                key=len,
            )
            self.lists[name] = (
                "(?:" + "|".join([*raw, *(re.escape(s) for s in reversed(stems))]) + ")"
            )

    def _none_of(self, words: list[str] | None) -> str:
        stems = sorted({self.folder.stem_phrase(str(w)) for w in words or []} - {""})
        return "(?!(?:" + "|".join(map(re.escape, stems)) + ") )" if stems else ""

    def source(self, pattern: str, where: str) -> str:
        """The regex source of one pattern, words stemmed and macros expanded."""
        out: list[str] = []
        after_gap = False
        for i, part in enumerate(_MACRO.split(" ".join(pattern.split()))):
            if i % 2 == 0:  # plain regex text
                text = part.removeprefix(" ") if after_gap else part
                out.extend(
                    re.escape(self.folder.stem(p)) if p[:1].isalnum() else p
                    for p in _PIECE.findall(text)
                )
                after_gap = False
            elif part.startswith("gap"):
                out.append(_gap(int(part[3:] or 3)))
                after_gap = True
            elif part[1:4] == "gap":  # <ngap>: no negation in it; <sgap>: not "i", "me"
                out.append(_gap(int(part[4:] or 3), self.not_before[part[0]]))
                after_gap = True
            elif part == "w":
                out.append(_WORD)
            elif part in self.lists:
                out.append(self.lists[part])
            else:
                raise PatternError(f"{where}: no word list <{part}>")
        return "".join(out)

    def compile_each(
        self, patterns: list[str], where: str
    ) -> list[tuple[re.Pattern[str], tuple[frozenset[str], ...]]]:
        """Each pattern on its own, with the word slots a match must fill (required_words)."""
        out = []
        for i, p in enumerate(patterns):
            src = self.source(str(p), f"{where}[{i}]")
            try:
                regex(src)
                for piece in split_first_group(src):
                    out.append((regex(f" (?:{piece})(?= )"), required_words(piece)))
            except re.error as err:
                raise PatternError(f"{where}[{i}]: {err}") from err
        return out

    def compile(self, patterns: list[str], where: str) -> re.Pattern[str]:
        """One regex matching any of the patterns on whole words."""
        if not patterns:
            return _NO_MATCH
        parts = [self.source(str(p), f"{where}[{i}]") for i, p in enumerate(patterns)]
        for i, part in enumerate(parts):
            try:
                re.compile(part)
            except re.error as err:
                raise PatternError(f"{where}[{i}]: {err}") from err
        return re.compile("|".join(f"(?<= )(?:{p})(?= )" for p in parts))


_MAX_WORDS = 4000  # a slot with more words than this is not listed: no index for it


def split_first_group(source: str, limit: int = 200) -> list[str]:  # noqa: PLR0912 - a scanner
    """A pattern that starts with a group of alternatives, as one pattern per alternative.

    `\b(must be nice|cry me a river) x` -> [`\b(?:must be nice) x`, `\b(?:cry me a river) x`]:
    each piece then starts with plain letters, which the regex engine finds fast, and the
    index (PatternSet) runs only the pieces whose words a message has.
    """
    lead = ""
    for prefix in ("\\b", " "):
        if source.startswith(prefix):
            lead, source = prefix, source[len(prefix) :]
            break
    if not source.startswith("("):
        return [lead + source]
    start = 3 if source.startswith("(?:") else 1
    if source[1:2] == "?" and start == 1:
        return [lead + source]
    depth, i, cuts = 0, 0, []
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = source.index("]", i + 1) + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        elif ch == "|" and depth == 1:
            cuts.append(i)
        i += 1
    else:
        return [lead + source]
    rest = source[i + 1 :]
    if rest[:1] in ("?", "*", "+", "{") or not cuts or len(cuts) >= limit:
        return [lead + source]
    bounds = [start - 1, *cuts, i]
    return [f"{lead}(?:{source[a + 1 : b]}){rest}" for a, b in itertools.pairwise(bounds)]


@cache
def regex(source: str) -> re.Pattern[str]:
    """re.compile, remembered for the process (re's own cache holds 512; a locale has
    thousands of patterns, and tests build analyzers many times)."""
    return re.compile(source)


@cache
def required_words(source: str) -> tuple[frozenset[str], ...]:
    r"""For each word slot every match must fill, the words that can fill it.

    The pattern's top level is cut at spaces and at word gaps; each piece that some word must
    fill is a slot (a piece that is all optional, or that ends in open letters like `\w*`,
    gives none). A message lacking every word of some slot cannot match: it is not searched.
    """
    slots: list[frozenset[str]] = []
    chunk: list[Any] = []
    for item in [*sre_parse.parse(source), (sre_c.LITERAL, ord(" "))]:
        op, av = item
        if op is sre_c.AT:
            continue
        is_space = op is sre_c.LITERAL and av == ord(" ")
        if not (is_space or _is_word_gap(item)):
            chunk.append(item)
            continue
        if chunk and not all(_optional(i) for i in chunk):
            try:
                words = frozenset(p for p, _ in _expand(chunk, [("", False)]) if p)
            except _Unlisted:
                words = frozenset()
            if words:
                slots.append(words)
        chunk = []
    return tuple(slots)


def _optional(item: tuple[Any, Any]) -> bool:
    op, av = item
    return op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and av[0] == 0


def _is_word_gap(item: tuple[Any, Any]) -> bool:
    """`(?:[^ |]+ ){0,3}` and the like: repeated whole words, each ending in a space."""
    op, av = item
    if op not in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) or av[0] != 0 or av[1] <= 1:
        return False
    inner = list(av[2])
    if len(inner) == 1 and inner[0][0] is sre_c.SUBPATTERN:
        inner = list(inner[0][1][-1])
    return bool(inner) and inner[-1] == (sre_c.LITERAL, ord(" "))


class _Unlisted(Exception):
    pass


def _expand(seq: list[Any], parts: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Continue each (prefix, finished) with the items of a parsed sequence, up to a space."""
    for op, av in seq:
        if all(done for _, done in parts):
            return parts
        if op is sre_c.LITERAL:
            ch = chr(av)
            parts = [(p, True) if done or (ch == " " and p) else (p + ch, False) if ch != " "
                     else (p, False) for p, done in parts]  # fmt: skip
        elif op is sre_c.SUBPATTERN:
            parts = _branch(parts, [list(av[-1])])
        elif op is sre_c.BRANCH:
            parts = _branch(parts, [list(b) for b in av[1]])
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and av[0] == av[1] == 1:
            parts = _branch(parts, [list(av[2])])
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
            parts = _branch(parts, [[], list(av[2])])  # optional: skipped, or there once
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT, sre_c.AT):
            continue  # lookarounds and \b take no characters
        else:
            raise _Unlisted
        if len(parts) > _MAX_WORDS:
            raise _Unlisted
    return parts


def _branch(parts: list[tuple[str, bool]], seqs: list[list[Any]]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for p, done in parts:
        if done:
            out.append((p, done))
            continue
        for seq in seqs:
            out.extend(_expand(seq, [(p, False)]))
    return list(dict.fromkeys(out))


class PatternSet:
    """Compiled patterns indexed by a rare word each must contain: a message is searched only
    with the few patterns whose words it has (checking every pattern would cost more than the
    searches themselves)."""

    def __init__(
        self,
        entries: list[tuple[Any, re.Pattern[str], tuple[frozenset[str], ...]]],
        common: frozenset[str],
        frequency: dict[str, int] | None = None,
    ) -> None:
        self.entries = entries
        self.always: list[int] = []
        self.index: dict[str, list[int]] = {}
        freq = frequency or {}

        def cost(slot: frozenset[str]) -> tuple[bool, int, int]:
            return (bool(slot & common), sum(freq.get(w, 0) for w in slot), len(slot))

        # The slots left to check once a pattern is reached through its index word.
        self.others: list[tuple[frozenset[str], ...]] = []
        for i, (_, _, slots) in enumerate(entries):
            if not slots:
                self.always.append(i)
                self.others.append(())
                continue
            rarest = min(slots, key=cost)
            self.others.append(tuple(s for s in slots if s is not rarest))
            for word in rarest:
                self.index.setdefault(word, []).append(i)
        self.indexed = frozenset(self.index)

    def keys(self, text: str, only: frozenset[Any] | None = None) -> set[Any]:
        """The keys of every pattern found anywhere in the text (one search per key at most);
        with `only`, just those keys are looked for."""
        keys: set[Any] = set()
        entries = self.entries
        for i in self._candidates(set(text.split())):
            key, regex, _ = entries[i]
            if key not in keys and (only is None or key in only) and regex.search(text):
                keys.add(key)
        return keys

    def _candidates(self, words: set[str]) -> list[int]:
        ids = set(self.always)
        index = self.index
        for w in self.indexed.intersection(words):
            ids.update(index[w])
        out = []
        others = self.others
        for i in sorted(ids):
            for slot in others[i]:
                if words.isdisjoint(slot):
                    break
            else:
                out.append(i)
        return out

    def search(self, stems: str) -> list[tuple[Any, int, int]]:
        """Every (key, start, end) in a stems string, sentence by sentence (matches never
        cross a sentence end, and a pattern runs only where all its words are)."""
        out = []
        offset = 0
        for sentence in stems.split(f" {BOUNDARY} "):
            text = sentence if sentence.startswith(" ") else " " + sentence
            shift = offset - (len(text) - len(sentence))
            offset += len(sentence) + len(BOUNDARY) + 2
            text = text if text.endswith(" ") else text + " "
            for i in self._candidates(set(text.split())):
                key, regex, _ = self.entries[i]
                out.extend(
                    (key, m.start() + 1 + shift, m.end() + shift) for m in regex.finditer(text)
                )
        return out


@dataclass(frozen=True, slots=True)
class Guards:
    """What makes a match weak: negation, the long past, fiction and news."""

    negators: frozenset[str]
    scope_ends: frozenset[str]
    negation_window: int
    past: re.Pattern[str]
    current: re.Pattern[str]
    media: re.Pattern[str]
    first_person: frozenset[str]
    third_person: frozenset[str]
    reporting: frozenset[str]
    child_subject: re.Pattern[str]
    adult_subject: re.Pattern[str]
    # Of the third-person words, those that are only ever a clause's subject ("he", "she"):
    # for the user's own acts, a child merely named before ("insurance in the kids' names")
    # does not make the act theirs.
    subject_pronouns: frozenset[str] = frozenset()

    @classmethod
    def build(cls, spec: dict[str, Any], compiler: Compiler) -> Guards:
        """From the `guards` mapping of crisis.yaml."""
        stem = compiler.folder.stem_phrase
        return cls(
            negators=frozenset(stem(w) for w in spec.get("negators", [])),
            scope_ends=frozenset({BOUNDARY, *(stem(w) for w in spec.get("scope_ends", []))}),
            negation_window=int(spec.get("negation_window", 3)),
            past=compiler.compile(spec.get("past", []), "guards.past"),
            current=compiler.compile(spec.get("current", []), "guards.current"),
            media=compiler.compile(spec.get("media", []), "guards.media"),
            first_person=frozenset(stem(w) for w in spec.get("first_person", [])),
            third_person=frozenset(stem(w) for w in spec.get("third_person", [])),
            reporting=frozenset(stem(w) for w in spec.get("reporting", [])),
            child_subject=compiler.compile(spec.get("child_subject", []), "guards.child_subject"),
            adult_subject=compiler.compile(spec.get("adult_subject", []), "guards.adult_subject"),
            subject_pronouns=frozenset(stem(w) for w in spec.get("subject_pronouns", [])),
        )

    def child_before(self, stems: str, start: int) -> bool:
        """A child is named just before the match ("my two year old ... he hit me")."""
        left, _ = _sentence(stems, start, start, back=1)
        return bool(self.child_subject.search(" " + stems[left:start]))

    def names_other(self, stems: str, start: int, end: int) -> bool:
        """The match itself names someone else ("my son wrote 'i want to die'")."""
        span = " " + stems[start:end] + " "
        return bool(self.third_person & set(span.split()) or self.child_subject.search(span))

    def adult_before(self, stems: str, start: int, end: int) -> bool:
        """An adult, and no child, is named in the match's sentence up to its end."""
        left, _ = _sentence(stems, start, end)
        part = " " + stems[left:end] + " "
        return bool(self.adult_subject.search(part)) and not self.child_subject.search(part)

    def subject(
        self, stems: str, start: int, end: int, *, act: bool = False, named: bool = False
    ) -> str:
        """ "first" or "third": who a match speaks of.

        Reported speech counts for its speaker ("he texted 'i can't do this'"); otherwise the
        match's own words, else the nearest person before it in the sentence. For an `act` (a
        farewell, a plan) only a subject pronoun speaks of someone else: "made sure the
        insurance is in the kids' names" is the user's act, "she gave away her things" is not.
        With `named`, "" when nobody is named at all.
        """
        left, _ = _sentence(stems, start, end)
        before = stems[left:start].split()
        for i in range(len(before) - 1, -1, -1):
            if before[i] in self.reporting:
                speaker = before[max(0, i - 8) : i]
                for word in reversed(speaker):
                    if word in self.first_person:
                        break
                    if word in self.third_person:
                        return "third"
                break
        third = self.subject_pronouns if act and self.subject_pronouns else self.third_person
        words = set(stems[start:end].split())
        if self.first_person & words:
            return "first"
        if third & words:
            return "third"
        for word in reversed(before):
            if word in self.first_person:
                return "first"
            if word in third:
                return "third"
        return "" if named else "first"  # nobody named: the one writing (or "" if `named`)

    def why_weak(self, stems: str, start: int, end: int) -> str:
        """ "negated", "past", "media" or "" for a match at stems[start:end]."""
        before = stems[:start].split()
        for word in reversed(before[-self.negation_window :]):
            if word in self.scope_ends:
                break
            if word in self.negators:
                return "negated"
        left, right = _sentence(stems, start, end)
        sentence = stems[left:right]
        if self.past.search(sentence) and not self.current.search(sentence):
            return "past"
        context = stems[_sentence(stems, start, end, back=1)[0] : right]
        if self.media.search(context) and not self.first_person & set(stems[start:end].split()):
            return "media"  # a film or the news, unless the match speaks of the user
        return ""
