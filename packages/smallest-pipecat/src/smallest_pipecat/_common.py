"""Small helpers shared by the services: attribution, sample rates, sockets, voice listing,
and what every TTS service's constructor and settings updates start with."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from pipecat.services import websocket_service
from pipecat.transcriptions.language import Language
from pipecat.utils.errors import ErrorCategory
from pipecat.utils.types import is_given
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidHandshake, InvalidStatus

from smallest_core import (
    MAX_ERROR_BODY_BYTES,
    MAX_FRAME_BYTES,
    ApiKey,
    Endpoints,
    ErrorKind,
    SmallestError,
    Voice,
    auth_headers,
    catalog,
    error_from_http,
    parse_voices,
    redact,
    resolve_api_key,
)
from smallest_core.aio import read_bounded
from smallest_pipecat._kwargs import check_kwargs
from smallest_pipecat._version import __version__
from smallest_pipecat.languages import tts_language

if TYPE_CHECKING:
    from pipecat.services.tts_service import TTSService as _Base
else:
    _Base = object

PACKAGE = "smallest-pipecat"
_FALLBACK_RATE = 24000
_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
OUTPUT_RATES: tuple[int, ...] = tuple(
    sorted(set(catalog.TTS_SAMPLE_RATES) | set(catalog.STT_SAMPLE_RATES))
)
"""Output rates the TTS services accept: the API's own, others resampled from 24000."""
TTS_MOVED = {
    "voice_id": "pass settings=Settings(voice=...)",
    "params": "InputParams are replaced by settings=Settings(...)",
    "output_format": "the audio is always PCM, what Pipecat plays",
    "session_id": "not carried by this service",
}
"""Where official-plugin constructor arguments live here."""


class _RedactAuthorization(logging.Filter):
    """Keep the key out of websockets' DEBUG dumps: the ``Authorization`` header of the
    upgrade request, and any frame or close reason in which the server quotes the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).lower() == "authorization":
            record.args = (args[0], "[redacted]")
            return True
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            return True
        safe = redact(text)
        if safe != text:
            record.msg, record.args = safe, None
        return True


WS_LOGGER = logging.getLogger("websockets.client.smallest_pipecat")
"""Passed as ``logger=`` to every socket: websockets' logging setup applies, the key never."""
WS_LOGGER.addFilter(_RedactAuthorization())


class RedirectRefused(InvalidHandshake):
    """The server answered the upgrade with a redirect, which an authenticated socket
    never follows (the key would go wherever the redirect points)."""

    def __init__(self, status: int, location: str) -> None:
        super().__init__(f"redirect {status}")
        self.status = status
        self.location = location


if TYPE_CHECKING:
    _Connection = ClientConnection
else:
    # Pipecat's connection class bounds every send; keep it when it is there.
    _Connection = getattr(websocket_service, "_BoundedConnection", ClientConnection)


class NoRedirectConnection(_Connection):
    """A client connection whose handshake refuses every 3xx answer."""

    async def handshake(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().handshake(*args, **kwargs)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if 300 <= status < 400:
                location = exc.response.headers.get("Location", "")
                raise RedirectRefused(status, location) from None
            raise


EXPIRE_CONTENT_HEADER = "x-expire-content"
"""Enterprise opt-in: the server deletes the request's content after 7 days."""


def request_headers(key: ApiKey, *, expire_content: bool = False) -> dict[str, str]:
    """Auth and attribution headers, plus the content-expiry opt-in when asked for."""
    headers = auth_headers(key, source=PACKAGE, version=__version__)
    if expire_content:
        headers[EXPIRE_CONTENT_HEADER] = "true"
    return headers


def ws_options(key: ApiKey, *, expire_content: bool = False) -> dict[str, Any]:
    """Keyword arguments for every authenticated ``_websocket_connect``."""
    return {
        "additional_headers": request_headers(key, expire_content=expire_content),
        "logger": WS_LOGGER,
        "max_size": MAX_FRAME_BYTES,
        "create_connection": NoRedirectConnection,
    }


def redirect_error(status: int, location: str, url: str, what: str) -> SmallestError:
    """The error for a redirect that was not followed: its status and target origin."""
    target = urlsplit(urljoin(url, location)) if location else None
    origin = f"{target.scheme}://{target.hostname}" if target and target.hostname else "nowhere"
    if target is not None and target.port is not None:
        origin += f":{target.port}"
    return SmallestError(
        f"the {what} request was answered with HTTP {status} redirecting to {origin}; "
        "requests carrying the API key never follow redirects (check base_url)",
        kind=ErrorKind.INVALID_INPUT,
        status_code=status,
    )


def check_sample_rate(sample_rate: int | None) -> None:
    """Reject an output rate no pipeline plays at construction, naming the allowed ones."""
    if sample_rate is None:
        return
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int):
        raise ValueError(f"sample_rate must be an int, got {sample_rate!r}")
    catalog.check_choice("sample_rate", sample_rate, OUTPUT_RATES)


