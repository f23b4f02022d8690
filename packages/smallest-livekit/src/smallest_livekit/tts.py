"""Smallest AI Lightning text-to-speech for LiveKit Agents.

``synthesize()`` uses ``POST /waves/v1/tts``; ``stream()`` uses the continuations
protocol on ``WS /waves/v1/tts/live`` through one pool of reused sockets. Protocol
decisions (routing, end of a context, cancel, word timing, errors) are the core's.
"""

from __future__ import annotations

import weakref
from typing import Any, Literal

import aiohttp
from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    APIError,
    tts,
    utils,
)
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given

from smallest_core import (
    MAX_FRAME_BYTES,
    Affect,
    SmallestError,
    TTSConnection,
    TTSOptions,
    Voice,
    check_duration,
    check_text,
    default_voice,
    parse_voices,
)
from smallest_core.aio import read_bounded

from ._common import Connection, api_root
from ._errors import http_error, to_api_error, transport_error
from ._tts_http import ChunkedStream
from ._tts_socket import TTSSocket
from ._tts_stream import SynthesizeStream
from ._ws import open_ws

NUM_CHANNELS = 1
DEFAULT_IDLE_TIMEOUT_S = 300
"""Idle timeout requested from the server with ``?timeout=`` (documented, §4.4)."""
_POOL_MARGIN_S = 30


