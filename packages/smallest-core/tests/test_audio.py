"""Tests for smallest_core.audio: G.711, WAV, PcmDecoder, Resampler."""

from __future__ import annotations

import math
import struct
import warnings
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallest_core.audio import (
    PcmDecoder,
    Resampler,
    WavInfo,
    alaw_decode,
    alaw_encode,
    downmix_to_mono,
    parse_wav_header,
    pcm_duration_s,
    resample_pcm16,
    samples_in,
    ulaw_decode,
    ulaw_encode,
    wav_header,
)
from smallest_core.errors import ProtocolError


def pcm(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def unpcm(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data))


# Reference G.711 expansion, written from the standard's segment/step description:
# µ-law (14-bit linear): |x| = ((2*mantissa + 33) << exponent) - 33, then scaled by 4.
# A-law (13-bit linear): |x| = 2*mantissa + 1 (segment 0) or (2*mantissa + 33) << (seg - 1),
# then scaled by 8. µ-law bits are inverted on the wire; A-law even bits are inverted (^0x55).
def ref_ulaw(code: int) -> int:
    inv = code ^ 0xFF
    sign, exponent, mantissa = inv >> 7, (inv >> 4) & 7, inv & 15
    value = (((2 * mantissa + 33) << exponent) - 33) * 4
    return -value if sign else value


def ref_alaw(code: int) -> int:
    x = code ^ 0x55
    positive, segment, mantissa = x >> 7, (x >> 4) & 7, x & 15
    value = (2 * mantissa + 1 if segment == 0 else (2 * mantissa + 33) << (segment - 1)) * 8
    return value if positive else -value


ALL_CODES = bytes(range(256))


# --------------------------------------------------------------------------- G.711


def test_ulaw_decode_matches_reference_for_all_codes() -> None:
    assert unpcm(ulaw_decode(ALL_CODES)) == [ref_ulaw(c) for c in range(256)]


def test_alaw_decode_matches_reference_for_all_codes() -> None:
    assert unpcm(alaw_decode(ALL_CODES)) == [ref_alaw(c) for c in range(256)]


@pytest.mark.parametrize(
    ("decode", "code", "value"),
    [
        (ulaw_decode, 0x00, -32124),
        (ulaw_decode, 0x80, 32124),
        (ulaw_decode, 0xFF, 0),
        (ulaw_decode, 0x7F, 0),
        (alaw_decode, 0xD5, 8),
        (alaw_decode, 0x55, -8),
        (alaw_decode, 0xAA, 32256),
        (alaw_decode, 0x2A, -32256),
    ],
)
def test_g711_known_values(decode: object, code: int, value: int) -> None:
    assert callable(decode)
    assert unpcm(decode(bytes([code]))) == [value]


def test_g711_empty() -> None:
    assert ulaw_decode(b"") == b""
    assert alaw_decode(b"") == b""
    assert ulaw_encode(b"") == b""


@pytest.mark.parametrize(("enc", "dec"), [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)])
def test_g711_round_trip_all_codes(enc: object, dec: object) -> None:
    assert callable(enc)
    assert callable(dec)
    decoded = dec(ALL_CODES)
    assert dec(enc(decoded)) == decoded


@pytest.mark.parametrize(("enc", "dec"), [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)])
def test_g711_encode_monotonic_and_bounded_error(enc: object, dec: object) -> None:
    assert callable(enc)
    assert callable(dec)
    everything = pcm(*range(-32768, 32768))
    restored = unpcm(dec(enc(everything)))
    previous = -(1 << 20)
    for original, value in zip(range(-32768, 32768), restored, strict=True):
        assert value >= previous  # quantisation is monotonic
        previous = value
        # step size at the top segment is 1024 (µ-law) / 1024 (A-law); clipping near ±32767
        assert abs(value - original) <= 1024 or abs(original) > 32000


