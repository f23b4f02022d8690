"""What one framework's turn produced: audio, word times, transcripts and an event timeline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from smallest_core import redact

Log = Callable[[str], None]
"""Prints one progress line of a turn."""


class TurnFailed(Exception):
    """The framework reported an error, or the turn produced no audio or no transcript."""


@dataclass
class Word:
    """A word from our TTS's word timestamps, in seconds from the start of the turn's audio."""

    text: str
    start: float


@dataclass
class Turn:
    """One reply through our TTS, its audio played in real time into our STT.

    Wall-clock times (``events``, ``token_times``, ``received``, ``played``, ``final_times``) are
    seconds since the first token was produced. ``pace`` is how fast the audio is played into
    the STT: 1 = real time, as a caller hears it; 0 = as fast as possible.
    """

    framework: str
    reply: str
    sample_rate: int = 24000
    pace: float = 1.0
    pcm: bytearray = field(default_factory=bytearray)
    words: list[Word] = field(default_factory=list)
    finals: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    events: dict[str, float] = field(default_factory=dict)
    final_times: list[float] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    received: list[tuple[float, float]] = field(default_factory=list)
    """(wall time, seconds of audio received so far) at each audio chunk."""
    played: list[tuple[float, float, float]] = field(default_factory=list)
    """(wall time, audio second, audio second): each stretch played without a stall."""
    on_audio: Callable[[], None] | None = None
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
        self.events.setdefault("first audio", at)
        self.pcm += data
        self.received.append((at, self.audio_seconds))
        if self.on_audio is not None:
            self.on_audio()

    def final(self, text: str) -> None:
        """A final transcript arrived from the STT."""
        if text.strip():
            self.final_times.append(self.now())
            self.finals.append(text.strip())

    def error(self, message: str) -> None:
        """The framework reported an error without raising (an event or an error frame)."""
        message = redact(message)
        if message not in self.errors:
            self.errors.append(message)

    def raise_errors(self) -> None:
        """Raise :class:`TurnFailed` if the framework has reported an error."""
        if self.errors:
            raise TurnFailed("; ".join(self.errors))

    def problems(self) -> list[str]:
        """Why this turn failed (empty when it worked)."""
        found = list(self.errors)
        if not self.pcm:
            found.append("no TTS audio")
        if not self.finals:
            found.append("no STT final transcript")
        return found

    def wall_time_of(self, audio_s: float) -> float | None:
        """When the audio at ``audio_s`` was played into the STT (turn time), if it was."""
        for wall, start, end in self.played:
            if start <= audio_s <= end:
                return wall + (audio_s - start) / (self.pace or float("inf"))
        return None

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

    @property
    def final_after_speech_ms(self) -> float | None:
        """The last STT final after the reply's last sample was played, in milliseconds."""
        if not self.final_times or "speech played" not in self.events:
            return None
        return (self.final_times[-1] - self.events["speech played"]) * 1000
