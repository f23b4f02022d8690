"""A turn on a socket from LiveKit's ``ConnectionPool``, the socket kept when not to blame.

``ConnectionPool.connection()`` drops the socket when its block raises and takes it back
when the block ends. Some turns end in an exception the socket is not to blame for: a
barge-in (the stream's task is cancelled), a request the server refused on a socket that
stays open, text that cannot be sent. The turn has resolved its context by then, and the
socket is as good as before. So the block awaits the turn through :func:`settle`: such
an exception is handed back instead of raised, the block ends (the pool takes the socket
back), and the caller raises it once outside.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def settle(
    turn: Awaitable[None], reusable: Callable[[], bool]
) -> Exception | asyncio.CancelledError | None:
    """Await ``turn``; return (not raise) how it failed if the socket can carry the next."""
    try:
        await turn
    except (Exception, asyncio.CancelledError) as exc:
        if not reusable():
            raise
        return exc
    return None
