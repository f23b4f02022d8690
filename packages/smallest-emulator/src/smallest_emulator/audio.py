"""Audio helpers: G.711 encoders/decoders (no audioop), WAV header, peak level."""

from __future__ import annotations

import struct
import sys
from array import array
from functools import lru_cache


def _ulaw_encode_sample(s: int) -> int:
    bias, clip = 0x84, 32635
    sign = 0x80 if s < 0 else 0
    if s < 0:
        s = -s
    s = min(s, clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not (s & mask):
        exponent -= 1
        mask >>= 1
    mantissa = (s >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _alaw_encode_sample(s: int) -> int:
    sign = 0x80 if s >= 0 else 0
    if s < 0:
        s = -s - 1 if s > -32768 else 32767
    s >>= 3  # 13-bit magnitude
    if s < 32:
        code = sign | (s >> 1)
    else:
        exponent = 1
        v = s >> 5
        while v > 1 and exponent < 7:
            v >>= 1
            exponent += 1
        mantissa = (s >> exponent) & 0x0F
        code = sign | (exponent << 4) | mantissa
    return code ^ 0x55


def ulaw_decode_sample(u: int) -> int:
    """Decode one µ-law byte to int16."""
    u = ~u & 0xFF
    sign, exponent, mantissa = u & 0x80, (u >> 4) & 0x07, u & 0x0F
    s = ((mantissa << 3) + 0x84) << exponent
    s -= 0x84
    return -s if sign else s


def alaw_decode_sample(a: int) -> int:
    """Decode one A-law byte to int16."""
    a ^= 0x55
    sign, exponent, mantissa = a & 0x80, (a >> 4) & 0x07, a & 0x0F
    s = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return s if sign else -s


@lru_cache(maxsize=2)
def _table(kind: str) -> bytes:
    enc = _ulaw_encode_sample if kind == "ulaw" else _alaw_encode_sample
    # index = sample as unsigned 16-bit
    return bytes(enc(i - 65536 if i >= 32768 else i) for i in range(65536))


def _as_u16(pcm: bytes) -> array[int]:
    arr = array("H")
    arr.frombytes(pcm[: len(pcm) - (len(pcm) % 2)])
    if sys.byteorder != "little":
        arr.byteswap()
    return arr


def encode_g711(pcm: bytes, kind: str) -> bytes:
    """Encode int16 LE PCM as ``ulaw`` or ``alaw`` (table lookup, no per-sample Python code)."""
    return bytes(map(_table(kind).__getitem__, _as_u16(pcm)))


def decode_g711(data: bytes, kind: str) -> bytes:
    """Decode ``ulaw``/``alaw`` bytes to int16 LE PCM."""
    dec = ulaw_decode_sample if kind == "ulaw" else alaw_decode_sample
    table = [dec(i) for i in range(256)]
    arr = array("h", map(table.__getitem__, data))
    if sys.byteorder != "little":
        arr.byteswap()
    return arr.tobytes()


def wav_header(data_len: int, sample_rate: int, *, bits: int = 16, fmt_code: int = 1) -> bytes:
    """A 44-byte RIFF/WAVE header for mono audio (fmt 1 PCM, 6 A-law, 7 µ-law)."""
    block = bits // 8
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_len)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, fmt_code, 1, sample_rate, sample_rate * block, block, bits)
        + b"data"
        + struct.pack("<I", data_len)
    )


def parse_wav(data: bytes) -> tuple[bytes, int, int] | None:
    """Return (payload, sample_rate, fmt_code) of a RIFF/WAVE file, or None if not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, rate, fmt = 12, 16000, 1
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt " and len(body) >= 8:
            fmt, _ch, rate = struct.unpack("<HHI", body[:8])
        elif cid == b"data":
            return body, rate, fmt
        pos += 8 + size + (size & 1)
    return None


def peak(pcm: bytes, stride: int = 4) -> int:
    """Peak absolute level of int16 LE PCM, sampled every ``stride`` samples."""
    if len(pcm) < 2:
        return 0
    arr = array("h")
    arr.frombytes(pcm[: len(pcm) - (len(pcm) % 2)])
    if sys.byteorder != "little":
        arr.byteswap()
    sub = arr[::stride]
    return max(max(sub), -min(sub))