class TTS(tts.TTS[Any]):
    """Lightning TTS. ``stream()`` for agents (WebSocket), ``synthesize()`` over HTTP."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str = "lightning_v3.1",
        voice_id: str | None = None,
        language: str = "en",
        sample_rate: int = 24000,
        speed: float = 1.0,
        output_format: str = "pcm",
        word_timestamps: bool = False,
        max_buffer_delay_ms: int | None = None,
        complete_backoff_ms: int | None = 0,
        math_notation: bool | None = None,
        content_filter: Literal["reject", "flag"] | None = None,
        number_pronunciation_language: str | None = None,
        pronunciation_dicts: list[str] | tuple[str, ...] = (),
        affect: Affect | None = None,
        session_id: str | None = None,
        use_continuations: bool = True,
        idle_timeout_s: int = DEFAULT_IDLE_TIMEOUT_S,
        expire_content: bool = False,
        http_session: aiohttp.ClientSession | None = None,
        ws_url: str | None = None,
        max_buffer_flush_ms: int | None = None,
    ) -> None:
        """Create a Lightning TTS.

        Args:
            api_key: API key; defaults to ``SMALLEST_API_KEY``.
            base_url: API root; defaults to ``SMALLEST_BASE_URL`` or https://api.smallest.ai.
                The official plugin's ``.../waves/v1`` form is accepted too.
            model: ``lightning_v3.1``, ``lightning_v3.1_pro`` or ``lightning_v3.2`` (HTTP
                only, per-utterance ``affect``; needs a v3.2 ``voice_id``).
            voice_id: voice; defaults to the core's ``DEFAULT_VOICE`` (``avery``;
                ``DEFAULT_PRO_VOICE``, ``meher``, for the Pro model): voices the service
                sends word timestamps for, so each segment's end is exact.
            language: language code (``auto`` detects).
            sample_rate: 8000, 16000, 24000 or 44100.
            speed: 0.5 to 2.0.
            output_format: HTTP ``synthesize()`` body format: pcm, wav, mp3, ulaw, alaw. The
                WebSocket carries pcm (ulaw/alaw kept, decoded by the core). Always PCM out.
            word_timestamps: surface word timings as timed transcripts (streaming).
            max_buffer_delay_ms: continuations: longest wait for a sentence end (server 3000).
            complete_backoff_ms: delay before the server's ``complete`` (server default 4000).
            math_notation, content_filter, number_pronunciation_language,
                pronunciation_dicts: sent only when set.
            affect: Lightning v3.2 only: emotion, pitch, volume, prosody, accent and a
                free-form instruction for the next utterances (``update_options`` or a
                per-call ``synthesize(text, affect=...)`` change it; no reconnect).
            session_id: your id for the session (e.g. the room), sent with every request
                and echoed as ``external_session_id`` (letters, digits, ``_-.``; ≤ 128).
            use_continuations: False selects the legacy ``continue``/``flush`` protocol.
            idle_timeout_s: idle timeout asked of the server for pooled sockets.
            expire_content: ask the server to delete request content after 7 days
                (``x-expire-content``; Enterprise plans).
            http_session: aiohttp session; defaults to the job's shared session.
            ws_url: the official plugin's WebSocket URL argument (its host is used).
            max_buffer_flush_ms: accepted for compatibility with the official plugin; unused.
        """
        self._opts = TTSOptions(
            voice_id=default_voice(model) if voice_id is None else voice_id,
            model=model,
            language=language,
            sample_rate=sample_rate,
            speed=speed,
            output_format=output_format,
            word_timestamps=word_timestamps,
            number_pronunciation_language=number_pronunciation_language,
            math_notation=math_notation,
            content_filter=content_filter,
            max_buffer_delay_ms=max_buffer_delay_ms,
            complete_backoff_ms=complete_backoff_ms,
            pronunciation_dicts=tuple(pronunciation_dicts),
            affect=affect,
            session_id=session_id,
        )
        check_duration("idle_timeout_s", idle_timeout_s)
        if idle_timeout_s <= _POOL_MARGIN_S:
            raise ValueError(f"idle_timeout_s must exceed {_POOL_MARGIN_S}, got {idle_timeout_s}")
        del max_buffer_flush_ms
        super().__init__(
            capabilities=tts.TTSCapabilities(
                streaming=self._opts.streams, aligned_transcript=word_timestamps
            ),
            sample_rate=sample_rate,
            num_channels=NUM_CHANNELS,
        )
        self._conn = Connection(
            api_key, api_root(base_url, ws_url), http_session, expire_content=expire_content
        )
        self._protocol: Literal["continuations", "legacy"] = (
            "continuations" if use_continuations else "legacy"
        )
        self._idle_timeout_s = idle_timeout_s
        self._pool = utils.ConnectionPool[TTSSocket](
            connect_cb=self._connect_socket,
            close_cb=self._close_socket,
            max_session_duration=idle_timeout_s - _POOL_MARGIN_S,
            mark_refreshed_on_get=True,
        )
        self._streams: weakref.WeakSet[SynthesizeStream] = weakref.WeakSet()
        self._chunked: weakref.WeakSet[ChunkedStream] = weakref.WeakSet()
        self.sockets_opened = 0
        """How many WebSockets this instance has opened (reuse is visible here)."""

    # ------------------------------------------------------------------ properties
    @property
    def model(self) -> str:
        return self._opts.model

    @property
    def provider(self) -> str:
        return "Smallest AI"

    @property
    def options(self) -> TTSOptions:
        """The current (validated, immutable) request options."""
        return self._opts

    # ------------------------------------------------------------------ options
    def update_options(
        self,
        *,
        model: NotGivenOr[str] = NOT_GIVEN,
        voice_id: NotGivenOr[str] = NOT_GIVEN,
        language: NotGivenOr[str] = NOT_GIVEN,
        sample_rate: NotGivenOr[int] = NOT_GIVEN,
        speed: NotGivenOr[float] = NOT_GIVEN,
        output_format: NotGivenOr[str] = NOT_GIVEN,
        word_timestamps: NotGivenOr[bool] = NOT_GIVEN,
        max_buffer_delay_ms: NotGivenOr[int] = NOT_GIVEN,
        complete_backoff_ms: NotGivenOr[int] = NOT_GIVEN,
        math_notation: NotGivenOr[bool] = NOT_GIVEN,
        content_filter: NotGivenOr[Literal["reject", "flag"]] = NOT_GIVEN,
        number_pronunciation_language: NotGivenOr[str] = NOT_GIVEN,
        pronunciation_dicts: NotGivenOr[list[str]] = NOT_GIVEN,
        affect: NotGivenOr[Affect] = NOT_GIVEN,
        session_id: NotGivenOr[str] = NOT_GIVEN,
    ) -> None:
        """Change options for the next requests (validated; ``ValueError`` if invalid).

        Every message carries the full voice configuration, so pooled sockets stay valid.
        ``affect`` (v3.2) applies from the next utterance; ``Affect()`` clears it.
        """
        changes: dict[str, Any] = {
            "model": model,
            "voice_id": voice_id,
            "language": language,
            "sample_rate": sample_rate,
            "speed": speed,
            "output_format": output_format,
            "word_timestamps": word_timestamps,
            "max_buffer_delay_ms": max_buffer_delay_ms,
            "complete_backoff_ms": complete_backoff_ms,
            "math_notation": math_notation,
            "content_filter": content_filter,
            "number_pronunciation_language": number_pronunciation_language,
            "pronunciation_dicts": (
                tuple(pronunciation_dicts) if is_given(pronunciation_dicts) else NOT_GIVEN
            ),
            "session_id": session_id,
        }
        given = {k: v for k, v in changes.items() if is_given(v)}
        opts = self._opts.with_changes(**given)  # leaving v3.2 drops its affect
        self._opts = opts.with_affect(affect) if is_given(affect) else opts
        self._sample_rate = self._opts.sample_rate
        self._capabilities.aligned_transcript = self._opts.word_timestamps
        self._capabilities.streaming = self._opts.streams

    def ws_options(self) -> TTSOptions:
        """The options used on the WebSocket (formats it cannot carry become PCM)."""
        return self._opts.for_websocket()

    # ------------------------------------------------------------------ API
    def synthesize(
        self,
        text: str,
        *,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        affect: Affect | None = None,
    ) -> ChunkedStream:
        """One HTTP request for ``text`` (``ValueError`` if it cannot be sent as UTF-8);
        ``affect`` (v3.2) shapes this utterance only."""
        check_text(text)
        opts = self._opts if affect is None else self._opts.with_affect(affect)
        stream = ChunkedStream(
            tts=self, input_text=text, conn_options=conn_options, conn=self._conn, opts=opts
        )
        self._chunked.add(stream)
        return stream

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> SynthesizeStream:
        """A streamed segment over a pooled WebSocket.

        Lightning v3.2 has no streaming route (``capabilities.streaming`` is False, so an
        ``AgentSession`` speaks it sentence by sentence through ``synthesize()``).
        """
        if not self._capabilities.streaming:
            raise ValueError(
                f"{self._opts.model} has no streaming route; wrap it in "
                "livekit.agents.tts.StreamAdapter (AgentSession does so by itself)"
            )
        stream = SynthesizeStream(
            tts=self, conn_options=conn_options, pool=self._pool, opts=self.ws_options()
        )
        self._streams.add(stream)
        return stream

    def prewarm(self) -> None:
        """Open a pooled socket in the background (nothing to open for an HTTP-only model)."""
        if self._capabilities.streaming:
            self._pool.prewarm()

    async def list_voices(self, model: str | None = None) -> list[Voice]:
        """Voices from ``GET /waves/v1/{model}/get_voices`` (errors raise ``APIError``)."""
        url = self._conn.endpoints.voices(model or self._opts.model)
        try:
            async with self._conn.session().get(
                url, headers=self._conn.headers(), timeout=aiohttp.ClientTimeout(total=30)
            ) as resp:
                if resp.status >= 400:
                    raise await http_error(resp)
                body = await read_bounded(resp, MAX_FRAME_BYTES + 1)  # the core refuses more
            return parse_voices(resp.status, body)
        except APIError:
            raise
        except SmallestError as exc:
            raise to_api_error(exc) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(exc, "listing voices failed", url=url) from None

    async def aclose(self) -> None:
        """Close open streams and every pooled socket."""
        for stream in list(self._streams):
            await stream.aclose()
        for chunked in list(self._chunked):
            await chunked.aclose()
        self._streams.clear()
        self._chunked.clear()
        await self._pool.aclose()

    # ------------------------------------------------------------------ pool
    async def _connect_socket(self, connect_timeout: float) -> TTSSocket:
        url = self._conn.endpoints.tts_ws(idle_timeout_s=self._idle_timeout_s)
        ws = await open_ws(self._conn, url, connect_timeout, what="Smallest TTS")
        self.sockets_opened += 1
        return TTSSocket(ws, TTSConnection(self.ws_options(), protocol=self._protocol))

    @staticmethod
    async def _close_socket(sock: TTSSocket) -> None:
        await sock.aclose()


__all__ = ["TTS", "ChunkedStream", "SynthesizeStream"]
