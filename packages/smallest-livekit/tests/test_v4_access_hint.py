"""A Lightning v4 refusal for lack of access says how to get it (the core's hint)."""

from __future__ import annotations

import pytest
from livekit.agents import APIError
from livekit_kit import key, speak

from smallest_emulator import Emulator
from smallest_livekit import LightningV4TTS


async def test_a_refused_account_is_told_how_to_get_access(emu: Emulator) -> None:
    engine = LightningV4TTS(api_key=key(v4_access="false"), base_url=emu.base_url)
    try:
        with pytest.raises(APIError) as info:
            await speak(engine, ["Hello."])
    finally:
        await engine.aclose()
    message = info.value.message
    assert "this account has no Lightning v4 access" in message  # the server's words
    assert "enabled per account" in message and "ask Smallest AI for access" in message
