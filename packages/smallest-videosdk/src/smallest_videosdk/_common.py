"""Shared by the TTS and STT classes: API root, key, headers, refused upgrades, bounded
reads of error bodies and the text of a reported error."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    MAX_FRAME_BYTES,
    ApiKey,
    Endpoints,
    SmallestError,
    auth_headers,
    connection_error,
    error_from_http,
    resolve_api_key,
)
from smallest_core.aio import read_bounded
from smallest_videosdk._version import __version__

_logger = logging.getLogger("smallest_videosdk")
SOURCE = "smallest-videosdk"
_OFFICIAL_SUFFIX = "/waves/v1"
EXPIRE_CONTENT_HEADER = "x-expire-content"


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
    expire_content: bool = False
    """Ask the service to delete request content after 7 days (an Enterprise opt-in)."""

    @classmethod
    def resolve(
        cls,
        api_key: str | None,
        base_url: str | None,
        *,
        stt_language: str | None = None,
        region: str = "auto",
        expire_content: bool = False,
    ) -> Account:
        """With ``stt_language``, the public API root is switched to the region's host
        that streams it (``ValueError`` naming that host when ``region`` cannot)."""
        endpoints = Endpoints.resolve(api_root(base_url))
        if stt_language is not None:
            endpoints = endpoints.for_stt_language(stt_language, region)
        return cls(endpoints, resolve_api_key(api_key, endpoints.base_url), expire_content)

    def headers(self) -> dict[str, str]:
        headers = auth_headers(self.key, source=SOURCE, version=__version__)
        if self.expire_content:
            headers[EXPIRE_CONTENT_HEADER] = "true"
        return headers


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


def describe(error: SmallestError) -> str:
    """The error's (already redacted) text, with the HTTP status when it lacks one."""
    status = error.status_code
    if status is not None and str(status) not in error.message:
        return f"{error.message} (HTTP {status})"
    return error.message


async def connect_ws(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    connect_timeout: float,
    service: str,
    label: str,
) -> aiohttp.ClientWebSocketResponse:
    """Open a WebSocket to ``service`` (``"TTS"``, ``"STT"``, ``"Lightning v4"``); a refused
    upgrade raises :class:`SmallestError` with the server's own message, a timeout or a
    network failure a connection error naming ``label`` (e.g. ``"the TTS WebSocket"``)."""
    try:
        return await asyncio.wait_for(
            session.ws_connect(url, headers=headers, heartbeat=30.0, max_msg_size=MAX_FRAME_BYTES),
            connect_timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise await refused_upgrade(session, url, headers, exc, service) from None
    except TimeoutError:
        message = f"connecting to {label} timed out after {connect_timeout:g}s"
        raise connection_error(message) from None
    except aiohttp.ClientError as exc:
        raise connection_error(f"cannot connect to {label}: {exc}") from None
