"""``stream()`` of :class:`~.tts.TTS`: one segment on a socket from the TTS's pool.

The stream owns what LiveKit owns in every plugin: its input channel, the pooled socket
(``ConnectionPool.connection()``: returned after the turn, dropped once it cannot carry
another, see :mod:`._pooled`) and its tasks (``utils.aio.gracefully_cancel``). The
context itself is a :class:`~._tts_turn.Turn`. A context that a stale pooled socket lost
before any audio is sent again on a fresh one (the core's ``should_replay``); LiveKit's
own ``conn_options.max_retry`` handles every other retryable failure.
"""

from __future__ import annotations

import asyncio
from typing import Any

from livekit.agents import APIConnectionError, APIConnectOptions, tts, utils

from smallest_core import MAX_REPLAYS, TTSOptions

from ._pooled import settle
from ._tts_socket import TTSSocket
from ._tts_turn import Replay, Turn
from .log import logger

NUM_CHANNELS = 1
_MAX_SOCKETS = MAX_REPLAYS + 4
"""Sockets one attempt may take: replays, and pooled sockets found closed while idle."""


class SynthesizeStream(tts.SynthesizeStream):
    """One segment on a pooled WebSocket; every token is sent as it arrives."""

    def __init__(
        self,
        *,
        tts: tts.TTS[Any],
        conn_options: APIConnectOptions,
        pool: utils.ConnectionPool[TTSSocket],
        opts: TTSOptions,
    ) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._pool = pool
        self._opts = opts
        self.first_audio_received_at: float | None = None
        """``perf_counter()`` when the socket received this segment's first audio."""

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        segment_id = utils.shortuuid()
        output_emitter.initialize(
            request_id=segment_id,
            sample_rate=self._opts.sample_rate,
            num_channels=NUM_CHANNELS,
            mime_type="audio/pcm",
            stream=True,
        )
        output_emitter.start_segment(segment_id=segment_id)
        turn = Turn(output_emitter, self._opts, self._conn_options.timeout, self._mark_started)
        reader = asyncio.create_task(self._read_input(turn), name="smallest.tts.input")
        try:
            for _ in range(_MAX_SOCKETS):
                try:
                    await self._run_on_pooled_socket(turn)
                    break
                except Replay as exc:
                    logger.debug("sending the segment again on a fresh socket: %s", exc)
            else:
                raise APIConnectionError("no usable Smallest TTS socket")
        finally:
            await utils.aio.gracefully_cancel(reader)
            if self.first_audio_received_at is None:
                self.first_audio_received_at = turn.first_audio_at
        output_emitter.end_segment()

    async def _read_input(self, turn: Turn) -> None:
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                break
            turn.push_text(item)
        turn.end_input()

    async def _run_on_pooled_socket(self, turn: Turn) -> None:
        pool = self._pool
        held: TTSSocket | None = None
        failed: Exception | asyncio.CancelledError | None = None
        try:
            async with pool.connection(timeout=self._conn_options.timeout) as sock:
                held = sock
                self._acquire_time = pool.last_acquire_time
                self._connection_reused = reused = pool.last_connection_reused
                if not sock.usable:
                    if reused:  # closed while idle in the pool
                        raise Replay("a pooled socket had closed")
                    raise APIConnectionError("the new Smallest TTS socket closed at once")
                failed = await settle(turn.run_on(sock, reused), lambda: _reusable(sock))
                if not _reusable(sock):
                    pool.remove(sock)  # the block's normal exit then keeps it out
        finally:
            if held is not None and not _reusable(held):
                pool.prewarm()  # the next turn should not pay for the handshake
        if failed is not None:
            raise failed


def _reusable(sock: TTSSocket) -> bool:
    return sock.usable and not sock.protocol.busy
