"""Introspection records kept by the emulator for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class WordRecord:
    """A word as synthesized: exact sample span on the release and on the context timeline."""

    id: int
    word: str
    start_sample: int
    end_sample: int
    start: float
    end: float
    request_id: str
    context_start_sample: int


@dataclass
class TtsRecord:
    """One TTS context (WS) or request (HTTP/SSE)."""

    transport: str  # "ws" | "http" | "sse"
    connection_id: str
    context_id: str | None
    sample_rate: int = 24000
    output_format: str = "pcm"
    voice_id: str = ""
    text: str = ""
    releases: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    external_request_id: str | None = None
    pcm: bytearray = field(default_factory=bytearray)
    bytes_sent: int = 0
    chunks_sent: int = 0
    words: list[WordRecord] = field(default_factory=list)
    completes_sent: int = 0
    cancelled: bool = False
    bytes_sent_before_cancel: int | None = None
    error: str | None = None
    closed: bool = False
    done: bool = False
    trace: str = ""
    affect: dict[str, str] = field(default_factory=dict)
    """Lightning v3.2: the affect fields the request carried (emotion, pitch, ...)."""
    sends: list[tuple[int, float]] = field(default_factory=list)
    """With ``trace``: (PCM bytes sent so far, ``time.monotonic()``) after each chunk."""

    @property
    def fragments_text(self) -> str:
        """The full text received (fragments joined)."""
        return self.text


@dataclass
class SttRecord:
    """One STT session (WS) or request (HTTP)."""

    transport: str  # "ws" | "http"
    connection_id: str
    params: dict[str, str] = field(default_factory=dict)
    audio_bytes: int = 0
    audio_chunks: int = 0
    control_messages: list[dict[str, Any]] = field(default_factory=list)
    transcripts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    trace: str = ""
    finals_sent_at: list[float] = field(default_factory=list)
    """With ``trace``: ``time.monotonic()`` when each final transcript was sent."""


@dataclass
class WsCounters:
    """WebSocket connection counters (prove socket reuse)."""

    opened_total: int = 0
    open_now: int = 0
    per_route: dict[str, int] = field(default_factory=dict)
    open_per_route: dict[str, int] = field(default_factory=dict)

    def opened(self, route: str) -> None:
        """Count an accepted connection."""
        self.opened_total += 1
        self.open_now += 1
        self.per_route[route] = self.per_route.get(route, 0) + 1
        self.open_per_route[route] = self.open_per_route.get(route, 0) + 1

    def closed(self, route: str) -> None:
        """Count a finished connection."""
        self.open_now -= 1
        self.open_per_route[route] = self.open_per_route.get(route, 0) - 1
