"""TTS WebSocket policy: profiles resolve to strategies; switch changes apply between turns."""

from __future__ import annotations

import aiohttp
import pytest
from emulator_kit import AUTH, collect_until_complete, fast_config, msg

from smallest_emulator import PROFILES, Emulator, EmulatorConfig
from smallest_emulator.records import TtsRecord
from smallest_emulator.tts_common import TtsParams
from smallest_emulator.tts_policy import PerBurst, PerContext, PerRelease, TtsPolicy
from smallest_emulator.tts_ws_context import Context
from smallest_emulator.voices import DOCUMENTED_WORD_TIMESTAMP_VOICES

_COMPLETION = {"per-context": PerContext, "per-release": PerRelease, "per-burst": PerBurst}


def _ctx(key: str | None) -> Context:
    return Context(key, TtsRecord("ws", "conn", key), TtsParams("magnus"))


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_resolves_to_its_strategies(profile: str) -> None:
    cfg = EmulatorConfig().apply_profile(profile)
    policy = TtsPolicy.of(cfg)
    assert isinstance(policy.completion, _COMPLETION[cfg.complete_mode])
    assert policy.cancel.ends_context == cfg.cancel_ends_context
    assert policy.cancel.acknowledged == (cfg.cancel_ack == "complete")
    assert policy.cancel.inflight_chunks == cfg.cancel_inflight_chunks
    assert policy.legacy_complete == (cfg.complete_format == "legacy")
    assert policy.error_shape == cfg.error_shape
    ids = policy.ids("ws_1", _ctx("c1"), "task_1")
    assert ("context_id" in ids) == cfg.echo_context_id


def test_policy_is_memoised_and_follows_mutation() -> None:
    cfg = EmulatorConfig()
    assert TtsPolicy.of(cfg) is TtsPolicy.of(EmulatorConfig())
    before = TtsPolicy.of(cfg)
    cfg.complete_format = "legacy"
    assert TtsPolicy.of(cfg) is not before and TtsPolicy.of(cfg).legacy_complete


def test_per_release_is_per_context_without_context_id() -> None:
    policy = TtsPolicy.of(EmulatorConfig(complete_mode="per-release"))
    assert isinstance(policy.completion_for(_ctx("c1")), PerRelease)
    assert isinstance(policy.completion_for(_ctx(None)), PerContext)


def test_flush_conflict_and_hold() -> None:
    policy = TtsPolicy.of(EmulatorConfig())
    assert policy.flush_conflict("c1", {"flush": True}) == (
        "context_id cannot be combined with flush"
    )
    assert policy.flush_conflict(None, {"flush": True}) is None
    assert (
        TtsPolicy.of(EmulatorConfig(context_rejects_flush=False)).flush_conflict(
            "c1", {"flush": True}
        )
        is None
    )
    assert policy.holds_until_flush(0) and not policy.holds_until_flush(10)
    assert not TtsPolicy.of(EmulatorConfig(buffer_flush_zero="release")).holds_until_flush(0)


def test_words_for_documented_voices_only() -> None:
    policy = TtsPolicy.of(EmulatorConfig())
    on = TtsParams("magnus", word_timestamps=True)
    assert not TtsPolicy.of(EmulatorConfig()).sends_words(TtsParams("magnus"))
    assert TtsPolicy.of(EmulatorConfig(word_timestamp_voices="all")).sends_words(on)
    assert policy.sends_words(on) == ("magnus" in DOCUMENTED_WORD_TIMESTAMP_VOICES)
    assert not policy.sends_words(TtsParams("magnus", language="fr", word_timestamps=True))


async def test_switch_changed_between_turns_applies_on_the_same_socket(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
        await ws.send_json(msg("First turn.", context_id="a"))
        first = await collect_until_complete(ws)
        emu.config.complete_format = "legacy"
        emu.config.echo_context_id = False
        await ws.send_json(msg("Second turn.", context_id="b"))
        second = await collect_until_complete(ws)
    assert first[-1] == {
        "status": "complete",
        "session_id": first[-1]["session_id"],
        "request_id": first[-1]["request_id"],
        "context_id": "a",
    }
    assert second[-1] == {
        "request_id": second[-1]["request_id"],
        "status": "complete",
        "message": "All chunks sent",
        "done": True,
    }
    assert emu.ws_connections.opened_total == 1


async def test_key_overrides_apply_to_their_connection_only(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config()) as emu:
        key = {"Authorization": "Bearer sk_test;profile=no-echo"}
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=key) as ws:
            await ws.send_json(msg("Overridden.", context_id="a", request_id="r1"))
            frames = await collect_until_complete(ws)
        async with http.ws_connect(emu.ws_url + "/waves/v1/tts/live", headers=AUTH) as ws:
            await ws.send_json(msg("Server config.", context_id="a", request_id="r1"))
            plain = await collect_until_complete(ws)
    assert all("context_id" not in f and "external_request_id" not in f for f in frames)
    assert all(f["context_id"] == "a" and f["external_request_id"] == "r1" for f in plain)
