"""Audio integrity: every turn's audio is byte-for-byte what the emulator produced for it.

Runs under EVERY emulator profile (multi-complete, per-burst and close-after-complete included).
"""

from __future__ import annotations

import random

import pytest
from drivers import Driver, Turn, sockets_settle, turn

from conftest import ALL_PROFILES, SUBSET, expected_pcm, key, turn_records
from smallest_emulator import Emulator

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
