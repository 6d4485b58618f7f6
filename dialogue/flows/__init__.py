"""One module per flow: its steps and its transition table."""

from dialogue.flows import conflict, menu, onboarding, safety, space
from dialogue.flows.base import Flow

FLOWS: tuple[Flow, ...] = (onboarding.FLOW, menu.FLOW, conflict.FLOW, space.FLOW, safety.FLOW)

__all__ = ["FLOWS", "Flow"]
