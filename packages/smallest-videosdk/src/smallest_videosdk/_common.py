"""Shared by the TTS and STT classes: API root, key, headers, refused upgrades, bounded
reads of error bodies and the text of a reported error."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    ApiKey,
    Endpoints,
    SmallestError,
    auth_headers,
    resolve_api_key,
)
from smallest_core.errors import error_from_http
from smallest_videosdk._version import __version__

_logger = logging.getLogger("smallest_videosdk")
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


async def refused_upgrade(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    exc: aiohttp.WSServerHandshakeError,
    what: str,
) -> SmallestError:
    """The error for a refused upgrade, with the server's own message.

    aiohttp drops the refusal's body, so it is read again with one plain request
    (bounded); when that fails too, the status alone describes the error.
    """
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
        ) as resp:
            if resp.status >= 400:
                body = await read_bounded(resp, MAX_ERROR_BODY_BYTES)
                return error_from_http(resp.status, body, dict(resp.headers))
    except (TimeoutError, aiohttp.ClientError, OSError) as read_error:
        _logger.debug("could not re-read the refusal body: %s", type(read_error).__name__)
    refused = f"the server refused the {what} WebSocket with HTTP {exc.status}"
    return error_from_http(exc.status, refused, dict(exc.headers or {}))


async def read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of the body (the rest is never read into memory)."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = await resp.content.read(limit - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def describe(error: SmallestError) -> str:
    """The error's (already redacted) text, with the HTTP status when it lacks one."""
    status = error.status_code
    if status is not None and str(status) not in error.message:
        return f"{error.message} (HTTP {status})"
    return error.message
