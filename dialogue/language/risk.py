"""Risk in what a user writes, in two independent nets: writers' patterns and a linear model.

1. Patterns (content/<locale>/data/crisis.yaml) over stemmed text, by label and tier: a `sure`
   match stops coaching at once; an `ask` match (passive phrasing, ambiguous words) asks one
   direct question. Idioms are taken out first; a match in a negated clause, about the long
   past, or about a film or the news is weak (patterns.Guards).
2. The model (content/<locale>/model/risk.json, fitted on the corpus by `repair-coach train`)
   gives each label a probability. It confirms or clears weak matches and catches what no
   pattern names: above its `ask` threshold it asks. Only a `sure` pattern acts at once.

Each label says who is at risk and which answer fits (KINDS): the most urgent answer leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogue.language.model import LinearModel
from dialogue.language.patterns import Compiler, Guards, PatternSet
from dialogue.language.text import Folder

# Answers, most urgent first: an emergency happening now; a child at risk from the user or
# another adult; the user's own suicidal thoughts or self-harm; violence from a partner; a
# child's (or another person's) own suicidal talk or self-harm.
KINDS = ("medical", "harm_to_child", "self_harm", "abuse", "child_risk")
WHO = ("user", "child", "user_from_partner", "other")

# Corpus label -> (answer kind, who is at risk). Within a kind, earlier labels are more urgent.
LABELS: dict[str, tuple[str, str]] = {
    "attempt_now": ("medical", "user"),
    "child_medical": ("medical", "child"),
    "medical": ("medical", "other"),
    "harm_by_user": ("harm_to_child", "child"),
    "harm_by_other": ("harm_to_child", "child"),
    "plan_means": ("self_harm", "user"),
    "preparatory": ("self_harm", "user"),
    "active_ideation": ("self_harm", "user"),
    "self_harm": ("self_harm", "user"),
    "burden": ("self_harm", "user"),
    "passive_ideation": ("self_harm", "user"),
    "partner_violence": ("abuse", "user_from_partner"),
    "child_suicidal": ("child_risk", "child"),
    "child_self_harm": ("child_risk", "child"),
}
NONE = "none"
# A user-labelled match whose subject is someone else ("she wants to die") is about them.
ABOUT_OTHERS = {
    "passive_ideation": "child_suicidal", "active_ideation": "child_suicidal",
    "plan_means": "child_suicidal", "preparatory": "child_suicidal", "burden": "child_suicidal",
    "self_harm": "child_self_harm", "attempt_now": "child_medical",
}  # fmt: skip
# A child's-emergency match that speaks of the user ("i can't breathe") is the user's own.
ABOUT_USER = {"child_medical": "medical", "child_self_harm": "self_harm",
              "child_suicidal": "active_ideation"}  # fmt: skip
# The user's own acts and thoughts about others: a child named before the match is more often
# the one provided for ("the kids' names", "for my son") than the one acting.
USER_ACTS = frozenset({"preparatory", "plan_means", "burden"})
_URGENCY = {label: (KINDS.index(kind), i) for i, (label, (kind, _)) in enumerate(LABELS.items())}


class RiskDataError(ValueError):
    """crisis.yaml names a label that does not exist, or lacks one."""


@dataclass(frozen=True, slots=True)
class Risk:
    """One risk found: the answer it needs, who is at risk, and how sure the nets are."""

    label: str  # a key of LABELS
    sure: bool  # act at once; otherwise ask one direct question first
    score: float  # the model's probability for the label (0 when there is no model)
    source: str  # "pattern", "pattern+model" or "model"
    person: str = ""  # who is at risk when the grammar says otherwise than the label

    @property
    def kind(self) -> str:
        """The answer: one of KINDS."""
        return LABELS[self.label][0]

    @property
    def who(self) -> str:
        """Who is at risk: one of WHO."""
        return self.person or LABELS[self.label][1]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (analyze, the JSON-lines chat)."""
        return {"kind": self.kind, "who": self.who, "label": self.label, "sure": self.sure,
                "score": round(self.score, 3), "source": self.source}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Hit:
    label: str
    tier: str  # "sure" or "ask"
    weak: str  # "" or why the match is weak
    start: int
    end: int
    person: str = ""  # who is at risk, when not the label's own


