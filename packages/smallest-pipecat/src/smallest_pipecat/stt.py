"""Pulse streaming speech-to-text over a WebSocket.

Audio goes out in exact 50 ms frames; the user's end of turn sends ``finalize`` (the
``from_finalize`` final reports TTFB at once); the end of the pipeline sends
``close_stream`` and waits for the ``is_last`` transcript, so the last utterance is
always delivered. Settings changes reconnect between utterances, never inside one.

A refused upgrade or a dropped socket is retried with back-off (longer after a rate
limit); audio since the last final transcript is sent again on the new socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pipecat.frames.frames import (
    EndFrame,
    Frame,
    StartFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.stt_service import WebsocketSTTService
from pipecat.utils.types import is_given

from smallest_core import (
    DEFAULT_CLOSE_TIMEOUT_S,
    DEFAULT_FINALIZE_TIMEOUT_S,
    DEFAULT_KEEPALIVE_INTERVAL_S,
    AudioChunker,
    Endpoints,
    STTOptions,
    STTStreamState,
    check_duration,
    check_session_id,
    check_streaming_stt,
)
from smallest_pipecat._kwargs import check_kwargs
from smallest_pipecat._replay import ReplayBuffer
from smallest_pipecat._stt_connection import PulseSocket
from smallest_pipecat._stt_wire import PulseService, routed
from smallest_pipecat.languages import stt_language
from smallest_pipecat.settings import SmallestSTTSettings, stt_options

DEFAULT_RESPONSE_TIMEOUT_S = DEFAULT_FINALIZE_TIMEOUT_S
"""The earlier name of the core's ``DEFAULT_FINALIZE_TIMEOUT_S``."""
DEFAULT_TTFS_P99_S = 0.5
"""End of speech to final transcript (P99) announced to turn strategies; finalize makes
the server answer at once, so this is network plus one model step."""
_FRAME_MS = 50
_REPLAY_S = 30
"""Most audio kept for resending after a dropped socket (a final releases it sooner)."""
_MOVED = {
    "params": "InputParams are replaced by settings=SmallestSTTService.Settings(...)",
    "emotion_detection": "Pulse 2 finals carry emotion and gender: Settings(model='pulse-2')",
    "gender_detection": "Pulse 2 finals carry emotion and gender: Settings(model='pulse-2')",
    "external_session_id": "pass session_id=...",
    "no_format_delay": "not an option of this service",
}


