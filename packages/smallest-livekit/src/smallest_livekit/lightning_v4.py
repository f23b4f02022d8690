"""Smallest AI Lightning v4 text-to-speech for LiveKit Agents (``LightningV4TTS``).

Lightning v4 is its own endpoint (``WS /waves/v1/lightning-v4/live``) with its own
protocol: options fixed in the connection's query, a session said ``ready`` twice, one
``speak`` per utterance, raw PCM frames, and ``interrupt`` for barge-in on the same socket.
So it is a separate class (as LiveKit plugins name a model family with its own transport:
``LightningV4TTS`` beside ``TTS``), not a ``model=`` value of :class:`~.tts.TTS`.
The protocol state is the core's :class:`~smallest_core.LightningV4Session`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any, Literal

import aiohttp
from livekit import rtc
from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectionError,
    APIConnectOptions,
    APIError,
    tts,
    utils,
)
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given

from smallest_core import LightningV4Options, check_duration, downmix_to_mono

from ._common import Connection, api_root
from ._pooled import settle
from ._v4_socket import V4Socket, open_v4_socket
from ._v4_turn import V4Segment
from .log import logger

NUM_CHANNELS = 1
DEFAULT_IDLE_S = 300.0
"""A pooled session older than this is replaced before its next turn."""
MAX_USER_TURNS = 8
"""Caller turns kept for the next session (the oldest are dropped)."""
_MAX_SESSIONS = 4
"""Sessions one attempt may take: pooled ones found unusable while idle, then a new one."""


class LightningV4TTS(tts.TTS[Any]):
    """Lightning v4 (beta, English): one live session reused across turns, barge-in
    without reconnecting, and the caller's turns as context (:meth:`add_user_turn`)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        voice_id: str = "brannock",
        language: str = "en",
        sample_rate: int = 48000,
        speed: float = 1.0,
        content_filter: Literal["reject", "flag"] | None = None,
        max_session_s: float = DEFAULT_IDLE_S,
        expire_content: bool = False,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Create a Lightning v4 TTS.

        Args:
            api_key: API key; defaults to ``SMALLEST_API_KEY``. The account needs v4 access
                (otherwise every session is refused with ``model_access_denied``).
            base_url: API root; defaults to ``SMALLEST_BASE_URL`` or https://api.smallest.ai.
            voice_id: a Lightning v4 voice (default ``brannock``).
            language: ``en`` or ``auto``.
            sample_rate: 8000, 16000, 24000, 44100 or 48000 (the server may negotiate
                another; audio is emitted at the negotiated rate).
            speed: 0.5 to 2.0.
            content_filter: ``"reject"`` or ``"flag"`` turns the server's filter on.
            max_session_s: a pooled session is replaced once this old.
            expire_content: ask the server to delete request content after 7 days
                (``x-expire-content``; Enterprise plans).
            http_session: aiohttp session; defaults to the job's shared session.
        """
        self._opts = LightningV4Options(
            voice_id=voice_id,
            language=language,
            sample_rate=sample_rate,
            speed=speed,
            content_filter=content_filter,
        )
        check_duration("max_session_s", max_session_s)
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True, aligned_transcript=False),
            sample_rate=sample_rate,
            num_channels=NUM_CHANNELS,
        )
        self._conn = Connection(
            api_key, api_root(base_url), http_session, expire_content=expire_content
        )
        self._pool = utils.ConnectionPool[V4Socket](
            connect_cb=self._connect,
            close_cb=self._close,
            max_session_duration=max_session_s,
            mark_refreshed_on_get=True,
        )
        self._user_turns: deque[tuple[str, bytes, int]] = deque(maxlen=MAX_USER_TURNS)
        self._streams: weakref.WeakSet[LightningV4Stream] = weakref.WeakSet()
        self.sessions_opened = 0
        """How many sessions (sockets) this instance has opened (reuse is visible here)."""

    @property
    def model(self) -> str:
        return "lightning-v4"

    @property
    def provider(self) -> str:
        return "Smallest AI"

    @property
    def options(self) -> LightningV4Options:
        """The current (validated, immutable) session options."""
        return self._opts

    def update_options(
        self,
        *,
        voice_id: NotGivenOr[str] = NOT_GIVEN,
        language: NotGivenOr[str] = NOT_GIVEN,
        sample_rate: NotGivenOr[int] = NOT_GIVEN,
        speed: NotGivenOr[float] = NOT_GIVEN,
        content_filter: NotGivenOr[Literal["reject", "flag"] | None] = NOT_GIVEN,
    ) -> None:
        """Change session options (validated). They live in the connection's query, so
        pooled sessions are retired and the next turn opens a new one."""
        given: dict[str, Any] = {
            k: v
            for k, v in {
                "voice_id": voice_id,
                "language": language,
                "sample_rate": sample_rate,
                "speed": speed,
                "content_filter": content_filter,
            }.items()
            if is_given(v)
        }
        if not given:
            return
        self._opts = dataclasses.replace(self._opts, **given)
        self._sample_rate = self._opts.sample_rate
        self._pool.invalidate()

    def add_user_turn(self, text: str, audio: rtc.AudioFrame | Sequence[rtc.AudioFrame]) -> None:
        """Give the server what the caller said (words and audio) to shape later replies.

        LiveKit Agents does not hand a TTS the caller's audio, so an agent that records it
        calls this (e.g. when a user turn completes). Sent before the next turn's speech;
        both the transcript and the audio are required (``ValueError`` otherwise).
        """
        frame = (
            audio if isinstance(audio, rtc.AudioFrame) else rtc.combine_audio_frames(list(audio))
        )
        pcm = frame.data.tobytes()
        if frame.num_channels > 1:
            pcm = downmix_to_mono(pcm, frame.num_channels)
        if not text.strip() or not pcm:
            raise ValueError("a user turn needs both its transcript and its audio")
        self._user_turns.append((text, pcm, frame.sample_rate))

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        """One utterance through a live session (v4 has no HTTP route)."""
        return self._synthesize_with_stream(text, conn_options=conn_options)

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> LightningV4Stream:
        """A streamed segment on the pooled session: each sentence is spoken as it ends."""
        stream = LightningV4Stream(tts=self, conn_options=conn_options)
        self._streams.add(stream)
        return stream

    def prewarm(self) -> None:
        """Open a session in the background."""
        self._pool.prewarm()

    async def aclose(self) -> None:
        """Close open streams and every pooled session."""
        for stream in list(self._streams):
            await stream.aclose()
        self._streams.clear()
        await self._pool.aclose()

    # ------------------------------------------------------------------ pool
    async def _connect(self, connect_timeout: float) -> V4Socket:
        sock = await open_v4_socket(self._conn, self._opts, connect_timeout)
        self.sessions_opened += 1
        if sock.session.sample_rate != self._opts.sample_rate:
            logger.warning(
                "Lightning v4 negotiated %d Hz instead of %d Hz",
                sock.session.sample_rate,
                self._opts.sample_rate,
            )
        return sock

    @staticmethod
    async def _close(sock: V4Socket) -> None:
        await sock.aclose()


class LightningV4Stream(tts.SynthesizeStream):
    """One segment on a pooled v4 session; closing it mid-turn interrupts the server.

    The session comes from ``ConnectionPool.connection()`` (returned after the segment,
    a barge-in included, dropped once it cannot carry another); tasks end through
    ``utils.aio.gracefully_cancel``.
    """

    def __init__(self, *, tts: LightningV4TTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._tts: LightningV4TTS = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        for _ in range(_MAX_SESSIONS):
            try:
                await self._run_on_pooled_session(output_emitter)
                return
            except _Stale:
                continue
        raise APIConnectionError("no usable Lightning v4 session")

    async def _run_on_pooled_session(self, output_emitter: tts.AudioEmitter) -> None:
        pool = self._tts._pool
        failed: Exception | asyncio.CancelledError | None = None
        async with pool.connection(timeout=self._conn_options.timeout) as sock:
            self._acquire_time = pool.last_acquire_time
            self._connection_reused = pool.last_connection_reused
            if not _reusable(sock):
                if self._connection_reused:
                    raise _Stale  # closed or still busy while idle in the pool
                raise APIConnectionError("the new Lightning v4 session closed at once")
            user_turns = self._tts._user_turns
            while user_turns:
                sock.add_user_turn(*user_turns.popleft())
            failed = await settle(self._speak(sock, output_emitter), lambda: _reusable(sock))
            if not _reusable(sock):
                pool.remove(sock)  # the block's normal exit then keeps it out
        if failed is not None:
            raise failed

    async def _speak(self, sock: V4Socket, output_emitter: tts.AudioEmitter) -> None:
        segment = V4Segment(sock, output_emitter, self._conn_options.timeout, self._mark_started)
        try:
            await sock.send_pending()  # the caller's turns, if any, go first
            segment_id = utils.shortuuid()
            output_emitter.initialize(
                request_id=sock.session.session_id or segment_id,
                sample_rate=sock.session.sample_rate,
                num_channels=NUM_CHANNELS,
                mime_type="audio/pcm",
                stream=True,
            )
            output_emitter.start_segment(segment_id=segment_id)
            tasks = [
                asyncio.create_task(self._send_input(segment), name="smallest.v4.send"),
                asyncio.create_task(segment.receive(), name="smallest.v4.recv"),
            ]
            try:
                await asyncio.gather(*tasks)
            finally:
                await utils.aio.gracefully_cancel(*tasks)
            output_emitter.end_segment()
        except BaseException as exc:
            if isinstance(exc, APIError) and segment.audio_pushed:
                exc.retryable = False  # a retry would play this segment's audio again
            await segment.abandon()
            raise

    async def _send_input(self, segment: V4Segment) -> None:
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                await segment.flush()
            else:
                await segment.push_text(item)
        await segment.end_input()


class _Stale(Exception):
    """A pooled session found unusable: the pool drops it and the stream takes another."""


def _reusable(sock: V4Socket) -> bool:
    return sock.usable and not sock.session.busy


__all__ = ["LightningV4Stream", "LightningV4TTS"]