class RiskNet:
    """Both nets for one locale."""

    def __init__(
        self, folder: Folder, crisis: dict[str, Any], model: LinearModel | None = None
    ) -> None:
        self.folder = folder
        guards = crisis.get("guards", {})
        compiler = Compiler(folder, crisis.get("lists", {}), guards.get("negators", []),
                            guards.get("first_person", []))  # fmt: skip
        self.guards = Guards.build(guards, compiler)
        common = frozenset(folder.stem_phrase(str(w)) for w in crisis.get("common_words", []))
        frequency = dict(model.meta.get("frequency", {})) if model else {}
        self.idioms = PatternSet(
            [(None, r, s) for r, s in compiler.compile_each(crisis.get("idioms", []), "idioms")],
            common, frequency,
        )  # fmt: skip
        labels = crisis.get("labels", {})
        unknown = set(labels) - set(LABELS)
        if unknown:
            raise RiskDataError(f"crisis.yaml names unknown labels: {sorted(unknown)}")
        missing = set(LABELS) - set(labels)
        if missing:
            raise RiskDataError(f"crisis.yaml lacks labels: {sorted(missing)}")
        self.patterns = PatternSet(
            [
                ((label, tier), regex, slots)
                for label in LABELS
                for tier in ("sure", "ask")
                for regex, slots in compiler.compile_each(
                    labels[label].get(tier, []), f"crisis.{label}.{tier}"
                )
            ],
            common, frequency,
        )  # fmt: skip
        vocabulary = {w for _, _, slots in self.patterns.entries for slot in slots for w in slot}
        if model is not None:
            vocabulary |= {f for f in model.rows if " " not in f and not f.startswith("#")}
        folder.learn(frozenset(vocabulary))
        if model is not None and set(model.classes) - {NONE} - set(LABELS):
            raise RiskDataError("the risk model knows labels crisis.yaml does not")
        self.model = model
        thresholds = model.thresholds if model else {}
        self.ask_at = float(thresholds.get("ask", 0.5))
        self.confirm_at = float(thresholds.get("confirm", 0.2))
        self.floor = float(thresholds.get("floor", 0.0))
        self.confirm_negated = float(thresholds.get("confirm_negated", 0.6))

    def confirm(self, weak: str) -> float:
        """How sure the model must be to keep a weak match: more for a negated one."""
        return self.confirm_negated if weak == "negated" else self.confirm_at

    def without_idioms(self, stems: str) -> str:
        """The stems with every idiom blanked out (same length, so positions still hold)."""
        for _, start, end in self.idioms.search(stems):
            stems = stems[:start] + " " * (end - start) + stems[end:]
        return stems

    def hits(self, stems: str) -> list[_Hit]:
        """Every pattern match in stems with idioms already blanked (without_idioms), each
        with why it is weak (if it is)."""
        out: list[_Hit] = []
        for (label, tier), start, end in self.patterns.search(stems):
            weak = self.guards.why_weak(stems, start, end)
            out.append(_Hit(label, tier, weak, start, end))
        # A user-labelled match inside a match about someone else is reported speech
        # ("he screamed 'i want to die'"): the other person is the one at risk.
        others = [h for h in out if LABELS[h.label][1] != "user" and not h.weak]
        kept = []
        for h in out:
            who = LABELS[h.label][1]
            subject = self.guards.subject(stems, h.start, h.end, act=h.label in USER_ACTS)
            if who == "user":
                if any(o.start <= h.start and h.end <= o.end for o in others):
                    continue
                label = ABOUT_OTHERS[h.label] if subject == "third" else h.label
                kept.append(_Hit(label, h.tier, h.weak, h.start, h.end))
            elif (
                h.label in ABOUT_USER
                and subject == "first"
                and not self.guards.names_other(stems, h.start, h.end)
                # a child's self-harm or suicidal words are the user's only when the user is
                # named ("found razor blades taped under his desk" is about the child)
                and (
                    h.label == "child_medical"
                    or self.guards.subject(stems, h.start, h.end, named=True) == "first"
                )
            ):
                # "if i did not wake up": a child's emergency word said of the user.
                kept.append(_Hit(ABOUT_USER[h.label], h.tier, h.weak, h.start, h.end, "user"))
            elif h.label == "child_medical" and self.guards.adult_before(stems, h.start, h.end):
                kept.append(_Hit("medical", h.tier, h.weak, h.start, h.end))
            elif who == "user_from_partner" and self.guards.child_before(stems, h.start):
                kept.append(_Hit(h.label, h.tier, h.weak or "child", h.start, h.end))
            else:
                kept.append(h)
        if len({h.label for h in kept}) > 1:  # the user's own body words give way to the rest
            kept = [
                h
                for h in kept
                if not (
                    h.label == "medical"
                    and h.tier == "sure"
                    and self.guards.subject(stems, h.start, h.end) == "first"
                )
            ]
        return kept

    def detect(self, text: str) -> tuple[Risk, ...]:
        """Every risk found, most urgent first (sure ones before unsure ones)."""
        # Patterns and model both read the text without its idioms.
        stems = self.without_idioms(self.folder.stems(text))
        hits = self.hits(stems)
        probs = self.model.probabilities(stems) if self.model else {}
        p_risk = 1.0 - probs.get(NONE, 1.0) if probs else 0.0
        found: dict[str, Risk] = {}

        def add(label: str, sure: bool, source: str, person: str = "") -> None:
            old = found.get(label)
            if old is None or (sure and not old.sure):
                found[label] = Risk(label, sure, probs.get(label, 0.0), source, person)

        for h in hits:
            if not h.weak and (h.tier == "sure" or not probs):
                add(h.label, h.tier == "sure", "pattern", h.person)
            elif p_risk >= self.floor if not h.weak else p_risk >= self.confirm(h.weak):
                add(h.label, False, "pattern+model", h.person)
        if probs and not found and p_risk >= self.ask_at:
            label = max((c for c in probs if c != NONE), key=probs.__getitem__)
            add(label, False, "model")  # the model alone never acts: it asks
        return tuple(sorted(found.values(), key=lambda r: (not r.sure, _URGENCY[r.label])))
