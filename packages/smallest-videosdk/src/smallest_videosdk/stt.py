"""Pulse speech-to-text for VideoSDK agents: :class:`SmallestAISTT`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from videosdk.agents import STT, SpeechData, SpeechEventType, STTResponse
from videosdk.agents.audio_input import AudioCapability, ProviderAudioInput

from smallest_core import (
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
)
from smallest_core.errors import connection_error
from smallest_core.options import check_streaming_stt
from smallest_videosdk._common import Account, refused_upgrade

logger = logging.getLogger("smallest_videosdk.stt")

PULSE_SAMPLE_RATES = frozenset({8000, 16000, 22050, 24000, 44100, 48000})
_RETRY_AFTER_S = 1.0


class SmallestAISTT(STT):  # type: ignore[misc]
    """Smallest AI Pulse streaming STT for VideoSDK agent pipelines.

    Room audio (48 kHz stereo on an Opus leg, 8 kHz mono on a SIP leg, as reported
    by the SDK's format detector) is converted to ``sample_rate`` mono with the
    framework's converter, cut into 50 ms frames and streamed to
    ``WS /waves/v1/stt/live``. Reports ``START``, ``INTERIM``, ``FINAL`` and ``END``
    :class:`~videosdk.agents.STTResponse` events; words go in ``metadata["words"]``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        language: str = "en",
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
        close_timeout_s: float = 5.0,
        timeout: float = 10.0,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._options = STTOptions(
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
        for name, value in (
            ("keepalive_interval_s", keepalive_interval_s),
            ("close_timeout_s", close_timeout_s),
            ("timeout", timeout),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        self._account = Account.resolve(api_key, base_url)
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
        self._chunker = AudioChunker(sample_rate, frame_ms=50)
        self._session = http_session
        self._owns_session = http_session is None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._connect_lock = asyncio.Lock()
        self._last_sent = 0.0
        self._in_speech = False
        self._finished = asyncio.Event()
        self._blocked: SmallestError | None = None
        self._retry_at = 0.0
        self._closing = False

    @property
    def options(self) -> STTOptions:
        """The validated request options."""
        return self._options

    # ------------------------------------------------------------------ framework API
    async def process_audio(
        self, audio_frames: bytes, language: str | None = None, **kwargs: Any
    ) -> None:
        """Stream room audio (any rate/channels the SDK reports) to Pulse."""
        if self._closing or not audio_frames:
            return
        ws = await self._connected()
        if ws is None:
            return
        pcm = self._audio.process(audio_frames)
        for frame in self._chunker.push(pcm):
            if not await self._send_bytes(ws, frame):
                return

    async def flush(self) -> None:
        """End of the user's speech: send what is buffered and ask for a final now."""
        ws = self._ws
        if ws is None or ws.closed:
            return
        rest = self._chunker.flush()
        if rest and not await self._send_bytes(ws, rest):
            return
        await self._send_text(ws, self._state.finalize())

    async def aclose(self) -> None:
        """Send ``close_stream``, deliver the last final (bounded wait), then close."""
        self._closing = True
        ws = self._ws
        if ws is not None and not ws.closed:
            rest = self._chunker.flush()
            if rest:
                await self._send_bytes(ws, rest)
            if await self._send_text(ws, self._state.close_stream()):
                try:
                    await asyncio.wait_for(self._finished.wait(), self.close_timeout_s)
                except TimeoutError:
                    logger.warning(
                        "no last transcript within %.1fs of close_stream", self.close_timeout_s
                    )
        await self._disconnect()
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None
        # The base class's aclose() only drops this callback and then forces a full
        # gc.collect(), which stalls every other session in the process (tens of ms on
        # an agent's heap, per close): do the former only.
        self._transcript_callback = None

    # ------------------------------------------------------------------ connection
    async def _connected(self) -> aiohttp.ClientWebSocketResponse | None:
        if self._ws is not None and not self._ws.closed:
            return self._ws
        if self._blocked is not None or time.monotonic() < self._retry_at:
            return None
        async with self._connect_lock:
            if self._ws is not None and not self._ws.closed:
                return self._ws
            await self._disconnect()
            try:
                self._ws = await self._open()
            except SmallestError as exc:
                self._report(exc)
                if exc.retryable:
                    self._retry_at = time.monotonic() + _RETRY_AFTER_S
                else:
                    self._blocked = exc
                return None
            self._state.connection_started()
            self._finished.clear()
            self._last_sent = time.monotonic()
            self._reader = asyncio.create_task(self._read(self._ws), name="smallest-stt-reader")
            self._keepalive = asyncio.create_task(
                self._keep_alive(self._ws), name="smallest-stt-keepalive"
            )
            return self._ws

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        url = self._account.endpoints.stt_ws(self._options.query())
        try:
            return await asyncio.wait_for(
                self._session.ws_connect(url, headers=self._account.headers(), heartbeat=30.0),
                self.timeout,
            )
        except aiohttp.WSServerHandshakeError as exc:
            headers = self._account.headers()
            raise await refused_upgrade(self._session, url, headers, exc, "STT") from None
        except TimeoutError:
            message = f"connecting to Pulse timed out after {self.timeout:g}s"
            raise connection_error(message) from None
        except aiohttp.ClientError as exc:
            raise connection_error(f"cannot connect to Pulse: {exc}") from None

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

    async def _send_bytes(self, ws: aiohttp.ClientWebSocketResponse, frame: bytes) -> bool:
        try:
            await ws.send_bytes(frame)
        except (ConnectionError, aiohttp.ClientError) as exc:
            self._report(connection_error(f"sending audio to Pulse failed: {exc}"))
            self._audio.reset_filter()
            return False
        self._state.audio_sent(len(frame))
        self._last_sent = time.monotonic()
        return True

    async def _send_text(self, ws: aiohttp.ClientWebSocketResponse, message: str) -> bool:
        try:
            await ws.send_str(message)
        except (ConnectionError, aiohttp.ClientError) as exc:
            logger.debug("sending %s to Pulse failed: %s", message, exc)
            return False
        self._last_sent = time.monotonic()
        return True

    async def _keep_alive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            due = self._last_sent + self.keepalive_interval_s
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            if not await self._send_text(ws, self._state.keepalive()):
                return

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_frame(msg.data)
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    break
        except Exception as exc:
            logger.debug("Pulse reader stopped: %r", exc)
        finally:
            if not self._state.finished and not self._closing and ws.close_code not in (None, 1000):
                self._report(connection_error("Pulse closed the stream", close_code=ws.close_code))
            self._finished.set()

    # ------------------------------------------------------------------ events
    async def _on_frame(self, data: str) -> None:
        event = self._state.receive(data)
        if isinstance(event, Transcript):
            await self._on_transcript(event)
        elif isinstance(event, STTError):
            self._report(event.error)
        elif isinstance(event, SpeechStarted):
            await self._start()
        elif isinstance(event, SpeechEnded):
            await self._end()
        elif isinstance(event, STTIgnored):
            logger.debug("ignored a Pulse frame: %s", event.reason)
        elif isinstance(event, Pong):
            pass
        if isinstance(event, Transcript) and event.is_last:
            self._finished.set()

    async def _on_transcript(self, t: Transcript) -> None:
        if not t.text.strip():
            return
        await self._start()
        kind = SpeechEventType.FINAL if t.is_final else SpeechEventType.INTERIM
        await self._deliver(kind, _speech_data(t, self._options.language), _metadata(t))
        if t.is_final and not self._options.vad_events:
            await self._end()

    async def _start(self) -> None:
        if not self._in_speech:
            self._in_speech = True
            await self._deliver(SpeechEventType.START, SpeechData(text=""))

    async def _end(self) -> None:
        if self._in_speech:
            self._in_speech = False
            await self._deliver(SpeechEventType.END, SpeechData(text=""))

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
        self.emit("error", f"Smallest AI STT: {error.message}")


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
