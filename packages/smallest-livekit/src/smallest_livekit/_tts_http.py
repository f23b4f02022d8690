"""``synthesize()``: one HTTP request, the audio as its body (any format out as PCM).

Lightning v3.1 uses ``POST /waves/v1/tts``; Lightning v3.2 its own
``POST /waves/v1/lightning-v3.2/get_speech`` with the utterance's affect in the body.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from livekit.agents import APIConnectOptions, APIError, tts, utils

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    PcmDecoder,
    SmallestError,
    TTSOptions,
    error_from_audio_response,
    http_request_body,
    http_request_headers,
)
from smallest_core.aio import read_bounded

from ._common import Connection
from ._errors import http_error, to_api_error, transport_error

NUM_CHANNELS = 1
_MP3_BYTES_PER_S = 40_000
"""MP3 at its highest bitrate (320 kbit/s): the least audio a number of bytes can hold."""


class ChunkedStream(tts.ChunkedStream):
    """``POST /waves/v1/tts``: any output format arrives as PCM.

    ``conn_options.timeout`` bounds the connect, each read, and the whole response: the
    body must keep ahead of real time, so the deadline is ``timeout`` plus the audio
    received so far. A long reply delivered faster than it plays is never cut; a body
    trickled slower than it plays fails within about ``timeout``.
    """

    def __init__(
        self,
        *,
        tts: tts.TTS[Any],
        input_text: str,
        conn_options: APIConnectOptions,
        conn: Connection,
        opts: TTSOptions,
    ) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._conn = conn
        self._opts = opts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        opts, conn = self._opts, self._conn
        url = conn.endpoints.tts_http_for(opts.model)
        headers = {**http_request_headers(), **conn.headers()}
        body = http_request_body(opts, self._input_text)
        timeout = self._conn_options.timeout
        try:
            async with asyncio.timeout(timeout) as deadline:
                async with conn.session().post(
                    url,
                    headers=headers,
                    json=body,
                    timeout=aiohttp.ClientTimeout(
                        total=None, sock_connect=timeout, sock_read=timeout
                    ),
                ) as resp:
                    if resp.status >= 400:
                        raise await http_error(resp, opts)
                    await self._play(resp, output_emitter, deadline)
        except APIError:
            raise
        except Exception as exc:
            if isinstance(exc, SmallestError):
                raise to_api_error(exc) from None
            if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
                raise transport_error(exc, "Smallest TTS request failed", url=url) from None
            raise

    async def _play(
        self,
        resp: aiohttp.ClientResponse,
        output_emitter: tts.AudioEmitter,
        deadline: asyncio.Timeout,
    ) -> None:
        """Check the body is audio, then push it, moving the deadline with the audio."""
        opts = self._opts
        mp3 = opts.output_format == "mp3"
        decoder = None if mp3 else PcmDecoder(opts.output_format, opts.sample_rate)
        content_type = resp.headers.get(aiohttp.hdrs.CONTENT_TYPE)
        first = await resp.content.read(MAX_ERROR_BODY_BYTES)
        if error_from_audio_response(content_type, first) is not None:
            head = first + await read_bounded(resp, MAX_ERROR_BODY_BYTES - len(first))
            error = error_from_audio_response(content_type, head)
            if error is not None:
                raise to_api_error(error)
        output_emitter.initialize(
            request_id=resp.headers.get("x-request-id") or utils.shortuuid(),
            sample_rate=opts.sample_rate,
            num_channels=NUM_CHANNELS,
            mime_type="audio/mpeg" if mp3 else "audio/pcm",
        )
        give_up_at = deadline.when() or 0.0
        bytes_per_s = _MP3_BYTES_PER_S if mp3 else 2 * opts.sample_rate
        chunk = first
        while chunk:
            data = chunk if decoder is None else decoder.feed(chunk)
            if data:
                output_emitter.push(data)
                give_up_at += len(data) / bytes_per_s
                deadline.reschedule(give_up_at)
            chunk = await resp.content.readany()
        if decoder is not None and (tail := decoder.flush()):
            output_emitter.push(tail)
        output_emitter.flush()
