"""Pulse streaming speech-to-text over a WebSocket.

Audio goes out in exact 50 ms frames; the user's end of turn sends ``finalize`` (the
``from_finalize`` final reports TTFB at once); the end of the pipeline sends
``close_stream`` and waits for the ``is_last`` transcript, so the last utterance is
always delivered. Settings changes reconnect between utterances, never inside one.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncGenerator
from typing import Any

from loguru import logger
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    InterimTranscriptionFrame,
    StartFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.stt_service import WebsocketSTTService
from pipecat.transcriptions.language import Language
from pipecat.utils.errors import ErrorCategory
from pipecat.utils.time import time_now_iso8601
from pipecat.utils.types import is_given
from websockets.exceptions import WebSocketException
from websockets.protocol import State

from smallest_core import (
    AudioChunker,
    Endpoints,
    ErrorKind,
    SmallestError,
    SpeechEnded,
    SpeechStarted,
    STTError,
    STTIgnored,
    STTOptions,
    STTStreamState,
    Transcript,
    auth_headers,
    resolve_api_key,
)
from smallest_core.options import check_streaming_stt
from smallest_pipecat._common import PACKAGE, WS_LOGGER, connect_error
from smallest_pipecat._version import __version__
from smallest_pipecat.errors import error_frame
from smallest_pipecat.languages import language_from_code, stt_language
from smallest_pipecat.settings import SmallestSTTSettings, stt_options

DEFAULT_CLOSE_TIMEOUT_S = 5.0
"""How long the end of the pipeline waits for the last transcript (``is_last``)."""
DEFAULT_RESPONSE_TIMEOUT_S = 5.0
"""How long a ``finalize`` may go without its final transcript before an error is reported."""
DEFAULT_TTFS_P99_S = 0.5
"""End of speech to final transcript (P99) announced to turn strategies; finalize makes
the server answer at once, so this is network plus one model step."""
_CONNECT_TIMEOUT_S = 10.0
_FRAME_MS = 50


class SmallestSTTService(WebsocketSTTService):
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
        close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S,
        response_timeout_s: float = DEFAULT_RESPONSE_TIMEOUT_S,
        settings: SmallestSTTSettings | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the service.

        Args:
            api_key: Smallest API key (default: ``SMALLEST_API_KEY``).
            base_url: API root (default: ``SMALLEST_BASE_URL`` or https://api.smallest.ai).
            sample_rate: Input rate; default the pipeline's (must be one Pulse accepts).
            encoding: Audio encoding sent (``linear16``).
            close_timeout_s: Wait at most this long for the last transcript at the end;
                past it an ``ErrorFrame`` reports the missing transcript.
            response_timeout_s: Report an ``ErrorFrame`` when a ``finalize`` (the user
                stopped speaking) gets no final transcript within this many seconds.
            settings: Language, word timestamps, diarization, VAD events, ...
            **kwargs: Passed to :class:`WebsocketSTTService`.
        """
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
        )
        if settings is not None:
            store.apply_update(settings)
        _resolve_language(store)
        self._endpoints = Endpoints.resolve(base_url)
        self._api_key = resolve_api_key(api_key, self._endpoints.base_url)
        self._encoding = encoding
        for name, value in (
            ("close_timeout_s", close_timeout_s),
            ("response_timeout_s", response_timeout_s),
        ):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self._close_timeout_s = close_timeout_s
        self._response_timeout_s = response_timeout_s
        check_streaming_stt(stt_options(store, sample_rate=sample_rate or 16000, encoding=encoding))
        kwargs.setdefault("ttfs_p99_latency", DEFAULT_TTFS_P99_S)
        super().__init__(
            sample_rate=sample_rate,
            keepalive_timeout=10.0,
            keepalive_interval=5.0,
            settings=store,
            **kwargs,
        )
        self._state: STTStreamState | None = None
        self._chunker: AudioChunker | None = None
        self._receive_task: asyncio.Task[None] | None = None
        self._last_transcript = asyncio.Event()
        self._finalized = asyncio.Event()
        self._finalize_watch: asyncio.Task[None] | None = None
        self.connections_opened = 0

    # ------------------------------------------------------------------ public API
    def can_generate_metrics(self) -> bool:
        """TTFB and usage metrics are reported."""
        return True

    def language_to_service_language(self, language: Language) -> str | None:
        """The Pulse code for ``language``; ``ValueError`` names the allowed codes."""
        return stt_language(language)

    # ------------------------------------------------------------------ lifecycle
    def _options(self) -> STTOptions:
        return stt_options(self._settings, sample_rate=self.sample_rate, encoding=self._encoding)

    async def start(self, frame: StartFrame) -> None:
        """Open the stream when the pipeline starts."""
        await super().start(frame)
        options = self._options()
        self._state = STTStreamState(options)
        self._chunker = AudioChunker(options.sample_rate, frame_ms=_FRAME_MS)
        await self._connect()

    async def stop(self, frame: EndFrame) -> None:
        """End of the pipeline: deliver the last utterance, then close."""
        await self._close_stream()
        await super().stop(frame)

    async def _connect(self) -> None:
        await super()._connect()  # type: ignore[no-untyped-call]
        await self._connect_websocket()
        if self._websocket is not None and self._receive_task is None:
            self._receive_task = self.create_task(
                self._receive_task_handler(self._report_error), name="smallest-stt-recv"
            )

    async def _disconnect(self) -> None:
        await super()._disconnect()  # type: ignore[no-untyped-call]
        if self._finalize_watch is not None:
            await self.cancel_task(self._finalize_watch)
            self._finalize_watch = None
        if self._receive_task is not None:
            await self.cancel_task(self._receive_task)
            self._receive_task = None
        await self._disconnect_websocket()

    async def _connect_websocket(self) -> None:
        if self._websocket is not None and self._websocket.state is State.OPEN:
            return
        assert self._state is not None
        options = self._options()
        url = self._endpoints.stt_ws(options.query())
        headers = auth_headers(self._api_key, source=PACKAGE, version=__version__)
        try:
            self._websocket = await asyncio.wait_for(
                self._websocket_connect(url, additional_headers=headers, logger=WS_LOGGER),
                _CONNECT_TIMEOUT_S,
            )
        except Exception as exc:
            self._websocket = None
            if isinstance(exc, TimeoutError):
                error = SmallestError("timed out opening the STT socket", kind=ErrorKind.TIMEOUT)
            else:
                error = connect_error(exc, "STT")
            await self.push_error_frame(error_frame(error, "Smallest STT connection failed"))
            await self._call_event_handler("on_connection_error", str(exc))
            return
        self.connections_opened += 1
        self._last_transcript.clear()
        self._state.connection_started(options)
        await self._call_event_handler("on_connected")

    async def _disconnect_websocket(self) -> None:
        ws, self._websocket = self._websocket, None
        if ws is not None:
            try:
                await ws.close()
            except (OSError, WebSocketException) as exc:
                logger.debug(f"{self} closing the socket failed: {exc}")
            await self._call_event_handler("on_disconnected")

    async def _do_reconnect(self) -> None:
        # Finish the current stream on the old socket first: its words are delivered,
        # and audio arriving meanwhile is buffered by the base class.
        await self._close_stream()
        await super()._do_reconnect()  # type: ignore[no-untyped-call]

    async def _close_stream(self) -> None:
        """Send what is buffered, then ``close_stream``; wait for ``is_last``."""
        ws, state = self._websocket, self._state
        if ws is None or state is None or ws.state is not State.OPEN:
            return
        # The server closes the socket after is_last: that close is not a failure.
        self._disconnecting = True
        try:
            await self._send_rest()
            await ws.send(state.close_stream())
            await asyncio.wait_for(self._last_transcript.wait(), self._close_timeout_s)
        except TimeoutError:
            error = SmallestError(
                f"no last transcript within {self._close_timeout_s:g} s of close_stream",
                kind=ErrorKind.TIMEOUT,
            )
            await self.push_error_frame(error_frame(error, "Smallest STT timed out"))
        except (OSError, WebSocketException) as exc:
            logger.warning(f"{self} closing the stream failed: {exc}")

    # ------------------------------------------------------------------ audio out
    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Send audio in exact 50 ms frames."""
        if self._chunker is None:
            yield None
            return
        for chunk in self._chunker.push(audio):
            await self._send_audio(chunk)
        yield None

    async def _send_audio(self, chunk: bytes) -> None:
        ws, state = self._websocket, self._state
        if ws is None or state is None or ws.state is not State.OPEN:
            return
        try:
            await ws.send(chunk)
            state.audio_sent(len(chunk))
        except (OSError, WebSocketException) as exc:
            logger.warning(f"{self} sending audio failed: {exc}")

    async def _send_rest(self) -> None:
        if self._chunker is not None:
            rest = self._chunker.flush()
            if rest:
                await self._send_audio(rest)

    async def _send_keepalive(self, silence: bytes) -> None:
        # The protocol's own keepalive message, never fake audio.
        if self._websocket is not None and self._state is not None:
            await self._websocket.send(self._state.keepalive())

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Finalize when the user stops speaking."""
        await super().process_frame(frame, direction)
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            await self._finalize()

    async def _finalize(self) -> None:
        ws, state = self._websocket, self._state
        if ws is None or state is None or ws.state is not State.OPEN:
            return
        await self._send_rest()
        self.request_finalize()  # type: ignore[no-untyped-call]
        try:
            await ws.send(state.finalize())
        except (OSError, WebSocketException) as exc:
            logger.warning(f"{self} sending finalize failed: {exc}")
            return
        if self._finalize_watch is None:
            self._finalized.clear()
            self._finalize_watch = self.create_task(
                self._watch_finalize(), name="smallest-stt-finalize"
            )

    async def _watch_finalize(self) -> None:
        """Report a ``finalize`` that gets no final transcript in time."""
        try:
            await asyncio.wait_for(self._finalized.wait(), self._response_timeout_s)
        except TimeoutError:
            error = SmallestError(
                f"no final transcript within {self._response_timeout_s:g} s of finalize",
                kind=ErrorKind.TIMEOUT,
            )
            await self.push_error_frame(error_frame(error, "Smallest STT timed out"))
        finally:
            self._finalize_watch = None

    async def _update_settings(self, delta: Any) -> dict[str, Any]:
        """Apply a delta; a change reconnects once the user is not speaking."""
        prospective = copy.deepcopy(self._settings)
        prospective.apply_update(delta)
        try:
            _resolve_language(prospective)
            check_streaming_stt(
                stt_options(
                    prospective, sample_rate=self.sample_rate or 16000, encoding=self._encoding
                )
            )
        except ValueError as exc:
            await self.push_error(
                f"Smallest STT settings rejected: {exc}", category=ErrorCategory.APPLICATION
            )
            return {}
        if is_given(delta.language) and delta.language is not None:
            delta.language = prospective.language
        changed = await super()._update_settings(delta)
        if changed and self._websocket is not None:
            await self._request_reconnect()  # type: ignore[no-untyped-call]
        return changed

    # ------------------------------------------------------------------ receiving
    async def _receive_messages(self) -> None:
        ws, state = self._websocket, self._state
        if ws is None or state is None:
            return
        async for message in ws:
            event = state.receive(message)
            if isinstance(event, Transcript):
                await self._on_transcript(event)
            elif isinstance(event, SpeechStarted | SpeechEnded):
                await self._on_vad(event)
            elif isinstance(event, STTError):
                await self.push_error_frame(error_frame(event.error, "Smallest STT error"))
            elif isinstance(event, STTIgnored):
                logger.debug(f"{self} ignored a server frame: {event.reason}")

    async def _on_transcript(self, event: Transcript) -> None:
        language = language_from_code(event.language) or language_from_code(
            str(self._settings.language)
        )
        text = event.text.strip()
        if event.is_final:
            if event.from_finalize or event.is_last:
                self._finalized.set()
            if event.from_finalize:
                self.confirm_finalize()  # type: ignore[no-untyped-call]
            if text:
                await self.push_frame(
                    TranscriptionFrame(
                        text, self._user_id, time_now_iso8601(), language, result=event
                    )
                )
            elif event.from_finalize:
                await self.stop_ttfb_metrics()
            if event.is_last:
                self._last_transcript.set()
        elif text:
            await self.push_frame(
                InterimTranscriptionFrame(
                    text, self._user_id, time_now_iso8601(), language, result=event
                )
            )

    async def _on_vad(self, event: SpeechStarted | SpeechEnded) -> None:
        # Only when asked for: the pipeline's own VAD usually owns turn-taking.
        if self._settings.vad_events is not True:
            return
        if isinstance(event, SpeechStarted):
            await self.broadcast_frame(VADUserStartedSpeakingFrame)
        else:
            await self.broadcast_frame(VADUserStoppedSpeakingFrame)


def _resolve_language(settings: SmallestSTTSettings) -> None:
    language = settings.language
    if is_given(language) and language is not None:
        settings.language = stt_language(language)


__all__ = ["DEFAULT_CLOSE_TIMEOUT_S", "DEFAULT_RESPONSE_TIMEOUT_S", "SmallestSTTService"]
