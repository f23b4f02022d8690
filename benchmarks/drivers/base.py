"""The driver contract every (framework, implementation) pair fulfils."""

from __future__ import annotations

import asyncio
from typing import Any

from common import Turn, now


class TTSDriver:
    """Speaks turns through one framework's real TTS classes and timestamps what arrives."""

    framework = ""
    impl = ""  # "ours" | "official"
    words_reason: str | None = None  # why word timings are n/a, if they are

    def __init__(self, base_url: str, api_key: str, *, words: bool = False) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.words = words

    async def __aenter__(self) -> TTSDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every socket and task the implementation opened."""

    async def warm(self) -> None:
        """Prewarm: one short turn, so the next turn starts on an open socket."""
        await self.turn(["Warm up."])

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Turn:
        """Stream ``tokens`` (``gap_s`` apart) as one utterance; return when it is done."""
        raise NotImplementedError

    async def pair(self, first: str, second: str) -> list[Turn]:
        """Two utterances back to back, the framework's own way of queueing them."""
        return [await self.turn([first]), await self.turn([second])]

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Turn, float, float]:
        """Start a turn, interrupt it once ``cut_after_bytes`` arrived.

        Returns the turn (everything delivered, before and after the interrupt), the time
        of the interrupt and the time the interrupt call returned.
        """
        raise NotImplementedError


async def feed(push: Any, end: Any, tokens: list[str], gap_s: float, turn: Turn) -> None:
    """Hand tokens to a framework at LLM pace."""
    turn.started = now()
    for i, tok in enumerate(tokens):
        if i and gap_s:
            await asyncio.sleep(gap_s)
        r = push(tok)
        if asyncio.iscoroutine(r):
            await r
    r = end()
    if asyncio.iscoroutine(r):
        await r
