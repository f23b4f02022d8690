"""Map the core's :class:`SmallestError` and transport failures onto LiveKit's API errors."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit

import aiohttp
from livekit.agents import APIConnectionError, APIError, APIStatusError, APITimeoutError

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    ErrorKind,
    SmallestError,
    TTSOptions,
    error_from_http,
    name_the_voice,
    redact,
)
from smallest_core.aio import read_bounded

from ._common import Connection
from .log import logger

_CORE_ERROR = "smallest_error"
"""Attribute holding the core error an :class:`APIError` was built from (for back-off)."""


def to_api_error(error: SmallestError, *, request_id: str | None = None) -> APIError:
    """The LiveKit error for a core error; ``retryable`` is the core's decision."""
    result: APIError
    if error.kind is ErrorKind.CONNECTION and error.status_code is None:
        result = APIConnectionError(error.message, retryable=error.retryable)
    elif error.kind is ErrorKind.TIMEOUT and error.status_code is None:
        result = APITimeoutError(error.message)
        result.retryable = error.retryable
    else:
        result = APIStatusError(
            error.message,
            status_code=error.status_code if error.status_code is not None else -1,
            request_id=error.request_id or request_id,
            body=error.body,
            retryable=error.retryable,
        )
    setattr(result, _CORE_ERROR, error)
    return result


def core_error(error: BaseException) -> SmallestError | None:
    """The core error behind a LiveKit error made by :func:`to_api_error`, if any."""
    found = getattr(error, _CORE_ERROR, None)
    return found if isinstance(found, SmallestError) else None


async def http_error(resp: aiohttp.ClientResponse, options: TTSOptions | None = None) -> APIError:
    """The LiveKit error for a non-2xx response, with the server's own message (and, for a
    synthesis refused over its voice, the voice it was asked for)."""
    body = await read_bounded(resp, MAX_ERROR_BODY_BYTES)
    error = error_from_http(resp.status, body, dict(resp.headers))
    return to_api_error(name_the_voice(error, options) if options is not None else error)


def _reason(exc: BaseException) -> str:
    """The OS's words for a socket failure (``Connection refused``), else the exception's."""
    os_error = getattr(exc, "os_error", None) or exc
    errno = getattr(os_error, "errno", None)
    if isinstance(errno, int) and errno > 0:
        return os.strerror(errno)
    return redact(str(os_error)) or type(exc).__name__


def _host(exc: BaseException) -> str:
    """``host:port`` of a failed connection attempt, when aiohttp names it."""
    if not isinstance(exc, aiohttp.ClientConnectorError):
        return ""
    try:
        return f"{exc.host}:{exc.port}"
    except Exception:  # a partly built connection key cannot name itself
        return ""


def transport_error(exc: BaseException, what: str, *, url: str | None = None) -> APIError:
    """The LiveKit error for a transport failure: the host and the reason, never a header."""
    if isinstance(exc, APIError):
        return exc
    where = _host(exc) or (urlsplit(url).netloc if url else "")
    where = f" ({where})" if where else ""
    if isinstance(exc, asyncio.TimeoutError):
        return APITimeoutError(f"{what}{where}: timed out")
    return APIConnectionError(f"{what}{where}: {type(exc).__name__}: {_reason(exc)}")


async def refused_upgrade(conn: Connection, url: str, status: int) -> APIError:
    """The server refused a WebSocket upgrade: read its error body with a plain request."""
    try:
        async with conn.session().get(
            url, headers=conn.headers(), timeout=aiohttp.ClientTimeout(total=5)
        ) as resp:
            if resp.status >= 400:
                return await http_error(resp)
    except (TimeoutError, aiohttp.ClientError, OSError) as read_error:
        logger.debug("could not re-read the refusal body: %s", type(read_error).__name__)
    return to_api_error(error_from_http(status, None))
