"""Each framework's offline turn: real speech played into the STT in real time, as it happens."""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from replies import REPLIES
from scoring import word_accuracy
from turn import Turn

from smallest_emulator import Emulator, EmulatorConfig

FRAMEWORKS = {"livekit": "LiveKit", "pipecat": "Pipecat", "videosdk": "VideoSDK"}


@dataclass
class Recorded:
    """A turn, its progress lines with their times, and the STT audio the server had over time."""

    turn: Turn
    logs: list[tuple[float, str]] = field(default_factory=list)
    fed: list[tuple[float, float]] = field(default_factory=list)  # (turn time, seconds received)


async def _record(name: str) -> Recorded:
    config = EmulatorConfig(
        engine="espeak",
        stt_engine="pocketsphinx",
        transcript=tuple(REPLIES.values()),
        complete_backoff_ms=0,
    )
    module = importlib.import_module(f"{name}_turn")
    rec = Recorded(Turn(framework=FRAMEWORKS[name], reply=REPLIES[name]))

    async with Emulator(config) as emu:

        async def sample() -> None:
            while True:
                seconds = sum(
                    r.audio_bytes / 2 / int(r.params.get("sample_rate", 16000)) for r in emu.stt_log
                )
                rec.fed.append((rec.turn.now(), seconds))
                await asyncio.sleep(0.02)

        sampler = asyncio.create_task(sample())
        try:
            await asyncio.wait_for(
                module.run(
                    rec.turn,
                    emu.base_url,
                    "sk_demo",
                    lambda m: rec.logs.append((rec.turn.now(), m)),
                ),
                90,
            )
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
    return rec


_cache: dict[str, Recorded] = {}


@pytest.fixture(params=list(FRAMEWORKS))
def recorded(request: pytest.FixtureRequest) -> Recorded:
    name = request.param
    if name not in _cache:
        _cache[name] = asyncio.run(_record(name))
    return _cache[name]


def test_turn_is_heard_exactly(recorded: Recorded) -> None:
    turn = recorded.turn
    assert turn.audio_seconds > 3
    assert len(turn.words) == len(turn.reply.split())
    assert word_accuracy(turn.reply, turn.transcript) == 1.0


def test_stt_is_fed_no_faster_than_real_time(recorded: Recorded) -> None:
    fed = [(t, s) for t, s in recorded.fed if s > 0]
    assert fed, "the STT received no audio"
    start = fed[0][0]
    for at, seconds in fed:
        assert seconds <= (at - start) + 0.5, (
            f"{seconds:.2f} s of audio fed after {at - start:.2f} s"
        )
    total = fed[-1][1]
    assert total >= recorded.turn.audio_seconds  # the whole reply (and trailing silence)


def test_stt_final_comes_after_the_speech_has_played(recorded: Recorded) -> None:
    turn = recorded.turn
    fed_from = next(t for t, s in recorded.fed if s > 0)
    assert turn.final_times and turn.final_times[0] >= fed_from + turn.audio_seconds - 0.1


def test_first_audio_is_reported_when_it_arrives(recorded: Recorded) -> None:
    first_audio = recorded.turn.events["first audio"]
    said = [at for at, message in recorded.logs if "first audio" in message]
    assert said, recorded.logs
    assert abs(said[0] - first_audio) < 0.3, (said[0], first_audio)


def test_timeline_picture_explains_itself(recorded: Recorded, tmp_path: Path) -> None:
    from timeline_plot import figure

    fig = figure(recorded.turn)
    wave_ax, time_ax = fig.axes[:2]
    assert "amplitude" in wave_ax.get_ylabel().lower()
    assert wave_ax.get_yticks().size > 1
    legend = time_ax.get_legend()
    assert legend is not None
    labels = " | ".join(t.get_text() for t in legend.get_texts())
    for name in ("first token", "first audio", "end of context", "STT final", "played"):
        assert name in labels, labels
    assert "wall-clock" in time_ax.get_xlabel()
