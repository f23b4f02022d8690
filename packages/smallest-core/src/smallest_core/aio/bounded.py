"""Bounded reads of an HTTP body: an endless or huge error body costs nothing more."""

from __future__ import annotations

from typing import Protocol


class _Content(Protocol):
    async def read(self, n: int = -1, /) -> bytes: ...


class _Response(Protocol):
    @property
    def content(self) -> _Content: ...


async def read_bounded(response: _Response, limit: int) -> bytes:
    """At most ``limit`` bytes of ``response``'s body (the rest is never read)."""
    head = bytearray()
    while len(head) < limit:
        chunk = await response.content.read(limit - len(head))
        if not chunk:
            break
        head += chunk
    return bytes(head)
