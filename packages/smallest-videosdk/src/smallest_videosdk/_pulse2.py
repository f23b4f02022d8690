"""Pulse 2's turn outputs as VideoSDK transcript metadata (the core parses them)."""

from __future__ import annotations

from typing import Any

from smallest_core import Transcript, catalog

PULSE_2 = catalog.PULSE_2
"""Pulse 2: English only; finals carry the end of the turn, emotion scores and gender."""


def turn_metadata(t: Transcript) -> dict[str, Any]:
    """The entries a Pulse 2 final adds to ``STTResponse.metadata``."""
    out: dict[str, Any] = {"end_of_turn": t.speech_final is True}
    if t.emotions is not None:
        out["emotion"] = t.emotion
        out["emotions"] = dict(t.emotions)
    if t.gender is not None:
        out["gender"] = t.gender
    return out
