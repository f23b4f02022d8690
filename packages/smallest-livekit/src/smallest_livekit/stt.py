"""Smallest AI Pulse speech-to-text for LiveKit Agents.

``stream()`` uses ``WS /waves/v1/stt/live`` (50 ms frames, interim and final
transcripts, server VAD events, finalize on flush, ``close_stream`` at end of input);
``recognize()`` uses ``POST /waves/v1/stt/``. Parsing and timelines are the core's
(:class:`~smallest_core.STTStreamState`).

A stream reconnects by itself: after a refusal or a dropped socket it waits the core's
``backoff`` (at least the server's ``Retry-After`` or 1 s after a rate-limit signal: 429,
close 1008) and tries again, up to ``MAX_RECONNECT_ATTEMPTS`` (and ``max_retry``) failures
in a row. Each failure is one recoverable error event; audio not yet written to the failed
socket is sent on the next one, and times stay on one timeline.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from typing import Any, cast

import aiohttp
from livekit import rtc
from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    stt,
)
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer, is_given

from smallest_core import (
    DEFAULT_CLOSE_TIMEOUT_S,
    DEFAULT_FINALIZE_TIMEOUT_S,
    DEFAULT_KEEPALIVE_INTERVAL_S,
    STT_STREAM_OPTION_NAMES,
    Endpoints,
    STTOptions,
    catalog,
    check_duration,
    check_streaming_stt,
)

from ._common import Connection, api_root
from ._keyterms import merge_keyterms
from ._pulse2 import PULSE_2
from ._stt_batch import transcribe
from ._stt_stream import FRAME_MS, USAGE_REPORT_S, SpeechStream, StreamSetup

DEFAULT_KEEPALIVE_S = DEFAULT_KEEPALIVE_INTERVAL_S
"""Kept for callers of earlier releases; the core's ``DEFAULT_KEEPALIVE_INTERVAL_S``."""


