"""Text as the risk and cue nets read it: folded, de-obfuscated, respelled, stemmed tokens.

`Folder(spec).stems(text)` gives " tok tok | tok " — one space between tokens, a space at
both ends, "|" where a sentence ends — so patterns match whole words with lookarounds. What it
folds (each list lives in content/<locale>/data/language.yaml, nothing here is English):
case and Unicode compatibility forms; accents on Latin letters (Cyrillic "й" stays); digits
and symbols standing in for letters inside a word ("k1ll", "d!e"); letters spaced apart
("k i l l"); a censoring "*" inside a word, matched against the keywords; contractions and
chat spellings ("wanna", "im", "rn"); misspellings one edit away from a keyword ("sucide").

Exceptions: LanguageError (a malformed language.yaml) derives from ValueError.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import Stemmer

BOUNDARY = "|"
_SENTENCE_END = re.compile(r"[.!?;:\u2026]+(?=\s|$)|\n+")
_WORDS = re.compile(r"[^\W_]+(?:[*@$!0-9]+[^\W_]*)*|[*@$!]+[^\W_]+|\|", re.UNICODE)
_CENSORED = re.compile(r"^[^\W\d_]+(?:\*+[^\W\d_]*)+$")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
# Four or more single letters spaced apart ("k i l l  m e"), words kept apart by 2+ spaces.
_SPACED = re.compile(r"(?<!\S)[^\W\d_](?:\s{1,3}[^\W\d_](?!\S)){3,}")
_APOSTROPHES = ("'", "’", "‘", "`", "´", "ʼ")


class LanguageError(ValueError):
    """language.yaml is malformed: a missing list, an unknown stemmer."""


def _unspace(m: re.Match[str]) -> str:
    """Letters spaced apart become words; two or more spaces still part words."""
    return " ".join(group.replace(" ", "") for group in re.split(r"\s{2,}", m[0]))


def _fold_char(ch: str) -> str:
    """A Latin letter without its accent; any other character unchanged."""
    base = unicodedata.normalize("NFD", ch)[0]
    return base if base.isascii() else ch


class Folder:
    """One locale's way of turning text into stemmed tokens."""

    def __init__(self, spec: dict[str, Any]) -> None:
        try:
            self.stemmer = Stemmer.Stemmer(spec.get("stemmer", "english"))
        except KeyError as err:
            raise LanguageError(f"language.yaml: unknown stemmer {spec.get('stemmer')!r}") from err
        self.leet = str.maketrans(dict(spec.get("leet", {})))
        self.leet_chars = set(spec.get("leet", {}))
        self.keep_numeric = re.compile(spec.get("numeric_words", r"(?!x)x"))
        self.split_numeric = re.compile(spec.get("split_numeric", r"(?!x)x"))
        self.contractions: dict[str, str] = {
            k.lower(): v for k, v in (spec.get("contractions") or {}).items()
        }
        self.respell: dict[str, list[str]] = {
            k.lower(): str(v).split() for k, v in (spec.get("respell") or {}).items()
        }
        keywords = [str(k).lower() for k in spec.get("keywords", [])]
        if not keywords:
            raise LanguageError("language.yaml needs keywords (the words misspellings fold to)")
        self.keywords = frozenset(keywords)
        self.min_fuzzy = int(spec.get("min_fuzzy_length", 5))
        # Symmetric delete index (as in SymSpell): every keyword with one letter deleted.
        self._deletes: dict[str, str] = {}
        for word in sorted(self.keywords, key=len):
            for variant in {word[:i] + word[i + 1 :] for i in range(len(word))}:
                self._deletes.setdefault(variant, word)
        self._stems: dict[str, str] = {}
        self._words: dict[str, list[str]] = {}  # surface word -> folded words (cached)
        self.known: frozenset[str] = frozenset()  # stems the nets know (see learn)

    def learn(self, stems: frozenset[str]) -> None:
        """Stems worth folding a stretched word to ("diee" -> "die"); clears the caches."""
        self.known = stems
        self._words.clear()
        self.stems.cache_clear()

    # -- characters ---------------------------------------------------------------------------

    @lru_cache(maxsize=4096)  # noqa: B019 - one Folder per locale lives as long as the process
    def fold(self, text: str) -> str:
        """Case, compatibility forms and Latin accents folded; apostrophes kept for now."""
        text = unicodedata.normalize("NFKC", text).casefold()
        if not text.isascii():
            text = "".join(_fold_char(c) if ord(c) > 127 else c for c in text)
        return _REPEATS.sub(r"\1\1", text)

    # -- words --------------------------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """Surface words with sentence ends as BOUNDARY, de-obfuscated and respelled."""
        text = self.fold(text)
        for apostrophe in _APOSTROPHES:
            text = text.replace(apostrophe, "'")
        text = re.sub(r"\b(\w+)'(\w+)\b", lambda m: self._contract(m[1], m[2]), text)
        text = _SPACED.sub(_unspace, text)
        text = _SENTENCE_END.sub(f" {BOUNDARY} ", text)
        raw = _WORDS.findall(text)
        out: list[str] = []
        for word in raw:
            out.extend(self._word(word))
        return out

    def _contract(self, head: str, tail: str) -> str:
        whole = f"{head}'{tail}"
        return self.contractions.get(whole, head + tail)

    def _word(self, word: str) -> list[str]:
        out = self._words.get(word)
        if out is None:
            out = self._fold_word(word)
            if len(self._words) < 100_000:
                self._words[word] = out
        return out

    def _fold_word(self, word: str) -> list[str]:
        if word == BOUNDARY:
            return [BOUNDARY]
        if "*" in word and _CENSORED.match(word):
            word = self._uncensor(word)
        elif (
            self.leet_chars & set(word)
            and any(c.isalpha() for c in word)
            and not self.keep_numeric.fullmatch(word)
        ):
            word = word.translate(self.leet)
        word = "".join(c for c in word if c.isalnum())
        if not word:
            return []
        split = self.split_numeric.fullmatch(word)
        if split:  # "14yo" -> "14", "yo" (then respelled "year old")
            return [split[1], *self.respell.get(split[2], [split[2]])]
        if word in self.contractions:
            return self.contractions[word].split()
        if word in self.respell:
            return self.respell[word]
        if word.isalpha() and len(word) >= self.min_fuzzy and word not in self.keywords:
            word = self._fuzzy(word)
        return [self._unstretch(word)]

    def _unstretch(self, word: str) -> str:
        """A doubled letter left by stretching ("diee", "soo") undone when that gives a known
        word and the word as it stands is not one."""
        if not self.known or self.stem(word) in self.known:
            return word
        for i in range(len(word) - 1):
            if word[i] == word[i + 1]:
                shorter = word[:i] + word[i + 1 :]
                if self.stem(shorter) in self.known:
                    return shorter
        return word

    def _uncensor(self, word: str) -> str:
        pattern = re.compile(word.replace("*", "."))
        for k in sorted(self.keywords):
            if pattern.fullmatch(k):
                return k
        return word.replace("*", "")

    def _fuzzy(self, word: str) -> str:
        """A keyword one edit away (deletion, insertion, substitution, swap), or the word."""
        if word in self._deletes:  # one letter too many
            return self._deletes[word]
        for i in range(len(word)):
            variant = word[:i] + word[i + 1 :]
            if variant in self.keywords:  # one letter too many, kept letter order
                return variant
            hit = self._deletes.get(variant)
            if hit and len(hit) == len(word) >= self.min_fuzzy + 2:  # one wrong, or two swapped
                return hit
        return word

    # -- stems --------------------------------------------------------------------------------

    def stem(self, word: str) -> str:
        """The stem of one word (cached)."""
        s = self._stems.get(word)
        if s is None:
            s = word if word == BOUNDARY else self.stemmer.stemWord(word)
            if len(self._stems) < 100_000:
                self._stems[word] = s
        return s

    @lru_cache(maxsize=4096)  # noqa: B019 - see fold
    def stems(self, text: str) -> str:
        """ " stem stem | stem ": the text as the risk patterns and the models read it."""
        return " " + " ".join(self.stem(w) for w in self.words(text)) + " "

    def stem_phrase(self, phrase: str) -> str:
        """A writer's phrase ("killing myself") as stems ("kill myself"), for word lists."""
        return " ".join(self.stem(w) for w in self.words(phrase) if w != BOUNDARY)
