"""Server errors: one ErrorFrame with the server's text, one TTSStoppedFrame, still usable."""

from __future__ import annotations

from collections.abc import Callable

from pipecat.frames.frames import TTSSpeakFrame, TTSStartedFrame, TTSUpdateSettingsFrame
from pipecat_pipeline import Harness
from tts_common import key, make_tts, synthesized

from smallest_emulator import Emulator
from smallest_pipecat import SmallestTTSService

FIRST = "This request breaks halfway through its audio, sadly."
SECOND = "But the next one works fine."


async def test_midstream_error_then_recovery(emulator: Emulator, profile: str) -> None:
    overrides = {"error_after_chunks": 2, "error_message": "Synthesis backend failed"}
    tts = make_tts(emulator, key=key(**overrides))
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame(FIRST))
        await h.wait_for(lambda: len(h.stops()) == 1)
        await h.send(TTSSpeakFrame(SECOND))
        await h.end()
    errors = h.errors()
    assert len(errors) == 1
    assert "Synthesis backend failed" in errors[0].error
    assert len(h.stops()) == 2
    assert len(h.down.of(TTSStartedFrame)) == 2
    first, second = h.context_ids()
    spoken = " ".join(w.text for w in h.words() if w.context_id == first)
    assert spoken != FIRST  # the rejected rest is not reported as spoken
    assert h.audio(second) == synthesized(emulator, SECOND)
    assert tts.is_usable


async def test_rejected_voice_until_the_settings_change(emulator: Emulator, profile: str) -> None:
    tts = make_tts(emulator, voice="no_such_voice")
    async with Harness(tts) as h:
        await h.send(TTSSpeakFrame("This voice does not exist."))
        await h.wait_for(lambda: len(h.stops()) == 1)
        assert not tts.is_usable  # Pipecat: a rejected voice fails until the settings change
        await h.send(TTSUpdateSettingsFrame(delta=SmallestTTSService.Settings(voice="liam")))
        await h.send(TTSSpeakFrame(SECOND))
        await h.end()
    errors = h.errors()
    assert len(errors) == 1
    assert "Invalid Voice ID" in errors[0].error
    assert len(h.stops()) == 2
    assert not [w for w in h.words() if w.text in ("voice", "exist.")]
    assert h.audio(h.context_ids()[-1]) == synthesized(emulator, SECOND)
    assert tts.is_usable
    assert tts.connections_opened == 1  # an error never costs the socket


async def test_repeated_rejections_never_write_the_service_off(
    emulator: Emulator, profile: str
) -> None:
    emulator.config.concurrency_limit = 0  # every synthesis is refused, no audio at all
    tts = make_tts(emulator)
    async with Harness(tts) as h:
        for n in range(4):
            await h.send(TTSSpeakFrame(f"Refused request number {n}."))
            await h.wait_for(_stops_reach(h, n + 1))
        assert tts.is_usable
        emulator.config.concurrency_limit = None
        await h.send(TTSSpeakFrame(SECOND))
        await h.end()
    errors = h.errors()
    assert len(errors) == 4
    assert all("Concurrency limit exceeded" in e.error for e in errors)
    assert len(h.stops()) == 5
    assert not [w for w in h.words() if w.text == "Refused"]
    assert h.audio(h.context_ids()[-1]) == synthesized(emulator, SECOND)


def _stops_reach(h: Harness, count: int) -> Callable[[], bool]:
    return lambda: len(h.stops()) == count
