"""Regions: the host that serves a language is chosen for it; impossible pairs fail early."""

from __future__ import annotations

import pytest
from livekit_kit import key
from stt_audio import frames, utterance

from smallest_core import DEFAULT_BASE_URL, US_BASE_URL
from smallest_emulator import Emulator
from smallest_livekit import STT

KEY = "sk_region_test"


@pytest.mark.parametrize(
    ("language", "region", "host"),
    [
        ("ja", "auto", US_BASE_URL),
        ("zh", "us", US_BASE_URL),
        ("ta", "auto", DEFAULT_BASE_URL),
        ("ml", "india", DEFAULT_BASE_URL),
        ("en", "auto", DEFAULT_BASE_URL),
        ("en", "us", US_BASE_URL),
        ("hi", "india", DEFAULT_BASE_URL),
    ],
)
def test_the_language_picks_its_host(language: str, region: str, host: str) -> None:
    engine = STT(api_key=KEY, language=language, region=region)
    assert engine.endpoints().base_url == host
    assert (
        engine.endpoints()
        .stt_ws({"language": language})
        .startswith(host.replace("https", "wss") + "/waves/v1/stt/live?")
    )


@pytest.mark.parametrize(
    ("language", "region", "host"),
    [("ja", "india", US_BASE_URL), ("ko", "india", US_BASE_URL), ("ta", "us", DEFAULT_BASE_URL)],
)
def test_an_impossible_pair_names_the_host_that_serves_it(
    language: str, region: str, host: str
) -> None:
    with pytest.raises(ValueError, match=host.replace(".", r"\.")):
        STT(api_key=KEY, language=language, region=region)


def test_unknown_region_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="auto, india, us"):
        STT(api_key=KEY, region="eu")


def test_a_language_change_the_region_cannot_serve_is_refused() -> None:
    engine = STT(api_key=KEY, region="us")
    with pytest.raises(ValueError, match=DEFAULT_BASE_URL.replace(".", r"\.")):
        engine.update_options(language="te")
    assert engine.options.language == "en"  # nothing changed
    with pytest.raises(ValueError, match="region"):
        engine.stream(language="kn")
    engine.update_options(language="ja")
    assert engine.endpoints().base_url == US_BASE_URL


def test_auto_follows_a_language_change() -> None:
    engine = STT(api_key=KEY)
    assert engine.endpoints().base_url == DEFAULT_BASE_URL
    engine.update_options(language="ko")
    assert engine.endpoints().base_url == US_BASE_URL


def test_keywords_are_capped_at_one_hundred() -> None:
    terms = [f"term{i}" for i in range(100)]
    STT(api_key=KEY, keywords=terms)
    with pytest.raises(ValueError, match="at most 100 keywords"):
        STT(api_key=KEY, keywords=[*terms, "one-more"])
    engine = STT(api_key=KEY, keywords=terms[:3])
    with pytest.raises(ValueError, match="at most 100 keywords"):
        engine.update_options(keywords=[*terms, "one-more"])
    assert [t for t, _ in engine.options.keywords] == terms[:3]


async def test_a_custom_root_is_kept_for_any_language(emu: Emulator) -> None:
    """The emulator stands in for every host: auto routing never leaves it."""
    engine = STT(api_key=key(transcript="hello big world"), base_url=emu.base_url, language="ja")
    assert engine.endpoints().base_url == emu.base_url
    stream = engine.stream()
    for frame in frames(utterance("hello big world")):
        stream.push_frame(frame)
    stream.end_input()
    _ = [ev async for ev in stream]
    await stream.aclose()
    assert emu.stt_log[-1].params["language"] == "ja"
