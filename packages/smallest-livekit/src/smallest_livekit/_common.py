"""Endpoints, keys and the HTTP session shared by the TTS and STT classes."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import aiohttp
from livekit.agents import utils

from smallest_core import ApiKey, Endpoints, auth_headers, resolve_api_key

from ._version import __version__

SOURCE = "smallest-livekit"
EXPIRE_CONTENT_HEADER = "x-expire-content"
"""Enterprise opt-in: the server deletes the request's content after 7 days."""
_API_SUFFIXES = ("/waves/v1/tts/live", "/waves/v1/stt/live", "/waves/v1")


def api_root(base_url: str | None, ws_url: str | None = None) -> str | None:
    """Accept the official plugin's URL forms (``.../waves/v1``, a ``wss://`` URL)."""
    raw = base_url or ws_url
    if raw is None:
        return None
    parts = urlsplit(raw.strip())
    path = parts.path.rstrip("/")
    for suffix in _API_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class Connection:
    """Where to connect and how to authenticate (the key never leaves the headers)."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        http_session: aiohttp.ClientSession | None,
        *,
        expire_content: bool = False,
    ) -> None:
        self.endpoints = Endpoints.resolve(base_url)
        self._expire_content = expire_content
        self._key: ApiKey = resolve_api_key(api_key, self.endpoints.base_url)
        self._session = http_session

    def headers(self) -> dict[str, str]:
        """Authorization and attribution headers (and the content-expiry opt-in)."""
        headers = auth_headers(self._key, source=SOURCE, version=__version__)
        if self._expire_content:
            headers[EXPIRE_CONTENT_HEADER] = "true"
        return headers

    def session(self) -> aiohttp.ClientSession:
        """The caller's session, else the job's shared one (``utils.http_context``)."""
        if self._session is None:
            self._session = utils.http_context.http_session()
        return self._session

    def __repr__(self) -> str:
        return f"Connection(base_url={self.endpoints.base_url!r}, api_key={self._key!r})"
