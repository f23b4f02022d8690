"""Streaming turns over the Lightning WebSocket for :class:`SmallestAITTS`: the socket it
reuses, a turn's text read into ``FlushMarker``-delimited segments (one continuation
context each, bound one after another), and each segment's audio pushed to the track.
When the server owes audio and when a context is replayed are the core's rules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import aiohttp
from videosdk.agents import FlushMarker

from smallest_core import (
    AudioReceived,
    ContextEnded,
    ContextFailed,
    ErrorKind,
    ResponseDeadline,
    SmallestError,
    TTSOptions,
    WordReceived,
    check_text,
    should_replay,
)
from smallest_videosdk._common import Account
from smallest_videosdk._playback import TrackAudio, WordPacer
from smallest_videosdk._segment import Segment, Sent
from smallest_videosdk._tts_socket import TTSSocket, open_socket

logger = logging.getLogger("smallest_videosdk.tts")


class Interrupted(Exception):
    """Raised inside a turn when :meth:`SmallestAITTS.interrupt` stopped it."""


_NOTHING_HELD = object()


@dataclass(eq=False)
class Turn:
    """One ``synthesize()`` call."""

    segments: list[Segment] = field(default_factory=list)
    interrupted: bool = False
    first_audio: bool = False
    pacer: WordPacer | None = None
    producer: asyncio.Task[None] | None = None
    affect_pinned: bool = False
    """``synthesize(affect=...)`` was given: :meth:`SmallestAITTS.set_affect` waits."""


class SocketTurns:
    """The WebSocket half of :class:`SmallestAITTS` (a mixin: it uses the TTS's state)."""

    _account: Account
    _options: TTSOptions
    _socket: TTSSocket | None
    _connect_lock: asyncio.Lock
    _pacers: set[WordPacer]
    timeout: float
    max_connection_age_sec: float
    idle_timeout_s: int | None

    if TYPE_CHECKING:

        def _http(self) -> aiohttp.ClientSession: ...

        def _track_rate(self) -> int: ...

        def _note_untimed(self, voice_id: str) -> None: ...

        async def _push(
            self, turn: Turn, pcm: bytes, source_samples: int | None = None
        ) -> None: ...

        _word_spoken: Callable[[dict[str, Any]], None]

    async def _live_socket(self) -> TTSSocket:
        async with self._connect_lock:
            sock = self._socket
            if sock is not None:
                too_old = time.monotonic() - sock.opened_at > self.max_connection_age_sec
                if sock.usable and not (too_old and not sock.protocol.busy):
                    return sock
                await sock.aclose()
                self._socket = None
            url = self._account.endpoints.tts_ws(idle_timeout_s=self.idle_timeout_s)
            sock = await open_socket(
                self._http(), url, self._account.headers(), self._options, self.timeout
            )
            self._socket = sock
            return sock

    async def _bind(self, turn: Turn, segment: Segment, options: TTSOptions) -> None:
        """Send ``segment`` (all its text so far) as a new context on a live socket."""
        sock = await self._live_socket()
        if turn.interrupted:
            raise Interrupted
        segment.bind(sock, options)
        await sock.send_pending()

    async def _discard(self, sock: TTSSocket) -> None:
        """Close a socket that may not carry another context."""
        if self._socket is sock:
            self._socket = None
        await sock.aclose()

    async def _stream_turn(
        self, turn: Turn, text: AsyncIterator[str | FlushMarker], options: TTSOptions
    ) -> None:
        await self._live_socket()  # before reading text: a refused turn leaves it all unread
        ready: asyncio.Queue[Segment | None] = asyncio.Queue()
        turn.producer = asyncio.create_task(self._produce(turn, text, ready))
        audio = TrackAudio(options.sample_rate, self._track_rate())
        if options.word_timestamps:
            self._pacers = {p for p in self._pacers if not p.done}
            turn.pacer = WordPacer(options.sample_rate, self._word_spoken)
            self._pacers.add(turn.pacer)
        offset = 0
        producer = turn.producer
        try:
            while True:
                if ready.empty() and not producer.done():
                    getter = asyncio.ensure_future(ready.get())
                    await asyncio.wait({getter, producer}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await getter
                        continue
                    segment = getter.result()
                elif not ready.empty():
                    segment = ready.get_nowait()
                else:
                    break
                if segment is None:
                    break
                offset = await self._play_segment(turn, segment, options, audio, offset)
        except Interrupted:
            if not turn.interrupted and not producer.cancelled():
                # A segment cancelled without an interrupt: the text source failed, and its
                # error is the turn's. The producer may still be on its way out: wait for it.
                await asyncio.wait({producer}, timeout=self.timeout)
                if producer.done() and not producer.cancelled():
                    failure = producer.exception()
                    if failure is not None:
                        raise failure from None
            raise
        await producer
        await self._push(turn, audio.finish())
        if turn.pacer is not None:
            turn.pacer.finish()

    async def _produce(
        self,
        turn: Turn,
        text: AsyncIterator[str | FlushMarker],
        ready: asyncio.Queue[Segment | None],
    ) -> None:
        """Read the caller's text into segments; the player binds each one in turn."""
        segment: Segment | None = None
        try:
            async for item in text:
                if turn.interrupted:
                    return
                if isinstance(item, FlushMarker):
                    if segment is not None:
                        await segment.close()
                        segment = None
                    continue
                if not isinstance(item, str) or not item:
                    continue
                check_text(item)
                if segment is None:
                    segment = Segment()
                    turn.segments.append(segment)
                    ready.put_nowait(segment)
                await segment.push(item)
            if segment is not None:
                await segment.close()
        except BaseException:
            if segment is not None:
                await asyncio.shield(segment.cancel())
            raise
        finally:
            ready.put_nowait(None)

    async def _play_segment(
        self,
        turn: Turn,
        segment: Segment,
        options: TTSOptions,
        audio: TrackAudio,
        offset: int,
    ) -> int:
        """Push one segment's audio; returns the turn offset (samples) after it.

        The audio of every frame already queued goes to the track in one push: a fast
        server delivers dozens of frames per socket read, and the track's per-push work
        need not scale with them. Nothing waits for more to arrive.
        """
        if segment.cancelled:
            raise Interrupted
        if segment.socket is None:
            await self._bind(turn, segment, options)
        owed = ResponseDeadline.for_options(self.timeout, options)
        queue = segment.queue
        timed = False
        held: Any = _NOTHING_HELD  # an event taken while batching audio (``None`` is one too)
        while True:
            if held is not _NOTHING_HELD:
                event, held = held, _NOTHING_HELD
            elif not queue.empty():
                event = queue.get_nowait()
            else:
                try:
                    async with asyncio.timeout(_wait(owed, segment)):
                        event = await queue.get()
                except TimeoutError:
                    if _wait(owed, segment) == 0.0:
                        await self._time_out(segment)
                    continue
            if event is None or turn.interrupted:
                raise Interrupted
            if isinstance(event, Sent):
                owed.sent(event.at, closing=event.closing)
                continue
            owed.answered(time.monotonic())
            if type(event) is AudioReceived:
                parts = [event.audio]
                while not queue.empty():
                    following = queue.get_nowait()
                    if type(following) is not AudioReceived:
                        held = following
                        break
                    parts.append(following.audio)
                pcm = b"".join(parts) if len(parts) > 1 else parts[0]
                await self._push(turn, audio.convert(pcm), len(pcm) // 2)
            elif isinstance(event, WordReceived):
                timed = True
                if turn.pacer is not None:
                    start = offset + round(event.word.start * options.sample_rate)
                    turn.pacer.add_word(start, event.word.text, event.word.spaced)
            elif isinstance(event, ContextEnded):
                if options.word_timestamps and not timed and event.samples:
                    self._note_untimed(options.voice_id)
                return offset + event.samples
            elif isinstance(event, ContextFailed):
                error = event.error
                if should_replay(
                    error, audio_received=event.audio_received, replays=segment.replays
                ):
                    logger.info("TTS context failed before any audio (%s); replaying", error)
                    segment.replays += 1
                    await self._bind(turn, segment, options)
                    owed = ResponseDeadline.for_options(self.timeout, options)
                    continue
                raise error

    async def _time_out(self, segment: Segment) -> NoReturn:
        """The server owed audio and sent nothing: fail the turn and drop the socket."""
        sock = segment.socket
        if sock is not None:
            sock.time_out(segment.context_id)
            await self._discard(sock)
        raise SmallestError(
            f"no audio from the server within {self.timeout:g}s of the text it was sent",
            kind=ErrorKind.TIMEOUT,
        )


def _wait(owed: ResponseDeadline, segment: Segment) -> float | None:
    """Seconds until the server is late with audio it owes the segment (None: never)."""
    sock = segment.socket
    deadline = owed.due(0.0 if sock is None else sock.activity())
    return None if deadline is None else max(0.0, deadline - time.monotonic())
