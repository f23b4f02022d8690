"""Timing truth: TTS word times on the turn timeline and STT word times across reconnects."""

from __future__ import annotations

import pytest
from conformance_kit import expected_pcm, key, turn_records
from drivers import Driver, turn

from smallest_emulator import Emulator
from smallest_emulator.engines.deterministic import synthesize

SENTENCES = "Hi there. Then, two! Why? Go on; and on. Fifth one."
WORD_TOLERANCE_S = 0.010
PLAYBACK_TOLERANCE_S = 0.040
"""VideoSDK reports words by playback-clock events: wall-clock jitter is allowed for."""
STT_FIRST, STT_SECOND = "hello there my friend", "how are you today"
RATE = 16000


@pytest.mark.parametrize("profile", ["default", "strict", "per-context-words"])
async def test_word_times_match_the_emulator(
    emu: Emulator, driver: Driver, profile: str, record_property
):
    """TTS word timestamps on the turn timeline equal the emulator's word records (±10 ms)."""
    results = await driver.tts_turns(
        emu, [turn(SENTENCES)], api_key=key(profile), word_timestamps=True
    )
    (res,), (rec,) = results, turn_records(emu, [SENTENCES])
    assert res.error is None and res.audio == expected_pcm(rec)
    truth = [(w.word, w.context_start_sample / rec.sample_rate) for w in rec.words]
    assert [w for w, _, _ in res.words] == [w for w, _ in truth]  # every word, in order
    errors = [abs(got - want) for (_, got, _), (_, want) in zip(res.words, truth, strict=True)]
    limit = WORD_TOLERANCE_S
    if not driver.caps.word_times:
        limit = PLAYBACK_TOLERANCE_S
        record_property("note", "timed by word_spoken events at playback (±40 ms)")
    assert max(errors) <= limit, f"max word error {max(errors) * 1000:.1f} ms"


def _speech(text: str) -> bytes:
    return synthesize(text, RATE).pcm + b"\0\0" * (RATE // 5)


@pytest.mark.parametrize("profile", ["default", "strict"])
@pytest.mark.parametrize("reconnect", [False, True], ids=["one-socket", "reconnect"])
async def test_stt_finals_and_word_times(
    emu: Emulator, driver: Driver, profile: str, reconnect: bool, record_property
):
    """STT: exact finals; word times equal the server's on one continuous stream timeline."""
    segments = [_speech(STT_FIRST), _speech(STT_SECOND)]
    result = await driver.stt_stream(
        emu,
        segments,
        api_key=key(profile, transcript=f"{STT_FIRST}|{STT_SECOND}"),
        reconnect_between=reconnect,
    )
    assert result.error is None, result.error
    records = [r for r in emu.stt_log if r.transport == "ws"]
    reconnects = reconnect and bool(driver.caps.stt_reconnect)
    assert len(records) == (2 if reconnects else 1)
    if reconnects:
        record_property("note", f"reconnect: {driver.caps.stt_reconnect}")
    elif reconnect:
        record_property(
            "note", "no option change reconnects SmallestAISTT (VideoSDK STT has no update API)"
        )
    assert sum(r.audio_bytes for r in records) == sum(len(s) for s in segments)  # 0 lost
    finals: list[str] = []
    truth: list[tuple[str, float, float]] = []
    offset = 0.0
    for r in records:  # the server's finals, each connection shifted onto the stream timeline
        for frame in r.transcripts:
            if frame.get("is_final") and frame.get("transcript", "").strip():
                finals.append(frame["transcript"])
                words = frame.get("words") or []
                truth += [(w["word"], w["start"] + offset, w["end"] + offset) for w in words]
        offset += r.audio_bytes / (2 * RATE)
    assert result.finals == finals
    if not reconnects:
        assert finals == [STT_FIRST, STT_SECOND]
    assert [w for w, _, _ in result.words] == [w for w, _, _ in truth]
    for (_, start, end), (_, t_start, t_end) in zip(result.words, truth, strict=True):
        assert abs(start - t_start) <= 0.001 and abs(end - t_end) <= 0.001
