"""Fault knobs of a TTS WebSocket connection, read in one place.

Unlike the protocol switches (:mod:`smallest_emulator.tts_policy`), fault knobs are read live
from the connection's config at every chunk: tests flip them on a pooled connection between
turns (``emu.config.error_after_chunks = 2``). Each chunk-count fault fires once per connection.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from smallest_emulator import frames
from smallest_emulator.config import EmulatorConfig
from smallest_emulator.tts_common import Pacer
from smallest_emulator.tts_ws_context import Context

if TYPE_CHECKING:
    from smallest_emulator.tts_ws import TtsWsSession


class TtsWsFaults:
    """Injects the configured faults into one TTS WebSocket connection."""

    def __init__(self, cfg: EmulatorConfig) -> None:
        self.cfg = cfg
        self.fired: set[str] = set()

    def over_concurrency(self, inflight: int) -> bool:
        """The ``concurrency_limit`` refuses a new synthesis."""
        limit = self.cfg.concurrency_limit
        return limit is not None and inflight >= limit

    async def first_byte_delay(self) -> None:
        """``ttfb_ms``: wait before a release's first frame."""
        if self.cfg.ttfb_ms > 0:
            await asyncio.sleep(self.cfg.ttfb_ms / 1000)

    async def pause(self, ctx: Context, pacer: Pacer) -> None:
        """``pause_ms`` once per context after ``pause_after_chunks`` chunks."""
        cfg = self.cfg
        if cfg.pause_ms > 0 and ctx.chunks == cfg.pause_after_chunks and not ctx.paused:
            ctx.paused = True
            await asyncio.sleep(cfg.pause_ms / 1000)
            pacer.pause(cfg.pause_ms / 1000)

    def _once(self, name: str, at: int | None, n: int) -> bool:
        if at != n or name in self.fired:
            return False
        self.fired.add(name)
        return True

    async def after_chunk(self, session: TtsWsSession, ctx: Context, request_id: str) -> bool:
        """Apply chunk-count faults; True when the current release must stop."""
        cfg, n = self.cfg, session.chunks_sent
        if self._once("malformed", cfg.malformed_json_after_chunks, n):
            await session.ws.send_str(frames.tts_malformed(session.session_id))
        if self._once("unknown", cfg.unknown_status_after_chunks, n):
            await session.send(frames.tts_unknown_status(session.ids(ctx, request_id)))
        if self._once("binary", cfg.binary_frame_after_chunks, n):
            await session.ws.send_bytes(b"\x00\x01\x02\x03")
        if self._once("error", cfg.error_after_chunks, n):
            ctx.failed = True
            ctx.record.error = cfg.error_message
            ids = session.ids(ctx, request_id)
            await session.send(
                session.policy.error(cfg.error_message, code="internal_error", **ids)
            )
            return True
        if cfg.close_after_chunks == n:
            transport = session.request.transport
            if transport is not None:
                transport.abort()
            raise ConnectionResetError("close_after_chunks fault")
        return False
