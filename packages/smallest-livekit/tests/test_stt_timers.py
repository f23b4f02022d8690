"""The core I/O layer's STT timer loop (run here, where aiohttp is installed) only sleeps
and does what the core says is due."""

from __future__ import annotations

import asyncio

from smallest_core import DeadlineMissed, STTOptions, STTStreamState
from smallest_core.aio import keep_alive


async def test_the_loop_sends_the_keepalive_and_reports_a_missed_finalize() -> None:
    state = STTStreamState(STTOptions(), keepalive_interval_s=0.05, finalize_timeout_s=0.1)
    state.connection_started()
    sent: list[str] = []
    missed: list[DeadlineMissed] = []
    reported = asyncio.Event()

    async def send(message: str) -> None:
        sent.append(message)

    def on_missed(m: DeadlineMissed) -> None:
        missed.append(m)
        reported.set()

    loop = asyncio.get_running_loop()
    state.sent(loop.time())
    state.finalize(loop.time())
    task = asyncio.create_task(keep_alive(state, send, on_missed, clock=loop.time))
    try:
        await asyncio.wait_for(reported.wait(), 5.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [m.owed for m in missed] == ["finalize"]
    assert sent and set(sent) == {'{"type":"keepalive"}'}


async def test_a_send_that_reports_a_closed_socket_ends_the_loop() -> None:
    state = STTStreamState(STTOptions(), keepalive_interval_s=0.01)
    state.connection_started()

    async def send(message: str) -> bool:
        return False

    await asyncio.wait_for(keep_alive(state, send), 5.0)
