"""One sentence over the synchronous HTTP route of its model (``POST /waves/v1/tts``, or
``/waves/v1/lightning-v3.2/get_speech``): the audio streamed to a callback as it arrives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    PcmDecoder,
    TTSOptions,
    connection_error,
    error_from_audio_response,
    error_from_http,
    http_request_body,
    http_request_headers,
    name_the_voice,
)
from smallest_core.aio import read_bounded
from smallest_videosdk._common import Account


async def post_sentence(
    session: aiohttp.ClientSession,
    account: Account,
    options: TTSOptions,
    text: str,
    limit_s: float,
    play: Callable[[bytes], Awaitable[None]],
) -> None:
    """Synthesize ``text``; ``play`` gets its PCM. A non-audio answer is an error, never
    played; an error carries the server's message."""
    headers = {**account.headers(), **http_request_headers()}
    decoder = PcmDecoder(options.output_format, options.sample_rate)
    try:
        async with session.post(
            account.endpoints.tts_http_for(options.model),
            json=http_request_body(options, text),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=limit_s),
        ) as resp:
            if resp.status >= 300:
                body = await read_bounded(resp, MAX_ERROR_BODY_BYTES)
                error = error_from_http(resp.status, body, dict(resp.headers))
                raise name_the_voice(error, options)
            content_type = resp.headers.get("Content-Type")
            head = await resp.content.read(MAX_ERROR_BODY_BYTES)
            not_audio = error_from_audio_response(content_type, head)
            if not_audio is not None:
                head += await read_bounded(resp, MAX_ERROR_BODY_BYTES - len(head))
                raise error_from_audio_response(content_type, head) or not_audio
            await play(decoder.feed(head))
            async for chunk in resp.content.iter_any():
                await play(decoder.feed(chunk))
            await play(decoder.flush())
    except TimeoutError:
        raise connection_error(f"the TTS request timed out after {limit_s:g}s") from None
    except aiohttp.ClientError as exc:
        raise connection_error(f"the TTS request failed: {exc}") from None
