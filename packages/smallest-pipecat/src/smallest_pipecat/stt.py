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
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.protocol import State

from smallest_core import (
    MAX_FRAME_BYTES,
    MAX_RECONNECT_ATTEMPTS,
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
    backoff,
    check_duration,
    redact,
    resolve_api_key,
)
from smallest_core.errors import connection_error
from smallest_core.options import check_streaming_stt
from smallest_pipecat._common import connect_error, ws_options
from smallest_pipecat._replay import ReplayBuffer
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
_REPLAY_S = 30
"""Most audio kept for resending after a dropped socket (a final releases it sooner)."""
_TOO_BIG = 1009


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
        self._close_timeout_s = check_duration("close_timeout_s", close_timeout_s)
        self._response_timeout_s = check_duration("response_timeout_s", response_timeout_s)
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
        for task in (self._finalize_watch, self._supervisor):
            if task is not None:
                await self.cancel_task(task)
        self._finalize_watch = self._supervisor = None
        await self._disconnect_websocket()

    async def _connect_websocket(self) -> None:
        error = await self._open()
        if error is not None:
            raise error

    async def _open(self) -> SmallestError | None:
        """One attempt to open the socket; the error if it failed."""
        if self._websocket is not None and self._websocket.state is State.OPEN:
            return None
        assert self._state is not None and self._replay is not None
        options = self._options()
        url = self._endpoints.stt_ws(options.query())
        try:
            ws = await asyncio.wait_for(
                self._websocket_connect(url, **ws_options(self._api_key)), _CONNECT_TIMEOUT_S
            )
        except TimeoutError:
            return SmallestError("timed out opening the STT socket", kind=ErrorKind.TIMEOUT)
        except Exception as exc:
            return connect_error(exc, url, "STT")
        self._websocket = ws
        self.connections_opened += 1
        self._last_transcript.clear()
        self._state.connection_started(options)
        if self._finalize_marks:
            self._finalize_marks.clear()  # the old socket never answered: ask again
            self._finalize_owed = True
        async with self._send_lock:
            self._replay.resend_all()
        await self._call_event_handler("on_connected")
        await self._drain()
        await self._send_finalize()
        return None

    async def _disconnect_websocket(self) -> None:
        ws, self._websocket = self._websocket, None
        if ws is not None:
            try:
                await ws.close()
            except (OSError, WebSocketException) as exc:
                logger.debug(f"{self} closing the socket failed: {redact(str(exc))}")
            await self._call_event_handler("on_disconnected")

    async def _supervise(self, error: SmallestError | None) -> None:
        """Read each socket until it closes; reopen it with back-off while that helps.

        ``error`` is the (already reported) failure of the first attempt, if it failed.
        One drop is reported once; the attempts after it only log, unless they end.
        """
        reported = True
        while True:
            if error is None:
                error = await self._receive_until_closed()
                if error is None:
                    return  # closed on purpose
                reported = True
            self._failures += 1
            if not error.retryable or self._failures > MAX_RECONNECT_ATTEMPTS:
                await self._give_up(error, reported=reported)
                return
            await asyncio.sleep(backoff(self._failures, error=error))
            error = await self._open()
            if error is not None:
                reported = False
                logger.warning(f"{self} reconnect attempt {self._failures} failed: {error}")

    async def _give_up(self, error: SmallestError, *, reported: bool) -> None:
        if not error.retryable:
            if not reported:
                await self._report(error, "Smallest STT connection failed")
            return
        gave_up = SmallestError(
            f"no working socket after {MAX_RECONNECT_ATTEMPTS} attempts: {error.message}",
            kind=error.kind,
            status_code=error.status_code,
        )
        frame = error_frame(gave_up, "Smallest STT connection failed")
        await self._call_event_handler("on_connection_error", frame.error)
        await self.push_error_frame(frame, force_treat_as_permanent=True)

    async def _report(self, error: SmallestError, prefix: str) -> None:
        frame = error_frame(error, prefix)
        await self._call_event_handler("on_connection_error", frame.error)
        await self.push_error_frame(frame)

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
            logger.warning(f"{self} closing the stream failed: {redact(str(exc))}")

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
            ws = self._websocket
            if ws is None or ws.state is not State.OPEN:
                return
            try:
                while (chunk := replay.next_unsent()) is not None:
                    await ws.send(chunk)
                    replay.mark_sent()
            except (OSError, WebSocketException) as exc:
                # The reader sees the close and reconnects; the chunk stays buffered.
                logger.debug(f"{self} sending audio failed: {redact(str(exc))}")

    async def _send_rest(self) -> None:
        if self._chunker is not None:
            rest = self._chunker.flush()
            if rest:
                await self._send_audio(rest)

    async def _send_keepalive(self, silence: bytes) -> None:
        # The protocol's own keepalive message, never fake audio.
        ws, state = self._websocket, self._state
        if ws is None or state is None:
            return
        try:
            await ws.send(state.keepalive())
        except (OSError, WebSocketException) as exc:
            logger.debug(f"{self} keepalive failed: {redact(str(exc))}")

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Finalize when the user stops speaking."""
        await super().process_frame(frame, direction)
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            await self._finalize()

    async def _finalize(self) -> None:
        if self._state is None or (self._websocket is None and self._supervisor is None):
            return  # no socket and none coming
        await self._send_rest()
        self.request_finalize()  # type: ignore[no-untyped-call]
        self._finalize_owed = True
        await self._send_finalize()
        if self._finalize_watch is None:
            self._finalized.clear()
            self._finalize_watch = self.create_task(
                self._watch_finalize(), name="smallest-stt-finalize"
            )

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
            try:
                await ws.send(state.finalize())
            except (OSError, WebSocketException) as exc:
                logger.warning(f"{self} sending finalize failed: {redact(str(exc))}")
                return
            self._finalize_owed = False
            self._finalize_marks.append(replay.sent_position)

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
        """Pipecat's reader hook: the supervisor calls :meth:`_receive_until_closed`."""
        await self._receive_until_closed()

    async def _receive_until_closed(self) -> SmallestError | None:
        """Read the socket until it closes: ``None`` if that was asked for, else the
        reason (reported here once: a server error frame, or the drop itself)."""
        ws, state = self._websocket, self._state
        if ws is None or state is None:
            return None
        reported: SmallestError | None = None
        closed: ConnectionClosed | None = None
        try:
            while True:
                event = state.receive(await ws.recv())
                if isinstance(event, Transcript):
                    await self._on_transcript(event)
                elif isinstance(event, SpeechStarted | SpeechEnded):
                    await self._on_vad(event)
                elif isinstance(event, STTError):
                    reported = event.error
                    await self.push_error_frame(error_frame(event.error, "Smallest STT error"))
                elif isinstance(event, STTIgnored):
                    logger.debug(f"{self} ignored a server frame: {redact(event.reason)}")
        except ConnectionClosed as exc:
            closed = exc
        if self._websocket is ws:
            self._websocket = None
            await self._call_event_handler("on_disconnected")
        if self._disconnecting or state.finished:
            return None
        if reported is not None:
            return reported
        error = _drop_error(closed)
        await self._report(error, "Smallest STT connection lost")
        return error

    async def _on_transcript(self, event: Transcript) -> None:
        language = language_from_code(event.language) or language_from_code(
            str(self._settings.language)
        )
        text = event.text.strip()
        if event.is_final:
            self._failures = 0
            self._release(event)
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

    def _release(self, final: Transcript) -> None:
        """The audio a final covers is never sent again."""
        if self._replay is None:
            return
        if final.from_finalize and self._finalize_marks:
            self._replay.release_to(self._finalize_marks.pop(0))
        else:
            self._replay.release_sent()

    async def _on_vad(self, event: SpeechStarted | SpeechEnded) -> None:
        # Only when asked for: the pipeline's own VAD usually owns turn-taking.
        if self._settings.vad_events is not True:
            return
        if isinstance(event, SpeechStarted):
            await self.broadcast_frame(VADUserStartedSpeakingFrame)
        else:
            await self.broadcast_frame(VADUserStoppedSpeakingFrame)


def _drop_error(closed: ConnectionClosed | None) -> SmallestError:
    """Why a socket closed that was meant to stay open."""
    sent = closed.sent if closed is not None else None
    if sent is not None and sent.code == _TOO_BIG:
        return SmallestError(
            f"the server sent a frame over the {MAX_FRAME_BYTES // 2**20} MiB limit",
            kind=ErrorKind.PROTOCOL,
            code=str(_TOO_BIG),
        )
    rcvd = closed.rcvd if closed is not None else None
    code = rcvd.code if rcvd is not None else None
    reason = f": {rcvd.reason}" if rcvd is not None and rcvd.reason else ""
    return connection_error(f"the socket closed mid-stream{reason}", close_code=code)


def _resolve_language(settings: SmallestSTTSettings) -> None:
    language = settings.language
    if is_given(language) and language is not None:
        settings.language = stt_language(language)


__all__ = ["DEFAULT_CLOSE_TIMEOUT_S", "DEFAULT_RESPONSE_TIMEOUT_S", "SmallestSTTService"]
