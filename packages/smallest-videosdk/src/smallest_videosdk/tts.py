"""Lightning text-to-speech for VideoSDK agents: :class:`SmallestAITTS`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
from videosdk.agents import FlushMarker

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    MAX_FRAME_BYTES,
    Affect,
    TTSOptions,
    Voice,
    catalog,
    check_duration,
    parse_voices,
)
from smallest_core.aio import read_bounded
from smallest_videosdk._common import Account
from smallest_videosdk._playback import TrackAudio
from smallest_videosdk._tts_base import TextInput, as_stream, sentences
from smallest_videosdk._tts_http import post_sentence
from smallest_videosdk._tts_options import tts_options, whole_seconds
from smallest_videosdk._tts_stream import SocketTurns, Turn


class SmallestAITTS(SocketTurns):
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
        options = tts_options(
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
        check_duration("max_connection_age_sec", max_connection_age_sec)
        idle_timeout_s = whole_seconds("idle_timeout_s", idle_timeout_s)
        account = Account.resolve(api_key, base_url, expire_content=expire_content)
        super().__init__(options, account, timeout, http_session, word_timestamps=word_timestamps)
        self.enable_streaming = enable_streaming and options.streams
        self.sentence_streaming = sentence_streaming
        self.max_connection_age_sec = max_connection_age_sec
        self.idle_timeout_s = idle_timeout_s
        self._pacers = set()
        self._untimed_voices = set()

    # ------------------------------------------------------------------ public API
    @property
    def model(self) -> str:
        """The model, in the API's spelling."""
        return self._options.model

    def set_affect(self, affect: Affect | None) -> None:
        """How the following utterances sound on Lightning v3.2 (``None``: server default).

        Applies from the next sentence, also mid-turn; nothing reconnects (each sentence is
        one request). ``ValueError`` on another model.
        """
        self._options = self._options.with_affect(affect)

    async def prewarm(self) -> None:
        """Open the WebSocket ahead of the first turn (failures are logged, not raised)."""
        if self.enable_streaming:
            await super().prewarm()

    async def synthesize(self, text: TextInput, voice_id: str | None = None, **kwargs: Any) -> None:
        """Speak ``text`` (a string, or tokens and ``FlushMarker``s) on the audio track.

        Returns once all of the turn's audio has been pushed to the track, or promptly
        after :meth:`interrupt`. A server error is emitted as ``"error"`` and raised as
        :class:`~smallest_core.SmallestError`. Raises ``RuntimeError`` after
        :meth:`aclose` and ``ValueError`` for text that cannot be sent (a lone surrogate).
        """
        if not self._ready_for(text):
            return
        options = self._options
        if voice_id and voice_id != options.voice_id:
            options = options.with_changes(voice_id=voice_id)
        turn = Turn(affect_pinned="affect" in kwargs)
        if turn.affect_pinned:
            options = options.with_affect(kwargs["affect"])
        play = self._stream_turn if self.enable_streaming else self._http_turn
        await self._run(turn, play(turn, as_stream(text), options))

    async def interrupt(self) -> None:
        """Stop the current turn: cancel it on the server and clear the track."""
        turn = self._turn
        if turn is not None:
            turn.interrupted = True
            if turn.pacer is not None:
                turn.pacer.cancel()
            for segment in turn.segments:
                await segment.cancel()
        self._cancel_pacers()
        track = self.audio_track
        if track is not None and hasattr(track, "interrupt"):
            track.interrupt()

    async def aclose(self) -> None:
        """Stop any turn and close the socket and the HTTP session."""
        await super().aclose()
        self._cancel_pacers()

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

    # ------------------------------------------------------------------ HTTP
    async def _http_turn(
        self, turn: Turn, text: AsyncIterator[str | FlushMarker], options: TTSOptions
    ) -> None:
        """One request per sentence, each sentence's audio played as it arrives."""
        audio = TrackAudio(options.sample_rate, self._track_rate())

        async def play(pcm: bytes) -> None:
            await self._push(turn, audio.convert(pcm), len(pcm) // 2)

        async with contextlib.aclosing(sentences(text, turn)) as pieces:
            async for sentence in pieces:
                if not turn.affect_pinned and options.affect is not self._options.affect:
                    options = options.with_affect(self._options.affect)
                session = self._http()
                await post_sentence(session, self._account, options, sentence, self.timeout, play)
        await self._push(turn, audio.finish())
