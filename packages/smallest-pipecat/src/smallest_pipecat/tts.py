"""Lightning text-to-speech over one persistent WebSocket (continuations protocol).

Every Pipecat audio context is one server context on the socket: its sentences are
sent as fragments of that context, the context is closed when the turn ends, and the
core's :class:`~smallest_core.TTSConnection` decides from protocol evidence when all of
its audio has arrived, so the next utterance starts at once. Barge-in sends the
protocol's cancel message; the socket is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator
from typing import Any

from pipecat.frames.frames import ErrorFrame, Frame
from pipecat.services.tts_service import TextAggregationMode, WebsocketTTSService
from pipecat.utils.errors import ErrorCategory

from smallest_core import (
    ResponseDeadline,
    SmallestError,
    TTSConnection,
    TTSOptions,
    check_duration,
    check_text,
)
from smallest_pipecat._common import (
    LightningVoices,
    first_supported_rate,
    prepare_service,
    resolve_tts_language,
)
from smallest_pipecat._failures import ReportedFailures
from smallest_pipecat._resample import stream_resampler
from smallest_pipecat._tts_clock import ServerContext
from smallest_pipecat._tts_receive import TTSReceiver
from smallest_pipecat.errors import error_frame
from smallest_pipecat.settings import SmallestTTSSettings, initial_tts_settings, tts_options

DEFAULT_IDLE_TIMEOUT_S = 300
"""Sent as ``?timeout=``: the server closes an idle socket after this many seconds."""
DEFAULT_RESPONSE_TIMEOUT_S = 10.0
"""How long the server may stay silent while it owes a context audio."""


class SmallestTTSService(TTSReceiver, ReportedFailures, LightningVoices, WebsocketTTSService):
    """Smallest AI Lightning TTS over a persistent WebSocket.

    Example::

        tts = SmallestTTSService(
            api_key=os.environ["SMALLEST_API_KEY"],
            settings=SmallestTTSService.Settings(voice="avery", language=Language.EN),
        )
    """

    Settings = SmallestTTSSettings
    _settings: SmallestTTSSettings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        sample_rate: int | None = None,
        word_timestamps: bool = True,
        idle_timeout_s: int | None = DEFAULT_IDLE_TIMEOUT_S,
        response_timeout_s: float = DEFAULT_RESPONSE_TIMEOUT_S,
        settings: SmallestTTSSettings | None = None,
        text_aggregation_mode: TextAggregationMode | None = None,
        expire_content: bool = False,
        **kwargs: Any,
    ) -> None:
        """Create the service.

        Args:
            api_key: Smallest API key (default: ``SMALLEST_API_KEY``).
            base_url: API root (default: ``SMALLEST_BASE_URL`` or https://api.smallest.ai).
            sample_rate: Output rate; default the pipeline's. Rates the API does not
                produce (e.g. 48000) are requested at 24000 and resampled.
            word_timestamps: Emit word-aligned ``TTSTextFrame``s (default on).
            idle_timeout_s: ``?timeout=`` for the socket; ``None`` keeps the server's 60 s.
            response_timeout_s: Fail a context (``ErrorFrame``, ``TTSStoppedFrame``) when
                the server stays silent this long while it owes it audio: after the turn's
                closing fragment, or after a sentence in sentence aggregation. Never runs
                while waiting for the LLM. The socket is then replaced.
            settings: Voice, model, language, speed, ... (see :class:`SmallestTTSSettings`).
            text_aggregation_mode: Pipecat's sentence (default) or token aggregation.
            expire_content: Ask the server to delete the text and audio after 7 days
                (Enterprise plans; ``x-expire-content`` on the upgrade).
            **kwargs: Passed to :class:`WebsocketTTSService`; unknown names raise
                ``TypeError``.
        """
        prepare_service(
            self,
            WebsocketTTSService,
            kwargs,
            settings=SmallestTTSSettings,
            api_key=api_key,
            base_url=base_url,
            sample_rate=sample_rate,
            expire_content=expire_content,
        )
        mode = text_aggregation_mode or TextAggregationMode.SENTENCE
        # Pipecat already cuts text at sentence ends, so server-side buffering only adds
        # delay; token streaming leaves the server's sentence detection on.
        store = initial_tts_settings(
            settings, max_buffer_delay_ms=0 if mode == TextAggregationMode.SENTENCE else None
        )
        resolve_tts_language(store)
        self._response_timeout_s = check_duration("response_timeout_s", response_timeout_s)
        if idle_timeout_s is not None:
            check_duration("idle_timeout_s", idle_timeout_s)
        self._word_timestamps = word_timestamps
        self._idle_timeout_s = idle_timeout_s
        # Validate everything now: a bad voice/model/language fails at construction.
        tts_options(
            store,
            sample_rate=first_supported_rate(sample_rate or 24000),
            word_timestamps=word_timestamps,
            output_format="pcm",
        ).check_websocket()
        # Sentences of one turn are fragments of one server context: the trailing
        # space keeps "friend." and "This" apart when the server joins them.
        kwargs.setdefault("append_trailing_space", True)
        super().__init__(
            push_text_frames=not word_timestamps,
            push_stop_frames=True,
            push_start_frame=True,
            sample_rate=sample_rate,
            settings=store,
            text_aggregation_mode=mode,
            **kwargs,
        )
        self._init_socket()
        self._contexts: dict[str, ServerContext] = {}
        self._by_core_id: dict[str, str] = {}
        self._failed_contexts: set[str] = set()
        self._refused_contexts: set[str] = set()
        """Contexts whose socket could not be opened: reported once, ended at flush."""
        self._unsent_contexts: set[str] = set()
        """Contexts whose every sentence so far was refused (bad text): ended at flush."""
        self._usable_after_connect = False
        """A refused connection wrote the service off; a successful one restores it."""
        self._next_keepalive: float | None = None
        self._audio_flush: asyncio.Task[None] | None = None
        self._audio_lock = asyncio.Lock()
        self._with_pending: list[ServerContext] = []

    # ------------------------------------------------------------------ socket
    async def _connect_refused(self, error: SmallestError) -> None:
        self._usable_after_connect = True
        await self.push_error_frame(error_frame(error, "Smallest TTS connection failed"))

    async def _drop_contexts(self) -> None:
        flush, self._audio_flush = self._audio_flush, None
        if flush is not None and not flush.done():
            flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flush
        self._with_pending.clear()
        self._contexts.clear()
        self._by_core_id.clear()

    async def _connect_websocket(self) -> None:
        await self._ensure_socket()

    async def _ensure_socket(self) -> TTSConnection:
        """The open connection, opening a socket first if there is none."""
        async with self._socket_lock:
            transport, conn = self._transport, self._protocol
            if transport is not None and not transport.closed and conn is not None:
                return conn
            url = self._endpoints.tts_ws(idle_timeout_s=self._idle_timeout_s)
            conn = await self._open_websocket(url, "TTS", TTSConnection(self._options()))
            if self._usable_after_connect:
                # The refusal that wrote the service off is over (a key fixed on the server).
                self._usable_after_connect = False
                await self.set_usable(True)
            return conn

    # ------------------------------------------------------------------ synthesis
    def _options(self) -> TTSOptions:
        return tts_options(
            self._settings,
            sample_rate=first_supported_rate(self.sample_rate),
            word_timestamps=self._word_timestamps,
            output_format="pcm",
        )

    async def _synthesize_text(self, text: str, context_id: str) -> None:
        # Pipecat does not hand an unusable service any text, so a turn after a refused
        # key would end without a trace. Here every turn makes its one connection
        # attempt and reports its own error; a success makes the service usable again.
        await self.tts_process_generator(context_id, self.run_tts(text, context_id))

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Send ``text`` as the next fragment of the context's server context."""
        if context_id in self._refused_contexts:
            yield None  # reported with the turn's first sentence: one attempt per turn
            return
        try:
            check_text(text)
        except ValueError as exc:
            # Only this sentence is dropped; a turn with nothing sent ends at flush.
            if context_id not in self._contexts:
                self._failed_contexts.add(context_id)
                self._unsent_contexts.add(context_id)
            yield ErrorFrame(
                f"Smallest TTS text refused: {exc}", category=ErrorCategory.APPLICATION
            )
            return
        try:
            ctx = await self._server_context(context_id)
        except SmallestError as exc:
            self._refuse(context_id)
            self._usable_after_connect = True
            yield error_frame(exc, "Smallest TTS connection failed")
            return
        except ValueError as exc:
            self._refuse(context_id)
            yield ErrorFrame(f"Smallest TTS settings: {exc}", category=ErrorCategory.APPLICATION)
            return
        ctx.text += text
        if ctx.fragments is not None:
            ctx.fragments.append(text)
        ctx.text_unstamped = True
        ctx.conn.push_text(ctx.core_id, text)
        await self._send_pending(ctx.conn)
        await self.start_tts_usage_metrics(text)
        yield None

    async def _server_context(self, context_id: str) -> ServerContext:
        ctx = self._contexts.get(context_id)
        if ctx is not None and not ctx.closed and not ctx.conn.closed:
            return ctx
        conn = await self._ensure_socket()
        return self._open_context(context_id, conn, self._options())

    def _open_context(
        self, context_id: str, conn: TTSConnection, options: TTSOptions
    ) -> ServerContext:
        core_id = conn.start_context(options=options)
        resampler = None
        if options.sample_rate != self.sample_rate:
            resampler = stream_resampler(options.sample_rate, self.sample_rate)
        ctx = ServerContext(context_id, core_id, conn, options, resampler=resampler)
        ctx.owed = ResponseDeadline.for_options(self._response_timeout_s, options)
        if self._word_timestamps and options.max_buffer_delay_ms == 0:
            ctx.fragments = []  # each sentence is released at once: one segment each
        self._contexts[context_id] = ctx
        self._by_core_id[core_id] = context_id
        self._failed_contexts.discard(context_id)
        self._unsent_contexts.discard(context_id)
        return ctx

    def _refuse(self, context_id: str) -> None:
        """The context cannot be sent: its error is its only output; it ends at flush."""
        self._failed_contexts.add(context_id)
        self._refused_contexts.add(context_id)

    async def flush_audio(self, context_id: str | None = None) -> None:
        """The turn is over: close the server context (its audio keeps arriving)."""
        if context_id in self._refused_contexts:
            self._refused_contexts.discard(context_id)
            await self.remove_audio_context(context_id)
            return
        ctx = self._contexts.get(context_id or "")
        if context_id in self._unsent_contexts:
            self._unsent_contexts.discard(context_id)
            await self.remove_audio_context(context_id)  # every sentence was refused
            return
        if ctx is None or ctx.closed:
            return
        ctx.closed = True
        ctx.conn.end_input(ctx.core_id)
        await self._handle_events(ctx.conn.events())
        await self._send_pending(ctx.conn)

    async def on_audio_context_interrupted(self, context_id: str) -> None:
        """Barge-in: cancel the server context on the same socket."""
        self._refused_contexts.discard(context_id)
        self._unsent_contexts.discard(context_id)
        ctx = self._contexts.pop(context_id, None)
        if ctx is not None:
            ctx.pending.clear()  # the interrupted turn's audio goes nowhere
            self._by_core_id.pop(ctx.core_id, None)
            conn = ctx.conn
            conn.cancel(ctx.core_id, time.monotonic())
            await self._handle_events(conn.events())
            await self._send_pending(conn)
            deadline = conn.next_deadline()
            if deadline is not None:  # e.g. the next turn waits for the cancelled one to go quiet
                self._wake_by(deadline)
        await self.stop_all_metrics()  # type: ignore[no-untyped-call]
        await super().on_audio_context_interrupted(context_id)

    async def _send_pending(self, conn: TTSConnection) -> None:
        if await self._send_queued(conn):
            self._start_owing(conn)

    def _check_settings(self, candidate: Any) -> None:
        """New contexts use the update; the socket is kept."""
        resolve_tts_language(candidate)
        tts_options(
            candidate,
            sample_rate=first_supported_rate(self.sample_rate),
            word_timestamps=self._word_timestamps,
            output_format="pcm",
        ).check_websocket()


__all__ = ["DEFAULT_IDLE_TIMEOUT_S", "DEFAULT_RESPONSE_TIMEOUT_S", "SmallestTTSService"]
