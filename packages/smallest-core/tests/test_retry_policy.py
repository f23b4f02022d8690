"""When a TTS context is sent again on a fresh socket."""

from __future__ import annotations

import pytest

from smallest_core import MAX_REPLAYS, ErrorKind, SmallestError, connection_error, should_replay

IDLE = SmallestError("Connection closed due to inactivity", kind=ErrorKind.TIMEOUT)


@pytest.mark.parametrize("error", [connection_error("reset by peer"), IDLE])
def test_a_socket_failure_before_any_audio_is_replayed(error: SmallestError) -> None:
    assert should_replay(error, audio_received=False, replays=0)


@pytest.mark.parametrize("error", [connection_error("reset by peer"), IDLE])
def test_nothing_is_replayed_once_audio_arrived(error: SmallestError) -> None:
    assert not should_replay(error, audio_received=True, replays=0)


def test_replays_are_bounded() -> None:
    error = connection_error("reset by peer")
    assert should_replay(error, audio_received=False, replays=MAX_REPLAYS - 1)
    assert not should_replay(error, audio_received=False, replays=MAX_REPLAYS)


@pytest.mark.parametrize(
    "kind", [ErrorKind.AUTH, ErrorKind.INVALID_INPUT, ErrorKind.SERVER, ErrorKind.RATE_LIMIT]
)
def test_a_failure_of_the_request_is_not_replayed(kind: ErrorKind) -> None:
    """The same request on a new socket would fail the same way (or make a rate limit
    worse): that is the caller's decision, not a silent resend."""
    assert not should_replay(SmallestError("no", kind=kind), audio_received=False, replays=0)


def test_a_timeout_that_is_not_the_idle_close_is_not_replayed() -> None:
    error = SmallestError("the server sent no audio in time", kind=ErrorKind.TIMEOUT)
    assert not should_replay(error, audio_received=False, replays=0)
