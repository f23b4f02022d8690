"""The STT stream's timers: sleep until the protocol's next deadline, then poll.

Every decision is :class:`~smallest_core.STTStreamState`'s (when a keepalive is due, when
a ``finalize`` or ``close_stream`` went unanswered too long); this loop only sleeps, calls
``poll``, sends what it queued and lets the adapter drain the events.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

from smallest_core.stt_stream import STTStreamState

_RECHECK_S = 0.5
"""Longest sleep: a ``finalize`` sent meanwhile may bring the next deadline forward."""


async def keep_alive(
    state: STTStreamState,
    send: Callable[[str], Awaitable[object]],
    dispatch: Callable[[], object] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Until cancelled, run the stream's timers (see :mod:`smallest_core.stt_stream`).

    Each round: ``state.poll(now)``, every message of ``state.data_to_send()`` through
    ``send`` (``False`` back means the socket is gone and ends the loop), then
    ``dispatch()`` (awaited when it returns an awaitable): the adapter's one function
    that drains ``state.events()`` and handles each event, the same one its reader calls
    after ``receive``. Then it sleeps until ``state.next_deadline()`` (at most
    ``_RECHECK_S``). Without ``dispatch`` the events wait for the reader's next drain.
    """
    while True:
        state.poll(clock())
        for message in state.data_to_send():
            if await send(message) is False:
                return
        if dispatch is not None and inspect.isawaitable(result := dispatch()):
            await result
        due = state.next_deadline()
        now = clock()
        delay = _RECHECK_S if due is None else min(max(due - now, 0.0), _RECHECK_S)
        await asyncio.sleep(delay)
