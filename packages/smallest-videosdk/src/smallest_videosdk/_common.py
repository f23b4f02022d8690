"""Configuration shared by the TTS and STT classes: API root, key, headers."""

from __future__ import annotations

from dataclasses import dataclass

from smallest_core import ApiKey, Endpoints, auth_headers, resolve_api_key
from smallest_videosdk._version import __version__

SOURCE = "smallest-videosdk"
_OFFICIAL_SUFFIX = "/waves/v1"


def api_root(base_url: str | None) -> str | None:
    """Accept the official plugin's ``https://api.smallest.ai/waves/v1`` form too."""
    if base_url is None:
        return None
    trimmed = base_url.strip().rstrip("/")
    if trimmed.endswith(_OFFICIAL_SUFFIX):
        trimmed = trimmed[: -len(_OFFICIAL_SUFFIX)]
    return trimmed


@dataclass(frozen=True, slots=True)
class Account:
    """Where to connect and how to authenticate (the key never appears in ``repr``)."""

    endpoints: Endpoints
    key: ApiKey

    @classmethod
    def resolve(cls, api_key: str | None, base_url: str | None) -> Account:
        endpoints = Endpoints.resolve(api_root(base_url))
        return cls(endpoints, resolve_api_key(api_key, endpoints.base_url))

    def headers(self) -> dict[str, str]:
        return auth_headers(self.key, source=SOURCE, version=__version__)
