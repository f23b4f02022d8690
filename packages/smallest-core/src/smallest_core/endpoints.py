"""One API root, every URL derived from it; the API key and the headers that carry it.

``base_url`` comes from the argument, else ``SMALLEST_BASE_URL``, else
``https://api.smallest.ai``. WebSocket URLs use the matching scheme (http→ws,
https→wss). The key comes from the argument, else ``SMALLEST_API_KEY``; it travels only
in the ``Authorization`` header and is redacted from every ``repr``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from smallest_core import catalog
from smallest_core.redaction import remember_secret

DEFAULT_BASE_URL = "https://api.smallest.ai"
US_BASE_URL = "https://api.us.smallest.ai"
"""The US host (Oregon); the default host is served from India."""
Region = Literal["auto", "india", "us"]
REGIONS: tuple[str, ...] = ("auto", "india", "us")
_REGION_HOSTS = {"india": DEFAULT_BASE_URL, "us": US_BASE_URL}
BASE_URL_ENV = "SMALLEST_BASE_URL"
API_KEY_ENV = "SMALLEST_API_KEY"
LOCAL_PLACEHOLDER_KEY = "sk_local"
"""Used when no key is configured and the API root is on this machine (the emulator)."""

_WS_SCHEME = {"http": "ws", "https": "wss"}
_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


class ApiKey:
    """An API key that never shows itself in ``repr``, ``str``, logs or tracebacks.

    A key with control characters (CR/LF would inject a header) is refused at
    construction.
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or not secret.strip():
            raise ValueError("the API key must be a non-empty string")
        secret = secret.strip()
        if not secret.isprintable():
            raise ValueError(
                "the API key must not contain control characters (CR, LF, tab, ...): "
                "check how it was copied"
            )
        self._secret = secret
        remember_secret(secret)

    def reveal(self) -> str:
        """The secret itself, for building the ``Authorization`` header only."""
        return self._secret

    def __repr__(self) -> str:
        return "ApiKey('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(self._secret)


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None = None) -> str:
    """The API root to use: argument, then ``SMALLEST_BASE_URL``, then the public API."""
    raw = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    parts = urlsplit(raw.strip())
    scheme = _HTTP_SCHEME.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {raw!r}"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("base_url must not carry credentials, a query or a fragment")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def resolve_api_key(api_key: str | ApiKey | None, base_url: str) -> ApiKey:
    """The key to use: argument, then ``SMALLEST_API_KEY``.

    With neither, a placeholder is used when ``base_url`` is a loopback address (a local
    emulator needs no real key); otherwise ``ValueError``. Sending a real key over plain
    ``http://`` to a host that is not loopback is refused.
    """
    if isinstance(api_key, ApiKey):
        key: ApiKey | None = api_key
    else:
        raw = api_key or os.environ.get(API_KEY_ENV)
        key = ApiKey(raw) if raw else None
    parts = urlsplit(base_url)
    local = is_loopback_host(parts.hostname)
    if key is None:
        if local:
            return ApiKey(LOCAL_PLACEHOLDER_KEY)
        raise ValueError(
            f"no Smallest API key: pass api_key=... or set {API_KEY_ENV} "
            f"(or point base_url / {BASE_URL_ENV} at a local emulator)"
        )
    if parts.scheme == "http" and not local:
        raise ValueError(
            f"refusing to send the API key over plain http:// to {parts.hostname!r}; "
            "use https:// (plain http is allowed only for loopback hosts such as the emulator)"
        )
    return key


def auth_headers(key: ApiKey, *, source: str, version: str) -> dict[str, str]:
    """Headers for every HTTP request and WebSocket upgrade: Bearer auth + attribution."""
    return {
        "Authorization": f"Bearer {key.reveal()}",
        "X-Source": source,
        "X-Source-Version": version,
    }


