"""What a :class:`~smallest_core.TTSConnection` reports: typed events, and its accounting."""

from __future__ import annotations

from dataclasses import dataclass

from smallest_core.errors import SmallestError
from smallest_core.timeline import TimedWord


@dataclass(slots=True)
class AudioReceived:
    """PCM (int16 LE mono) for a context, at ``sample_offset`` on its timeline.

    One per audio frame, so not frozen: a frozen dataclass costs ~490 ns to build against
    ~140 ns for a plain slotted one. Treat it as read-only all the same.
    """

    context_id: str
    audio: bytes
    sample_offset: int


@dataclass(frozen=True, slots=True)
class WordReceived:
    """A timed word for a context (times on the context's timeline)."""

    context_id: str
    word: TimedWord


@dataclass(frozen=True, slots=True)
class ContextEnded:
    """All of the context's audio has arrived."""

    context_id: str
    reason: str
    samples: int


@dataclass(frozen=True, slots=True)
class ContextFailed:
    """The context cannot finish. ``audio_received`` tells whether a retry would repeat
    audio; ``text`` is everything sent for it, for a replay on another connection."""

    context_id: str
    error: SmallestError
    audio_received: bool
    text: str


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """An error that belongs to no context (idle timeout, garbage with nothing active)."""

    error: SmallestError


@dataclass(frozen=True, slots=True)
class FrameIgnored:
    """A frame that carried nothing usable (unknown status, binary); worth a warning."""

    reason: str


TTSEvent = (
    AudioReceived | WordReceived | ContextEnded | ContextFailed | ConnectionFailed | FrameIgnored
)


@dataclass(slots=True)
class ContextStats:
    """Accounting for one context (what arrived, what was dropped)."""

    chunks: int = 0
    audio_bytes: int = 0
    words: int = 0
    completes: int = 0
    dropped_frames: int = 0
    dropped_bytes: int = 0
    late_frames: int = 0


@dataclass(slots=True)
class ConnectionStats:
    """Accounting for one connection."""

    frames: int = 0
    completes: int = 0
    """``complete`` frames routed to a context (one per released segment, or per context)."""
    dropped_frames: int = 0
    dropped_bytes: int = 0
    unattributed_frames: int = 0
    ignored_frames: int = 0
    late_frames: int = 0
