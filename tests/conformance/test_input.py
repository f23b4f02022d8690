"""Bad and unusual input: empty text, huge replies, every script, invalid options.

410 (retired model) is decided at construction: ``lightning-v2`` / ``lightning-large`` are
rejected by the core's option check with a ValueError naming ``lightning_v3.1``, before any
request (the emulator's legacy per-model routes 410 them; no adapter uses those routes).
"""

from __future__ import annotations

import pytest
from conformance_kit import expected_pcm, key, texts, turn_records
from drivers import Driver, turn

from smallest_emulator import Emulator

NEXT = "After the odd one, a normal turn."


@pytest.mark.parametrize("text", ["", "   "], ids=["empty", "whitespace"])
async def test_empty_text_is_a_silent_turn(emu: Emulator, driver: Driver, text: str):
    """Empty / whitespace-only text: no audio, no error, and the next turn is exact."""
    results = await driver.tts_turns(emu, [turn(text), turn(NEXT)], api_key=key())
    assert results[0].error is None and results[0].audio == b""
    assert results[0].seconds < 5.0
    (rec,) = [r for r in emu.tts_log if r.text.strip() == NEXT]
    assert results[1].error is None and results[1].audio == expected_pcm(rec)
    assert all(not r.pcm for r in emu.tts_log if r is not rec)  # nothing spoken for it


@pytest.mark.parametrize("name", ["emoji", "rtl", "mixed_scripts", "combining"])
async def test_every_script_is_byte_exact(emu: Emulator, driver: Driver, name: str):
    """Emoji, RTL, mixed scripts, combining marks: the text arrives intact, exact audio."""
    text = texts()["multilingual"][name]
    results = await driver.tts_turns(emu, [turn(text)], api_key=key())
    (rec,) = turn_records(emu, [text])
    assert rec.text.strip() == text
    assert results[0].error is None and results[0].audio == expected_pcm(rec)


async def test_ten_thousand_character_reply(emu: Emulator, driver: Driver):
    """A 10,000-character reply streamed as tokens: every character sent, exact audio."""
    text = texts()["long_reply"]
    assert len(text) == 10_000
    results = await driver.tts_turns(emu, [turn(text)], api_key=key(), timeout_s=30.0)
    (rec,) = turn_records(emu, [text])
    assert rec.text.strip() == text
    assert results[0].error is None
    assert len(results[0].audio) == len(rec.pcm) and results[0].audio == expected_pcm(rec)


INVALID_TTS = [
    ({"model": "lightning-v2"}, "lightning_v3.1"),  # retired (the 410 decision, see above)
    ({"model": "lightning-large"}, "lightning_v3.1"),
    ({"model": "no-such-model"}, "lightning_v3.1"),
    ({"voice_id": "meher"}, "lightning_v3.1_pro"),  # a Pro voice on the standard model
    ({"language": "xx"}, "en"),
    ({"sample_rate": 22050}, "24000"),
]


@pytest.mark.parametrize(
    ("options", "named"),
    INVALID_TTS,
    ids=[f"{next(iter(o))}={o[next(iter(o))]}" for o, _ in INVALID_TTS],
)
async def test_invalid_tts_options_fail_at_construction(
    emu: Emulator, driver: Driver, options: dict, named: str, record_property
):
    """Invalid model / voice / language / sample rate: ValueError naming the allowed values."""
    if driver.name == "pipecat" and "sample_rate" in options:
        # Pipecat's output rate is the pipeline's: rates the API lacks are resampled (documented)
        record_property("note", "sample_rate: any pipeline rate accepted, resampled from 24 kHz")
        service = driver.build_tts(api_key=key(), base_url=emu.base_url, **options)
        assert service._init_sample_rate == options["sample_rate"]
        assert emu.requests == []
        return
    with pytest.raises(ValueError) as info:
        driver.build_tts(api_key=key(), base_url=emu.base_url, **options)
    assert named in str(info.value)
    assert emu.requests == [] and emu.ws_connections.opened_total == 0  # before any network


@pytest.mark.parametrize(
    ("options", "named"),
    [({"sample_rate": 12345}, "16000"), ({"language": "xx"}, "en")],
    ids=["sample_rate", "language"],
)
async def test_invalid_stt_options_fail_at_construction(
    emu: Emulator, driver: Driver, options: dict, named: str
):
    """Invalid STT sample rate / language: ValueError naming the allowed values, no request."""
    with pytest.raises(ValueError) as info:
        driver.build_stt(api_key=key(), base_url=emu.base_url, **options)
    assert named in str(info.value)
    assert emu.requests == [] and emu.ws_connections.opened_total == 0
