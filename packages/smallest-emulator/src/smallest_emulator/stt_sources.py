"""Where pre-recorded STT audio comes from and how it is decoded (§5.1, §5.2).

* a raw body: RIFF/WAVE (PCM, A-law, µ-law) parsed here; raw samples when the query names an
  ``encoding``; any other container (mp3, flac, ogg, m4a, webm, ...) decoded by FFmpeg;
* a JSON ``{"url": ...}`` body: the emulator has no network, so only ``data:`` URLs and
  loopback ``http(s)`` URLs (127.0.0.1, localhost, ::1) are read; any other URL is a 400
  saying it cannot be fetched offline.

Audio that cannot be decoded is a 400 ("Invalid file format"), never an empty 200.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlsplit

import aiohttp

from smallest_emulator import audio, codecs
from smallest_emulator.stt_params import SttParams
from smallest_emulator.transcripts import to_pcm16

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
INVALID_FORMAT = "Invalid file format. Supported formats: audio/*"
MISSING_URL = "Invalid JSON data: missing or invalid 'url' field"
FETCH_TIMEOUT_S = 10.0


class SourceError(Exception):
    """A 400 (or 413 with ``too_large``) with the documented text."""

    def __init__(self, text: str, *, too_large: bool = False) -> None:
        super().__init__(text)
        self.too_large = too_large


@dataclass
class DecodedAudio:
    """Mono int16 LE PCM, its rate and the size of what the client sent."""

    pcm: bytes
    rate: int
    size: int


def decode(data: bytes, p: SttParams, *, raw_encoding: bool) -> DecodedAudio:
    """Decode an upload; raises SourceError when it is not audio the server can read."""
    if not data:
        raise SourceError(INVALID_FORMAT)
    wav = audio.parse_wav(data)
    if wav is not None:
        payload, rate, fmt = wav
        encoding = {6: "alaw", 7: "mulaw"}.get(fmt, "linear16")
        return DecodedAudio(to_pcm16(payload, encoding) or b"", rate, len(data))
    if raw_encoding:
        pcm = to_pcm16(data, p.encoding)
        if pcm is None:
            raise SourceError(INVALID_FORMAT)
        return DecodedAudio(pcm, p.sample_rate, len(data))
    decoded = codecs.decode_audio(data)
    if decoded is None:
        raise SourceError(INVALID_FORMAT)
    return DecodedAudio(decoded[0], decoded[1], len(data))


async def fetch_url(url: object, max_bytes: int) -> bytes:
    """The bytes behind a ``{"url"}`` body (data: or loopback only)."""
    if not isinstance(url, str) or not url:
        raise SourceError(MISSING_URL)
    if url.startswith("data:"):
        return _data_url(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
        raise SourceError(
            f"Cannot fetch {parts.scheme or 'this'} URL offline: the emulator has no network "
            "access; send the audio bytes, a data: URL or a loopback (127.0.0.1) URL"
        )
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as resp:
            if resp.status != 200:
                raise SourceError(f"Could not fetch audio URL: HTTP {resp.status}")
            data = await resp.content.read(max_bytes + 1)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise SourceError(f"Could not fetch audio URL: {type(exc).__name__}") from None
    if len(data) > max_bytes:
        raise SourceError("File size exceeds maximum limit of 250MB.", too_large=True)
    return data


def _data_url(url: str) -> bytes:
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise SourceError(MISSING_URL)
    if header.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise SourceError(INVALID_FORMAT) from None
    return unquote_to_bytes(payload)
