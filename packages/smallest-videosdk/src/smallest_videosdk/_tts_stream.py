"""Streaming turns over the Lightning WebSocket for :class:`SmallestAITTS`: the socket it
reuses, a turn's text read into ``FlushMarker``-delimited segments (one continuation
context each, bound one after another), and each segment's audio pushed to the track.
When the server owes audio and when a context is replayed are the core's rules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

from videosdk.agents import FlushMarker

from smallest_core import (
    DEFAULT_VOICE,
    AudioReceived,
    ContextEnded,
    ContextFailed,
    ResponseDeadline,
    TTSConnection,
    TTSOptions,
    WordReceived,
    check_text,
    should_replay,
)
from smallest_core.aio import TTSSocket
from smallest_videosdk._playback import TrackAudio, WordPacer
from smallest_videosdk._segment import Segment, Sent
from smallest_videosdk._tts_base import Interrupted, TrackTTS, TurnState

logger = logging.getLogger("smallest_videosdk.tts")

_NOTHING_HELD = object()
_CHECK = object()
"""Put in a segment's queue when the server may have become late (see :class:`_Overdue`)."""


@dataclass(eq=False)
class Turn(TurnState):
    """One ``synthesize()`` call."""

    segments: list[Segment] = field(default_factory=list)
    pacer: WordPacer | None = None
    affect_pinned: bool = False
    """``synthesize(affect=...)`` was given: :meth:`SmallestAITTS.set_affect` waits."""


class SocketTurns(TrackTTS[Turn, TTSSocket, TTSOptions]):
    """The WebSocket half of :class:`SmallestAITTS` (its state is set by that class)."""

    max_connection_age_sec: float
    idle_timeout_s: int | None
    _pacers: set[WordPacer]
    _untimed_voices: set[str]

    def _fits(self, sock: TTSSocket, options: TTSOptions) -> bool:
        """Usable, and not past its age (a socket still in use is kept until it is idle)."""
        too_old = time.monotonic() - sock.opened_at > self.max_connection_age_sec
        return sock.usable and not (too_old and not sock.protocol.busy)

    async def _connect(self, options: TTSOptions) -> TTSSocket:
        url = self._account.endpoints.tts_ws(idle_timeout_s=self.idle_timeout_s)
        ws = await self._open_ws(url, "the TTS WebSocket")
        return TTSSocket(ws, TTSConnection(options), logger)

    async def _stream_turn(
        self, turn: Turn, text: AsyncIterator[str | FlushMarker], options: TTSOptions
    ) -> None:
        await self._live(self._options)  # before reading text: a refused turn leaves it all unread
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
            if not turn.interrupted:
                # A segment cancelled without an interrupt: the text source failed, and its
                # error is the turn's. The producer may still be on its way out.
                await self._raise_text_failure(turn)
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
        overdue = _Overdue(queue)
        try:
            timed = False
            held: Any = _NOTHING_HELD  # an event taken while batching audio (``None`` is one too)
            while True:
                if held is not _NOTHING_HELD:
                    event, held = held, _NOTHING_HELD
                elif not queue.empty():
                    event = queue.get_nowait()
                else:
                    overdue.arm(_due(owed, segment))
                    event = await queue.get()
                if event is _CHECK:
                    due = _due(owed, segment)
                    if due is not None and due <= time.monotonic():
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
        finally:
            overdue.cancel()

    async def _bind(self, turn: Turn, segment: Segment, options: TTSOptions) -> None:
        """Send ``segment`` (all its text so far) as a new context on a live socket."""
        sock = await self._live(self._options)
        if turn.interrupted:
            raise Interrupted
        segment.bind(sock, options)
        await sock.send_pending()

    async def _time_out(self, segment: Segment) -> NoReturn:
        """The server owed audio and sent nothing: the context fails, and the turn."""
        sock = segment.socket
        if sock is not None:
            sock.time_out(segment.context_id)
        await self._late(sock)

    async def _push(self, turn: Turn, pcm: bytes, source_samples: int | None = None) -> None:
        """``pcm`` to the track; the pacer learns how many source samples it played."""
        await super()._push(turn, pcm)
        if turn.pacer is not None and source_samples:
            turn.pacer.audio_pushed(source_samples)

    async def _after_turn(self, turn: Turn) -> None:
        """Cancel the segments still open (a failed turn) and, after an interrupt, its words."""
        for segment in [s for s in turn.segments if s.unresolved]:
            await segment.cancel()
        if turn.interrupted and turn.pacer is not None:
            turn.pacer.cancel()

    def _cancel_pacers(self) -> None:
        """Drop every word not yet spoken, of this turn and of turns still playing out."""
        for pacer in list(self._pacers):
            pacer.cancel()
        self._pacers.clear()

    def _note_untimed(self, voice_id: str) -> None:
        """Say once per voice that its speech comes without ``word_spoken`` events."""
        if voice_id in self._untimed_voices:
            return
        self._untimed_voices.add(voice_id)
        logger.warning(
            "the server sent no word timestamps for voice %r, so no word_spoken events are "
            "emitted for it (the service times words only for some voices, e.g. %r)",
            voice_id,
            DEFAULT_VOICE,
        )

    def _word_spoken(self, payload: dict[str, Any]) -> None:
        self.emit("word_spoken", payload)


def _due(owed: ResponseDeadline, segment: Segment) -> float | None:
    """When (``time.monotonic()``) the server is late with audio it owes the segment."""
    sock = segment.socket
    return owed.due(0.0 if sock is None else sock.activity())


class _Overdue:
    """Wakes a segment's player when the server may be late, without a timer per frame.

    Each frame moves the deadline later, so one wake-up armed at the earliest deadline
    seen is enough: when it fires, the player re-reads the deadline and either times the
    context out or waits again. A timer is re-armed only when the deadline moves earlier
    (text just sent) or after a wake-up.
    """

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self._queue = queue
        self._handle: asyncio.TimerHandle | None = None
        self._at = 0.0

    def arm(self, at: float | None) -> None:
        if at is None or (self._handle is not None and self._at <= at):
            return
        self.cancel()
        self._at = at
        delay = max(0.0, at - time.monotonic())
        self._handle = asyncio.get_running_loop().call_later(delay, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        self._queue.put_nowait(_CHECK)
