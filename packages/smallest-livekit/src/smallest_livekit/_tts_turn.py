"""One streamed segment as one core context on a socket: text out, audio in, until it ends.

The socket's reader pushes audio and timed words into the emitter itself, as each frame
is parsed (no per-frame hand-off). Text and the context's end or failure share one
queue, so the turn is a single loop: forward each token as it arrives, finish on the
core's ``ContextEnded``. When the server owes audio is the core's rule
(:class:`~smallest_core.ResponseDeadline`: only for text actually sent, never while the
LLM is quiet); a context that times out retires its socket. Which socket, and what
happens to it afterwards, is the stream's business (``ConnectionPool.connection()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, NoReturn

from livekit.agents import APIError, APITimeoutError, tts
from livekit.agents.types import TimedString

from smallest_core import (
    AudioReceived,
    ContextEnded,
    ContextFailed,
    ContextState,
    ResponseDeadline,
    TTSEvent,
    TTSOptions,
    WordReceived,
    is_idle_timeout,
    should_replay,
)

from ._errors import to_api_error, transport_error
from ._tts_socket import TTSSocket

_INPUT_ENDED = object()
_TIMED_OUT = object()
_RESOLVED = (ContextState.ENDED, ContextState.FAILED, ContextState.CANCELLED, None)
_CANCEL_SEND_TIMEOUT_S = 1.0


class Replay(Exception):
    """The context failed before any audio on a stale socket: run it again on a new one."""


class Turn:
    """Text for one context, and the audio the server makes for it.

    ``push_text``/``end_input`` come from the caller's input; :meth:`run_on` drives the
    context on a socket and may be called again (with the same text) after :class:`Replay`.
    """

    def __init__(
        self,
        emitter: tts.AudioEmitter,
        opts: TTSOptions,
        timeout: float,
        on_first_send: Callable[[], None],
    ) -> None:
        self.emitter = emitter
        self.opts = opts
        self.timeout = timeout
        self._on_first_send = on_first_send
        self.audio_pushed = False
        self.first_audio_at: float | None = None
        """``perf_counter()`` when a socket received this turn's first audio."""
        self.replays = 0
        """Times the context was sent again on a fresh socket (core policy)."""
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._texts: list[str] = []
        self._input_ended = False
        self._closing_sent = False
        self._started = False
        self._event_loop = asyncio.get_running_loop()
        self._owed = ResponseDeadline.for_options(timeout, opts)
        self._pending: list[bytes] = []
        self._batching = False

    # ------------------------------------------------------------------ input
    def push_text(self, text: str) -> None:
        self._inbox.put_nowait(text)

    def end_input(self) -> None:
        self._inbox.put_nowait(_INPUT_ENDED)

    # ------------------------------------------------------------------ audio
    def _end_batch(self) -> None:
        self._batching = False
        self._push_pending()

    def _push_pending(self) -> None:
        if self._pending:
            audio = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending.clear()
            self.emitter.push(audio)
            self.audio_pushed = True

    def _deliver(self, event: TTSEvent) -> None:
        """The socket reader's sink for this turn's context.

        A frame's audio is pushed as it arrives; the frames the reader parses behind it in
        the same go (a fast server sends dozens per socket read) are pushed together as soon
        as the reader yields, and before any word or end that follows them. So a lone frame
        waits for nothing, and a burst costs the emitter two pushes instead of dozens.
        """
        self._owed.answered(time.monotonic())
        if type(event) is AudioReceived:
            if self._batching:
                self._pending.append(event.audio)
            else:
                self._batching = True
                self._event_loop.call_soon(self._end_batch)
                self.emitter.push(event.audio)
                self.audio_pushed = True
            return
        self._push_pending()
        if type(event) is WordReceived:
            word = event.word
            self.emitter.push_timed_transcript(
                TimedString(word.spaced, start_time=word.start, end_time=word.end)
            )
        else:
            self._inbox.put_nowait(event)

    # ------------------------------------------------------------------ the context
    async def run_on(self, sock: TTSSocket, reused: bool) -> None:
        """Until the context ends; on any exit but that, it is cancelled at the server."""
        self._owed = ResponseDeadline.for_options(self.timeout, self.opts)
        self._closing_sent = False
        ctx = sock.open_context(self.opts, self._deliver)
        try:
            for text in self._texts:
                self._push(sock, ctx, text)
            if self._input_ended:
                self._end(sock, ctx)
            await self._send(sock, bool(self._texts))
            await self._loop(sock, ctx, reused)
        except BaseException as exc:
            if isinstance(exc, APIError) and self.audio_pushed:
                exc.retryable = False  # a retry would play the audio again
            await _cancel(sock, ctx)
            raise
        finally:
            self._pending.clear()  # only an interrupted or failed turn has any left
            first = sock.first_audio_at.get(ctx)
            if first is not None and self.first_audio_at is None:
                self.first_audio_at = first
            sock.detach(ctx)

    def _push(self, sock: TTSSocket, ctx: str, text: str) -> None:
        """Queue a fragment; text that cannot be sent (a lone surrogate) fails the segment
        for good: retrying the same text cannot help."""
        try:
            sock.protocol.push_text(ctx, text)
        except ValueError as exc:
            raise APIError(f"Smallest TTS cannot send this text: {exc}", retryable=False) from None

    def _end(self, sock: TTSSocket, ctx: str) -> None:
        sock.protocol.end_input(ctx)
        sock.dispatch()  # an empty context's end reaches the inbox
        self._closing_sent = True

    async def _send(self, sock: TTSSocket, carries_text: bool) -> None:
        try:
            sent = await sock.send_pending()
        except Exception as exc:
            raise transport_error(exc, "sending to Smallest TTS failed") from None
        if not sent:
            return
        now = time.monotonic()
        if carries_text:
            self._owed.sent(now, closing=False)
            if not self._started:
                self._started = True
                self._on_first_send()
        if self._closing_sent:
            self._owed.sent(now, closing=True)

    async def _next(self, sock: TTSSocket) -> Any:
        """The next inbox item, or ``_TIMED_OUT`` once the server owes a frame and the
        deadline passed (counting from the core's own pending decision, if any)."""
        while True:
            due = self._owed.due(sock.activity())
            if due is None:
                return await self._inbox.get()
            if due <= time.monotonic():
                return _TIMED_OUT
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(due - time.monotonic() + self._event_loop.time()):
                    return await self._inbox.get()

    async def _loop(self, sock: TTSSocket, ctx: str, reused: bool) -> None:
        while True:
            item = await self._next(sock)
            if isinstance(item, str):
                self._texts.append(item)
                self._push(sock, ctx, item)
                await self._send(sock, True)
            elif item is _TIMED_OUT:
                self._time_out(sock, ctx)
            elif item is _INPUT_ENDED:
                self._input_ended = True
                self._end(sock, ctx)
                await self._send(sock, False)
            elif self._ended(item, sock, reused):
                return

    def _time_out(self, sock: TTSSocket, ctx: str) -> NoReturn:
        """The server owes the context audio: fail it and retire the socket."""
        sock.time_out(ctx)
        raise APITimeoutError(f"no answer from Smallest TTS within {self.timeout:.1f} s")

    def _ended(self, event: Any, sock: TTSSocket, reused: bool) -> bool:
        """True once the context has ended; its failure raises."""
        self._push_pending()
        if isinstance(event, ContextEnded):
            return True
        if isinstance(event, ContextFailed):
            error = event.error
            sock.failure = error  # the server may still answer the context's other messages
            # LiveKit retries a fresh socket's failure itself (conn_options.max_retry):
            # the plugin replays only what a stale pooled socket lost.
            if should_replay(error, audio_received=event.audio_received, replays=self.replays) and (
                reused or is_idle_timeout(error)
            ):
                self.replays += 1
                raise Replay(error.message)
            raise to_api_error(error)
        return False


async def _cancel(sock: TTSSocket, ctx: str) -> None:
    """Cancel a context still open at the server (barge-in keeps the socket)."""
    protocol = sock.protocol
    if protocol.context_state(ctx) in _RESOLVED:
        return
    protocol.cancel(ctx, time.monotonic())
    sock.watch_deadline()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_CANCEL_SEND_TIMEOUT_S):
            await sock.send_pending()