class STT(stt.STT[Any]):
    """Pulse STT: streaming over WebSocket, batch over HTTP."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str = "pulse",
        language: str = "en",
        sample_rate: int = 16000,
        encoding: str = "linear16",
        word_timestamps: bool = True,
        sentence_timestamps: bool | None = None,
        diarize: bool = False,
        vad_events: bool = True,
        punctuate: bool | None = None,
        capitalize: bool | None = None,
        format: bool | None = None,
        itn_normalize: bool | None = None,
        numerals: str | bool | None = None,
        endpointing: bool | None = None,
        eou_timeout_ms: int | None = None,
        finalize_on_words: bool | None = None,
        max_words: int | None = None,
        keywords: Sequence[tuple[str, float] | str] | None = None,
        redact_pii: bool = False,
        redact_pci: bool = False,
        finalize_on_flush: bool = True,
        keepalive_interval_s: float | None = DEFAULT_KEEPALIVE_INTERVAL_S,
        finalize_timeout_s: float = DEFAULT_FINALIZE_TIMEOUT_S,
        close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S,
        keepalive_interval: NotGivenOr[float | None] = NOT_GIVEN,
        region: str = "auto",
        emotion_detection: bool = False,
        gender_detection: bool = False,
        session_id: str | None = None,
        expire_content: bool = False,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Create a Pulse STT.

        Args:
            api_key: API key; defaults to ``SMALLEST_API_KEY``.
            base_url: API root; defaults to ``SMALLEST_BASE_URL`` or https://api.smallest.ai.
            model: ``pulse`` (streaming and batch), ``pulse-2`` (streaming, English; finals
                carry emotion and gender in ``SpeechData.metadata`` and its own end of turn;
                ``recognize()`` uses Pulse) or ``pulse-pro`` (batch only).
            language: language code, ``multi`` for detection (reported on finals).
            sample_rate: audio rate sent to the server; input frames are resampled to it.
            encoding: only ``linear16`` (LiveKit frames are 16-bit PCM).
            word_timestamps: word timings on transcripts.
            diarize: speaker ids on words and transcripts.
            vad_events: use the server's VAD for START/END_OF_SPEECH.
            format: the official plugin's switch; False turns punctuation and capitals off.
            finalize_on_flush: send ``finalize`` when the framework flushes the stream.
            keepalive_interval_s: quiet seconds before a keepalive message; None = off.
            finalize_timeout_s: a flush's ``finalize`` gets no final within this long: a
                recoverable error event (the stream goes on).
            close_timeout_s: how long the end of input waits for the last transcript;
                past it a recoverable error event reports the missing transcript.
            keepalive_interval: the earlier name of ``keepalive_interval_s``.
            region: ``auto`` (the host that serves ``language``), ``india`` or ``us``. East
                Asian languages stream only from the US host, South Indic ones only from
                the India host; an impossible pair is a ``ValueError`` naming the host.
                A custom ``base_url`` (emulator, proxy) is always kept.
            emotion_detection, gender_detection: ``recognize()`` results carry the
                caller's emotion scores / gender in ``SpeechData.metadata`` (Pulse 2 streams
                them on every final without asking).
            session_id: your id for the session (e.g. the room), sent as
                ``external_session_id`` and kept by the server for analytics (letters,
                digits, ``_-.``; at most 128).
            expire_content: ask the server to delete the audio and transcripts after 7 days
                (``x-expire-content``; Enterprise plans).
            Other options are sent to the server only when set.
        """
        if encoding != "linear16":
            raise ValueError("encoding must be 'linear16': LiveKit audio frames are 16-bit PCM")
        if format is False:
            punctuate = False if punctuate is None else punctuate
            capitalize = False if capitalize is None else capitalize
        if isinstance(numerals, bool):
            numerals = "true" if numerals else "false"
        self._opts = STTOptions(
            language=language,
            model=model,
            sample_rate=sample_rate,
            encoding=encoding,
            word_timestamps=word_timestamps,
            sentence_timestamps=sentence_timestamps,
            diarize=diarize,
            vad_events=vad_events,
            punctuate=punctuate,
            capitalize=capitalize,
            itn_normalize=itn_normalize,
            numerals=numerals,
            endpointing=endpointing,
            eou_timeout_ms=eou_timeout_ms,
            finalize_on_words=finalize_on_words,
            max_words=max_words,
            keywords=cast(Any, tuple(keywords or ())),
            redact_pii=redact_pii,
            redact_pci=redact_pci,
            emotion_detection=emotion_detection,
            gender_detection=gender_detection,
            session_id=session_id,
        )
        streaming = model in catalog.STT_MODELS
        if streaming:
            check_streaming_stt(self._opts)
        if is_given(keepalive_interval):
            if keepalive_interval is not None:
                check_duration("keepalive_interval", keepalive_interval)
            keepalive_interval_s = keepalive_interval
        if keepalive_interval_s is not None:
            check_duration("keepalive_interval_s", keepalive_interval_s)
        check_duration("finalize_timeout_s", finalize_timeout_s)
        check_duration("close_timeout_s", close_timeout_s)
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=streaming,
                interim_results=True,
                diarization=diarize,
                aligned_transcript="word" if word_timestamps else False,
                offline_recognize=True,
                manual_flush=finalize_on_flush,
                keyterms=True,
            )
        )
        self._conn = Connection(
            api_key, api_root(base_url), http_session, expire_content=expire_content
        )
        self._session_keyterms: tuple[str, ...] = ()
        self._region = region
        self._conn.endpoints.for_stt_language(language, region)  # ValueError naming the host
        self._stream_setup = StreamSetup(
            conn=self._conn,
            endpoints=self.endpoints,
            keepalive_interval_s=keepalive_interval_s,
            finalize_timeout_s=finalize_timeout_s,
            close_timeout_s=close_timeout_s,
            finalize_on_flush=finalize_on_flush,
        )
        self._streams: weakref.WeakSet[SpeechStream] = weakref.WeakSet()

    @property
    def model(self) -> str:
        return self._opts.model

    @property
    def provider(self) -> str:
        return "Smallest AI"

    @property
    def options(self) -> STTOptions:
        """The current (validated, immutable) options."""
        return self._opts

    @property
    def region(self) -> str:
        return self._region

    def endpoints(self, language: str | None = None) -> Endpoints:
        """The endpoints a stream of ``language`` (default: the current one) connects to."""
        return self._conn.endpoints.for_stt_language(language or self._opts.language, self._region)

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> SpeechStream:
        """A streaming recognition session."""
        if not self._capabilities.streaming:
            raise ValueError(f"{self._opts.model} has no streaming transport; use recognize()")
        opts = self._opts.with_changes(language=language) if is_given(language) else self._opts
        self._check_language(opts)
        opts = opts.with_changes(keywords=self._keywords(opts))
        stream = SpeechStream(
            stt=self, opts=opts, conn_options=conn_options, setup=self._stream_setup
        )
        self._streams.add(stream)
        return stream

    def update_options(self, **changes: Any) -> None:
        """Change options (``language``, ``keywords``, ``vad_events``, ...).

        Open streams finish their current connection (its transcript is delivered) and
        reconnect with the new options; no audio is lost and times stay continuous.
        """
        unknown = set(changes) - set(STT_STREAM_OPTION_NAMES)
        if unknown:
            raise TypeError(f"unknown STT options: {', '.join(sorted(unknown))}")
        given = {k: v for k, v in changes.items() if is_given(v)}
        if "keywords" in given:
            given["keywords"] = tuple(given["keywords"])
        opts = self._opts.with_changes(**given)
        self._check_language(opts)
        self._opts = opts
        self._capabilities.diarization = self._opts.diarize
        self._capabilities.aligned_transcript = "word" if self._opts.word_timestamps else False
        if "keywords" in given:
            given["keywords"] = self._keywords(opts)
        for stream in list(self._streams):
            stream.update_options(**given)

    def _update_session_keyterms(self, keyterms: list[str]) -> None:
        """LiveKit's session keyterms (``AgentSession`` keyterms and detection), sent as
        Pulse ``keywords`` after the caller's own; open streams reconnect losslessly."""
        terms = tuple(keyterms)
        if terms == self._session_keyterms:
            return
        self._session_keyterms = terms
        merged = self._keywords(self._opts)
        for stream in list(self._streams):
            if stream.options.keywords != merged:
                stream.update_options(keywords=merged)

    @property
    def keywords(self) -> tuple[tuple[str, float], ...]:
        """The keywords streams send: the caller's, then LiveKit's session keyterms."""
        return self._keywords(self._opts)

    def _keywords(self, opts: STTOptions) -> tuple[tuple[str, float], ...]:
        return merge_keyterms(opts.keywords, self._session_keyterms)

    @property
    def pulse2(self) -> bool:
        return self._opts.model == PULSE_2

    def _check_language(self, opts: STTOptions) -> None:
        """``ValueError`` for a language this model or region cannot stream."""
        if self._capabilities.streaming:
            check_streaming_stt(opts)
        self.endpoints(opts.language)

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        frame = rtc.combine_audio_frames(buffer)
        opts = self._opts.with_changes(language=language) if is_given(language) else self._opts
        with contextlib.suppress(ValueError):
            opts = opts.with_changes(sample_rate=frame.sample_rate)
        opts = opts.with_changes(keywords=self._keywords(opts))
        if opts.model == PULSE_2:  # streaming only: Pulse with the same extras
            opts = opts.with_changes(model="pulse", emotion_detection=True, gender_detection=True)
        url = self.endpoints(opts.language).stt_http(opts.query())
        return await transcribe(self._conn, url, frame, opts, conn_options.timeout)

    async def aclose(self) -> None:
        """Close every open stream."""
        for stream in list(self._streams):
            await stream.aclose()
        self._streams.clear()


__all__ = [
    "FRAME_MS",
    "STT",
    "USAGE_REPORT_S",
    "SpeechStream",
]
