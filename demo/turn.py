"""What one framework's turn produced: audio, word times, transcripts and an event timeline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Log = Callable[[str], None]
"""Prints one progress line of a turn."""


@dataclass
class Word:
    """A word from our TTS's word timestamps, in seconds from the start of the turn's audio."""

    text: str
    start: float


@dataclass
class Turn:
    """One reply through our TTS, then its audio through our STT.

    Event times (``events``, ``token_times``, ``chunk_times``) are wall-clock seconds since the
    first token was produced.
    """

    framework: str
    reply: str
    sample_rate: int = 24000
    pcm: bytearray = field(default_factory=bytearray)
    words: list[Word] = field(default_factory=list)
    finals: list[str] = field(default_factory=list)
    events: dict[str, float] = field(default_factory=dict)
    final_times: list[float] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    chunk_times: list[float] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        """Seconds since the turn started."""
        return time.monotonic() - self.t0

    def mark(self, name: str) -> float:
        """Record event ``name`` once (the first time it happens) and return its time."""
        return self.events.setdefault(name, self.now())

    def token(self) -> None:
        """An LLM token was handed to the TTS."""
        if not self.token_times:
            self.t0 = time.monotonic()  # the turn's clock starts at the first token
        at = self.now()
        self.token_times.append(at)
        self.events.setdefault("first token", at)

    def audio(self, data: bytes) -> None:
        """A chunk of TTS audio arrived."""
        if not data:
            return
        at = self.now()
        self.chunk_times.append(at)
        self.events.setdefault("first audio", at)
        self.pcm += data

    def final(self, text: str) -> None:
        """A final transcript arrived from the STT."""
        at = self.now()
        self.final_times.append(at)
        if text.strip():
            self.finals.append(text.strip())

    @property
    def audio_seconds(self) -> float:
        """Seconds of TTS audio received."""
        return len(self.pcm) / 2 / self.sample_rate

    @property
    def transcript(self) -> str:
        """Everything the STT heard, joined."""
        return " ".join(self.finals)

    @property
    def first_audio_ms(self) -> float | None:
        """First audio after the first token, in milliseconds."""
        if "first audio" not in self.events or "first token" not in self.events:
            return None
        return (self.events["first audio"] - self.events["first token"]) * 1000
