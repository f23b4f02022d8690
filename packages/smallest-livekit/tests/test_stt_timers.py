"""The core I/O layer's STT timer loop (run here, where aiohttp is installed) only sleeps,
polls the core, sends what it queued and lets the adapter's dispatch drain the events."""

from __future__ import annotations

import asyncio

from smallest_core import DeadlineMissed, STTEvent, STTOptions, STTStreamState
from smallest_core.aio import keep_alive


async def test_the_loop_sends_the_keepalive_and_dispatches_a_missed_finalize() -> None:
    state = STTStreamState(STTOptions(), keepalive_interval_s=0.05, finalize_timeout_s=0.1)
    state.connection_started()
    sent: list[str] = []
    drained: list[STTEvent | DeadlineMissed] = []
    reported = asyncio.Event()

    async def send(message: str) -> None:
        sent.append(message)

    def dispatch() -> None:
        drained.extend(state.events())
        if drained:
            reported.set()

    loop = asyncio.get_running_loop()
    state.sent(loop.time())
    state.finalize(loop.time())
    assert state.data_to_send() == ['{"type":"finalize"}']  # the sender's, sent by it
    task = asyncio.create_task(keep_alive(state, send, dispatch, clock=loop.time))
    try:
        await asyncio.wait_for(reported.wait(), 5.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [m.owed for m in drained if isinstance(m, DeadlineMissed)] == ["finalize"]
    assert len(drained) == 1
    assert sent and set(sent) == {'{"type":"keepalive"}'}
    assert state.events() == [] and state.data_to_send() == []


async def test_an_async_dispatch_is_awaited() -> None:
    state = STTStreamState(STTOptions(), keepalive_interval_s=None, finalize_timeout_s=0.01)
    state.connection_started()
    state.finalize(0.0)
    state.data_to_send()  # the finalize: the sender's, sent by it
    handled = asyncio.Event()

    async def send(message: str) -> None:
        raise AssertionError(f"nothing is due to be sent, got {message}")

    async def dispatch() -> None:
        await asyncio.sleep(0)
        if any(isinstance(e, DeadlineMissed) for e in state.events()):
            handled.set()

    task = asyncio.create_task(keep_alive(state, send, dispatch, clock=lambda: 1.0))
    try:
        await asyncio.wait_for(handled.wait(), 5.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_send_that_reports_a_closed_socket_ends_the_loop() -> None:
    state = STTStreamState(STTOptions(), keepalive_interval_s=0.01)
    state.connection_started()

    async def send(message: str) -> bool:
        return False

    await asyncio.wait_for(keep_alive(state, send), 5.0)
