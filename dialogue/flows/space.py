"""The space exercise: notice what comes up when they need space, then when you do."""

from __future__ import annotations

from dialogue.flows.base import CHOICE, GOTO, INFO, MULTI, Flow, Step
from dialogue.flows.conflict import BODY, EMOTIONS

CONFIDENCE = ("confident", "anxious", "angry", "numb", "repair", "grudge")
REVERSE = ("guilt", "anger", "fear", "grounded", "unsure")

STEPS = [
    Step("intro", INFO),
    Step("imagine", INFO),
    Step("body", MULTI, BODY, group="body", save="draft.space_body"),
    Step("emotions", MULTI, EMOTIONS, group="emotion", save="draft.space_emotions"),
    Step("confidence", CHOICE, CONFIDENCE, group="confidence", save="draft.confidence",
         columns=1),
    Step("reflect", INFO, key=lambda c: f"space.reflect.{c.draft['confidence']}",
         keys=tuple(f"space.reflect.{c}" for c in CONFIDENCE)),
    Step("reverse", INFO),
    Step("reverse_feel", CHOICE, REVERSE, group="reverse_feel", save="draft.reverse_feel",
         columns=1),
    Step("reverse_reflect", INFO, key=lambda c: f"space.reverse_reflect.{c.draft['reverse_feel']}",
         keys=tuple(f"space.reverse_reflect.{r}" for r in REVERSE)),
    Step("close", CHOICE, ("menu", "new"), group="after_space", columns=1),
    Step("to_menu", GOTO, goto="menu.home"),
    Step("to_new", GOTO, goto="menu.to_new"),
]  # fmt: skip

TRANSITIONS = [
    {"trigger": "next", "source": "intro", "dest": "imagine"},
    {"trigger": "next", "source": "imagine", "dest": "body"},
    {"trigger": "answer", "source": "body", "dest": "emotions"},
    {"trigger": "answer", "source": "emotions", "dest": "confidence"},
    {"trigger": "answer", "source": "confidence", "dest": "reflect"},
    {"trigger": "next", "source": "reflect", "dest": "reverse"},
    {"trigger": "next", "source": "reverse", "dest": "reverse_feel"},
    {"trigger": "answer", "source": "reverse_feel", "dest": "reverse_reflect"},
    {"trigger": "next", "source": "reverse_reflect", "dest": "close"},
    {"trigger": "menu", "source": "close", "dest": "to_menu"},
    {"trigger": "new", "source": "close", "dest": "to_new"},
]

FLOW = Flow("space", STEPS, TRANSITIONS)
