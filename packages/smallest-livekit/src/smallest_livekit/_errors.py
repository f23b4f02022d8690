"""Map the core's :class:`SmallestError` and transport failures onto LiveKit's API errors."""

from __future__ import annotations

import asyncio

import aiohttp
from livekit.agents import APIConnectionError, APIError, APIStatusError, APITimeoutError

from smallest_core import ErrorKind, SmallestError
from smallest_core.errors import error_from_http

from ._common import Connection
from .log import logger


def to_api_error(error: SmallestError, *, request_id: str | None = None) -> APIError:
    """The LiveKit error for a core error; ``retryable`` is the core's decision."""
    if error.kind is ErrorKind.CONNECTION and error.status_code is None:
        return APIConnectionError(error.message, retryable=error.retryable)
    if error.kind is ErrorKind.TIMEOUT and error.status_code is None:
        timeout = APITimeoutError(error.message)
        timeout.retryable = error.retryable
        return timeout
    return APIStatusError(
        error.message,
        status_code=error.status_code if error.status_code is not None else -1,
        request_id=error.request_id or request_id,
        body=error.body,
        retryable=error.retryable,
    )


async def http_error(resp: aiohttp.ClientResponse) -> APIError:
    """The LiveKit error for a non-2xx response, with the server's own message."""
    body = await resp.read()
    return to_api_error(error_from_http(resp.status, body, dict(resp.headers)))


def transport_error(exc: BaseException, what: str) -> APIError:
    """The LiveKit error for a transport failure (never carries request headers)."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, asyncio.TimeoutError):
        return APITimeoutError(f"{what}: timed out")
    return APIConnectionError(f"{what}: {type(exc).__name__}")


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
