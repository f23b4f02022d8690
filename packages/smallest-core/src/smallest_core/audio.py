"""Audio codecs and containers for Waves TTS bodies, in pure Python.

Everything here works on ``bytes`` of 16-bit signed little-endian PCM ("PCM16") unless
stated otherwise. G.711 decoding uses ``bytes.translate`` on two 256-entry tables (one for
the low byte, one for the high byte of each output sample) interleaved with extended slice
assignment, which measured ~10x faster than a per-sample ``b"".join``/``array`` lookup.

MP3 is not decodable without a third-party decoder: :class:`PcmDecoder` refuses it and
adapters hand MP3 bodies to their framework's own decoder.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from functools import cache
from math import gcd

from smallest_core.errors import ProtocolError

__all__ = [
    "WAVE_FORMAT_ALAW",
    "WAVE_FORMAT_FLOAT",
    "WAVE_FORMAT_PCM",
    "WAVE_FORMAT_ULAW",
    "PcmDecoder",
    "Resampler",
    "WavInfo",
    "alaw_decode",
    "alaw_encode",
    "downmix_to_mono",
    "parse_wav_header",
    "pcm_duration_s",
    "resample_pcm16",
    "samples_in",
    "ulaw_decode",
    "ulaw_encode",
    "wav_header",
]

WAVE_FORMAT_PCM = 1
WAVE_FORMAT_FLOAT = 3
WAVE_FORMAT_ALAW = 6
WAVE_FORMAT_ULAW = 7
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE

_BIG_ENDIAN = sys.byteorder == "big"

# --------------------------------------------------------------------------- G.711


def _ulaw_to_linear(code: int) -> int:
    u = ~code & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = ((((u & 0x0F) << 3) + 0x84) << exponent) - 0x84
    return -magnitude if u & 0x80 else magnitude


def _alaw_to_linear(code: int) -> int:
    a = code ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = (a & 0x0F) << 4
    magnitude = mantissa + 8 if exponent == 0 else (mantissa + 0x108) << (exponent - 1)
    return magnitude if a & 0x80 else -magnitude


def _split_tables(values: list[int]) -> tuple[bytes, bytes]:
    raw = b"".join(v.to_bytes(2, "little", signed=True) for v in values)
    return raw[0::2], raw[1::2]


_ULAW_LO, _ULAW_HI = _split_tables([_ulaw_to_linear(c) for c in range(256)])
_ALAW_LO, _ALAW_HI = _split_tables([_alaw_to_linear(c) for c in range(256)])


def _g711_decode(data: bytes, lo: bytes, hi: bytes) -> bytes:
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(lo)
    out[1::2] = data.translate(hi)
    return bytes(out)


def ulaw_decode(data: bytes) -> bytes:
    """Decode G.711 µ-law bytes to PCM16 LE (ITU-T G.711, values in ±32124)."""
    return _g711_decode(bytes(data), _ULAW_LO, _ULAW_HI)


def alaw_decode(data: bytes) -> bytes:
    """Decode G.711 A-law bytes to PCM16 LE (ITU-T G.711, values in ±32256)."""
    return _g711_decode(bytes(data), _ALAW_LO, _ALAW_HI)


def _linear_to_ulaw(sample: int) -> int:
    # 14-bit G.711 compression as in the classic Sun g711.c / CPython audioop.
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, 8159) + 0x21
    segment = max(value.bit_length() - 6, 0)
    if segment >= 8:
        return 0x7F ^ mask
    mantissa = (value >> (segment + 1)) & 0x0F
    return ((segment << 4) | mantissa) ^ mask


def _linear_to_alaw(sample: int) -> int:
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = max(value.bit_length() - 5, 0)
    if segment >= 8:
        return 0x7F ^ mask
    mantissa = (value >> 1) & 0x0F if segment < 2 else (value >> segment) & 0x0F
    return ((segment << 4) | mantissa) ^ mask


@cache
def _encode_table(law: str) -> bytes:
    """65536-entry table indexed by the unsigned 16-bit view of a sample."""
    fn = _linear_to_ulaw if law == "ulaw" else _linear_to_alaw
    return bytes(fn(u - 0x10000 if u >= 0x8000 else u) for u in range(0x10000))


def _g711_encode(pcm: bytes, law: str) -> bytes:
    if len(pcm) % 2:
        raise ValueError("PCM16 data must have an even number of bytes")
    samples = array("H", bytes(pcm))
    if _BIG_ENDIAN:
        samples.byteswap()
    return bytes(map(_encode_table(law).__getitem__, samples))


def ulaw_encode(pcm: bytes) -> bytes:
    """Encode PCM16 LE to G.711 µ-law (one byte per sample)."""
    return _g711_encode(pcm, "ulaw")


def alaw_encode(pcm: bytes) -> bytes:
    """Encode PCM16 LE to G.711 A-law (one byte per sample)."""
    return _g711_encode(pcm, "alaw")


# --------------------------------------------------------------------------- PCM helpers


def _to_samples(pcm: bytes) -> array[int]:
    samples = array("h", bytes(pcm))
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples


def _to_bytes(samples: array[int]) -> bytes:
    if _BIG_ENDIAN:
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def samples_in(num_bytes: int, channels: int = 1) -> int:
    """Number of whole PCM16 frames (samples per channel) in ``num_bytes`` bytes."""
    return num_bytes // (2 * channels)


def pcm_duration_s(num_bytes: int, sample_rate: int, channels: int = 1) -> float:
    """Duration in seconds of ``num_bytes`` bytes of PCM16 audio."""
    return samples_in(num_bytes, channels) / sample_rate


def downmix_to_mono(pcm: bytes, channels: int) -> bytes:
    """Average interleaved PCM16 channels into one (rounding toward negative infinity)."""
    if channels < 1:
        raise ValueError("channels must be >= 1")
    if len(pcm) % (2 * channels):
        raise ValueError("PCM16 data must contain whole frames")
    if channels == 1:
        return bytes(pcm)
    samples = _to_samples(pcm)
    if channels == 2:
        mixed = array(
            "h", [(a + b) >> 1 for a, b in zip(samples[0::2], samples[1::2], strict=True)]
        )
    else:
        columns = [samples[c::channels] for c in range(channels)]
        mixed = array("h", [sum(frame) // channels for frame in zip(*columns, strict=True)])
    return _to_bytes(mixed)


# --------------------------------------------------------------------------- WAV


@dataclass(frozen=True, slots=True)
class WavInfo:
    """The ``fmt`` and ``data`` facts of a RIFF/WAVE header."""

    sample_rate: int
    channels: int
    bits_per_sample: int
    audio_format: int
    """1 PCM, 3 IEEE float, 6 A-law, 7 µ-law (WAVE_FORMAT_EXTENSIBLE is resolved)."""
    data_size: int | None
    """Bytes in the ``data`` chunk, or None when streaming/unknown (0 or 0xFFFFFFFF)."""

    @property
    def block_align(self) -> int:
        """Bytes per frame (all channels of one sample instant)."""
        return self.channels * ((self.bits_per_sample + 7) // 8)


def parse_wav_header(data: bytes) -> tuple[WavInfo, int] | None:
    """Parse a RIFF/WAVE header at the start of ``data``.

    Returns ``(info, offset)`` where ``offset`` is the index of the first audio byte, or
    None if more bytes are needed. Chunks other than ``fmt `` and ``data`` (``LIST``,
    ``fact``...) are skipped. Raises :class:`ProtocolError` if the bytes are not a WAV file.
    """
    head = bytes(data[:12])
    if not b"RIFF".startswith(head[:4]):
        raise ProtocolError(f"not a RIFF/WAVE stream (starts with {head[:4]!r})")
    if len(head) >= 12 and head[8:12] != b"WAVE":
        raise ProtocolError(f"RIFF stream is not WAVE (form type {head[8:12]!r})")
    if len(head) < 12:
        return None
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    while True:
        if len(data) < pos + 8:
            return None
        chunk_id = bytes(data[pos : pos + 4])
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if chunk_id == b"data":
            if fmt is None:
                raise ProtocolError("WAV data chunk before fmt chunk")
            audio_format, channels, rate, bits = fmt
            data_size = None if size in (0, 0xFFFFFFFF) else size
            return WavInfo(rate, channels, bits, audio_format, data_size), body
        if chunk_id == b"fmt ":
            if size < 16:
                raise ProtocolError(f"WAV fmt chunk too short ({size} bytes)")
            if len(data) < body + size:
                return None
            audio_format, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            if audio_format == _WAVE_FORMAT_EXTENSIBLE:
                if size < 40:
                    raise ProtocolError("WAVE_FORMAT_EXTENSIBLE fmt chunk too short")
                (audio_format,) = struct.unpack_from("<H", data, body + 24)
            if channels < 1 or rate < 1 or bits < 1:
                raise ProtocolError("WAV fmt chunk has zero channels, rate or sample size")
            fmt = (audio_format, channels, rate, bits)
        elif not chunk_id.isascii():
            raise ProtocolError(f"malformed WAV chunk id {chunk_id!r}")
        pos = body + size + (size & 1)


def wav_header(
    sample_rate: int, channels: int = 1, bits_per_sample: int = 16, data_size: int | None = None
) -> bytes:
    """A 44-byte PCM WAV header; ``data_size=None`` writes 0xFFFFFFFF (streaming)."""
    block_align = channels * ((bits_per_sample + 7) // 8)
    if data_size is None:
        data_field = riff_field = 0xFFFFFFFF
    else:
        data_field = data_size
        riff_field = min(36 + data_size + (data_size & 1), 0xFFFFFFFF)
    return (
        struct.pack("<4sI4s", b"RIFF", riff_field, b"WAVE")
        + struct.pack(
            "<4sIHHIIHH",
            b"fmt ",
            16,
            WAVE_FORMAT_PCM,
            channels,
            sample_rate,
            sample_rate * block_align,
            block_align,
            bits_per_sample,
        )
        + struct.pack("<4sI", b"data", data_field)
    )


# --------------------------------------------------------------------------- PcmDecoder

_MAX_WAV_HEADER = 1 << 20
_U8_LO, _U8_HI = bytes(256), bytes((b - 128) & 0xFF for b in range(256))  # unsigned 8-bit


def _frames_to_mono_pcm16(block: bytes, info: WavInfo) -> bytes:
    """Convert whole frames of a WAV data chunk to PCM16 LE mono."""
    fmt, bits, channels = info.audio_format, info.bits_per_sample, info.channels
    if fmt == WAVE_FORMAT_PCM and bits == 16:
        pcm = block
    elif fmt == WAVE_FORMAT_ULAW and bits == 8:
        pcm = ulaw_decode(block)
    elif fmt == WAVE_FORMAT_ALAW and bits == 8:
        pcm = alaw_decode(block)
    elif fmt == WAVE_FORMAT_PCM and bits == 8:
        pcm = _g711_decode(block, _U8_LO, _U8_HI)
    elif fmt == WAVE_FORMAT_PCM and bits in (24, 32):
        width = bits // 8
        out = bytearray(len(block) // width * 2)
        out[0::2] = block[width - 2 :: width]
        out[1::2] = block[width - 1 :: width]
        pcm = bytes(out)
    elif fmt == WAVE_FORMAT_FLOAT and bits == 32:
        floats = array("f", block)
        if _BIG_ENDIAN:
            floats.byteswap()
        ints = array("h", [max(-32768, min(32767, round(f * 32767.0))) for f in floats])
        pcm = _to_bytes(ints)
    else:
        raise ProtocolError(f"unsupported WAV encoding: format {fmt}, {bits} bits per sample")
    return downmix_to_mono(pcm, channels) if channels > 1 else pcm


class PcmDecoder:
    """Incremental decoder of a streamed HTTP TTS body into PCM16 LE mono.

    ``output_format`` is the format requested from the server: ``"pcm"``, ``"wav"``,
    ``"ulaw"`` or ``"alaw"``. ``"mp3"`` raises ValueError: adapters must hand MP3 to their
    framework's decoder. Samples are never split between calls to :meth:`feed`.

    ``"wav"``: the RIFF header is stripped even when split across feeds and exposed as
    :attr:`wav_info`; PCM 8/16/24/32-bit, float32, µ-law and A-law data is converted and
    multi-channel audio downmixed. A header whose sample rate differs from ``sample_rate``
    raises :class:`ProtocolError` (playing it at the requested rate would be wrong). Bytes
    after a known-size ``data`` chunk (trailing chunks) are ignored.

    ``"pcm"`` with ``sniff_wav=True`` (default): a body that starts with ``RIFF`` is treated
    as WAV, because the server labels every body ``audio/wav`` and some routes add headers.
    """

    def __init__(self, output_format: str, sample_rate: int, *, sniff_wav: bool = True) -> None:
        fmt = output_format.lower()
        if fmt == "mp3":
            raise ValueError(
                "mp3 cannot be decoded in pure Python; hand mp3 bodies to the framework's "
                "audio decoder, or request output_format='pcm'"
            )
        if fmt not in ("pcm", "wav", "ulaw", "alaw"):
            raise ValueError(f"unsupported output_format {output_format!r}")
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.output_format = fmt
        self.sample_rate = sample_rate
        self.wav_info: WavInfo | None = None
        """The parsed WAV header, once seen (``"wav"`` or a sniffed ``"pcm"`` body)."""
        self._mode = "sniff" if fmt == "pcm" and sniff_wav else fmt
        self._pending = b""
        self._remaining: int | None = None
        self._started = False

    def feed(self, data: bytes) -> bytes:
        """Consume body bytes; return the PCM16 LE mono audio they complete."""
        if not data:
            return b""
        self._started = True
        data = bytes(data)
        if self._mode == "ulaw":
            return ulaw_decode(data)
        if self._mode == "alaw":
            return alaw_decode(data)
        if self._mode == "wav" and self.wav_info is not None:
            return self._feed_wav_data(data)
        buf = self._pending + data if self._pending else data
        self._pending = b""
        if self._mode == "sniff":
            if len(buf) < 4 and b"RIFF".startswith(buf):
                self._pending = buf
                return b""
            self._mode = "wav" if buf.startswith(b"RIFF") else "pcm"
        if self._mode == "pcm":
            cut = len(buf) & ~1
            self._pending = buf[cut:]
            return buf[:cut]
        parsed = parse_wav_header(buf)
        if parsed is None:
            if len(buf) > _MAX_WAV_HEADER:
                raise ProtocolError("no WAV data chunk within the first 1 MiB")
            self._pending = buf
            return b""
        info, offset = parsed
        if info.sample_rate != self.sample_rate:
            raise ProtocolError(
                f"WAV sample rate {info.sample_rate} differs from the requested {self.sample_rate}"
            )
        _frames_to_mono_pcm16(b"", info)  # reject unsupported encodings up front
        self.wav_info = info
        self._remaining = info.data_size
        return self._feed_wav_data(buf[offset:])

    def _feed_wav_data(self, data: bytes) -> bytes:
        info = self.wav_info
        assert info is not None
        if self._remaining is not None:
            data = data[: self._remaining]
            self._remaining -= len(data)
        buf = self._pending + data if self._pending else data
        cut = len(buf) - len(buf) % info.block_align
        self._pending = buf[cut:]
        return _frames_to_mono_pcm16(buf[:cut], info) if cut else b""

    def flush(self) -> bytes:
        """End of body: return nothing more and drop an incomplete trailing sample.

        Raises :class:`ProtocolError` if a WAV body ended inside its header.
        """
        pending, self._pending = self._pending, b""
        if self._mode == "wav" and self.wav_info is None and self._started:
            raise ProtocolError(f"WAV body ended inside its header ({len(pending)} bytes)")
        if self._mode == "sniff" and pending:
            cut = len(pending) & ~1
            return pending[:cut]
        return b""


# --------------------------------------------------------------------------- resampling


class Resampler:
    """Stateful linear-interpolation resampler for PCM16 LE, continuous across calls.

    Input may have ``channels_in`` interleaved channels (downmixed to mono first); output
    is mono. Output sample ``k`` is taken at input time ``k * from_rate / to_rate``, so
    after :meth:`flush` a stream of ``n`` input frames yields exactly
    ``ceil(n * to_rate / from_rate)`` output samples whatever the chunking. There is no
    anti-alias filter: this is the dependency-free fallback (use soxr where available).
    """

    def __init__(self, from_rate: int, to_rate: int, channels_in: int = 1) -> None:
        if from_rate <= 0 or to_rate <= 0:
            raise ValueError("sample rates must be positive")
        if channels_in < 1:
            raise ValueError("channels_in must be >= 1")
        g = gcd(from_rate, to_rate)
        self.from_rate = from_rate
        self.to_rate = to_rate
        self.channels_in = channels_in
        self._step = from_rate // g  # input advance per output sample, in units of 1/_den
        self._den = to_rate // g
        self._pos = 0  # position of the next output sample relative to _last, times _den
        self._last: int | None = None  # the last input sample seen (index 0 of the window)
        self._partial = b""

    def process(self, pcm: bytes) -> bytes:
        """Resample a chunk; returns the output samples it completes."""
        frame = 2 * self.channels_in
        if self._partial:
            pcm = self._partial + bytes(pcm)
        cut = len(pcm) - len(pcm) % frame
        self._partial = bytes(pcm[cut:])
        if not cut:
            return b""
        mono = bytes(pcm[:cut])
        if self.channels_in > 1:
            mono = downmix_to_mono(mono, self.channels_in)
        if self._step == self._den:
            return mono
        window = _to_samples(mono)
        if self._last is None:
            self._pos = 0
        else:
            window.insert(0, self._last)
        out = self._interpolate(window, final=False)
        self._last = window[-1]
        return _to_bytes(out)

    def _interpolate(self, x: array[int], *, final: bool) -> array[int]:
        step, den, pos = self._step, self._den, self._pos
        n = len(x)
        half = den >> 1
        values: list[int] = []
        append = values.append
        if step % den == 0:  # integer decimation: pick samples
            ratio = step // den
            i = pos // den
            values = list(x[i : n - (0 if final else 1) : ratio]) if i < n else []
            pos += len(values) * step
        else:
            limit = n * den if final else (n - 1) * den
            while pos < limit:
                i, frac = divmod(pos, den)
                a = x[i]
                b = x[i + 1] if i + 1 < n else a
                append((a * (den - frac) + b * frac + half) // den)
                pos += step
        self._pos = pos - (n - 1) * den
        return array("h", values)

    def flush(self) -> bytes:
        """End of stream: emit the samples still owed after the last input sample."""
        self._partial = b""
        if self._last is None or self._step == self._den:
            self._last = None
            return b""
        out = self._interpolate(array("h", [self._last]), final=True)
        self._last = None
        self._pos = 0
        return _to_bytes(out)


def resample_pcm16(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """One-shot mono PCM16 resampling (see :class:`Resampler`)."""
    resampler = Resampler(from_rate, to_rate)
    return resampler.process(pcm) + resampler.flush()
