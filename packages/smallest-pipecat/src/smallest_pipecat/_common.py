"""Small helpers shared by the services: attribution, sample rates, voice listing."""

from __future__ import annotations

import logging

import aiohttp

from smallest_core import ApiKey, Endpoints, ErrorKind, SmallestError, Voice, auth_headers, catalog
from smallest_core.errors import error_from_http
from smallest_core.voices import parse_voices
from smallest_pipecat._version import __version__

PACKAGE = "smallest-pipecat"
_FALLBACK_RATE = 24000
_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)


class _RedactAuthorization(logging.Filter):
    """Hide the ``Authorization`` header in websockets' DEBUG dump of the upgrade request."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).lower() == "authorization":
            record.args = (args[0], "[redacted]")
        return True


WS_LOGGER = logging.getLogger("websockets.client.smallest_pipecat")
"""Passed as ``logger=`` to every socket: websockets' logging setup applies, the key never."""
WS_LOGGER.addFilter(_RedactAuthorization())


def check_sample_rate(sample_rate: int | None) -> None:
    """Reject a nonsensical output rate at construction."""
    if sample_rate is not None and (not isinstance(sample_rate, int) or sample_rate <= 0):
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")


def first_supported_rate(sample_rate: int) -> int:
    """``sample_rate`` if Lightning produces it, else 24000 (resampled locally)."""
    return sample_rate if sample_rate in catalog.TTS_SAMPLE_RATES else _FALLBACK_RATE


async def fetch_voices(endpoints: Endpoints, key: ApiKey, model: str) -> list[Voice]:
    """``GET /waves/v1/{model}/get_voices`` parsed by the core."""
    headers = auth_headers(key, source=PACKAGE, version=__version__)
    async with (
        aiohttp.ClientSession(timeout=_HTTP_TIMEOUT) as session,
        session.get(endpoints.voices(model), headers=headers) as response,
    ):
        body = await response.read()
        return parse_voices(response.status, body, dict(response.headers))


def connect_error(exc: Exception, what: str) -> SmallestError:
    """The error for a failed WebSocket upgrade: the server's own answer if it sent one."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        body = getattr(response, "body", b"") or b""
        return error_from_http(status, body, dict(getattr(response, "headers", {}) or {}))
    return SmallestError(f"cannot reach the {what} socket: {exc}", kind=ErrorKind.CONNECTION)
