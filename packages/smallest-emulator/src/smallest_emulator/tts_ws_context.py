"""Server-side state of a TTS WebSocket context and the jobs queued for it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from smallest_emulator.records import TtsRecord
from smallest_emulator.tts_common import TtsParams


@dataclass
class Context:
    """Server-side state of one client context (or legacy/one-shot utterance)."""

    key: str | None
    record: TtsRecord
    params: TtsParams
    buffer: str = ""
    closing: bool = False
    cancelled: bool = False
    failed: bool = False
    cancel_budget: int = 0
    timer: asyncio.TimerHandle | None = None
    word_index: int = 0
    context_samples: int = 0
    chunks: int = 0
    paused: bool = False
    backoff_ms: int = 4000
    max_buffer_delay_ms: int = 3000
    external_request_id: str | None = None
    external_session_id: str | None = None
    last_request_id: str | None = None
    completed: bool = False
    generation: int = 0
    hold_until_flush: bool = False

    @property
    def ended(self) -> bool:
        """Closing, cancelled or failed: new text opens a fresh context under the same key."""
        return self.closing or self.cancelled or self.failed

    def stop_timer(self) -> None:
        """Cancel the buffer-delay timer, if armed."""
        if self.timer:
            self.timer.cancel()
            self.timer = None


@dataclass
class Job:
    """A release (text to synthesize) or a cancel acknowledgement."""

    ctx: Context
    text: str
    last: bool
    kind: str = "release"
    params: TtsParams | None = None
    generation: int = 0

    @property
    def stale(self) -> bool:
        """The context was cancelled since this job was queued."""
        return self.ctx.cancelled or self.generation != self.ctx.generation
