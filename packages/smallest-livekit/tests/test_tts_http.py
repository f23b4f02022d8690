"""HTTP synthesis: every output format reaches LiveKit as PCM; errors keep the server text."""

from __future__ import annotations

import pytest
from livekit.agents import APIConnectOptions, APIStatusError
from livekit_kit import ALL_PROFILES, collect, frames_pcm, key

from smallest_core import DEFAULT_PRO_VOICE, DEFAULT_VOICE
from smallest_core.audio import alaw_decode, ulaw_decode
from smallest_emulator import Emulator
from smallest_emulator.audio import encode_g711
from smallest_livekit import TTS

TEXT = "Plain HTTP synthesis, in one request."
NO_RETRY = APIConnectOptions(max_retry=0, timeout=5.0)


@pytest.mark.parametrize("profile", ALL_PROFILES)
@pytest.mark.parametrize("fmt", ["pcm", "wav", "ulaw", "alaw"])
async def test_formats_arrive_as_exact_pcm(emu: Emulator, profile: str, fmt: str) -> None:
    engine = TTS(api_key=key(profile), base_url=emu.base_url, output_format=fmt)
    try:
        events = await collect(engine.synthesize(TEXT))
    finally:
        await engine.aclose()
    pcm = bytes(emu.tts_log[-1].pcm)
    expected = {
        "pcm": pcm,
        "wav": pcm,
        "ulaw": ulaw_decode(encode_g711(pcm, "ulaw")),
        "alaw": alaw_decode(encode_g711(pcm, "alaw")),
    }[fmt]
    assert frames_pcm(events) == expected


async def test_mp3_is_decoded_by_livekit(emu: Emulator) -> None:
    engine = TTS(api_key=key(), base_url=emu.base_url, output_format="mp3")
    try:
        events = await collect(engine.synthesize(TEXT))
    finally:
        await engine.aclose()
    samples = len(emu.tts_log[-1].pcm) // 2
    got = len(frames_pcm(events)) // 2
    assert events[0].frame.sample_rate == 24000
    assert abs(got - samples) < 24000 * 0.1  # encoder padding only


@pytest.mark.parametrize(
    ("api_key", "voice", "status", "retryable", "text"),
    [
        ("sk_invalid", "sophia", 401, False, "unauthorized"),
        (key(), "nobody", 400, False, "Invalid Voice ID"),
        (key(http_status=429), "sophia", 429, True, ""),
        (key(http_status=500), "sophia", 500, True, ""),
    ],
)
async def test_http_errors(
    emu: Emulator, api_key: str, voice: str, status: int, retryable: bool, text: str
) -> None:
    engine = TTS(api_key=api_key, base_url=emu.base_url, voice_id=voice)
    try:
        with pytest.raises(APIStatusError) as info:
            await collect(engine.synthesize(TEXT, conn_options=NO_RETRY))
    finally:
        await engine.aclose()
    assert info.value.status_code == status
    assert info.value.retryable is retryable
    assert text.lower() in info.value.message.lower()
    assert "sk_invalid" not in repr(info.value)


async def test_list_voices_and_update_options(emu: Emulator) -> None:
    engine = TTS(api_key=key(), base_url=emu.base_url)
    try:
        voices = await engine.list_voices()
        ids = {v.id for v in voices}
        assert {"sophia", DEFAULT_VOICE} <= ids  # the default voice is a standard one
        assert DEFAULT_PRO_VOICE not in ids  # one pool per model route (documented)
        engine.update_options(voice_id="liam", sample_rate=16000, speed=1.5)
        assert engine.sample_rate == 16000 and engine.options.voice_id == "liam"
        with pytest.raises(ValueError, match="sample_rate"):
            engine.update_options(sample_rate=22050)
        events = await collect(engine.synthesize("Faster now."))
        assert events[0].frame.sample_rate == 16000
        assert engine.model == "lightning_v3.1" and engine.provider == "Smallest AI"
    finally:
        await engine.aclose()
    rec = emu.tts_log[-1]
    assert (rec.voice_id, rec.sample_rate) == ("liam", 16000)


def test_constructor_validates_and_hides_the_key() -> None:
    with pytest.raises(ValueError):
        TTS(api_key="sk_x", voice_id="meher")  # a Pro voice on the standard model
    assert TTS(api_key="sk_x").options.voice_id == DEFAULT_VOICE
    for pro in ("lightning_v3.1_pro", "lightning-v3.1-pro"):
        assert TTS(api_key="sk_x", model=pro).options.voice_id == DEFAULT_PRO_VOICE
    engine = TTS(api_key="sk_secret_value", base_url="https://api.smallest.ai/waves/v1")
    assert engine._conn.endpoints.base_url == "https://api.smallest.ai"
    assert "sk_secret_value" not in repr(engine._conn)
