"""What the vendor tests share: the SDK's hosts, reference decoders, raw-protocol readers.

The decoders are independent of the emulator (stdlib ``wave``, FFmpeg through PyAV and the
G.711 decoding tables), so the emulator is never judged by its own code.
"""

from __future__ import annotations

import io
import json
import wave
from array import array
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import av
import httpx
import numpy as np
from smallestai import AsyncSmallestAI, SmallestAI, SmallestAIEnvironment

from smallest_emulator import Emulator

KEY = "sk_vendor"
BAD_KEY = "sk_invalid_vendor"
VOICE = "liam"  # standard Lightning v3.1 voice with documented word timestamps
RATE = 24000
TEXT = "Hello there. How are you today?"
STT_RATE = 16000


def environment(server: Emulator) -> SmallestAIEnvironment:
    """The SDK's documented way to choose its hosts (``environment=``), pointed at ``server``."""
    return SmallestAIEnvironment(
        atoms=f"{server.base_url}/atoms/v1",
        waves=server.base_url,
        waves_ws=server.ws_url,
        payment=server.base_url,
    )


@asynccontextmanager
async def async_sdk(server: Emulator, key: str = KEY) -> AsyncIterator[AsyncSmallestAI]:
    """``AsyncSmallestAI`` on ``server``, its HTTP client closed afterwards."""
    async with httpx.AsyncClient(timeout=10) as http:
        yield AsyncSmallestAI(api_key=key, environment=environment(server), httpx_client=http)


@contextmanager
def sync_sdk(server: Emulator, key: str = KEY) -> Iterator[SmallestAI]:
    """``SmallestAI`` on ``server``, its HTTP client closed afterwards."""
    with httpx.Client(timeout=10) as http:
        yield SmallestAI(api_key=key, environment=environment(server), httpx_client=http)


def samples(pcm: bytes) -> np.ndarray:
    """int16 little-endian PCM as integers."""
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], "<i2").astype(np.int64)


def _g711_table(law: str) -> np.ndarray:
    out = []
    for code in range(256):
        if law == "ulaw":
            u = ~code & 0xFF
            mag = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 7)
            out.append(-(mag - 0x84) if u & 0x80 else mag - 0x84)
        else:
            a = code ^ 0x55
            exp, man = (a >> 4) & 7, a & 0x0F
            mag = (man << 4) + 8 if exp == 0 else ((man << 4) + 0x108) << (exp - 1)
            out.append(mag if a & 0x80 else -mag)
    return np.array(out, dtype=np.int64)


def g711_matches(encoded: bytes, pcm: bytes, law: str) -> bool:
    """``encoded`` is ``pcm`` in G.711 ``law``: one byte per sample, each within its step."""
    original = samples(pcm)
    if len(encoded) != len(original):
        return False
    decoded = _g711_table(law)[np.frombuffer(encoded, np.uint8)]
    step = np.maximum(np.abs(original) // 16, 32)
    return bool(np.all(np.abs(decoded - original) <= step))


def read_wav(data: bytes) -> tuple[int, int, int, bytes]:
    """(sample rate, channels, sample width, frames) of a RIFF/WAVE file."""
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes())


def write_wav(pcm: bytes, rate: int = STT_RATE) -> bytes:
    """Mono 16-bit WAV around ``pcm``."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def decode_mp3(data: bytes) -> tuple[int, int]:
    """(sample rate, samples per channel) of an MP3 stream, decoded by FFmpeg."""
    rate, total = 0, 0
    with av.open(io.BytesIO(data), "r", format="mp3") as container:
        for frame in container.decode(audio=0):
            rate = frame.sample_rate
            total += frame.samples
    return rate, total


ENCODERS = {"mp3": ("libmp3lame", "s16p"), "flac": ("flac", "s16"), "ogg": ("libvorbis", "fltp")}


def encode(pcm: bytes, fmt: str, rate: int = STT_RATE) -> bytes:
    """``pcm`` (mono int16) as an ``mp3``, ``flac`` or ``ogg`` (Vorbis) file, by FFmpeg."""
    codec, sample_fmt = {
        "mp3": ("libmp3lame", "s16p"),
        "flac": ("flac", "s16"),
        "ogg": ("libvorbis", "fltp"),
    }[fmt]
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(
            samples(pcm).astype("<i2").reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=sample_fmt, layout="mono", rate=rate)
        for part in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(part):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def speech(seconds: float, rate: int = STT_RATE) -> bytes:
    """A loud square-ish signal the emulator's level VAD hears as speech."""
    n = int(seconds * rate)
    return array("h", [4096 if (i // 40) % 2 else -4096 for i in range(n)]).tobytes()


def silence(seconds: float, rate: int = STT_RATE) -> bytes:
    """Digital silence."""
    return b"\x00\x00" * int(seconds * rate)


def sse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event, data)`` per Server-Sent Event in ``body`` (data parsed as JSON)."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = "", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events