def test_g711_matches_audioop() -> None:
    """audioop ships with 3.11/3.12; on 3.13+ the test environment installs audioop-lts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    everything = pcm(*range(-32768, 32768))
    assert ulaw_encode(everything) == audioop.lin2ulaw(everything, 2)
    assert alaw_encode(everything) == audioop.lin2alaw(everything, 2)
    assert ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


def test_g711_encode_rejects_odd_length() -> None:
    with pytest.raises(ValueError):
        ulaw_encode(b"\x00")


@given(st.binary(max_size=512))
def test_g711_decode_encode_decode_property(data: bytes) -> None:
    for enc, dec in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        assert dec(enc(dec(data))) == dec(data)


# --------------------------------------------------------------------------- helpers


def test_duration_and_samples() -> None:
    assert samples_in(48000) == 24000
    assert samples_in(48001) == 24000
    assert samples_in(48000, channels=2) == 12000
    assert pcm_duration_s(48000, 24000) == 1.0
    assert pcm_duration_s(48000, 24000, channels=2) == 0.5


def test_downmix() -> None:
    assert downmix_to_mono(pcm(100, 200, -3, -4), 2) == pcm(150, -4)
    assert downmix_to_mono(pcm(3, 6, 9), 3) == pcm(6)
    assert downmix_to_mono(pcm(1, 2), 1) == pcm(1, 2)
    assert downmix_to_mono(pcm(32767, 32767, -32768, -32768), 2) == pcm(32767, -32768)
    with pytest.raises(ValueError):
        downmix_to_mono(pcm(1, 2, 3), 2)
    with pytest.raises(ValueError):
        downmix_to_mono(b"", 0)


# --------------------------------------------------------------------------- WAV


def test_wav_header_round_trip() -> None:
    header = wav_header(24000, data_size=1000)
    assert len(header) == 44
    assert parse_wav_header(header) == (WavInfo(24000, 1, 16, 1, 1000), 44)
    info, _ = parse_wav_header(wav_header(8000, channels=2, bits_per_sample=16)) or (None, 0)
    assert info == WavInfo(8000, 2, 16, 1, None)
    assert info.block_align == 4


def test_wav_header_zero_size_is_streaming() -> None:
    parsed = parse_wav_header(wav_header(16000, data_size=0))
    assert parsed is not None
    assert parsed[0].data_size is None


def test_parse_wav_header_needs_more_bytes_for_every_prefix() -> None:
    header = wav_header(44100, data_size=10)
    for cut in range(len(header)):
        assert parse_wav_header(header[:cut]) is None


def _chunk(chunk_id: bytes, body: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def _wav(
    fmt_body: bytes, data: bytes, *, extra: bytes = b"", data_size: int | None = None
) -> bytes:
    size = len(data) if data_size is None else data_size
    chunks = _chunk(b"fmt ", fmt_body) + extra + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _fmt(audio_format: int, channels: int, rate: int, bits: int) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", audio_format, channels, rate, rate * align, align, bits)


def test_parse_wav_skips_list_and_odd_chunks() -> None:
    extra = _chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00Lavf\x00") + _chunk(b"junk", b"abc")
    body = _wav(_fmt(1, 1, 24000, 16), pcm(1, 2), extra=extra)
    parsed = parse_wav_header(body)
    assert parsed is not None
    info, offset = parsed
    assert info == WavInfo(24000, 1, 16, 1, 4)
    assert body[offset:] == pcm(1, 2)


def test_parse_wav_extensible_and_long_fmt() -> None:
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    ext = _fmt(0xFFFE, 1, 8000, 8) + struct.pack("<HHI", 22, 8, 4) + struct.pack("<H", 7)
    parsed = parse_wav_header(_wav(ext + guid_tail, b"\xff"))
    assert parsed is not None
    assert parsed[0].audio_format == 7
    long_fmt = _fmt(6, 1, 8000, 8) + b"\x00\x00"  # cbSize=0, fmt chunk of 18 bytes
    parsed = parse_wav_header(_wav(long_fmt, b"\xd5"))
    assert parsed is not None
    assert parsed[0].audio_format == 6


@pytest.mark.parametrize(
    "garbage",
    [
        b"ID3\x04",
        b"\xff\xf3\x00\x00" * 4,
        b"RIFF\x00\x00\x00\x00AVI LIST",
        b"RIFF\x24\x00\x00\x00WAVEdata\x00\x00\x00\x00",
        b"RIFF\x24\x00\x00\x00WAVEfmt \x04\x00\x00\x00abcd",
        b"X",
    ],
)
def test_parse_wav_garbage_raises(garbage: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_wav_header(garbage)


@given(st.binary(max_size=128))
def test_parse_wav_any_bytes_is_none_info_or_protocol_error(data: bytes) -> None:
    try:
        result = parse_wav_header(b"RIFF" + data)
    except ProtocolError:
        return
    assert result is None or isinstance(result[0], WavInfo)


# --------------------------------------------------------------------------- PcmDecoder


def decode_all(fmt: str, rate: int, chunks: list[bytes]) -> bytes:
    decoder = PcmDecoder(fmt, rate)
    return b"".join(decoder.feed(c) for c in chunks) + decoder.flush()


def test_pcm_keeps_odd_byte() -> None:
    decoder = PcmDecoder("pcm", 24000)
    assert decoder.feed(b"\x01\x00\x02") == b"\x01\x00"
    assert decoder.feed(b"\x00") == b"\x02\x00"
    assert decoder.feed(b"\x03") == b""
    assert decoder.flush() == b""  # an incomplete sample is dropped


def test_pcm_sniffs_riff() -> None:
    body = wav_header(24000, data_size=4) + pcm(7, 8)
    assert decode_all("pcm", 24000, [body[:2], body[2:]]) == pcm(7, 8)
    decoder = PcmDecoder("pcm", 24000, sniff_wav=False)
    assert decoder.feed(body) == body
    assert decode_all("pcm", 24000, [b"RI"]) == b"RI"


def test_wav_header_split_across_feeds() -> None:
    audio = pcm(*range(-50, 50))
    body = wav_header(16000) + audio
    for cut in range(len(body) + 1):
        decoder = PcmDecoder("wav", 16000)
        out = decoder.feed(body[:cut]) + decoder.feed(body[cut:]) + decoder.flush()
        assert out == audio
        assert decoder.wav_info == WavInfo(16000, 1, 16, 1, None)


def test_wav_ulaw_alaw_stereo_inside() -> None:
    codes = bytes(range(0, 256, 3))
    assert decode_all("wav", 8000, [_wav(_fmt(7, 1, 8000, 8), codes)]) == ulaw_decode(codes)
    assert decode_all("wav", 8000, [_wav(_fmt(6, 1, 8000, 8), codes)]) == alaw_decode(codes)
    stereo = _wav(_fmt(1, 2, 8000, 16), pcm(10, 20, 30, 40))
    assert decode_all("wav", 8000, [stereo]) == pcm(15, 35)


def test_wav_other_sample_widths() -> None:
    u8 = _wav(_fmt(1, 1, 8000, 8), bytes([0, 128, 255]))
    assert decode_all("wav", 8000, [u8]) == pcm(-32768, 0, 32512)
    s24 = _wav(_fmt(1, 1, 8000, 24), b"\x00\x34\x12" + b"\xff\xff\xff")
    assert decode_all("wav", 8000, [s24]) == pcm(0x1234, -1)
    s32 = _wav(_fmt(1, 1, 8000, 32), struct.pack("<ii", 0x12340000, -(1 << 31)))
    assert decode_all("wav", 8000, [s32]) == pcm(0x1234, -32768)
    f32 = _wav(_fmt(3, 1, 8000, 32), struct.pack("<fff", 0.5, -2.0, 0.0))
    assert decode_all("wav", 8000, [f32]) == pcm(16384, -32768, 0)
    with pytest.raises(ProtocolError):
        decode_all("wav", 8000, [_wav(_fmt(2, 1, 8000, 4), b"\x00")])


def test_wav_respects_data_size_and_ignores_trailing_chunks() -> None:
    body = _wav(_fmt(1, 1, 8000, 16), pcm(1, 2, 3)) + _chunk(b"LIST", b"trailer!")
    chunks = [body[i : i + 5] for i in range(0, len(body), 5)]
    assert decode_all("wav", 8000, chunks) == pcm(1, 2, 3)


def test_wav_rate_mismatch_raises() -> None:
    decoder = PcmDecoder("wav", 24000)
    with pytest.raises(ProtocolError, match="44100"):
        decoder.feed(wav_header(44100))


def test_wav_truncated_header_raises_on_flush() -> None:
    decoder = PcmDecoder("wav", 24000)
    assert decoder.feed(wav_header(24000)[:20]) == b""
    with pytest.raises(ProtocolError):
        decoder.flush()
    assert PcmDecoder("wav", 24000).flush() == b""  # empty body is not an error


def test_wav_garbage_raises() -> None:
    with pytest.raises(ProtocolError):
        PcmDecoder("wav", 24000).feed(b"\xff\xf3\x90\x00")


def test_ulaw_alaw_stream() -> None:
    assert decode_all("ulaw", 8000, [b"\x00", b"\xff\x80"]) == ulaw_decode(b"\x00\xff\x80")
    assert decode_all("alaw", 8000, [b"\xd5\x55"]) == alaw_decode(b"\xd5\x55")


def test_unsupported_formats() -> None:
    with pytest.raises(ValueError, match="mp3"):
        PcmDecoder("mp3", 24000)
    with pytest.raises(ValueError):
        PcmDecoder("mulaw", 24000)
    with pytest.raises(ValueError):
        PcmDecoder("pcm", 0)


def _splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    out, prev = [], 0
    for p in [*points, len(data)]:
        out.append(data[prev:p])
        prev = p
    return out


@given(
    fmt=st.sampled_from(["pcm", "wav", "ulaw", "alaw", "wav-ulaw", "wav-stereo"]),
    payload=st.binary(max_size=300),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_split_equals_one_shot(fmt: str, payload: bytes, cuts: list[int]) -> None:
    if fmt == "wav":
        body = wav_header(8000) + payload
    elif fmt == "wav-ulaw":
        body = _wav(_fmt(7, 1, 8000, 8), payload, extra=_chunk(b"LIST", b"x" * 7))
    elif fmt == "wav-stereo":
        body = _wav(_fmt(1, 2, 8000, 16), payload)
    else:
        body = payload
    kind = "wav" if fmt.startswith("wav") else fmt
    try:
        one_shot = decode_all(kind, 8000, [body])
    except ProtocolError:  # e.g. a "pcm" payload that starts with RIFF and is not a WAV
        with pytest.raises(ProtocolError):
            decode_all(kind, 8000, _splits(body, cuts))
        return
    assert decode_all(kind, 8000, _splits(body, cuts)) == one_shot
    assert len(one_shot) % 2 == 0


# --------------------------------------------------------------------------- Resampler


def test_resampler_same_rate_passthrough() -> None:
    r = Resampler(24000, 24000)
    assert r.process(pcm(1, 2, 3)) == pcm(1, 2, 3)
    assert r.flush() == b""


def test_resampler_upsample_linear() -> None:
    assert unpcm(resample_pcm16(pcm(0, 100, 200), 8000, 16000)) == [0, 50, 100, 150, 200, 200]
    assert unpcm(resample_pcm16(pcm(0, 300), 1, 3)) == [0, 100, 200, 300, 300, 300]


def test_resampler_downsample() -> None:
    assert unpcm(resample_pcm16(pcm(0, 1, 2, 3, 4, 5), 48000, 16000)) == [0, 3]
    assert unpcm(resample_pcm16(pcm(0, 10, 20, 30), 3, 2)) == [0, 15, 30]


def test_resampler_stereo_input() -> None:
    r = Resampler(8000, 8000, channels_in=2)
    assert r.process(pcm(10, 20, 30)) == pcm(15)
    assert r.process(pcm(40)) == pcm(35)


def test_resampler_constant_signal_has_no_clicks() -> None:
    r = Resampler(22050, 24000)
    out = b"".join(r.process(pcm(*[1234] * n)) for n in (1, 7, 100, 3, 1000)) + r.flush()
    assert set(unpcm(out)) == {1234}


def test_resampler_large_stream_linear_time() -> None:
    data = pcm(*([0, 1000] * 24000))
    out = resample_pcm16(data, 48000, 44100)
    assert len(out) // 2 == math.ceil(48000 * 44100 / 48000)


rates = st.sampled_from([8000, 11025, 16000, 22050, 24000, 44100, 48000, 7, 3])


@settings(max_examples=150)
@given(
    from_rate=rates,
    to_rate=rates,
    samples=st.lists(st.integers(-32768, 32767), max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=401), max_size=10),
)
def test_resampler_chunking_invariant(
    from_rate: int, to_rate: int, samples: list[int], cuts: list[int]
) -> None:
    data = pcm(*samples)
    one_shot = resample_pcm16(data, from_rate, to_rate)
    r = Resampler(from_rate, to_rate)
    chunked = b"".join(r.process(c) for c in _splits(data, cuts)) + r.flush()
    assert chunked == one_shot
    assert len(one_shot) // 2 == -(-len(samples) * to_rate // from_rate)
    values = unpcm(one_shot)
    if samples:
        assert min(samples) <= min(values) and max(values) <= max(samples)
    # the stream can be reused after flush
    assert b"".join(r.process(c) for c in _splits(data, cuts[::-1])) + r.flush() == one_shot


def test_resampler_rejects_bad_rates() -> None:
    with pytest.raises(ValueError):
        Resampler(0, 8000)
    with pytest.raises(ValueError):
        Resampler(8000, 8000, channels_in=0)


def test_array_typecode_is_16_bit() -> None:
    assert array("h").itemsize == 2
