"""Audio integrity: every turn's audio is byte-for-byte what the emulator produced for it.

Runs under EVERY emulator profile (multi-complete, per-burst and close-after-complete included).
Every scenario also checks (in the driver) that the server received each turn's text exactly
as the caller gave it.
"""

from __future__ import annotations

import random

import pytest
from conformance_kit import (
    ALL_PROFILES,
    SUBSET,
    assert_no_stale_window,
    expected_pcm,
    key,
    turn_records,
    ws_records,
)
from drivers import Driver, Turn, TurnResult, sockets_settle, turn
from drivers.truth import partition

from smallest_emulator import Emulator
from smallest_emulator.engines.deterministic import text_key

TURNS = [
    "Hello there, my friend. The weather is lovely today. Shall we go for a walk?",
    "Second turn here. It has two sentences.",
    "And a third one, short.",
]
LONG = " ".join(f"Sentence number {i} keeps the bot talking for quite a while." for i in range(30))


def _assert_exact(emu: Emulator, results: list, texts: list[str]) -> None:
    records = turn_records(emu, texts)
    for res, rec in zip(results, records, strict=True):
        assert res.error is None, res.error
        assert res.audio == expected_pcm(rec), "turn audio differs from the emulator's"


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_back_to_back_turns_are_byte_exact(emu: Emulator, driver: Driver, profile: str):
    """Back-to-back multi-sentence turns: exact audio per turn, in order, one socket."""
    results = await driver.tts_turns(emu, [turn(t) for t in TURNS], api_key=key(profile))
    _assert_exact(emu, results, TURNS)
    opened = emu.ws_connections.per_route.get("tts", 0)
    if profile == "close-after-complete":  # the server ends every socket after complete
        assert len(TURNS) <= opened <= len(TURNS) + 1
    else:
        assert opened == 1
    assert await sockets_settle(emu) == 0


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_server_pause_loses_nothing(emu: Emulator, driver: Driver, profile: str):
    """A 1 s server pause inside a turn (pause_ms=1000): nothing lost, nothing duplicated."""
    results = await driver.tts_turns(
        emu, [turn(TURNS[0])], api_key=key(profile, pause_ms=1000, pause_after_chunks=3)
    )
    _assert_exact(emu, results, TURNS[:1])
    assert results[0].seconds >= 1.0


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_many_turns_share_one_socket(emu: Emulator, driver: Driver, profile: str):
    """Twenty turns on one plugin: exact audio each, one socket (unless the server closes)."""
    texts = [f"Turn {n} says hello to you." for n in range(20)]
    results = await driver.tts_turns(emu, [turn(t) for t in texts], api_key=key(profile))
    _assert_exact(emu, results, texts)
    if profile != "close-after-complete":
        assert emu.ws_connections.per_route.get("tts") == 1


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_barge_in_at_random_points_leaks_nothing(emu: Emulator, driver: Driver, profile: str):
    """Barge-in at seeded random points: a prefix was played, the next turn is exact."""
    emu.config.speed = 40.0  # paced, so the turn is still speaking when cut off
    rng = random.Random(f"{driver.name}-{profile}")
    cuts = [rng.randrange(2_000, 60_000) for _ in range(2)]
    after = ["Sure, go ahead.", "Fine, I am listening."]
    turns = [
        Turn(turn(LONG).tokens, barge_in_after_bytes=cuts[0]),
        turn(after[0]),
        Turn(turn(LONG).tokens, barge_in_after_bytes=cuts[1]),
        turn(after[1]),
    ]
    results = await driver.tts_turns(emu, turns, api_key=key(profile))
    records = turn_records(emu, [t.text for t in turns])
    for n in (0, 2):
        cut, rec = results[n], records[n]
        assert cut.error is None and cut.interrupted
        assert len(cut.audio) >= cuts[n // 2]
        assert bytes(rec.pcm).startswith(cut.audio), "played audio is not the turn's own"
        assert rec.cancelled, "the server was not told to stop"
        assert results[n + 1].audio == expected_pcm(records[n + 1]), "stale or lost bytes"
    if profile != "close-after-complete":
        assert emu.ws_connections.per_route.get("tts") == 1  # barge-in never costs the socket


@pytest.mark.parametrize("profile", SUBSET)
async def test_voice_change_between_turns(emu: Emulator, driver: Driver, profile: str):
    """Options changed between turns (voice): each turn uses its own voice, exact audio."""
    texts = ["First voice speaks.", "Second voice speaks.", "First voice again."]
    voices = ["liam", "magnus", "liam"]
    turns = [turn(t, options={"voice_id": v}) for t, v in zip(texts, voices, strict=True)]
    results = await driver.tts_turns(emu, turns, api_key=key(profile))
    _assert_exact(emu, results, texts)
    assert [r.voice_id for r in turn_records(emu, texts)] == voices


@pytest.mark.parametrize("profile", SUBSET)
async def test_sentence_flush_markers_lose_no_token(emu: Emulator, driver: Driver, profile: str):
    """Sentence ends marked as the framework marks them (FlushMarker): every token, exact"""
    turns = [turn(t, sentence_flush=True) for t in TURNS]
    results = await driver.tts_turns(emu, turns, api_key=key(profile))
    per_turn, _ = partition(turns, ws_records(emu), lambda r: r.text, exact=driver.caps.exact_text)
    for res, records in zip(results, per_turn, strict=True):
        assert res.error is None, res.error
        assert res.audio == b"".join(expected_pcm(r) for r in records)


BARGE_SEEDS = 2
"""Native barge-ins per profile and framework (plus one task cancellation): 27 in all."""
CUT_MAX_S = 0.100


def _barge_plan(driver: Driver, profile: str) -> list[Turn]:
    """Seeded: a cut 0-100 ms after the text was handed over, then a clean short turn."""
    rng = random.Random(f"barge-{driver.name}-{profile}")
    turns: list[Turn] = []
    for k in range(BARGE_SEEDS + 1):
        cut = f"Seed {k} says: please hold on while I look that up for you, thanks."
        clean = f"Ready {k}."
        assert text_key(cut, driver.voice) != text_key(clean, driver.voice)  # distinct audio
        delay = rng.uniform(0.0, CUT_MAX_S)
        turns.append(Turn(turn(cut).tokens, barge_in_after_s=delay, cancel_task=k == BARGE_SEEDS))
        turns.append(turn(clean))
    return turns


@pytest.mark.parametrize("profile", ALL_PROFILES)
async def test_barge_in_around_first_audio(
    emu: Emulator, driver: Driver, profile: str, record_property
):
    """Barge-in or task cancel 0-100 ms after the text, frames in flight: next turn exact"""
    if driver.name == "pipecat":
        record_property("note", "a task cancel is an InterruptionFrame (it cancels the task)")
    turns = _barge_plan(driver, profile)
    results = await driver.tts_turns(
        emu, turns, api_key=key(profile, ttfb_ms=60, speed=1), timeout_s=3.0
    )
    records = ws_records(emu)
    for n in range(0, len(turns), 2):
        cut, clean = results[n], results[n + 1]
        _clean_after_cut(emu, records, turns[n], cut, turns[n + 1], clean)


def _clean_after_cut(
    emu: Emulator,
    records: list,
    cut_turn: Turn,
    cut: TurnResult,
    clean_turn: Turn,
    clean: TurnResult,
) -> None:
    assert cut.error is None, cut.error
    cut_records = [
        r for r in records if r.text.strip() and cut_turn.text.startswith(r.text.strip())
    ]
    for rec in cut_records:
        assert bytes(rec.pcm).startswith(cut.audio) or not cut.audio, "played audio is foreign"
    assert clean.error is None, f"the turn after the cut failed: {clean.error}"
    own = [r for r in records if r.text.strip() == clean_turn.text and r.bytes_sent]
    assert own, f"the emulator spoke nothing for {clean_turn.text!r}"
    for rec in cut_records:
        assert_no_stale_window(bytes(rec.pcm), clean.audio)
    assert clean.audio == expected_pcm(own[-1]), "the clean turn is not exactly its own audio"
