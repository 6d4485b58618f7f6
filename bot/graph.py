"""The flows drawn as Mermaid state diagrams, by transitions' own diagram extension.

Each diagram has a title (Mermaid front matter), a guarded transition is labelled with its
guard ("answer if high"), and a flow too big to read at normal size is drawn in parts of at
most PART_STATES states, each part with the states its transitions lead to.
"""

from __future__ import annotations

import re
from typing import Any

from transitions.extensions import GraphMachine

from dialogue.flows import FLOWS
from dialogue.flows.base import Flow

PART_STATES = 14  # about what a README column shows without shrinking the text
_GUARD = re.compile(r" \[(!?)([A-Za-z_]\w*)\]")


class UnknownFlow(ValueError):
    """`graph --flow` named a flow that does not exist."""


def mermaid(only: str | None = None) -> str:
    """One Mermaid diagram per flow (or per part of a big flow), in Markdown code blocks."""
    names = [f.name for f in FLOWS]
    if only and only not in names:
        raise UnknownFlow(f"no flow {only!r}; the flows are: {', '.join(names)}")
    out = []
    for flow in FLOWS:
        if not only or flow.name == only:
            out.extend(_diagrams(flow))
    return "\n\n".join(out)


def _diagrams(flow: Flow) -> list[str]:
    states = [s.name for s in flow.steps]
    count = -(-len(states) // PART_STATES)  # parts of even size, none over PART_STATES
    size = -(-len(states) // count)
    parts = [states[i : i + size] for i in range(0, len(states), size)]
    drawn = []
    for n, part in enumerate(parts, 1):
        moves = [t for t in flow.transitions if t["source"] in part]
        shown = part + [t["dest"] for t in moves if t["dest"] not in part]
        title = flow.name if len(parts) == 1 else f"{flow.name} ({n} of {len(parts)})"
        drawn.append(_draw(list(dict.fromkeys(shown)), moves, part[0] if n > 1 else flow.first,
                           title, first=n == 1))  # fmt: skip
    return drawn


def _draw(states: list[str], moves: list[dict[str, Any]], initial: str, title: str,
          *, first: bool) -> str:  # fmt: skip
    keys = ("trigger", "source", "dest", "conditions", "unless")
    machine = GraphMachine(
        states=states, initial=initial,
        transitions=[{k: t[k] for k in keys if k in t} for t in moves],
        auto_transitions=False, graph_engine="mermaid", title=title, show_conditions=True,
    )  # fmt: skip
    lines = machine.get_graph().draw(None).strip().splitlines()
    # Drop transitions' colour classes: the plain diagram renders everywhere.
    lines = [ln for ln in lines if ln.strip() and not ln.strip().startswith(("classDef", "Class "))]
    if lines[:3] == ["---", title, "---"]:  # Mermaid reads a title only as `title:`
        lines[1] = f"title: {title}"
    if not first:  # a later part has no start of its own: it goes on from the part before
        lines = [ln for ln in lines if not ln.strip().startswith("[*] -->")]
    lines = [_GUARD.sub(lambda m: f" {'unless' if m[1] else 'if'} {m[2]}", ln) for ln in lines]
    return "```mermaid\n" + "\n".join(lines) + "\n```"
