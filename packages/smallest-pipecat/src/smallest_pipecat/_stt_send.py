"""Pulse audio out: exact 50 ms frames kept until a final covers them, control messages
(what the core queues: keepalive, finalize), and ``finalize`` sent only once every byte
before it is on the socket. Audio never goes through the core's queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from loguru import logger
from pipecat.frames.frames import Frame
from websockets.exceptions import WebSocketException
from websockets.protocol import State

from smallest_core import AudioChunker, STTStreamState, redact
from smallest_pipecat._replay import ReplayBuffer

if TYPE_CHECKING:
    from pipecat.services.stt_service import WebsocketSTTService as _Base
else:
    _Base = object


class AudioSender(_Base):
    """The sending half of :class:`~smallest_pipecat.SmallestSTTService`."""

    _state: STTStreamState | None
    _chunker: AudioChunker | None
    _replay: ReplayBuffer | None
    _send_lock: asyncio.Lock
    _supervisor: asyncio.Task[None] | None
    _finalize_owed: bool
    _finalize_marks: list[int]

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Send audio in exact 50 ms frames."""
        if self._chunker is None:
            yield None
            return
        for chunk in self._chunker.push(audio):
            await self._send_audio(chunk)
        yield None

    async def _send_audio(self, chunk: bytes) -> None:
        """Keep ``chunk`` until a final covers it, and send it if a socket is open."""
        if self._replay is None:
            return
        self._replay.add(chunk)
        await self._drain()

    async def _drain(self) -> None:
        """Send the buffered audio the current socket has not had yet, in order."""
        replay = self._replay
        if replay is None:
            return
        async with self._send_lock:
            ws, state = self._websocket, self._state
            if ws is None or state is None or ws.state is not State.OPEN:
                return
            try:
                while (chunk := replay.next_unsent()) is not None:
                    await ws.send(chunk)
                    replay.mark_sent()
                    state.sent(time.monotonic())
            except (OSError, WebSocketException) as exc:
                # The reader sees the close and reconnects; the chunk stays buffered.
                logger.debug(f"{self} sending audio failed: {redact(str(exc))}")

    async def _send_rest(self) -> None:
        if self._chunker is not None:
            rest = self._chunker.flush()
            if rest:
                await self._send_audio(rest)

    async def _send_control(self, message: str) -> None:
        """Send a control message (the core's keepalive) if a socket is open."""
        ws, state = self._websocket, self._state
        if ws is None or state is None or ws.state is not State.OPEN:
            return
        try:
            await ws.send(message)
        except (OSError, WebSocketException) as exc:
            logger.debug(f"{self} sending {message} failed: {redact(str(exc))}")
            return
        state.sent(time.monotonic())

    async def _finalize(self) -> None:
        if self._state is None or (self._websocket is None and self._supervisor is None):
            return  # no socket and none coming
        await self._send_rest()
        self.request_finalize()  # type: ignore[no-untyped-call]
        self._finalize_owed = True
        await self._send_finalize()

    async def _send_finalize(self) -> None:
        """Send an owed ``finalize`` once every byte before it is on the socket."""
        state, replay = self._state, self._replay
        if state is None or replay is None:
            return
        async with self._send_lock:
            ws = self._websocket
            if not self._finalize_owed or ws is None or ws.state is not State.OPEN:
                return
            if replay.unsent:
                return  # the reconnect sends it after the audio
            state.finalize(time.monotonic())
            try:
                for message in state.data_to_send():
                    await ws.send(message)
                    state.sent(time.monotonic())
            except (OSError, WebSocketException) as exc:
                logger.warning(f"{self} sending finalize failed: {redact(str(exc))}")
                return
            self._finalize_owed = False
            self._finalize_marks.append(replay.sent_position)
