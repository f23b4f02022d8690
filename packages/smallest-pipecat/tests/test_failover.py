"""Pipecat's ServiceSwitcher over two Smallest services on two emulators: a refused
primary fails over to the backup, and back once it recovers; every utterance is played
exactly once, by the service that spoke it, and no socket is left open."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pipecat.frames.frames import ManuallySwitchServiceFrame, TTSSpeakFrame
from pipecat.pipeline.service_switcher import ServiceSwitcher, ServiceSwitcherStrategyFailover
from pipecat_pipeline import Harness
from tts_common import make_tts

from smallest_emulator import Emulator, EmulatorConfig
from smallest_pipecat import SmallestLightningV4TTSService

FIRST = "The backup speaks while the primary is refused."
SECOND = "The primary is back and speaks this one."


@pytest.fixture
async def second_emulator() -> AsyncIterator[Emulator]:
    async with Emulator(EmulatorConfig(speed=20.0)) as emu:
        yield emu


def spoken(emu: Emulator, text: str) -> list[bytes]:
    return [bytes(r.pcm) for r in emu.tts_log if r.text.strip() == text]


async def test_failover_to_the_backup_and_back(
    default_emulator: Emulator, second_emulator: Emulator
) -> None:
    primary_emu, backup_emu = default_emulator, second_emulator
    primary_emu.config.v4_access = False  # the account has no Lightning v4 (yet)
    primary = SmallestLightningV4TTSService(api_key="sk_test", base_url=primary_emu.base_url)
    backup = make_tts(backup_emu)
    usable: list[bool] = []

    @primary.event_handler("on_usable_changed")
    async def on_usable_changed(_service: object, is_usable: bool) -> None:
        usable.append(is_usable)

    switcher = ServiceSwitcher(
        services=[primary, backup], strategy_type=ServiceSwitcherStrategyFailover
    )
    async with Harness(switcher) as h:
        await h.wait_for(lambda: switcher.strategy.active_service is backup)
        await h.send(TTSSpeakFrame(FIRST))
        await h.wait_for(lambda: len(h.stops()) == 1)
        primary_emu.config.v4_access = True  # access granted: bring the primary back
        await primary.set_usable(True)
        await h.send(ManuallySwitchServiceFrame(service=primary), TTSSpeakFrame(SECOND))
        await h.wait_for(lambda: len(h.stops()) == 2)
        await h.end()
    assert usable == [False, True]  # refused (model_access_denied), then brought back
    first, second = h.context_ids()
    assert spoken(backup_emu, FIRST) == [h.audio(first)] and not spoken(primary_emu, FIRST)
    assert spoken(primary_emu, SECOND) == [h.audio(second)] and not spoken(backup_emu, SECOND)
    assert h.audio() == h.audio(first) + h.audio(second)  # nothing lost, nothing twice
    assert primary_emu.ws_connections.open_now == 0
    assert backup_emu.ws_connections.open_now == 0
    assert primary.connections_opened == 2 and backup.connections_opened == 1
