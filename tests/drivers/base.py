"""The one interface every framework driver implements, and what it returns.

A scenario talks to a driver only; a driver drives its framework's REAL classes the way
that framework does (LiveKit streams, a Pipecat pipeline, VideoSDK's synthesize/interrupt).
A new adapter is one new driver module registered in :mod:`drivers`.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from smallest_emulator import Emulator

Word = tuple[str, float, float | None]
"""(text, start, end) on the turn's timeline, in seconds; end None if the framework has none."""


@dataclass
class Failure:
    """A framework-native error, reduced to what scenarios compare."""

    cls: str
    """Class name of the native error (``APIStatusError``, ``ErrorFrame``, ``SmallestError``)."""
    message: str
    retryable: bool | None
    attempts: int
    """Connection/synthesis attempts the framework made for the turn."""
    status_code: int | None = None


@dataclass
class TurnResult:
    """What the framework delivered for one turn."""

    audio: bytes
    words: list[Word] = field(default_factory=list)
    error: Failure | None = None
    interrupted: bool = False
    seconds: float = 0.0


@dataclass
class STTResult:
    """What the framework delivered for one recognition stream."""

    finals: list[str]
    words: list[Word]
    """Words of every final, on the stream's timeline (seconds since its first audio)."""
    error: Failure | None = None


@dataclass(frozen=True)
class Turn:
    """One bot turn: LLM-like tokens, optional barge-in and options for this turn."""

    tokens: tuple[str, ...]
    barge_in_after_bytes: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """Options changed before this turn (``voice_id``, ``speed``)."""

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def turn(text: str, **kw: Any) -> Turn:
    """A turn whose text arrives as word tokens (each keeping its leading space)."""
    tokens: list[str] = []
    for i, part in enumerate(text.split(" ")):
        tokens.append(part if i == 0 else " " + part)
    return Turn(tuple(t for t in tokens if t), **kw)


@dataclass(frozen=True)
class Caps:
    """What a framework's contract exposes; changes the EXPECTED outcome, never skips."""

    word_times: bool
    """Word timestamps with times (VideoSDK's ``word_spoken`` carries text only)."""
    retries_in_framework: bool
    """The framework retries a failed request itself (LiveKit's APIConnectOptions)."""
    stt_reconnect: str
    """How the STT reconnects mid-stream natively (an option change); empty: it cannot."""


class Driver(abc.ABC):
    """One framework's adapter, driven like its framework drives it."""

    name: str
    caps: Caps
    voice: str = "liam"
    """A documented word-timestamp voice (every profile times its words)."""

    @abc.abstractmethod
    def build_tts(self, *, api_key: str | None, base_url: str | None, **options: Any) -> Any:
        """Construct the TTS plugin (construction errors propagate)."""

    @abc.abstractmethod
    def build_stt(self, *, api_key: str | None, base_url: str | None, **options: Any) -> Any:
        """Construct the STT plugin (construction errors propagate)."""

    @abc.abstractmethod
    async def tts_turns(
        self,
        emu: Emulator,
        turns: list[Turn],
        *,
        api_key: str,
        base_url: str | None = None,
        word_timestamps: bool = False,
        timeout_s: float = 5.0,
        max_retry: int = 1,
        server_idle_timeout: bool = False,
        between: Callable[[int, TurnResult], Awaitable[None]] | None = None,
    ) -> list[TurnResult]:
        """Speak ``turns`` in order on ONE plugin instance; errors are results, not raises.

        ``between(i, result)`` runs after turn ``i`` (e.g. to wait for a server idle close).
        ``server_idle_timeout`` leaves the server's own idle timeout in force.
        """

    @abc.abstractmethod
    async def stt_stream(
        self,
        emu: Emulator,
        segments: list[bytes],
        *,
        api_key: str,
        base_url: str | None = None,
        reconnect_between: bool = False,
    ) -> STTResult:
        """Stream 16 kHz mono PCM ``segments``; finalize after each; end the stream.

        ``reconnect_between``: make the plugin reconnect (its native way) between segments.
        """

    def reprs(self, plugin: Any) -> str:
        """Every text a user could print of ``plugin``."""
        return f"{plugin!r} {plugin!s} {vars(plugin)!r}"

    async def aclose(self, plugin: Any) -> None:
        """Close a plugin built by ``build_*`` that never ran."""
        close = getattr(plugin, "aclose", None)
        if close is not None:
            await close()


def server_attempts(emu: Emulator, requests_per_refusal: int = 1) -> int:
    """Synthesis attempts the emulator saw: contexts started plus refused socket upgrades.

    ``requests_per_refusal`` = 2 for a plugin that reads a refusal's body with a second plain
    request (aiohttp drops it), so one refused attempt shows as two request-log lines.
    """
    refused = sum(
        1
        for line in emu.requests
        if line.startswith("GET /waves/v1/tts/live ") and " 101 " not in line
    )
    return len(emu.tts_log) + refused // requests_per_refusal


async def sockets_settle(emu: Emulator, within: float = 3.0) -> int:
    """Open server-side sockets once closes have propagated (bounded wait on a counter)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while emu.ws_connections.open_now and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    return emu.ws_connections.open_now
