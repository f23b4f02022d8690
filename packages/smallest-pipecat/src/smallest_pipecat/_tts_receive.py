"""The receiving side of the Lightning socket service: every frame goes to the core,
whose events become audio, words, context ends and errors in Pipecat's audio contexts;
a context that never reached the server's audio is resent on a new socket."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

from loguru import logger
from pipecat.frames.frames import TTSAudioRawFrame

from smallest_core import (
    AudioReceived,
    ConnectionFailed,
    ContextEnded,
    ContextFailed,
    FrameIgnored,
    SmallestError,
    TTSConnection,
    TTSEvent,
    TTSOptions,
    WordReceived,
    is_idle_timeout,
    redact,
    should_replay,
)
from smallest_pipecat._socket_service import SocketService
from smallest_pipecat._tts_clock import ResponseClock, ServerContext
from smallest_pipecat.errors import error_frame

_NO_SPACE_LANGUAGES = frozenset({"zh", "ja"})


class TTSReceiver(SocketService[TTSConnection], ResponseClock):
    """Reads the socket of :class:`~smallest_pipecat.SmallestTTSService`."""

    _by_core_id: dict[str, str]
    _audio_flush: asyncio.Task[None] | None
    _audio_lock: asyncio.Lock
    _with_pending: list[ServerContext]
    _word_timestamps: bool

    if TYPE_CHECKING:

        async def _ensure_socket(self) -> TTSConnection:
            raise NotImplementedError

        def _open_context(
            self, context_id: str, conn: TTSConnection, options: TTSOptions
        ) -> ServerContext:
            raise NotImplementedError

        async def _send_pending(self, conn: TTSConnection) -> None:
            raise NotImplementedError

    async def _on_frame(self, conn: TTSConnection, data: str | bytes, now: float) -> None:
        completes = conn.stats.completes
        conn.receive(data, now)
        await self._handle_events(conn.events())
        if conn.stats.completes != completes:  # a segment ended: untimed text may go
            await self._on_segments_complete(conn)
        await self._send_pending(conn)
        deadline = conn.next_deadline()
        if deadline is not None:
            self._wake_by(deadline)

    async def _on_deadline(self, conn: TTSConnection, now: float) -> float | None:
        conn.poll(now)
        await self._handle_events(conn.events())
        self._keep_owed_contexts_alive(conn, now)
        if await self._fail_silent_contexts(conn, now):
            await self._stop_reading("the server stopped answering")
            return None
        await self._send_pending(conn)
        return self._next_wakeup(conn)

    async def _socket_lost(self, conn: TTSConnection, code: int | None, reason: str) -> None:
        conn.connection_lost(code, reason)
        await self._handle_events(conn.events())

    async def _handle_events(self, events: list[TTSEvent]) -> None:
        for event in events:
            if type(event) is AudioReceived:  # the hot path: one per audio frame
                self._on_audio(event)
                continue
            ctx = self._context_for(event.context_id) if hasattr(event, "context_id") else None
            if ctx is not None and ctx.pending:
                await self._push_pending(ctx)  # audio before the word, end or error after it
            if isinstance(event, WordReceived):
                if ctx is not None:
                    self._restart_clock(ctx)
                await self._on_word(event)
            elif isinstance(event, ContextEnded):
                await self._on_context_ended(event.context_id)
            elif isinstance(event, ContextFailed):
                await self._on_context_failed(event)
            elif isinstance(event, ConnectionFailed):
                if is_idle_timeout(event.error):
                    logger.debug(f"{self} idle socket closed by the server; reopening on demand")
                else:
                    logger.warning(f"{self} server error outside any context: {event.error}")
            elif isinstance(event, FrameIgnored):
                logger.warning(f"{self} ignored a server frame: {redact(event.reason)}")

    def _context_for(self, core_id: str) -> ServerContext | None:
        context_id = self._by_core_id.get(core_id)
        return self._contexts.get(context_id) if context_id else None

    def _on_audio(self, event: AudioReceived) -> None:
        """Queue a frame's audio; it reaches the audio context as soon as the reader yields.

        A fast server delivers dozens of frames per socket read: each batch becomes one
        ``TTSAudioRawFrame`` instead of one per frame, so Pipecat's per-frame work does
        not scale with the server's chunking. Nothing waits for more audio to arrive.
        """
        ctx = self._context_for(event.context_id)
        if ctx is None:
            return
        self._restart_clock(ctx)
        audio = ctx.resampler.process(event.audio) if ctx.resampler else event.audio
        if not audio:
            return
        if not ctx.pending:
            self._with_pending.append(ctx)
        ctx.pending.append(audio)
        if self._audio_flush is None or self._audio_flush.done():
            self._audio_flush = asyncio.get_running_loop().create_task(self._flush_audio())

    async def _flush_audio(self) -> None:
        while self._with_pending:
            await self._push_pending(self._with_pending.pop(0))

    async def _push_pending(self, ctx: ServerContext) -> None:
        async with self._audio_lock:  # batches reach the context in the order they were taken
            if not ctx.pending:
                return
            audio = b"".join(ctx.pending) if len(ctx.pending) > 1 else ctx.pending[0]
            ctx.pending.clear()
            frame = TTSAudioRawFrame(audio, self.sample_rate, 1, context_id=ctx.context_id)
            await self.append_to_audio_context(ctx.context_id, frame)

    async def _on_word(self, event: WordReceived) -> None:
        ctx = self._context_for(event.context_id)
        if ctx is None or not self._word_timestamps:
            return
        if not math.isfinite(event.word.start) or event.word.start < 0:
            logger.warning(f"{self} ignored a word with time {event.word.start!r}")
            return
        no_spaces = ctx.options.language in _NO_SPACE_LANGUAGES
        await self.add_word_timestamps(
            [(event.word.text, event.word.start)],
            ctx.context_id,
            includes_inter_frame_spaces=True if no_spaces else None,
        )

    async def _on_segments_complete(self, conn: TTSConnection) -> None:
        """Give the text of a sentence the server sent no word timestamps for.

        The documented service times words for a few voices only. For the others, each
        sentence (one server release with sentence aggregation) is handed to Pipecat
        as words timed at the start of its audio once its ``complete`` arrives, so the
        spoken text reaches the context as it plays, and an interrupted turn keeps the
        sentences that had started. A context that received any word is left alone.
        """
        for ctx in list(self._contexts.values()):
            if ctx.conn is not conn or ctx.fragments is None:
                continue
            stats = conn.context_stats(ctx.core_id)
            if stats is None or stats.completes <= ctx.segments:
                continue
            if stats.words:
                ctx.fragments = None  # the server times this voice: words carry the text
                continue
            if ctx.pending:
                await self._push_pending(ctx)  # the sentence's audio goes first
            start = ctx.segment_start / ctx.options.sample_rate
            done, ctx.segments = ctx.segments, stats.completes
            ctx.segment_start = stats.audio_bytes // 2
            for text in ctx.fragments[done : ctx.segments]:
                await self._add_untimed_text(ctx, text, start)

    async def _add_untimed_text(self, ctx: ServerContext, text: str, start: float) -> None:
        words = text.split()
        if not words:
            return
        no_spaces = ctx.options.language in _NO_SPACE_LANGUAGES
        await self.add_word_timestamps(
            [(word, start) for word in words],
            ctx.context_id,
            includes_inter_frame_spaces=True if no_spaces else None,
        )

    async def _on_context_ended(self, core_id: str) -> None:
        ctx = self._context_for(core_id)
        if ctx is None:
            return
        self._forget(ctx)
        if ctx.resampler is not None:
            tail = ctx.resampler.flush()
            if tail:
                frame = TTSAudioRawFrame(tail, self.sample_rate, 1, context_id=ctx.context_id)
                await self.append_to_audio_context(ctx.context_id, frame)
        await self.remove_audio_context(ctx.context_id)

    async def _on_context_failed(self, event: ContextFailed) -> None:
        ctx = self._context_for(event.context_id)
        if ctx is None:
            return
        self._forget(ctx)
        if await self._replay(ctx, event):
            return
        self._failed_contexts.add(ctx.context_id)
        await self.append_to_audio_context(
            ctx.context_id, error_frame(event.error, "Smallest TTS error")
        )
        await self.remove_audio_context(ctx.context_id)

    async def _replay(self, ctx: ServerContext, event: ContextFailed) -> bool:
        """Resend a context that never reached the server's audio on a new socket."""
        replayable = should_replay(
            event.error, audio_received=event.audio_received, replays=ctx.replays
        )
        if not replayable or not ctx.text:
            return False
        try:
            conn = await self._ensure_socket()
        except SmallestError as exc:
            logger.warning(f"{self} could not reopen the socket to resend a context: {exc}")
            return False
        logger.debug(f"{self} resending context {ctx.context_id} on a new socket")
        fresh = self._open_context(ctx.context_id, conn, ctx.options)
        fresh.replays = ctx.replays + 1
        fresh.text = ctx.text
        fresh.text_unstamped = True
        if fresh.fragments is not None:
            fresh.fragments.append(ctx.text)
        conn.push_text(fresh.core_id, ctx.text)
        if ctx.closed:
            fresh.closed = True
            conn.end_input(fresh.core_id)
            await self._handle_events(conn.events())
        await self._send_pending(conn)
        return True

    def _forget(self, ctx: ServerContext) -> None:
        self._by_core_id.pop(ctx.core_id, None)
        if self._contexts.get(ctx.context_id) is ctx:
            del self._contexts[ctx.context_id]
