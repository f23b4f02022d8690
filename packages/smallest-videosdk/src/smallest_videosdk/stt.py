"""Pulse speech-to-text for VideoSDK agents: :class:`SmallestAISTT`."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import aiohttp
from videosdk.agents import STT
from videosdk.agents.audio_input import AudioCapability, ProviderAudioInput

from smallest_core import (
    DEFAULT_CLOSE_TIMEOUT_S,
    DEFAULT_FINALIZE_TIMEOUT_S,
    DEFAULT_KEEPALIVE_INTERVAL_S,
    AudioChunker,
    SpeechActivity,
    STTOptions,
    STTStreamState,
    check_duration,
    check_streaming_stt,
)
from smallest_videosdk._common import Account
from smallest_videosdk._stt_connection import PulseConnection
from smallest_videosdk._user_turn import UserTurnListener, UserTurns

PULSE_SAMPLE_RATES = frozenset({8000, 16000, 22050, 24000, 44100, 48000})
_FRAME_MS = 50
_PENDING_S = 10.0
"""Audio kept (newest) while reconnecting, sent once on the next socket with new input."""


class SmallestAISTT(PulseConnection, STT):  # type: ignore[misc]
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

    A ``flush()`` whose final does not come within ``finalize_timeout_s``, or an
    ``aclose()`` whose last transcript does not come within ``close_timeout_s``, is
    reported as an ``error`` event (the core's deadlines; the stream goes on).
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
        keepalive_interval_s: float = DEFAULT_KEEPALIVE_INTERVAL_S,
        finalize_timeout_s: float = DEFAULT_FINALIZE_TIMEOUT_S,
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
        check_duration("finalize_timeout_s", finalize_timeout_s)
        check_duration("close_timeout_s", close_timeout_s)
        check_duration("timeout", timeout)
        self._account = Account.resolve(
            api_key, base_url, stt_language=language, region=region, expire_content=expire_content
        )
        super().__init__(interim_results=interim_results)
        self.keepalive_interval_s = keepalive_interval_s
        self.finalize_timeout_s = finalize_timeout_s
        self.close_timeout_s = close_timeout_s
        self.timeout = timeout
        self._audio = ProviderAudioInput(
            AudioCapability(rates=frozenset({sample_rate}), preferred_rate=sample_rate),
            pinned_rate=input_sample_rate,
            pinned_channels=input_channels,
            label="SmallestAISTT",
        )
        self._state = STTStreamState(
            self._options,
            keepalive_interval_s=keepalive_interval_s,
            finalize_timeout_s=finalize_timeout_s,
            close_timeout_s=close_timeout_s,
        )
        self._activity = SpeechActivity(model=model, vad_events=vad_events)
        self._chunker = AudioChunker(sample_rate, frame_ms=_FRAME_MS)
        self._session = http_session
        self._owns_session = http_session is None
        self._ws = None
        self._reader = None
        self._timers = None
        self._connect_lock = asyncio.Lock()
        self._finished = asyncio.Event()
        self._blocked = None
        self._retry_at = 0.0
        self._closing = False
        self._pending = deque(maxlen=int(_PENDING_S * 1000 / _FRAME_MS))
        self._last_input = 0.0
        self._user_turns = UserTurns(sample_rate)
        self._reconnect = None
        self._failures = 0
        """Connection failures in a row (the back-off attempt number)."""
        self._last_error = None
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
        input stopped for over ``STALE_AFTER_S`` meanwhile.
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
        self._state.finalize(time.monotonic())
        await self._send_queued(ws)

    async def aclose(self) -> None:
        """Send ``close_stream``, deliver the last final (until the core's close deadline),
        then close. A reconnect in progress is abandoned; nothing is raised."""
        self._closing = True
        reconnect, self._reconnect = self._reconnect, None
        if reconnect is not None and not reconnect.done():
            reconnect.cancel()
            await asyncio.gather(reconnect, return_exceptions=True)
        self._drop_stale_audio()
        ws = self._ws
        if ws is not None and not ws.closed:
            rest = self._chunker.flush()
            if await self._send_frames(ws, [rest] if rest else []):
                self._state.close_stream(time.monotonic())
                if await self._send_queued(ws):
                    await self._await_last_transcript()
        await self._disconnect()
        await self._end_speech()
        self._pending.clear()
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None
        # The base class's aclose() only drops this callback and then forces a full
        # gc.collect(), which stalls every other session in the process (tens of ms on
        # an agent's heap, per close): do the former only.
        self._transcript_callback = None

    async def _await_last_transcript(self) -> None:
        deadline = self._state.close_deadline()
        wait = 0.0 if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            await asyncio.wait_for(self._finished.wait(), wait)
        except TimeoutError:
            self._state.poll(time.monotonic())
            await self._dispatch()


__all__ = ["PULSE_SAMPLE_RATES", "SmallestAISTT"]
