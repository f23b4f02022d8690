"""Drive one streamed segment (one core context) on a pooled socket.

The socket's reader pushes audio and timed words into the emitter itself, as each frame
is parsed (no per-frame hand-off). Text from the stream's input and the context's end or
failure share one queue, so the turn is a single loop: forward each token as it arrives,
finish on the core's ``ContextEnded``. When the server owes audio is the core's rule
(:class:`~smallest_core.ResponseDeadline`: only for text actually sent, never while the
LLM is quiet). A context that times out retires its socket: a server that went silent on
one turn is not trusted with the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, NoReturn

from livekit.agents import APIError, APITimeoutError, tts
from livekit.agents.types import TimedString

from smallest_core import (
    AudioReceived,
    ContextEnded,
    ContextFailed,
    ContextState,
    ResponseDeadline,
    TTSConnection,
    TTSEvent,
    WordReceived,
    is_idle_timeout,
    should_replay,
)

from ._errors import to_api_error, transport_error
from ._tts_socket import TTSSocket
from .log import logger

if TYPE_CHECKING:
    from .tts import SynthesizeStream

_INPUT_ENDED = object()
_TIMED_OUT = object()
_CANCEL_SEND_TIMEOUT_S = 1.0


class _Replay(Exception):
    """The context failed before any audio on a stale socket: run it again on a new one."""


class _Turn:
    def __init__(self, stream: SynthesizeStream, emitter: tts.AudioEmitter) -> None:
        self.stream = stream
        self.emitter = emitter
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.texts: list[str] = []
        self.input_ended = False
        self.closing_sent = False
        self.replays = 0
        """Times this turn's context was sent again on a fresh socket (core policy)."""
        self.audio_pushed = False
        self.started = False
        self._event_loop = asyncio.get_running_loop()
        self.owed = ResponseDeadline.for_options(stream.connect_options.timeout, stream.opts)
        """When the server owes this turn's context its next frame (monotonic clock)."""
        self._pending: list[bytes] = []
        self._batching = False

    def _end_batch(self) -> None:
        self._batching = False
        self.push_pending()

    def push_pending(self) -> None:
        """Hand the audio parsed since the last push to the emitter."""
        if self._pending:
            audio = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending.clear()
            self.emitter.push(audio)
            self.audio_pushed = True

    def deliver(self, event: TTSEvent) -> None:
        """Called by the socket's reader for each event of this turn's context.

        A frame's audio is pushed as it arrives; the frames the reader parses behind it in
        the same go (a fast server sends dozens per socket read) are pushed together as soon
        as the reader yields, and before any word or end that follows them. So a lone frame
        waits for nothing, and a burst costs the emitter two pushes instead of dozens.
        """
        self.owed.answered(time.monotonic())
        if type(event) is AudioReceived:
            if self._batching:
                self._pending.append(event.audio)
            else:
                self._batching = True
                self._event_loop.call_soon(self._end_batch)
                self.emitter.push(event.audio)
                self.audio_pushed = True
            return
        self.push_pending()
        if type(event) is WordReceived:
            word = event.word
            self.emitter.push_timed_transcript(
                TimedString(word.spaced, start_time=word.start, end_time=word.end)
            )
        else:
            self.inbox.put_nowait(event)

    async def read_input(self) -> None:
        async for item in self.stream.input_channel():
            if self.stream.is_flush(item):
                break
            self.inbox.put_nowait(item)
        self.inbox.put_nowait(_INPUT_ENDED)

    async def send(self, sock: TTSSocket, carries_text: bool) -> None:
        try:
            sent = await sock.send_pending()
        except Exception as exc:
            raise transport_error(exc, "sending to Smallest TTS failed") from None
        if not sent:
            return
        now = time.monotonic()
        if carries_text:
            self.owed.sent(now, closing=False)
            if not self.started:
                self.started = True
                self.stream.mark_started()
        if self.closing_sent:
            self.owed.sent(now, closing=True)

    async def run_on(self, sock: TTSSocket, reused: bool) -> None:
        protocol = sock.protocol
        self.owed = ResponseDeadline.for_options(
            self.stream.connect_options.timeout, self.stream.opts
        )
        ctx = sock.open_context(self.stream.opts, self.deliver)
        try:
            for text in self.texts:
                _push_text(protocol, ctx, text)
            if self.input_ended:
                protocol.end_input(ctx)
                sock.dispatch()  # an empty context's end reaches the inbox
                self.closing_sent = True
            await self.send(sock, bool(self.texts))
            await self._loop(sock, ctx, reused)
        except BaseException:
            if protocol.context_state(ctx) not in (
                ContextState.ENDED,
                ContextState.FAILED,
                ContextState.CANCELLED,
                None,
            ):
                protocol.cancel(ctx, time.monotonic())
                sock.watch_deadline()
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(_CANCEL_SEND_TIMEOUT_S):
                        await sock.send_pending()
            raise
        finally:
            self._pending.clear()  # only an interrupted or failed turn has any left
            first = sock.first_audio_at.get(ctx)
            if first is not None and self.stream.first_audio_received_at is None:
                self.stream.first_audio_received_at = first
            sock.detach(ctx)

    async def _next(self, sock: TTSSocket) -> Any:
        """The next inbox item, or ``_TIMED_OUT`` once the server owes a frame and the
        deadline passed (counting from the core's own pending decision, if any)."""
        while True:
            due = self.owed.due(sock.activity())
            if due is None:
                return await self.inbox.get()
            if due <= time.monotonic():
                return _TIMED_OUT
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(due - time.monotonic() + self._event_loop.time()):
                    return await self.inbox.get()

    async def _loop(self, sock: TTSSocket, ctx: str, reused: bool) -> None:
        protocol = sock.protocol
        while True:
            item = await self._next(sock)
            if isinstance(item, str):
                self.texts.append(item)
                _push_text(protocol, ctx, item)
                await self.send(sock, True)
            elif item is _TIMED_OUT:
                self._time_out(sock, ctx)
            elif item is _INPUT_ENDED:
                self.input_ended = True
                protocol.end_input(ctx)
                sock.dispatch()  # an empty context's end reaches the inbox
                self.closing_sent = True
                await self.send(sock, False)
            elif self._handle([item], sock, reused):
                return

    def _time_out(self, sock: TTSSocket, ctx: str) -> NoReturn:
        """The server owes the context audio: fail it and retire the socket."""
        sock.time_out(ctx)
        timeout = self.stream.connect_options.timeout
        raise APITimeoutError(f"no answer from Smallest TTS within {timeout:.1f} s")

    def _handle(self, events: list[Any], sock: TTSSocket, reused: bool) -> bool:
        """Apply events; True once the context has ended."""
        self.push_pending()
        for event in events:
            if isinstance(event, AudioReceived | WordReceived):
                self.deliver(event)
            elif isinstance(event, ContextEnded):
                return True
            elif isinstance(event, ContextFailed):
                error = event.error
                sock.failure = error  # the server may still answer the context's other messages
                # LiveKit retries a fresh socket's failure itself (conn_options.max_retry):
                # the plugin replays only what a stale pooled socket lost.
                if should_replay(
                    error, audio_received=event.audio_received, replays=self.replays
                ) and (reused or is_idle_timeout(error)):
                    self.replays += 1
                    raise _Replay(error.message)
                raise to_api_error(error)
        return False


def _push_text(protocol: TTSConnection, ctx: str, text: str) -> None:
    """Queue a fragment; text that cannot be sent (a lone surrogate) fails the segment for
    good: retrying the same text cannot help."""
    try:
        protocol.push_text(ctx, text)
    except ValueError as exc:
        raise APIError(f"Smallest TTS cannot send this text: {exc}", retryable=False) from None


async def run_turn(stream: SynthesizeStream, emitter: tts.AudioEmitter) -> None:
    """Synthesize the stream's segment, replaying on a fresh socket if a pooled one was stale."""
    owner = stream.owner
    turn = _Turn(stream, emitter)
    reader = asyncio.create_task(turn.read_input(), name="smallest.tts.input")
    try:
        while True:
            sock, reused = await owner.acquire_socket(stream.connect_options.timeout)
            stream.note_connection(reused)
            try:
                await turn.run_on(sock, reused)
                return
            except APIError as exc:
                if turn.audio_pushed:
                    exc.retryable = False  # a retry would play the audio again
                raise
            except _Replay as exc:
                logger.debug("replaying a segment on a fresh socket: %s", exc)
                turn.closing_sent = turn.input_ended
            finally:
                owner.release_socket(sock)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
