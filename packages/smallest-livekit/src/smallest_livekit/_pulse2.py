"""Pulse 2's extras as LiveKit carries them: emotion and gender of a final in
``SpeechData.metadata``, and the latest of them as the stream's speaker ``context``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from smallest_core import BatchTranscript, Transcript, catalog

PULSE_2 = catalog.PULSE_2


def speech_metadata(result: Transcript | BatchTranscript) -> dict[str, Any] | None:
    """``{"emotion", "emotions", "gender"}`` of a result that carries them, else None."""
    out: dict[str, Any] = {}
    if result.emotions:
        out["emotion"] = result.emotion
        out["emotions"] = dict(result.emotions)
    if result.gender is not None:
        out["gender"] = result.gender
    return out or None


class SpeakerProfile(BaseModel):
    """What Pulse 2 last heard of the caller (``SpeechStream.context``)."""

    emotion: str | None = None
    emotions: dict[str, float] = {}
    gender: str | None = None

    def to_instructions(self) -> str:
        """One line for the LLM about how the caller sounds."""
        parts = []
        if self.emotion:
            parts.append(f"the caller sounds {self.emotion}")
        if self.gender:
            parts.append(f"their voice was classified as {self.gender}")
        return ("; ".join(parts).capitalize() + ".") if parts else ""
