"""One module per flow: its steps and its transition table."""

from dialogue.flows import conflict, daily, journal, menu, onboarding, rehearsal, safety, space
from dialogue.flows.base import Flow

FLOWS: tuple[Flow, ...] = (
    onboarding.FLOW, menu.FLOW, conflict.FLOW, space.FLOW, safety.FLOW, journal.FLOW,
    daily.DAILY, daily.FOLLOWUP, rehearsal.FLOW,
)  # fmt: skip

__all__ = ["FLOWS", "Flow"]
