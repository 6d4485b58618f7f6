"""Cues in what the user wrote: judgments, the Four Horsemen, repair moves, emotions, risk."""

from dialogue.language.analyzer import CRISIS_KINDS, CUES, Analysis, Analyzer, normalize

__all__ = ["CRISIS_KINDS", "CUES", "Analysis", "Analyzer", "normalize"]