def _with_query(url: str, query: Mapping[str, str] | None) -> str:
    if not query:
        return url
    return f"{url}?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Every Waves URL, derived from one API root."""

    base_url: str

    @classmethod
    def resolve(cls, base_url: str | None = None) -> Endpoints:
        """Endpoints for ``base_url`` (or ``SMALLEST_BASE_URL``, or the public API)."""
        return cls(resolve_base_url(base_url))

    def for_stt_language(self, language: str, region: str = "auto") -> Endpoints:
        """The endpoints that can stream ``language`` in ``region``.

        East-Asian languages stream only from the US host, South-Indic ones only from the
        India host (the default). With ``region="auto"`` the public API root is switched
        to the host that serves the language; a custom root (an emulator, a proxy) is
        kept as it is. A region that cannot serve the language is a ``ValueError``.
        """
        catalog.check_choice("region", region, REGIONS)
        needed = None
        if language in catalog.STT_US_ONLY_LANGUAGES:
            needed = "us"
        elif language in catalog.STT_INDIA_ONLY_LANGUAGES:
            needed = "india"
        if needed is not None and region not in ("auto", needed):
            raise ValueError(
                f"STT language {language!r} streams only from the {needed} host "
                f"({_REGION_HOSTS[needed]}), not region={region!r}: "
                f"use region={needed!r} or 'auto'"
            )
        target = needed or (region if region != "auto" else None)
        if target is None or self.base_url not in _REGION_HOSTS.values():
            return self
        return Endpoints(_REGION_HOSTS[target])

    @property
    def ws_base(self) -> str:
        parts = urlsplit(self.base_url)
        return urlunsplit((_WS_SCHEME[parts.scheme], parts.netloc, parts.path, "", ""))

    @property
    def is_local(self) -> bool:
        return is_loopback_host(urlsplit(self.base_url).hostname)

    # TTS ------------------------------------------------------------------------
    @property
    def tts_http(self) -> str:
        """``POST /waves/v1/tts``: synthesis with the audio as the response body."""
        return f"{self.base_url}/waves/v1/tts"

    def tts_http_for(self, model: str) -> str:
        """The sync synthesis route for ``model``: ``/waves/v1/tts``, or the per-model
        ``/waves/v1/{model}/get_speech`` for models only served there (Lightning v3.2)."""
        model = catalog.normalize_tts_model(model)
        if model in catalog.HTTP_ONLY_TTS_MODELS:
            return f"{self.base_url}/waves/v1/{catalog.tts_model_path_id(model)}/get_speech"
        return self.tts_http

    @property
    def tts_sse(self) -> str:
        """``POST /waves/v1/tts/live``: synthesis as Server-Sent Events."""
        return f"{self.base_url}/waves/v1/tts/live"

    def tts_ws(self, *, idle_timeout_s: int | None = None) -> str:
        """``WS /waves/v1/tts/live``, with the documented ``?timeout=`` idle override."""
        query = {"timeout": str(idle_timeout_s)} if idle_timeout_s else None
        return _with_query(f"{self.ws_base}/waves/v1/tts/live", query)

    def voices(self, model: str = catalog.LIGHTNING_V3_1) -> str:
        """``GET /waves/v1/{model}/get_voices`` (hyphen model form in the path)."""
        return f"{self.base_url}/waves/v1/{catalog.tts_model_path_id(model)}/get_voices"

    # STT ------------------------------------------------------------------------
    def stt_ws(self, query: Mapping[str, str] | None = None, *, legacy: bool = False) -> str:
        """``WS /waves/v1/stt/live`` (or the legacy ``/waves/v1/pulse/get_text``)."""
        path = "/waves/v1/pulse/get_text" if legacy else "/waves/v1/stt/live"
        if legacy and query:
            query = {k: v for k, v in query.items() if k != "model"}
        return _with_query(f"{self.ws_base}{path}", query)

    def stt_http(self, query: Mapping[str, str] | None = None, *, legacy: bool = False) -> str:
        """``POST /waves/v1/stt/`` (or the legacy ``/waves/v1/pulse/get_text``)."""
        path = "/waves/v1/pulse/get_text" if legacy else "/waves/v1/stt/"
        if legacy and query:
            query = {k: v for k, v in query.items() if k != "model"}
        return _with_query(f"{self.base_url}{path}", query)
