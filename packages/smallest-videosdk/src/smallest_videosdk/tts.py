"""Lightning text-to-speech for VideoSDK agents: :class:`SmallestAITTS`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
from videosdk.agents import TTS, FlushMarker

from smallest_core import (
    DEFAULT_VOICE,
    MAX_ERROR_BODY_BYTES,
    MAX_FRAME_BYTES,
    Affect,
    SentenceSegmenter,
    SmallestError,
    TTSOptions,
    Voice,
    catalog,
    check_duration,
    check_text,
    parse_voices,
)
from smallest_core.aio import read_bounded
from smallest_videosdk._common import Account, describe
from smallest_videosdk._playback import TRACK_SAMPLE_RATE, TrackAudio, WordPacer
from smallest_videosdk._tts_http import post_sentence
from smallest_videosdk._tts_options import http_only, tts_options, whole_seconds, with_affect
from smallest_videosdk._tts_socket import TTSSocket
from smallest_videosdk._tts_stream import Interrupted, SocketTurns, Turn

logger = logging.getLogger("smallest_videosdk.tts")

TextInput = AsyncIterator[str | FlushMarker] | str


class SmallestAITTS(SocketTurns, TTS):  # type: ignore[misc]
    """Smallest AI Lightning TTS for VideoSDK agent pipelines.

    Streams over ``WS /waves/v1/tts/live`` with continuations: one context per
    ``FlushMarker``-delimited segment of a turn, text forwarded as it arrives, one
    socket reused across turns. ``enable_streaming=False`` uses ``POST /waves/v1/tts``
    sentence by sentence. Audio is always delivered at the track's 24 kHz.

    The default voice is the core's ``DEFAULT_VOICE`` (``DEFAULT_PRO_VOICE`` for the Pro
    model): one the service sends word timestamps for, so ``word_spoken`` works and each
    context ends at its ``complete``. With a voice the service does not time, a context
    ends a short quiet period after its last ``complete`` and no ``word_spoken`` is emitted.

    The official ``videosdk-plugins-smallestai`` arguments are accepted, so switching
    is a one-line import change. ``consistency``, ``similarity`` and ``enhancement``
    only applied to the retired ``lightning-v2`` and are ignored (with a warning when
    set to a non-default value).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        model: str = catalog.LIGHTNING_V3_1,
        voice_id: str | None = None,
        language: str = "en",
        sample_rate: int = 24000,
        speed: float = 1.0,
        consistency: float = 0.5,
        similarity: float = 0.0,
        enhancement: float = 1.0,
        sentence_streaming: bool = True,
        base_url: str | None = None,
        timeout: float = 30.0,
        enable_streaming: bool = True,
        max_connection_age_sec: float = 300.0,
        complete_backoff_ms: int = 0,
        max_buffer_flush_ms: int = 0,
        word_timestamps: bool = False,
        max_buffer_delay_ms: int | None = None,
        idle_timeout_s: int | None = None,
        http_session: aiohttp.ClientSession | None = None,
        affect: Affect | None = None,
        pronunciation_dicts: Sequence[str] = (),
        number_pronunciation_language: str | None = None,
        math_notation: bool | None = None,
        content_filter: str | None = None,
        expire_content: bool = False,
        session_id: str | None = None,
    ) -> None:
        self._options = tts_options(
            model=model,
            voice_id=voice_id,
            language=language,
            sample_rate=sample_rate,
            speed=speed,
            word_timestamps=word_timestamps,
            complete_backoff_ms=complete_backoff_ms,
            max_buffer_delay_ms=max_buffer_delay_ms,
            max_buffer_flush_ms=max_buffer_flush_ms,
            sentence_streaming=sentence_streaming,
            legacy=(consistency, similarity, enhancement),
            affect=affect,
            pronunciation_dicts=pronunciation_dicts,
            number_pronunciation_language=number_pronunciation_language,
            math_notation=math_notation,
            content_filter=content_filter,
            session_id=session_id,
        )
        check_duration("timeout", timeout)
        check_duration("max_connection_age_sec", max_connection_age_sec)
        idle_timeout_s = whole_seconds("idle_timeout_s", idle_timeout_s)
        self._account = Account.resolve(api_key, base_url, expire_content=expire_content)
        super().__init__(
            sample_rate=TRACK_SAMPLE_RATE, num_channels=1, word_timestamps=word_timestamps
        )
        self.enable_streaming = enable_streaming and not http_only(self._options)
        self.sentence_streaming = sentence_streaming
        self.timeout = timeout
        self.max_connection_age_sec = max_connection_age_sec
        self.idle_timeout_s = idle_timeout_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self._session = http_session
        self._owns_session = http_session is None
        self._socket: TTSSocket | None = None
        self._connect_lock = asyncio.Lock()
        self._turn: Turn | None = None
        self._pacers: set[WordPacer] = set()
        self._untimed_voices: set[str] = set()
        self._closed = False

    # ------------------------------------------------------------------ public API
    @property
    def options(self) -> TTSOptions:
        """The validated request options (model in the API's spelling)."""
        return self._options

    @property
    def model(self) -> str:
        return self._options.model

    @property
    def voice_id(self) -> str:
        return self._options.voice_id

    def set_affect(self, affect: Affect | None) -> None:
        """How the following utterances sound on Lightning v3.2 (``None``: server default).

        Applies from the next sentence, also mid-turn; nothing reconnects (each sentence is
        one request). ``ValueError`` on another model.
        """
        self._options = with_affect(self._options, affect)

    def reset_first_audio_tracking(self) -> None:
        """The next turn reports its first audio again (the pipeline calls this per turn)."""
        if self._turn is not None:
            self._turn.first_audio = False

    async def prewarm(self) -> None:
        """Open the WebSocket ahead of the first turn (failures are logged, not raised)."""
        if not self.enable_streaming or self._closed:
            return
        try:
            await self._live_socket()
        except SmallestError as exc:
            logger.warning("TTS prewarm failed: %s", exc.message)

    async def synthesize(self, text: TextInput, voice_id: str | None = None, **kwargs: Any) -> None:
        """Speak ``text`` (a string, or tokens and ``FlushMarker``s) on the audio track.

        Returns once all of the turn's audio has been pushed to the track, or promptly
        after :meth:`interrupt`. A server error is emitted as ``"error"`` and raised as
        :class:`~smallest_core.SmallestError`. Raises ``RuntimeError`` after
        :meth:`aclose` and ``ValueError`` for text that cannot be sent (a lone surrogate).
        """
        self._check_open()
        if isinstance(text, str):
            check_text(text)
        if self.audio_track is None:
            self.emit("error", "Smallest AI TTS: no audio track is set on the TTS")
            return
        options = self._options
        if voice_id and voice_id != options.voice_id:
            options = options.with_changes(voice_id=voice_id)
        turn = Turn(affect_pinned="affect" in kwargs)
        if turn.affect_pinned:
            options = with_affect(options, kwargs["affect"])
        self._turn = turn
        try:
            if self.enable_streaming:
                await self._stream_turn(turn, _as_stream(text), options)
            else:
                await self._http_turn(turn, _as_stream(text), options)
        except Interrupted:
            return
        except SmallestError as exc:
            if turn.interrupted:
                return
            self.emit("error", f"Smallest AI TTS: {describe(exc)}")
            raise
        finally:
            await self._end_turn(turn)

    async def interrupt(self) -> None:
        """Stop the current turn: cancel it on the server and clear the track."""
        turn = self._turn
        if turn is not None:
            turn.interrupted = True
            if turn.pacer is not None:
                turn.pacer.cancel()
            for segment in turn.segments:
                await segment.cancel()
        for pacer in list(self._pacers):
            pacer.cancel()
        self._pacers.clear()
        track = self.audio_track
        if track is not None and hasattr(track, "interrupt"):
            track.interrupt()

    async def aclose(self) -> None:
        """Stop any turn and close the socket and the HTTP session."""
        self._closed = True
        if self._turn is not None:
            await self.interrupt()
        for pacer in list(self._pacers):
            pacer.cancel()
        self._pacers.clear()
        if self._socket is not None:
            await self._socket.aclose()
            self._socket = None
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None
        # The base class's aclose() only drops this callback and then forces a full
        # gc.collect(), which stalls every other session in the process (tens of ms on
        # an agent's heap, per close): do the former only.
        self._first_audio_callback = None

    async def list_voices(self) -> list[Voice]:
        """The voices available to the configured model."""
        session = self._http()
        url = self._account.endpoints.voices(self._options.model)
        async with session.get(
            url, headers=self._account.headers(), timeout=aiohttp.ClientTimeout(total=self.timeout)
        ) as resp:
            limit = MAX_FRAME_BYTES if resp.status < 300 else MAX_ERROR_BODY_BYTES
            body = await read_bounded(resp, limit)
            return parse_voices(resp.status, body, dict(resp.headers))

    # ------------------------------------------------------------------ streaming
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this SmallestAITTS is closed (aclose() was called): make a new one")

    def _http(self) -> aiohttp.ClientSession:
        self._check_open()
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def _push(self, turn: Turn, pcm: bytes, source_samples: int | None = None) -> None:
        if turn.interrupted:
            raise Interrupted
        track = self.audio_track
        if not pcm or track is None:
            if turn.pacer is not None and source_samples:
                turn.pacer.audio_pushed(source_samples)
            return
        if not turn.first_audio:
            turn.first_audio = True
            if self._first_audio_callback is not None:
                await self._first_audio_callback()
            if turn.interrupted:
                raise Interrupted
        await track.add_new_bytes(pcm)
        if turn.pacer is not None:
            samples = source_samples if source_samples is not None else 0
            turn.pacer.audio_pushed(samples)

    async def _end_turn(self, turn: Turn) -> None:
        producer = turn.producer
        if producer is not None and not producer.done():
            producer.cancel()
        if producer is not None:
            with contextlib.suppress(BaseException):
                await producer
        for segment in [s for s in turn.segments if s.unresolved]:
            await segment.cancel()
        if turn.interrupted and turn.pacer is not None:
            turn.pacer.cancel()
        if self._turn is turn:
            self._turn = None

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

    def _track_rate(self) -> int:
        rate = getattr(self.audio_track, "sample_rate", TRACK_SAMPLE_RATE)
        return rate if isinstance(rate, int) and rate > 0 else TRACK_SAMPLE_RATE

    # ------------------------------------------------------------------ HTTP
    async def _http_turn(
        self, turn: Turn, text: AsyncIterator[str | FlushMarker], options: TTSOptions
    ) -> None:
        audio = TrackAudio(options.sample_rate, self._track_rate())
        segmenter = SentenceSegmenter()
        async for item in text:
            if turn.interrupted:
                raise Interrupted
            if isinstance(item, FlushMarker):
                sentences = segmenter.flush()
            elif isinstance(item, str):
                sentences = segmenter.push(check_text(item))
            else:
                continue
            for sentence in sentences:
                await self._http_sentence(turn, sentence, options, audio)
        for sentence in segmenter.flush():
            await self._http_sentence(turn, sentence, options, audio)
        await self._push(turn, audio.finish())

    async def _http_sentence(
        self, turn: Turn, text: str, options: TTSOptions, audio: TrackAudio
    ) -> None:
        if not text.strip():
            return
        if not turn.affect_pinned and options.affect is not self._options.affect:
            options = with_affect(options, self._options.affect)

        async def play(pcm: bytes) -> None:
            await self._push(turn, audio.convert(pcm), len(pcm) // 2)

        await post_sentence(self._http(), self._account, options, text, self.timeout, play)


async def _as_stream(text: TextInput) -> AsyncIterator[str | FlushMarker]:
    if isinstance(text, str):
        yield text
        return
    async for item in text:
        yield item
