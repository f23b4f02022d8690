"""Keeping API keys out of every text a server sends back.

Each :class:`~smallest_core.endpoints.ApiKey` registers its secret here; :func:`redact`
replaces every registered secret in a text. :class:`~smallest_core.errors.SmallestError`
redacts its own message and body, so an error built from a server's answer never
carries the key, even when the server quotes it.
"""

from __future__ import annotations

_KNOWN_SECRETS: dict[str, None] = {}
"""Every key this process has been given, newest last (bounded): :func:`redact` removes them."""
_MAX_KNOWN_SECRETS = 64
_MIN_SECRET_CHARS = 8
"""Shorter keys (test placeholders) are not searched for: they would mangle ordinary words."""
_REDACTED = "***"


def redact(text: str) -> str:
    """``text`` with every API key this process knows replaced by ``***``.

    Servers sometimes quote the key back (a 401 body, an error frame): every
    server-supplied text goes through this before it becomes an error, event or log line.
    """
    if not _KNOWN_SECRETS or not text:
        return text
    for secret in _KNOWN_SECRETS:
        if secret in text:
            text = text.replace(secret, _REDACTED)
        head = secret[:_MIN_SECRET_CHARS]
        if head in text:  # a copy cut short (a truncated log line) is the key too
            text = _redact_cut(text, secret, head)
    return text


def _redact_cut(text: str, secret: str, head: str) -> str:
    out: list[str] = []
    pos = 0
    while (found := text.find(head, pos)) >= 0:
        end = found + len(head)
        while end < len(text) and end - found < len(secret) and text[end] == secret[end - found]:
            end += 1
        out.append(text[pos:found] + _REDACTED)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def remember_secret(secret: str) -> None:
    """Register a key for :func:`redact` (the most recent 64 are kept)."""
    if len(secret) < _MIN_SECRET_CHARS:
        return
    _KNOWN_SECRETS.pop(secret, None)
    _KNOWN_SECRETS[secret] = None
    while len(_KNOWN_SECRETS) > _MAX_KNOWN_SECRETS:
        del _KNOWN_SECRETS[next(iter(_KNOWN_SECRETS))]


def redact_value(value: object) -> object:
    """A decoded JSON value (error body) with every known key redacted from its strings."""
    if not _KNOWN_SECRETS or value is None:
        return value
    if isinstance(value, str):
        return redact(value)
    text = repr(value)
    if not any(secret in text for secret in _KNOWN_SECRETS):
        return value
    return _redact_nested(value, depth=0)


def _redact_nested(value: object, depth: int) -> object:
    if isinstance(value, str):
        return redact(value)
    if depth > 64:
        return _REDACTED
    if isinstance(value, dict):
        return {redact(str(k)): _redact_nested(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_nested(v, depth + 1) for v in value]
    return value
