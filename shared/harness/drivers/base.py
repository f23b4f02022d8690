"""The one interface every framework driver implements, and what it returns.

A scenario talks to a driver only; a driver drives its framework's REAL classes the way
that framework does (LiveKit streams, a Pipecat pipeline, VideoSDK's synthesize/interrupt).
A new adapter is one new driver module registered in :mod:`drivers`.

Two ways to use one driver:

* conformance and soak: ``Driver()``, then :meth:`Driver.tts_turns` and friends, each call
  opening and closing its own plugin against an emulator and checking the caller's text;
* benchmarks: ``Driver(base_url, api_key, impl="official")`` as an async context manager
  holding ONE plugin (ours or the official one) across :meth:`Driver.turn`,
  :meth:`Driver.pair` and :meth:`Driver.barge`, every audio chunk timestamped on arrival
  (:class:`Delivery`), and :meth:`Driver.utterance` for one timed STT utterance.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .timing import Delivery, Heard
from .truth import Received, check_caller_text, emulator_received

if TYPE_CHECKING:
    from smallest_emulator import Emulator

IMPLS = ("ours", "official")

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
    kind: str | None = None
    """What went wrong, where the framework tells (``timeout``, ``auth``, ...)."""


@dataclass
class TurnResult:
    """What the framework delivered for one turn."""

    audio: bytes
    words: list[Word] = field(default_factory=list)
    error: Failure | None = None
    interrupted: bool = False
    seconds: float = 0.0
    reported: list[str] = field(default_factory=list)
    """Every error the framework reported for the turn (events, frames), as text."""


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
    barge_in_after_s: float | None = None
    """Barge in this long after the turn's last token was handed to the plugin."""
    cancel_task: bool = False
    """With ``barge_in_after_s``: cancel the task consuming the turn (LiveKit's AgentSession
    does this), instead of the framework's own barge-in call."""
    sentence_flush: bool = False
    """Mark the end of every sentence where the framework can (VideoSDK: ``FlushMarker``)."""
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


def sentences(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The tokens grouped into sentences (a token ending in . ! or ? ends one)."""
    out: list[tuple[str, ...]] = []
    current: list[str] = []
    for token in tokens:
        current.append(token)
        if token.rstrip().endswith((".", "!", "?")):
            out.append(tuple(current))
            current = []
    if current:
        out.append(tuple(current))
    return out


@dataclass(frozen=True)
class Caps:
    """What a framework's contract exposes; changes the EXPECTED outcome, never skips."""

    exact_text: bool
    """The framework hands the plugin the caller's text unchanged; False: its sentence
    aggregator re-spaces sentences (Pipecat), so the words are compared, not the spacing."""
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
    words_reason: str | None = None
    """Why the driven plugin delivers no word timings (benchmarks report n/a), if so."""
    stt_reason: str | None = None
    """Why the driven implementation has no STT (benchmarks report n/a), if so."""

    def __init__(
        self, base_url: str = "", api_key: str = "", *, impl: str = "ours", words: bool = False
    ) -> None:
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, not {impl!r}")
        self.base_url = base_url
        self.api_key = api_key
        self.impl = impl
        self.words = words

    @property
    def framework(self) -> str:
        return self.name

    @property
    def official(self) -> bool:
        return self.impl == "official"

    # -- one plugin held open across timed turns (benchmarks) ---------------------------

    async def __aenter__(self) -> Driver:
        """Build the TTS plugin (``impl``) for :meth:`turn`, :meth:`pair`, :meth:`barge`."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every socket and task the held plugin opened."""
        raise NotImplementedError

    async def warm(self) -> None:
        """Prewarm: one short turn, so the next turn starts on an open socket."""
        await self.turn(["Warm up."])

    async def turn(self, tokens: list[str], gap_s: float = 0.0) -> Delivery:
        """Stream ``tokens`` (``gap_s`` apart) as one utterance; return when it is done."""
        raise NotImplementedError

    async def pair(self, first: str, second: str) -> list[Delivery]:
        """Two utterances back to back, the framework's own way of queueing them."""
        return [await self.turn([first]), await self.turn([second])]

    async def barge(self, tokens: list[str], cut_after_bytes: int) -> tuple[Delivery, float, float]:
        """Start a turn, interrupt it once ``cut_after_bytes`` arrived.

        Returns everything delivered (before and after the interrupt), the time of the
        interrupt and the time the interrupt call returned.
        """
        raise NotImplementedError

    async def utterance(self, pcm: bytes, *, finalize: bool, realtime: bool = False) -> Heard:
        """One 16 kHz utterance through the STT (``impl``): ``finalize`` asks for the final,
        else the stream ends; when the finalize was sent and the first final arrived."""
        raise NotImplementedError

    # -- one call, one plugin, checked against the caller's input (conformance, soak) ---

    @abc.abstractmethod
    def build_tts(self, *, api_key: str | None, base_url: str | None, **options: Any) -> Any:
        """Construct the TTS plugin (construction errors propagate)."""

    @abc.abstractmethod
    def build_stt(self, *, api_key: str | None, base_url: str | None, **options: Any) -> Any:
        """Construct the STT plugin (construction errors propagate)."""

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
        received: Callable[[], list[Received]] | None = None,
    ) -> list[TurnResult]:
        """:meth:`run_turns`, then assert the server received each turn's text as given.

        ``received`` reports what the server got (default: the emulator's WebSocket
        contexts opened during this call), see :func:`truth.check_caller_text`.
        """
        mark = len(emu.tts_log)
        results = await self.run_turns(
            emu,
            turns,
            api_key=api_key,
            base_url=base_url,
            word_timestamps=word_timestamps,
            timeout_s=timeout_s,
            max_retry=max_retry,
            server_idle_timeout=server_idle_timeout,
            between=between,
        )
        got = received() if received is not None else emulator_received(emu, mark)
        check_caller_text(self, turns, results, got)
        return results

    @abc.abstractmethod
    async def http_turn(
        self, text: str, *, api_key: str, base_url: str, timeout_s: float = 5.0
    ) -> TurnResult:
        """Speak ``text`` through the plugin's HTTP synthesis path (one request)."""

    @abc.abstractmethod
    async def stt_hold(
        self, *, api_key: str, base_url: str, seconds: float
    ) -> tuple[Failure | None, list[str]]:
        """Stream silence to the STT for ``seconds`` (however the server behaves), then end.

        Returns the first error the framework reported and every error text it reported.
        """

    @abc.abstractmethod
    async def run_turns(
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

        Scenarios call :meth:`tts_turns`, which checks the caller's text afterwards.

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

    @abc.abstractmethod
    async def v4_turns(
        self,
        emu: Emulator,
        texts: list[str],
        *,
        api_key: str,
        barge_in_first_after_bytes: int | None = None,
    ) -> list[TurnResult]:
        """Speak each text as one reply on ONE Lightning v4 plugin (24 kHz), optionally
        barging in on the first reply once that many bytes of its audio arrived."""

    @abc.abstractmethod
    async def pulse2_stream(
        self, emu: Emulator, pcm: bytes, *, api_key: str
    ) -> tuple[STTResult, list[dict[str, Any]]]:
        """One utterance (16 kHz mono) through Pulse 2, then the end of the stream; the
        finals, and for each final what the framework surfaced of Pulse 2's turn outputs
        (``emotion``, ``gender``)."""

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
