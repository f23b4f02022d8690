"""The reply each framework speaks, and an LLM-like token stream of it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

REPLIES: dict[str, str] = {
    "livekit": (
        "Sure, I can help with that. Your table for two is booked for seven tonight. "
        "Is there anything else you need?"
    ),
    "pipecat": (
        "Hello and thank you for calling. Your order left the store this morning. "
        "It should be at your door by noon."
    ),
    "videosdk": (
        "Good morning and welcome to the meeting. I will take notes while you talk. "
        "Say stop when you want me to finish."
    ),
}
"""Short, everyday sentences: a few of them, like a voice agent's turn."""

TOKEN_DELAY_S = 0.03
"""Pause between two tokens, roughly a fast LLM's pace."""


def tokens(text: str) -> list[str]:
    """Split like an LLM's tokenizer does, roughly: each word with its leading space."""
    return re.findall(r"\s*\S+", text)


async def token_stream(text: str, delay_s: float = TOKEN_DELAY_S) -> AsyncIterator[str]:
    """Yield ``text`` token by token with a small delay before each token but the first."""
    for i, token in enumerate(tokens(text)):
        if i:
            await asyncio.sleep(delay_s)
        yield token
