import pytest

from smallest_core import ApiKey, Endpoints, auth_headers, resolve_api_key, resolve_base_url
from smallest_core.endpoints import LOCAL_PLACEHOLDER_KEY


def test_default_and_env_base_url(monkeypatch):
    monkeypatch.delenv("SMALLEST_BASE_URL", raising=False)
    assert resolve_base_url() == "https://api.smallest.ai"
    monkeypatch.setenv("SMALLEST_BASE_URL", "http://127.0.0.1:8080/")
    assert resolve_base_url() == "http://127.0.0.1:8080"
    assert resolve_base_url("https://api.us.smallest.ai") == "https://api.us.smallest.ai"


def test_urls_derive_from_one_root():
    ep = Endpoints.resolve("https://api.smallest.ai")
    assert ep.tts_http == "https://api.smallest.ai/waves/v1/tts"
    assert ep.tts_sse == "https://api.smallest.ai/waves/v1/tts/live"
    assert ep.tts_ws() == "wss://api.smallest.ai/waves/v1/tts/live"
    assert ep.tts_ws(idle_timeout_s=300) == "wss://api.smallest.ai/waves/v1/tts/live?timeout=300"
    assert ep.stt_ws({"model": "pulse"}) == "wss://api.smallest.ai/waves/v1/stt/live?model=pulse"
    assert ep.stt_ws({"model": "pulse", "language": "en"}, legacy=True) == (
        "wss://api.smallest.ai/waves/v1/pulse/get_text?language=en"
    )
    assert ep.stt_http({"model": "pulse"}) == "https://api.smallest.ai/waves/v1/stt/?model=pulse"
    assert (
        ep.voices("lightning_v3.1") == "https://api.smallest.ai/waves/v1/lightning-v3.1/get_voices"
    )
    local = Endpoints.resolve("http://127.0.0.1:9")
    assert local.tts_ws() == "ws://127.0.0.1:9/waves/v1/tts/live"
    assert local.is_local


@pytest.mark.parametrize(
    "bad", ["ftp://x", "api.smallest.ai", "https://u:p@host", "https://h/?q=1"]
)
def test_bad_base_urls(bad):
    with pytest.raises(ValueError):
        resolve_base_url(bad)


def test_key_resolution_and_redaction(monkeypatch):
    monkeypatch.delenv("SMALLEST_API_KEY", raising=False)
    with pytest.raises(ValueError, match="SMALLEST_API_KEY"):
        resolve_api_key(None, "https://api.smallest.ai")
    assert resolve_api_key(None, "http://127.0.0.1:1").reveal() == LOCAL_PLACEHOLDER_KEY
    monkeypatch.setenv("SMALLEST_API_KEY", "sk_secret_value")
    key = resolve_api_key(None, "https://api.smallest.ai")
    assert key.reveal() == "sk_secret_value"
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert "sk_secret_value" not in text
    headers = auth_headers(key, source="smallest-livekit", version="0.1.0")
    assert headers["Authorization"] == "Bearer sk_secret_value"
    assert headers["X-Source"] == "smallest-livekit"


def test_plain_http_to_a_remote_host_is_refused():
    with pytest.raises(ValueError, match="plain http") as info:
        resolve_api_key("sk_secret_value", "http://example.com")
    assert "sk_secret_value" not in str(info.value)
    assert resolve_api_key("sk_x", "http://localhost:8000").reveal() == "sk_x"
    assert resolve_api_key(ApiKey("sk_y"), "http://[::1]:8000").reveal() == "sk_y"


@pytest.mark.parametrize("language", ["ja", "zh", "ko", "yue", "multi-asian"])
def test_east_asian_streaming_goes_to_the_us_host(language):
    public = Endpoints.resolve("https://api.smallest.ai")
    assert public.for_stt_language(language).base_url == "https://api.us.smallest.ai"
    with pytest.raises(ValueError, match=r"only from the us host \(https://api.us"):
        public.for_stt_language(language, "india")


@pytest.mark.parametrize("language", ["ta", "te", "kn", "ml", "multi-south-indic"])
def test_south_indic_streaming_stays_on_the_india_host(language):
    us = Endpoints.resolve("https://api.us.smallest.ai")
    assert us.for_stt_language(language).base_url == "https://api.smallest.ai"
    with pytest.raises(ValueError, match="only from the india host"):
        us.for_stt_language(language, "us")


def test_a_custom_root_is_kept_and_regions_are_checked():
    local = Endpoints.resolve("http://127.0.0.1:8080")
    assert local.for_stt_language("ja") is local
    public = Endpoints.resolve(None)
    assert public.for_stt_language("en", "us").base_url == "https://api.us.smallest.ai"
    assert public.for_stt_language("en") is public
    with pytest.raises(ValueError, match="allowed: auto, india, us"):
        public.for_stt_language("en", "eu")
