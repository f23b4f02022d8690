"""Truth is the caller's input: the text the server received for each turn, checked against
the tokens the caller gave for it.

Every driver's :meth:`~drivers.base.Driver.tts_turns` ends with :func:`check_caller_text`,
so no scenario can skip it. A turn that finished normally must have reached the server as
exactly its tokens joined, in order; an interrupted or failed turn as a prefix of them.
What the server received comes as :class:`Received` units in arrival order (one per
server-side context or request): from the emulator's records, or from a test server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from smallest_emulator import Emulator

    from .base import Driver, Turn, TurnResult


T = TypeVar("T")


@dataclass(frozen=True)
class Received:
    """The text one server-side context (or HTTP request) received, fragments joined."""

    text: str
    audio_bytes: int
    """Audio bytes the server sent for it (0: it was abandoned before any audio)."""


def emulator_received(emu: Emulator, since: int = 0, transport: str = "ws") -> list[Received]:
    """The emulator's contexts from record ``since`` on (its fragments joined per context)."""
    return [
        Received(r.fragments_text, r.bytes_sent)
        for r in emu.tts_log[since:]
        if r.transport == transport
    ]


def _without_replays(units: Sequence[Received]) -> list[Received]:
    """Drop a context that got no audio and was sent again (its text restarts the next)."""
    out: list[Received] = []
    for i, unit in enumerate(units):
        following = units[i + 1] if i + 1 < len(units) else None
        replayed = (
            unit.audio_bytes == 0
            and unit.text.strip()
            and following is not None
            and following.text.startswith(unit.text)
        )
        if not replayed:
            out.append(unit)
    return out


def _norm(text: str, exact: bool) -> str:
    return text if exact else " ".join(text.split())


def _prefix(got: str, want: str, exact: bool) -> bool:
    if exact:
        return want.startswith(got)
    g, w = _norm(got, False), _norm(want, False)
    return w.startswith(g)


def partition(
    turns: Sequence[Turn], items: Sequence[T], text_of: Callable[[T], str], *, exact: bool = True
) -> tuple[list[list[T]], list[T]]:
    """Assign received items to turns in order; returns each turn's items and the leftovers.

    A turn takes items while its text so far stays a prefix of what the caller said, and
    stops once it has all of it; the rest goes to the next turn.
    """
    per_turn: list[list[T]] = []
    i = 0
    for t in turns:
        want, got, mine = t.text, "", []
        while i < len(items):
            if want and _norm(got, exact) == _norm(want, exact):
                break
            candidate = got + text_of(items[i])
            if not _prefix(candidate, want, exact):
                break
            got = candidate
            mine.append(items[i])
            i += 1
        per_turn.append(mine)
    return per_turn, list(items[i:])


def received_per_turn(
    turns: Sequence[Turn], units: Sequence[Received], *, exact: bool = True
) -> tuple[list[str], list[Received]]:
    """The text each turn's contexts received (replays dropped), and what no turn took."""
    per_turn, leftover = partition(turns, _without_replays(units), _text, exact=exact)
    return ["".join(u.text for u in mine) for mine in per_turn], leftover


def _text(unit: Received) -> str:
    return unit.text


def check_caller_text(
    driver: Driver, turns: Sequence[Turn], results: Sequence[TurnResult], units: list[Received]
) -> None:
    """Assert each turn reached the server as the caller's tokens (a prefix if cut short)."""
    exact = driver.caps.exact_text
    per_turn, leftover = received_per_turn(turns, units, exact=exact)
    for n, (t, res, got) in enumerate(zip(turns, results, per_turn, strict=True)):
        want = t.text
        cut_short = res.interrupted or res.error is not None
        if cut_short:
            assert _prefix(got, want, exact), (
                f"{driver.name} turn {n}: the server received {_show(got)}, "
                f"not a prefix of the caller's {_show(want)}"
            )
        else:
            assert _norm(got, exact) == _norm(want, exact), (
                f"{driver.name} turn {n}: the server received {_show(got)} "
                f"but the caller said {_show(want)} (tokens {list(t.tokens)[:12]!r})"
            )
    stray = [u.text for u in leftover if u.text.strip()]
    assert not stray, (
        f"{driver.name}: the server received text no turn asked for (in this order): "
        f"{[_show(s) for s in stray[:3]]}; per turn: {[_show(g) for g in per_turn[-3:]]}"
    )


def _show(text: Any) -> str:
    text = str(text)
    return repr(text if len(text) <= 120 else text[:60] + " ... " + text[-50:])
