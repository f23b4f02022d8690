"""One LiveKit segment on a Lightning v4 session: sentences out as ``speak`` turns, audio in.

Each complete sentence is spoken as its own turn as soon as the LLM finishes it; the server
speaks turns in order, so the segment's audio is the turns' audio in order. Audio is
attributed by the core to the turn the server last started and handed by the socket's
reader to this segment's sink, so audio of a turn this segment interrupted (or an earlier
segment abandoned) never reaches this one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from livekit.agents import APIError, APITimeoutError, tts

from smallest_core import (
    SentenceSegmenter,
    TurnAudio,
    TurnEnded,
    TurnFailed,
    check_text,
    connection_error,
)
from smallest_core.aio import TurnEvent

from ._errors import to_api_error
from ._v4_socket import V4Socket

_INTERRUPT_SEND_TIMEOUT_S = 1.0


class V4Segment:
    """One segment's turns on ``sock``: text in through :meth:`push_text`/:meth:`flush`/
    :meth:`end_input`, audio out to ``emitter`` until :meth:`receive` returns;
    :meth:`abandon` interrupts whatever of it is still live."""

    def __init__(
        self,
        sock: V4Socket,
        emitter: tts.AudioEmitter,
        timeout: float,
        on_first_send: Callable[[], None],
    ) -> None:
        self.sock = sock
        self.emitter = emitter
        self.timeout = timeout
        self._on_first_send = on_first_send
        self.live: set[str] = set()
        """Turns spoken by this segment that have not ended."""
        self.turns = 0
        self.audio_pushed = False
        self._input_done = False
        self._wake = asyncio.Event()
        """Set by the sink on every event of this segment's turns, and by the sender."""
        self._failure: APIError | None = None
        self._segmenter = SentenceSegmenter()

    async def abandon(self) -> None:
        """Barge-in: stop this segment's turns on the server, keeping the socket."""
        if not self.live or not self.sock.usable:
            return
        self.sock.interrupt()
        self.live.clear()
        try:
            async with asyncio.timeout(_INTERRUPT_SEND_TIMEOUT_S):
                await self.sock.send_pending()
        except TimeoutError:
            self.sock.failure = connection_error("Lightning v4 did not take the interrupt")

    # ------------------------------------------------------------------ sending
    async def push_text(self, text: str) -> None:
        for piece in self._segmenter.push(text):
            await self._speak(piece)

    async def flush(self) -> None:
        for piece in self._segmenter.flush():
            await self._speak(piece)

    async def end_input(self) -> None:
        await self.flush()
        self._input_done = True
        self._wake.set()

    async def _speak(self, text: str) -> None:
        if not text.strip():
            return
        try:
            check_text(text)
        except ValueError as exc:
            raise APIError(f"Lightning v4 cannot send this text: {exc}", retryable=False) from None
        if self.turns == 0:
            self._on_first_send()
        turn_id = self.sock.speak(text, self._on_event)
        self.turns += 1
        self.live.add(turn_id)  # text is never blank here, so the turn is still live
        self._wake.set()
        await self.sock.send_pending()

    # ------------------------------------------------------------------ receiving
    async def receive(self) -> None:
        """Until every turn of the segment ended; silence while one is live is a timeout."""
        while True:
            if self._failure is not None:
                raise self._failure
            if not self.live and self._input_done:
                return
            self._wake.clear()
            if not self.live:
                await self._wake.wait()
                continue
            try:
                async with asyncio.timeout(self.timeout):
                    await self._wake.wait()
            except TimeoutError:
                self.sock.failure = connection_error("Lightning v4 stopped answering")
                raise APITimeoutError(
                    f"no answer from Lightning v4 within {self.timeout:.1f} s"
                ) from None

    def _on_event(self, event: TurnEvent) -> None:
        """The socket's sink for this segment's turns (runs in the reader; never blocks)."""
        if isinstance(event, TurnAudio):
            if event.turn_id in self.live:
                self.emitter.push(event.audio)
                self.audio_pushed = True
        elif isinstance(event, TurnEnded):
            self.live.discard(event.turn_id)
        elif isinstance(event, TurnFailed) and event.turn_id in self.live:
            self.live.discard(event.turn_id)
            if self._failure is None:
                self._failure = to_api_error(event.error)
        self._wake.set()
