"""Pulse 2's speaker outputs as LiveKit carries them: a final's ``Transcript.metadata()``
goes in ``SpeechData.metadata``, and the latest as the stream's speaker ``context``."""

from __future__ import annotations

from pydantic import BaseModel

from smallest_core import catalog

PULSE_2 = catalog.PULSE_2


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
