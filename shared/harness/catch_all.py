"""A local server with one catch-all route, for tests that script a misbehaving server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestServer

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve_catch_all(route: Route) -> TestServer:
    """Start a server on 127.0.0.1 that answers every method and path with ``route``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", route)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    assert server.port is not None
    return server


def base_url(server: TestServer) -> str:
    """The ``base_url`` a plugin under test is given for ``server``."""
    return f"http://127.0.0.1:{server.port}"