def first_supported_rate(sample_rate: int) -> int:
    """``sample_rate`` if Lightning produces it, else 24000 (resampled locally)."""
    return sample_rate if sample_rate in catalog.TTS_SAMPLE_RATES else _FALLBACK_RATE


async def http_error(response: aiohttp.ClientResponse, what: str) -> SmallestError:
    """The error for a non-2xx answer: a redirect's target, or the body's own message."""
    if 300 <= response.status < 400:
        location = response.headers.get("Location", "")
        return redirect_error(response.status, location, str(response.url), what)
    body = await read_bounded(response, MAX_ERROR_BODY_BYTES)
    return error_from_http(response.status, body, dict(response.headers))


async def fetch_voices(endpoints: Endpoints, key: ApiKey, model: str) -> list[Voice]:
    """``GET /waves/v1/{model}/get_voices`` parsed by the core."""
    headers = auth_headers(key, source=PACKAGE, version=__version__)
    async with (
        aiohttp.ClientSession(timeout=_HTTP_TIMEOUT) as session,
        session.get(endpoints.voices(model), headers=headers, allow_redirects=False) as response,
    ):
        if not 200 <= response.status < 300:
            raise await http_error(response, "voices")
        body = await read_bounded(response, MAX_FRAME_BYTES)
        return parse_voices(response.status, body, dict(response.headers))


def connect_error(exc: Exception, url: str, what: str) -> SmallestError:
    """The error for a failed WebSocket upgrade: the server's own answer if it sent one."""
    if isinstance(exc, SmallestError):
        return exc
    if isinstance(exc, RedirectRefused):
        return redirect_error(exc.status, exc.location, url, f"{what} socket")
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        body = bytes(getattr(response, "body", b"") or b"")[:MAX_ERROR_BODY_BYTES]
        return error_from_http(status, body, dict(getattr(response, "headers", {}) or {}))
    return SmallestError(
        f"cannot reach the {what} socket: {redact(str(exc))}", kind=ErrorKind.CONNECTION
    )


def prepare_service(
    service: Any,
    base: type,
    kwargs: Mapping[str, Any],
    *,
    settings: type,
    api_key: str | None,
    base_url: str | None,
    sample_rate: int | None,
    expire_content: bool,
) -> None:
    """What every TTS service's constructor starts with: ``TypeError`` for a keyword
    ``base`` does not take, ``ValueError`` for a rate no pipeline plays; then the
    endpoints, the key and the content-expiry opt-in on ``service``."""
    check_kwargs(type(service).__name__, base, kwargs, settings=settings, moved=TTS_MOVED)
    check_sample_rate(sample_rate)
    service._endpoints = Endpoints.resolve(base_url)
    service._api_key = resolve_api_key(api_key, service._endpoints.base_url)
    service._expire_content = expire_content


def resolve_tts_language(settings: Any) -> None:
    """Store the language as a Lightning code (``ValueError`` if the model cannot)."""
    language = settings.language
    if not is_given(language) or language is None:
        return
    model = settings.model if is_given(settings.model) and settings.model else None
    settings.language = tts_language(language, str(model) if model else None)


class CheckedSettings(_Base):
    """Mixin: metrics on, and a settings update that is checked before it applies."""

    _endpoints: Endpoints
    _api_key: ApiKey
    _expire_content: bool

    def can_generate_metrics(self) -> bool:
        """TTFB and usage metrics are reported."""
        return True

    def _check_settings(self, candidate: Any) -> None:
        """Normalise ``candidate`` (the settings after an update) in place; ``ValueError``
        names what is not allowed."""
        raise NotImplementedError

    async def _update_settings(self, delta: Any) -> dict[str, Any]:
        """Apply a delta; an invalid one is refused with an ``ErrorFrame`` and the
        settings stay as they were."""
        candidate = copy.deepcopy(self._settings)
        candidate.apply_update(delta)
        try:
            self._check_settings(candidate)
        except ValueError as exc:
            await self.push_error(
                f"Smallest TTS settings rejected: {exc}", category=ErrorCategory.APPLICATION
            )
            return {}
        if is_given(delta.language) and delta.language is not None:
            delta.language = candidate.language
        changed: dict[str, Any] = await super()._update_settings(delta)
        return changed


class LightningVoices(CheckedSettings):
    """Mixin of the Lightning v3.1 services: language codes and the voice list."""

    def language_to_service_language(self, language: Language) -> str | None:
        """The Lightning code for ``language``; ``ValueError`` names the allowed codes."""
        model = self._settings.model if is_given(self._settings.model) else None
        return tts_language(language, model if isinstance(model, str) else None)

    async def list_voices(self, model: str | None = None) -> list[Voice]:
        """Voices of ``model`` (default: the current one) from ``GET .../get_voices``."""
        chosen = model or str(self._settings.model)
        return await fetch_voices(self._endpoints, self._api_key, chosen)
