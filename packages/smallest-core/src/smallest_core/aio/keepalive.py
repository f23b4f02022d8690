"""The STT keepalive: a message whenever nothing went out for the keepalive interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from smallest_core.stt import STTStreamState


async def keep_alive(
    state: STTStreamState, send: Callable[[str], Awaitable[object]], interval: float
) -> None:
    """Until cancelled: sleep until :meth:`STTStreamState.keepalive_due`, then, if nothing
    was sent meanwhile, ``send`` the protocol's keepalive (which records itself as sent).

    ``send`` returning ``False`` (the socket is gone) ends the loop.
    """
    while True:
        delay = state.keepalive_due(interval) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
            continue
        if await send(state.keepalive()) is False:
            return
        state.sent(time.monotonic())
