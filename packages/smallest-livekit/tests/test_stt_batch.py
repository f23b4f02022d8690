"""Batch recognition over HTTP."""

from __future__ import annotations

import pytest
from livekit.agents import APIConnectOptions, APIStatusError
from livekit_kit import key
from stt_audio import frames, utterance

from smallest_emulator import Emulator
from smallest_livekit import STT


async def test_recognize_returns_the_transcript(emu: Emulator) -> None:
    engine = STT(api_key=key(transcript="batch words here"), base_url=emu.base_url)
    event = await engine.recognize(frames(utterance("batch words here")))
    alt = event.alternatives[0]
    assert alt.text == "batch words here"
    assert [str(w) for w in alt.words or []] == ["batch", "words", "here"]
    assert emu.stt_log[-1].params["model"] == "pulse"


@pytest.mark.parametrize(
    ("api_key", "status", "retryable"),
    [
        ("sk_invalid", 401, False),
        (key(http_status=429), 429, True),
        (key(http_status=503), 503, True),
    ],
)
async def test_recognize_errors_keep_the_server_body(
    emu: Emulator, api_key: str, status: int, retryable: bool
) -> None:
    engine = STT(api_key=api_key, base_url=emu.base_url)
    with pytest.raises(APIStatusError) as info:
        await engine.recognize(frames(utterance("x")), conn_options=APIConnectOptions(max_retry=0))
    assert info.value.status_code == status and info.value.retryable is retryable
    assert info.value.body is not None and info.value.message
    assert "sk_invalid" not in repr(info.value)


def test_streaming_needs_pulse() -> None:
    engine = STT(api_key="sk_x", model="pulse-pro")
    assert not engine.capabilities.streaming
    with pytest.raises(ValueError, match="streaming"):
        engine.stream()
    with pytest.raises(ValueError):
        STT(api_key="sk_x", sample_rate=12345)
