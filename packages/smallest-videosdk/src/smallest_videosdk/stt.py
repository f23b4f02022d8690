"""Pulse speech-to-text for VideoSDK agents: :class:`SmallestAISTT`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from functools import partial
from typing import Any

import aiohttp
from videosdk.agents import STT, SpeechData, SpeechEventType, STTResponse
from videosdk.agents.audio_input import AudioCapability, ProviderAudioInput

from smallest_core import (
    DEFAULT_CLOSE_TIMEOUT_S,
    MAX_BACKOFF_S,
    MAX_RECONNECT_ATTEMPTS,
    AudioChunker,
    Pong,
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
    check_streaming_stt,
    connection_error,
    redact,
)
from smallest_core.aio import keep_alive
from smallest_videosdk._common import Account, connect_ws, describe
from smallest_videosdk._pulse2 import PULSE_2, turn_metadata
from smallest_videosdk._user_turn import UserTurnListener, UserTurns

logger = logging.getLogger("smallest_videosdk.stt")

PULSE_SAMPLE_RATES = frozenset({8000, 16000, 22050, 24000, 44100, 48000})
_FRAME_MS = 50
_PENDING_S = 10.0
"""Audio kept (newest) while reconnecting, sent once on the next socket with new input."""
_HEALTHY_AFTER_S = MAX_BACKOFF_S
"""A socket that lived this long (or sent any frame) ends an outage."""
_STALE_AFTER_S = 1.0
"""Room audio arrives every 20 ms, silence included: audio kept through an outage is sent
with the next input only if that follows within this gap. A longer gap means nobody fed this
instance meanwhile (e.g. a fallback switched away): its old audio is dropped, never sent
after newer audio reached another provider."""


class SmallestAISTT(STT):  # type: ignore[misc]
    """Smallest AI Pulse streaming STT for VideoSDK agent pipelines.

    Room audio (48 kHz stereo on an Opus leg, 8 kHz mono on a SIP leg, as reported
    by the SDK's format detector) is converted to ``sample_rate`` mono with the
    framework's converter, cut into 50 ms frames and streamed to
    ``WS /waves/v1/stt/live``. Reports ``START``, ``INTERIM``, ``FINAL`` and ``END``
    :class:`~videosdk.agents.STTResponse` events; words go in ``metadata["words"]``.

    ``model="pulse-2"`` (English): each final's ``metadata`` also has ``end_of_turn``,
    ``emotion`` (the top label), ``emotions`` (the scores) and ``gender``; ``END`` is
    reported when Pulse 2 says the turn is over (or after ``flush()``), not per final.
    The language is streamed from the host that serves it (``region="auto"``).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        language: str = "en",
        model: str = "pulse",
        region: str = "auto",
        sample_rate: int = 16000,
        input_sample_rate: int | None = None,
        input_channels: int | None = None,
        interim_results: bool = False,
        word_timestamps: bool = True,
        diarize: bool = False,
        vad_events: bool = False,
        endpointing: bool | None = None,
        eou_timeout_ms: int | None = None,
        punctuate: bool | None = None,
        itn_normalize: bool | None = None,
        numerals: str | None = None,
        keywords: Sequence[str | tuple[str, float]] = (),
        redact_pii: bool = False,
        redact_pci: bool = False,
        keepalive_interval_s: float = 5.0,
        close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S,
        timeout: float = 10.0,
        http_session: aiohttp.ClientSession | None = None,
        session_id: str | None = None,
        expire_content: bool = False,
    ) -> None:
        self._options = STTOptions(
            model=model,
            session_id=session_id,
            language=language,
            sample_rate=sample_rate,
            word_timestamps=word_timestamps,
            diarize=diarize,
            vad_events=vad_events,
            endpointing=endpointing,
            eou_timeout_ms=eou_timeout_ms,
            punctuate=punctuate,
            itn_normalize=itn_normalize,
            numerals=numerals,
            keywords=tuple(keywords),  # type: ignore[arg-type]
            redact_pii=redact_pii,
            redact_pci=redact_pci,
        )
        check_streaming_stt(self._options)
        check_duration("keepalive_interval_s", keepalive_interval_s)
        check_duration("close_timeout_s", close_timeout_s)
        check_duration("timeout", timeout)
        self._account = Account.resolve(
            api_key, base_url, stt_language=language, region=region, expire_content=expire_content
        )
        super().__init__(interim_results=interim_results)
        self.keepalive_interval_s = keepalive_interval_s
        self.close_timeout_s = close_timeout_s
        self.timeout = timeout
        self._audio = ProviderAudioInput(
            AudioCapability(rates=frozenset({sample_rate}), preferred_rate=sample_rate),
            pinned_rate=input_sample_rate,
            pinned_channels=input_channels,
            label="SmallestAISTT",
        )
        self._state = STTStreamState(self._options)
        self._chunker = AudioChunker(sample_rate, frame_ms=_FRAME_MS)
        self._session = http_session
        self._owns_session = http_session is None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._connect_lock = asyncio.Lock()
        self._in_speech = False
        self._finished = asyncio.Event()
        self._blocked: SmallestError | None = None
        self._retry_at = 0.0
        self._closing = False
        self._pending: deque[bytes] = deque(maxlen=int(_PENDING_S * 1000 / _FRAME_MS))
        self._last_input = 0.0
        self._user_turns = UserTurns(sample_rate)
        self._reconnect: asyncio.Task[None] | None = None
        self._failures = 0
        """Connection failures in a row (the back-off attempt number)."""
        self._last_error: SmallestError | None = None
        self._outage_reported = False
        self._opened_at = 0.0
        self._heard = False

    @property
    def options(self) -> STTOptions:
        """The validated request options."""
        return self._options

    @property
    def model(self) -> str:
        """The streaming model (``pulse`` or ``pulse-2``)."""
        return self._options.model

    @property
    def session_id(self) -> str | None:
        """Your id for the session, sent as ``external_session_id``."""
        return self._options.session_id

    def on_user_turn(self, listener: UserTurnListener | None) -> None:
        """Call ``listener(text, pcm, sample_rate)`` at the end of each user turn, with its
        final words and the audio sent for them (mono, newest 30 s), e.g.
        ``stt.on_user_turn(tts.add_user_turn)`` for :class:`SmallestAITTSV4`."""
        self._user_turns.listener = listener

    @property
    def base_url(self) -> str:
        """The API root the stream connects to (after routing the language to its region)."""
        return self._account.endpoints.base_url

    # ------------------------------------------------------------------ framework API
    async def process_audio(
        self, audio_frames: bytes, language: str | None = None, **kwargs: Any
    ) -> None:
        """Stream room audio (any rate/channels the SDK reports) to Pulse.

        While a lost connection is re-established (with back-off), the audio is kept
        (the newest ``_PENDING_S`` seconds) and sent once on the new socket, unless the
        input stopped for over ``_STALE_AFTER_S`` meanwhile.
        """
        if self._closing or self._blocked is not None or not audio_frames:
            return
        self._drop_stale_audio()
        self._last_input = time.monotonic()
        frames = self._chunker.push(self._audio.process(audio_frames))
        ws = await self._connected()
        if ws is None:
            self._pending.extend(frames)
            return
        await self._send_frames(ws, frames)

    async def flush(self) -> None:
        """End of the user's speech: send what is buffered and ask for a final now."""
        ws = self._ws
        if ws is None or ws.closed:
            return
        self._drop_stale_audio()
        rest = self._chunker.flush()
        if not await self._send_frames(ws, [rest] if rest else []):
            return
        await self._send_text(ws, self._state.finalize())

    async def aclose(self) -> None:
        """Send ``close_stream``, deliver the last final (bounded wait), then close.

        A reconnect in progress is abandoned; nothing is raised.
        """
        self._closing = True
        await _cancel(self._reconnect)
        self._reconnect = None
        self._drop_stale_audio()
        ws = self._ws
        if ws is not None and not ws.closed:
            rest = self._chunker.flush()
            sent = await self._send_frames(ws, [rest] if rest else [])
            if sent and await self._send_text(ws, self._state.close_stream()):
                try:
                    await asyncio.wait_for(self._finished.wait(), self.close_timeout_s)
                except TimeoutError:
                    logger.warning(
                        "no last transcript within %.1fs of close_stream", self.close_timeout_s
                    )
        await self._disconnect()
        self._pending.clear()
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None
        # The base class's aclose() only drops this callback and then forces a full
        # gc.collect(), which stalls every other session in the process (tens of ms on
        # an agent's heap, per close): do the former only.
        self._transcript_callback = None

    # ------------------------------------------------------------------ connection
    async def _connected(self) -> aiohttp.ClientWebSocketResponse | None:
        """The live socket; connects at once only when no failure is being backed off."""
        if self._ws is not None and not self._ws.closed:
            return self._ws
        if self._reconnect is not None and not self._reconnect.done():
            return None
        if self._blocked is not None or self._closing or time.monotonic() < self._retry_at:
            return None
        if self._failures:
            self._start_reconnect()
            return None
        async with self._connect_lock:
            if self._ws is not None and not self._ws.closed:
                return self._ws
            await self._disconnect()
            try:
                ws = await self._open()
            except SmallestError as exc:
                self._failed(exc)
                return None
            self._attach(ws)
            return ws

    def _attach(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._state.connection_started()
        self._finished.clear()
        self._opened_at = time.monotonic()
        self._state.sent(self._opened_at)  # the keepalive counts from here
        self._heard = False
        self._reader = asyncio.create_task(self._read(ws), name="smallest-stt-reader")
        self._keepalive = asyncio.create_task(self._keep_alive(ws), name="smallest-stt-keepalive")

    def _failed(self, error: SmallestError) -> None:
        """A connection attempt failed or the stream dropped: report once per outage,
        then reconnect with back-off (or stop, when retrying cannot help)."""
        if not error.retryable:
            self._blocked = error
            self._pending.clear()
            self._report(error)
            return
        if not self._outage_reported:
            self._outage_reported = True
            self._report(error)
        else:
            logger.debug("Pulse still unavailable: %s", error.message)
        self._last_error = error
        self._failures += 1
        self._start_reconnect()

    def _start_reconnect(self) -> None:
        if self._closing or (self._reconnect is not None and not self._reconnect.done()):
            return
        self._reconnect = asyncio.create_task(self._reconnect_loop(), name="smallest-stt-reconnect")

    async def _reconnect_loop(self) -> None:
        while self._failures <= MAX_RECONNECT_ATTEMPTS:
            await asyncio.sleep(backoff(self._failures, error=self._last_error))
            async with self._connect_lock:
                if self._closing:
                    return
                await self._disconnect()
                try:
                    ws = await self._open()
                except SmallestError as exc:
                    if not exc.retryable:
                        self._failed(exc)
                        return
                    logger.debug("reconnecting to Pulse failed: %s", exc.message)
                    self._last_error = exc
                    self._failures += 1
                    continue
                self._attach(ws)
            return  # the kept audio goes with the next input, if that follows on from it
        error = self._last_error
        cause = f": {describe(error)}" if error is not None else ""
        self._report(connection_error(f"Pulse unreachable after {self._failures} attempts{cause}"))
        self._pending.clear()
        self._failures = 0
        self._outage_reported = False
        self._retry_at = time.monotonic() + MAX_BACKOFF_S

    def _drop_stale_audio(self) -> None:
        if self._pending and time.monotonic() - self._last_input > _STALE_AFTER_S:
            logger.debug("dropping %d kept audio frames: the input stopped", len(self._pending))
            self._pending.clear()

    def _recovered(self) -> None:
        """The current socket works: the next failure starts a new outage."""
        self._heard = True
        self._failures = 0
        self._outage_reported = False

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        query = self._options.query()
        url = self._account.endpoints.stt_ws(query)
        headers = self._account.headers()
        return await connect_ws(self._session, url, headers, self.timeout, "STT", "Pulse")

    async def _disconnect(self) -> None:
        for task in (self._keepalive, self._reader):
            if task is not None and not task.done():
                task.cancel()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._keepalive = self._reader = None
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        self._ws = None

    async def _send_frames(self, ws: aiohttp.ClientWebSocketResponse, frames: list[bytes]) -> bool:
        """Send what is pending, then ``frames``; what cannot be sent stays pending."""
        self._pending.extend(frames)
        while self._pending:
            frame = self._pending[0]
            if ws.closed:
                return False
            try:
                await ws.send_bytes(frame)
            except (ConnectionError, aiohttp.ClientError) as exc:
                logger.debug("sending audio to Pulse failed: %s", exc)
                return False
            self._pending.popleft()
            self._state.audio_sent(len(frame))
            self._user_turns.audio(frame)
            self._state.sent(time.monotonic())
        return True

    async def _send_text(self, ws: aiohttp.ClientWebSocketResponse, message: str) -> bool:
        try:
            await ws.send_str(message)
        except (ConnectionError, aiohttp.ClientError) as exc:
            logger.debug("sending a control message to Pulse failed: %s", exc)
            return False
        self._state.sent(time.monotonic())
        return True

    async def _keep_alive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        await keep_alive(self._state, partial(self._send_text, ws), self.keepalive_interval_s)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        reason = ""
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_frame(msg.data)
                elif msg.type is not aiohttp.WSMsgType.BINARY:
                    if msg.type is aiohttp.WSMsgType.CLOSE and msg.extra:
                        reason = str(msg.extra)
                    elif msg.type is aiohttp.WSMsgType.ERROR:
                        reason = str(msg.data)
                    break
        except asyncio.CancelledError:
            self._finished.set()
            raise
        except Exception as exc:
            logger.debug("Pulse reader stopped: %r", exc)
        self._finished.set()
        self._ended(ws, reason)

    def _ended(self, ws: aiohttp.ClientWebSocketResponse, reason: str) -> None:
        """The socket closed: a drop (or a socket that never worked) is a failure."""
        if self._closing or self._state.finished or ws is not self._ws:
            return
        if time.monotonic() - self._opened_at >= _HEALTHY_AFTER_S:
            self._recovered()
        code = ws.close_code
        if code in (None, 1000) and not reason and self._heard:
            return  # a clean close of a working stream: reconnect on the next audio
        what = f"Pulse closed the stream: {redact(reason)}" if reason else "Pulse closed the stream"
        self._failed(connection_error(what, close_code=code))

    # ------------------------------------------------------------------ events
    async def _on_frame(self, data: str) -> None:
        event = self._state.receive(data)
        if not self._heard and not isinstance(event, STTError):
            self._recovered()
        if isinstance(event, Transcript):
            await self._on_transcript(event)
        elif isinstance(event, STTError):
            self._report(event.error)
            if not event.error.retryable:
                self._blocked = event.error  # the same request would fail again
        elif isinstance(event, SpeechStarted):
            await self._start()
        elif isinstance(event, SpeechEnded) and self.model != PULSE_2:
            await self._end()  # Pulse 2 ends speech at the end of the turn instead
        elif isinstance(event, STTIgnored):
            logger.debug("ignored a Pulse frame: %s", redact(event.reason))
        elif isinstance(event, Pong):
            pass
        if isinstance(event, Transcript) and event.is_last:
            self._finished.set()

    async def _on_transcript(self, t: Transcript) -> None:
        spoken = bool(t.text.strip())
        pulse2_final = t.is_final and self.model == PULSE_2
        if spoken:
            await self._start()
            kind = SpeechEventType.FINAL if t.is_final else SpeechEventType.INTERIM
            metadata = {**_metadata(t), **turn_metadata(t)} if pulse2_final else _metadata(t)
            await self._deliver(kind, _speech_data(t, self._options.language), metadata)
            if t.is_final:
                self._user_turns.words(t.text)
        if pulse2_final:  # Pulse 2: speech ends with the turn
            ends = t.speech_final is True or t.from_finalize or t.is_last
        else:
            ends = spoken and t.is_final and not self._options.vad_events
        if ends:
            await self._end()

    async def _start(self) -> None:
        if not self._in_speech:
            self._in_speech = True
            await self._deliver(SpeechEventType.START, SpeechData(text=""))

    async def _end(self) -> None:
        if self._in_speech:
            self._in_speech = False
            await self._deliver(SpeechEventType.END, SpeechData(text=""))
            await self._user_turns.ended()

    async def _deliver(
        self, kind: SpeechEventType, data: SpeechData, metadata: dict[str, Any] | None = None
    ) -> None:
        callback = self._transcript_callback
        if callback is None:
            return
        try:
            await callback(STTResponse(event_type=kind, data=data, metadata=metadata))
        except Exception:
            logger.exception("the transcript callback raised")

    def _report(self, error: SmallestError) -> None:
        self.emit("error", f"Smallest AI STT: {describe(error)}")


def _speech_data(t: Transcript, language: str) -> SpeechData:
    start = t.start or 0.0
    end = t.end or start
    return SpeechData(
        text=t.text,
        confidence=t.confidence if t.confidence is not None else 0.0,
        language=t.language or language,
        start_time=start,
        end_time=end,
        duration=max(0.0, end - start),
    )


def _metadata(t: Transcript) -> dict[str, Any]:
    return {
        "words": [
            {
                "word": w.text,
                "start": w.start,
                "end": w.end,
                "confidence": w.confidence,
                "speaker": w.speaker,
            }
            for w in t.words
        ],
        "is_last": t.is_last,
        "from_finalize": t.from_finalize,
        "speaker": t.speaker,
        "session_id": t.session_id,
    }


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