class SmallestSTTService(PulseSocket, PulseService, WebsocketSTTService):
    """Smallest AI Pulse real-time transcription.

    Example::

        stt = SmallestSTTService(
            api_key=os.environ["SMALLEST_API_KEY"],
            settings=SmallestSTTService.Settings(language=Language.EN),
        )
    """

    Settings = SmallestSTTSettings
    _settings: SmallestSTTSettings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        sample_rate: int | None = None,
        encoding: str = "linear16",
        keepalive_interval_s: float | None = DEFAULT_KEEPALIVE_INTERVAL_S,
        finalize_timeout_s: float = DEFAULT_FINALIZE_TIMEOUT_S,
        close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S,
        response_timeout_s: float | None = None,
        region: str = "auto",
        session_id: str | None = None,
        expire_content: bool = False,
        settings: SmallestSTTSettings | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the service.

        Args:
            api_key: Smallest API key (default: ``SMALLEST_API_KEY``).
            base_url: API root (default: ``SMALLEST_BASE_URL`` or https://api.smallest.ai).
            sample_rate: Input rate; default the pipeline's (must be one Pulse accepts).
            encoding: Audio encoding sent (``linear16``).
            keepalive_interval_s: Quiet seconds on the socket before a ``keepalive``
                message; ``None`` sends none.
            finalize_timeout_s: Report an ``ErrorFrame`` when a ``finalize`` (the user
                stopped speaking) gets no final transcript within this many seconds.
            close_timeout_s: Wait at most this long for the last transcript at the end;
                past it an ``ErrorFrame`` reports the missing transcript.
            response_timeout_s: The earlier name of ``finalize_timeout_s``.
            region: ``"auto"`` (the host that serves the language), ``"india"`` or
                ``"us"``; a region that cannot stream the language is a ``ValueError``.
            session_id: Your own id for the session (``external_session_id``).
            expire_content: Ask the server to delete the audio and transcripts after
                7 days (Enterprise plans; ``x-expire-content``).
            settings: Language, word timestamps, diarization, VAD events, ...
            **kwargs: Passed to :class:`WebsocketSTTService`; unknown names raise
                ``TypeError``.
        """
        check_kwargs(
            "SmallestSTTService", WebsocketSTTService, kwargs, settings=self.Settings, moved=_MOVED
        )
        store = self.Settings(
            model="pulse",
            language="en",
            word_timestamps=True,
            diarize=False,
            vad_events=False,
            punctuate=None,
            capitalize=None,
            itn_normalize=None,
            numerals=None,
            endpointing=None,
            eou_timeout_ms=None,
            finalize_on_words=None,
            max_words=None,
            keywords=None,
            redact_pii=False,
            redact_pci=False,
            sentence_timestamps=None,
            full_transcript=None,
            format=None,
        )
        if settings is not None:
            store.apply_update(settings)
        _resolve_language(store)
        self._use_account(api_key, base_url, region, expire_content)
        self._session_id = None if session_id is None else check_session_id(session_id)
        routed(self._endpoints, str(store.language), self._region)
        self._encoding = encoding
        if response_timeout_s is not None:
            finalize_timeout_s = check_duration("response_timeout_s", response_timeout_s)
        if keepalive_interval_s is not None:
            check_duration("keepalive_interval_s", keepalive_interval_s)
        self._keepalive_interval_s = keepalive_interval_s
        self._finalize_timeout_s = check_duration("finalize_timeout_s", finalize_timeout_s)
        self._close_timeout_s = check_duration("close_timeout_s", close_timeout_s)
        check_streaming_stt(stt_options(store, sample_rate=sample_rate or 16000, encoding=encoding))
        kwargs.setdefault("ttfs_p99_latency", DEFAULT_TTFS_P99_S)
        super().__init__(
            sample_rate=sample_rate,
            keepalive_timeout=None,  # the core's keepalive runs with its other timers
            settings=store,
            **kwargs,
        )
        self._state: STTStreamState | None = None
        self._chunker: AudioChunker | None = None
        self._replay: ReplayBuffer | None = None
        self._send_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._failures = 0
        """Failed or dropped sockets since the last final transcript."""
        self._finalize_owed = False
        """A ``finalize`` to send once the audio before it is out (after a reconnect)."""
        self._finalize_marks: list[int] = []
        """Where the audio stood at each unanswered ``finalize``."""
        self._last_transcript = asyncio.Event()
        self._timers: asyncio.Task[None] | None = None
        self.connections_opened = 0
        self._register_event_handler("on_end_of_turn")

    # ------------------------------------------------------------------ public API
    @property
    def endpoints(self) -> Endpoints:
        """The host the current language streams from (the region's, or the language's)."""
        language = self._settings.language
        return routed(self._endpoints, str(language) if language else "en", self._region)

    # ------------------------------------------------------------------ lifecycle
    def _options(self) -> STTOptions:
        return stt_options(
            self._settings,
            sample_rate=self.sample_rate,
            encoding=self._encoding,
            session_id=self._session_id,
        )

    async def start(self, frame: StartFrame) -> None:
        """Open the stream when the pipeline starts."""
        await super().start(frame)
        options = self._options()
        self._state = STTStreamState(
            options,
            keepalive_interval_s=self._keepalive_interval_s,
            finalize_timeout_s=self._finalize_timeout_s,
            close_timeout_s=self._close_timeout_s,
        )
        self._chunker = AudioChunker(options.sample_rate, frame_ms=_FRAME_MS)
        self._replay = ReplayBuffer(options.sample_rate * 2 * _REPLAY_S, self._state.audio_sent)
        await self._connect()

    async def stop(self, frame: EndFrame) -> None:
        """End of the pipeline: deliver the last utterance, then close."""
        await self._close_stream()
        await super().stop(frame)

    async def _connect(self) -> None:
        await super()._connect()  # type: ignore[no-untyped-call]
        self._failures = 0
        error = await self._open()
        if error is not None:
            await self._report(error, "Smallest STT connection failed")
            if not error.retryable:
                return
        if self._supervisor is None:
            self._supervisor = self.create_task(self._supervise(error), name="smallest-stt-recv")

    async def _disconnect(self) -> None:
        await super()._disconnect()  # type: ignore[no-untyped-call]
        for task in (self._timers, self._supervisor):
            if task is not None:
                await self.cancel_task(task)
        self._timers = self._supervisor = None
        await self._disconnect_websocket()

    async def _connect_websocket(self) -> None:
        error = await self._open()
        if error is not None:
            raise error

    async def _do_reconnect(self) -> None:
        # Finish the current stream on the old socket first: its words are delivered,
        # and audio arriving meanwhile is buffered by the base class.
        await self._close_stream()
        await super()._do_reconnect()  # type: ignore[no-untyped-call]

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Finalize when the user stops speaking."""
        await super().process_frame(frame, direction)
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            await self._finalize()

    async def _update_settings(self, delta: Any) -> dict[str, Any]:
        """Apply a delta; a change reconnects once the user is not speaking."""
        if not await self._accept_delta(delta, self._check_settings):
            return {}
        changed = await super()._update_settings(delta)
        if changed and self._websocket is not None:
            await self._request_reconnect()  # type: ignore[no-untyped-call]
        return changed

    def _check_settings(self, settings: SmallestSTTSettings) -> None:
        _resolve_language(settings)
        options = stt_options(
            settings, sample_rate=self.sample_rate or 16000, encoding=self._encoding
        )
        check_streaming_stt(options)
        routed(self._endpoints, options.language, self._region)


def _resolve_language(settings: SmallestSTTSettings) -> None:
    language = settings.language
    if is_given(language) and language is not None:
        settings.language = stt_language(language)


__all__ = [
    "DEFAULT_CLOSE_TIMEOUT_S",
    "DEFAULT_FINALIZE_TIMEOUT_S",
    "DEFAULT_RESPONSE_TIMEOUT_S",
    "SmallestSTTService",
]
