"""The picture of one turn: the audio with its word starts, and the turn on a wall clock."""

from __future__ import annotations

from array import array
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from turn import Turn

FULL_SCALE = 32768
NOTE = (
    "Read the lower panel left to right. Flat steps in the blue line are moments when no audio "
    "arrived (the TTS works sentence by sentence);\nthey are harmless while blue stays above "
    "green: playback stalls only where the green line goes flat. The STT sends its final once it "
    "has heard the speech end,\nso the gap between 'reply played' and 'STT final' is its "
    "end-of-speech latency: the silence it waits for, plus recognition."
)


def figure(turn: Turn) -> Figure:
    """The turn as a two-panel figure; ``ValueError`` for a turn without audio."""
    if not turn.pcm:
        raise ValueError(f"{turn.framework}: no audio to draw")
    fig, (wave_ax, time_ax) = plt.subplots(
        2, 1, figsize=(14, 9), gridspec_kw={"height_ratios": [1, 1.25]}
    )
    fig.suptitle(
        f"{turn.framework}: LLM reply → our TTS → audio played into our STT → text", fontsize=13
    )
    _waveform(wave_ax, turn)
    _timeline(time_ax, turn)
    fig.text(0.01, 0.01, NOTE, fontsize=8.5, color="dimgray", va="bottom")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def draw(turn: Turn, path: Path) -> None:
    """Write the turn's picture to ``path`` (PNG)."""
    fig = figure(turn)
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def _waveform(ax: Axes, turn: Turn) -> None:
    samples = array("h")
    samples.frombytes(bytes(turn.pcm))
    rate = turn.sample_rate
    stride = max(1, len(samples) // 20000)  # decimated for drawing
    xs = [i / rate for i in range(0, len(samples), stride)]
    ax.plot(xs, [s / FULL_SCALE for s in samples[::stride]], linewidth=0.4, color="tab:blue")
    ax.set_xlim(0, max(turn.audio_seconds, 0.1))
    ax.set_ylim(-1, 1)
    ax.set_yticks([-1, -0.5, 0, 0.5, 1])
    ax.set_ylabel("amplitude (full scale)")
    ax.set_xlabel("position in the reply's audio (s); orange lines: word starts from our TTS")
    for i, word in enumerate(turn.words):
        ax.axvline(word.start, color="tab:orange", linewidth=0.8, alpha=0.8)
        ax.text(
            word.start + 0.02,
            0.85 if i % 2 == 0 else 0.65,
            word.text,
            fontsize=8,
            va="center",
            ha="left",
            clip_on=True,
        )
    ax.set_title(f"heard by our STT: {turn.transcript or '(nothing)'}", fontsize=9, loc="left")


def _timeline(ax: Axes, turn: Turn) -> None:
    events = turn.events
    if turn.received:
        times, seconds = zip(*[(0.0, 0.0), *turn.received], strict=True)
        ax.step(
            times,
            seconds,
            where="post",
            color="tab:blue",
            linewidth=1,
            zorder=3,
            label="TTS audio received (total)",
        )
    pace = turn.pace or 0.0
    played_x: list[float] = []
    played_y: list[float] = []
    for wall, start, end in turn.played:
        played_x += [wall, wall + ((end - start) / pace if pace else 0.0)]
        played_y += [start, end]
    how = "in real time" if pace == 1 else f"at {pace:g}× real time" if pace else "unpaced"
    ax.plot(
        played_x,
        played_y,
        color="tab:green",
        linewidth=4,
        alpha=0.6,
        zorder=2,
        label=f"played into our STT ({how})",
    )
    if "speech played" in events and "silence played" in events:
        ax.axvspan(
            events["speech played"],
            events["silence played"],
            color="0.85",
            zorder=0,
            label="silence played after the reply (the caller stops talking)",
        )
    words = [(turn.wall_time_of(w.start), w.start) for w in turn.words]
    heard = [(at, s) for at, s in words if at is not None]
    if heard:
        ax.plot(
            *zip(*heard, strict=True),
            "o",
            color="tab:orange",
            markersize=3.5,
            label="a word starts playing",
        )
    if turn.token_times:
        ax.plot(
            turn.token_times,
            [0.0] * len(turn.token_times),
            "|",
            color="tab:purple",
            markersize=14,
            label=f"LLM tokens handed to the TTS ({len(turn.token_times)})",
        )
    if turn.final_times:
        ax.plot(
            turn.final_times,
            [turn.audio_seconds] * len(turn.final_times),
            "*",
            color="tab:brown",
            markersize=14,
            label="STT final transcript",
        )

    first_token = events.get("first token", 0.0)
    lines = [("first token", "tab:purple", "first token", "")]
    if "first audio" in events:
        lines.append(
            (
                "first audio",
                "tab:green",
                "first audio",
                f" ({(events['first audio'] - first_token) * 1000:.0f} ms after it)",
            )
        )
    lines.append(("end of context", "tab:blue", "end of context", " (all audio received)"))
    if "speech played" in events:
        lines.append(("speech played", "tab:gray", "reply played", " (its last sample)"))
    for name, colour, label, detail in lines:
        if name in events:
            ax.axvline(
                events[name],
                color=colour,
                linestyle="--",
                linewidth=1,
                label=f"{label} {events[name]:.2f} s{detail}",
            )
    if turn.final_times:
        after = turn.final_after_speech_ms
        detail = f" ({after:.0f} ms after the reply played)" if after is not None else ""
        ax.axvline(
            turn.final_times[-1],
            color="tab:brown",
            linestyle="--",
            linewidth=1,
            label=f"STT final {turn.final_times[-1]:.2f} s{detail}",
        )

    ax.set_xlabel("wall-clock time since the first LLM token (s)")
    ax.set_ylabel("seconds of the reply's audio")
    end = max([*turn.final_times, *events.values(), 0.1])
    ax.set_xlim(-0.02 * end, end * 1.03)
    ax.set_ylim(-0.4, turn.audio_seconds * 1.1 + 0.1)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8.5, framealpha=0.95)
