"""Compressed audio through FFmpeg (PyAV): MP3 encoding, container decoding for batch STT."""

from __future__ import annotations

import io
from typing import Any

import av

#: Containers the pre-recorded STT docs list (§9.2); anything FFmpeg can demux is accepted.
DOCUMENTED_CONTAINERS = ("wav", "mp3", "flac", "ogg", "m4a", "webm")


def encode_mp3(pcm: bytes, sample_rate: int, *, bit_rate: int = 64000) -> bytes:
    """MP3-encode int16 LE mono PCM (raw MPEG frames, no ID3 tag)."""
    out = io.BytesIO()
    options = {"id3v2_version": "0", "write_id3v1": "0", "write_xing": "0"}
    with av.open(out, "w", format="mp3", options=options) as container:
        stream: Any = container.add_stream("libmp3lame", rate=sample_rate)
        stream.layout = "mono"
        stream.bit_rate = bit_rate
        samples = len(pcm) // 2
        if samples:
            frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
            frame.planes[0].update(pcm[: samples * 2])
            frame.sample_rate = sample_rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def decode_audio(data: bytes) -> tuple[bytes, int] | None:
    """Decode any FFmpeg-readable container to (int16 LE mono PCM, sample rate), or None."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            rate = int(stream.codec_context.sample_rate or 16000)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            pcm = bytearray()
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pcm += bytes(out.planes[0])[: out.samples * 2]
            for out in resampler.resample(None):
                pcm += bytes(out.planes[0])[: out.samples * 2]
    except (av.FFmpegError, ValueError, EOFError):
        return None
    return (bytes(pcm), rate) if pcm else None
