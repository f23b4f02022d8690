"""SmallestAISTT regions: the language picks the host that streams it; impossible pairs fail."""

from __future__ import annotations

import pytest
from videosdk.agents import audio_format
from videosdk_kit import bounded, make_stt
from videosdk_stt_kit import Collector, feed, silence, speech

from smallest_core import DEFAULT_BASE_URL, US_BASE_URL
from smallest_emulator import Emulator
from smallest_videosdk import SmallestAISTT


@pytest.mark.parametrize(
    ("language", "region", "host"),
    [
        ("en", "auto", DEFAULT_BASE_URL),
        ("en", "us", US_BASE_URL),
        ("en", "india", DEFAULT_BASE_URL),
        ("ja", "auto", US_BASE_URL),
        ("multi-asian", "us", US_BASE_URL),
        ("ta", "auto", DEFAULT_BASE_URL),
        ("ta", "india", DEFAULT_BASE_URL),
    ],
)
def test_the_language_is_routed_to_the_host_that_streams_it(
    language: str, region: str, host: str
) -> None:
    stt = SmallestAISTT(api_key="sk_x", language=language, region=region)
    assert stt.base_url == host


@pytest.mark.parametrize(
    ("language", "region", "host"),
    [("ja", "india", US_BASE_URL), ("ko", "india", US_BASE_URL), ("ta", "us", DEFAULT_BASE_URL)],
)
def test_a_region_that_cannot_stream_the_language_fails_naming_the_host(
    language: str, region: str, host: str
) -> None:
    with pytest.raises(ValueError, match=host.replace(".", r"\.")):
        SmallestAISTT(api_key="sk_x", language=language, region=region)


def test_an_unknown_region_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="auto, india, us"):
        SmallestAISTT(api_key="sk_x", region="eu")


def test_at_most_100_keywords() -> None:
    SmallestAISTT(api_key="sk_x", keywords=[f"term{i}" for i in range(100)])
    with pytest.raises(ValueError, match="at most 100 keywords"):
        SmallestAISTT(api_key="sk_x", keywords=[f"term{i}" for i in range(101)])


async def test_a_custom_api_root_is_kept_whatever_the_region(emu: Emulator) -> None:
    audio_format.publish(16000, 1)
    stt = make_stt(emu, language="ja", region="auto", overrides={"transcript": "konnichiwa"})
    assert stt.base_url == emu.base_url
    got = Collector(stt)
    await feed(stt, speech(0.6, 16000) + silence(0.2, 16000), 16000)
    await bounded(stt.aclose())
    assert [f.data.text for f in got.finals()] == ["konnichiwa"]
    assert emu.stt_log[0].params["language"] == "ja"
