"""The STT stream's timers: sleep until the protocol's next deadline, then do what is due.

Every decision is :class:`~smallest_core.STTStreamState`'s (when a keepalive is due, when
a ``finalize`` or ``close_stream`` went unanswered too long); this loop only sleeps, sends
the keepalive and hands each missed deadline to the adapter.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

from smallest_core.stt_stream import DeadlineMissed, STTStreamState

_RECHECK_S = 0.5
"""Longest sleep: a ``finalize`` sent meanwhile may bring the next deadline forward."""


async def keep_alive(
    state: STTStreamState,
    send: Callable[[str], Awaitable[object]],
    on_missed: Callable[[DeadlineMissed], object] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Until cancelled, run the stream's timers (see :mod:`smallest_core.stt_stream`).

    A due keepalive goes through ``send`` (``False`` back means the socket is gone and
    ends the loop); each missed deadline goes to ``on_missed`` (awaited when it returns
    an awaitable).
    """
    while True:
        now = clock()
        for missed in state.missed(now):
            if on_missed is not None and inspect.isawaitable(result := on_missed(missed)):
                await result
        message = state.keepalive_message(now)
        if message is not None:
            if await send(message) is False:
                return
            state.sent(clock())
            continue
        due = state.next_deadline()
        delay = _RECHECK_S if due is None else min(max(due - now, 0.0), _RECHECK_S)
        await asyncio.sleep(delay)
