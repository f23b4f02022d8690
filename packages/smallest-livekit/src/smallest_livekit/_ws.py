"""Opening a WebSocket to the API, its failures as LiveKit's API errors."""

from __future__ import annotations

import asyncio

import aiohttp

from smallest_core import MAX_FRAME_BYTES

from ._common import Connection
from ._errors import refused_upgrade, transport_error


async def open_ws(
    conn: Connection, url: str, connect_timeout: float, *, what: str, heartbeat: float | None = None
) -> aiohttp.ClientWebSocketResponse:
    """Connect within ``connect_timeout``; a refused upgrade raises with the server's words."""
    try:
        return await asyncio.wait_for(
            conn.session().ws_connect(
                url, headers=conn.headers(), heartbeat=heartbeat, max_msg_size=MAX_FRAME_BYTES
            ),
            connect_timeout,
        )
    except aiohttp.WSServerHandshakeError as exc:
        raise await refused_upgrade(conn, url, exc.status) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise transport_error(exc, f"could not connect to {what}", url=url) from None
