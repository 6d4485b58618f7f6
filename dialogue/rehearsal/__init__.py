"""Rehearsal: the simulated other person (model.py) and how a user's turn is read (moves.py)."""

from dialogue.rehearsal.model import BEHAVIOURS, PERSONAS, SITUATIONS, Move, Other, react, start
from dialogue.rehearsal.moves import MoveReader

__all__ = ["BEHAVIOURS", "PERSONAS", "SITUATIONS", "Move", "MoveReader", "Other", "react", "start"]
