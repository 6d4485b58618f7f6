"""The flows drawn as Mermaid state diagrams, by transitions' own diagram extension."""

from __future__ import annotations

from transitions.extensions import GraphMachine

from dialogue.flows import FLOWS


def mermaid(only: str | None = None) -> str:
    """One Mermaid diagram per flow, in a Markdown code block each."""
    out = []
    for flow in FLOWS:
        if only and flow.name != only:
            continue
        machine = GraphMachine(
            states=[s.name for s in flow.steps], initial=flow.first,
            transitions=[{k: t[k] for k in ("trigger", "source", "dest")}
                         for t in flow.transitions],
            auto_transitions=False, graph_engine="mermaid", title=flow.name,
        )  # fmt: skip
        lines = machine.get_graph().draw(None).strip().splitlines()
        # Drop transitions' colour classes: the plain diagram renders everywhere.
        lines = [ln for ln in lines if not ln.strip().startswith(("classDef", "Class "))]
        out.append("```mermaid\n" + "\n".join(ln for ln in lines if ln.strip()) + "\n```")
    return "\n\n".join(out)
