"""The timeline picture of one turn: waveform with word boundaries, and the turn's events."""

from __future__ import annotations

from array import array
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from turn import Turn

EVENT_COLOURS = {
    "first token": "tab:purple",
    "first audio": "tab:green",
    "end of context": "tab:red",
    "STT start": "tab:gray",
}


def draw(turn: Turn, path: Path) -> None:
    """Write ``path`` (PNG): the audio with our TTS's word starts, then a wall-clock timeline."""
    samples = array("h")
    samples.frombytes(bytes(turn.pcm))
    rate = turn.sample_rate
    fig, (wave_ax, time_ax) = plt.subplots(
        2, 1, figsize=(14, 6.5), gridspec_kw={"height_ratios": [3, 2]}
    )
    fig.suptitle(f"{turn.framework}: reply → our TTS → audio → our STT", fontsize=13)

    # Waveform (decimated for drawing) with one line and label per word start.
    stride = max(1, len(samples) // 20000)
    xs = [i / rate for i in range(0, len(samples), stride)]
    wave_ax.plot(xs, samples[::stride], linewidth=0.4, color="tab:blue")
    wave_ax.set_xlim(0, max(turn.audio_seconds, 0.1))
    wave_ax.set_ylim(-33000, 33000)
    wave_ax.set_yticks([])
    wave_ax.set_xlabel("audio time (s); vertical lines: word starts from our TTS word timestamps")
    for i, word in enumerate(turn.words):
        wave_ax.axvline(word.start, color="tab:orange", linewidth=0.8, alpha=0.8)
        wave_ax.text(
            word.start + 0.02,
            26000 if i % 2 == 0 else 19000,
            word.text,
            fontsize=8,
            rotation=0,
            va="center",
            ha="left",
            clip_on=True,
        )
    wave_ax.set_title(f"heard: {turn.transcript or '(nothing)'}", fontsize=9, loc="left")

    # Wall-clock lanes: tokens in, audio chunks out, and the turn's events.
    lanes = {"LLM tokens": 2, "TTS audio chunks": 1, "STT finals": 0}
    time_ax.eventplot(
        [turn.token_times, turn.chunk_times, turn.final_times],
        lineoffsets=[lanes["LLM tokens"], lanes["TTS audio chunks"], lanes["STT finals"]],
        linelengths=0.6,
        colors=["tab:purple", "tab:blue", "tab:brown"],
        linewidths=[1, 0.6, 2.5],
    )
    time_ax.set_yticks(list(lanes.values()), list(lanes))
    time_ax.set_ylim(-0.8, 3.2)
    heights = (2.85, 2.45, 1.55)  # staggered so that events close in time stay readable
    for i, (name, at) in enumerate(sorted(turn.events.items(), key=lambda kv: kv[1])):
        colour = EVENT_COLOURS.get(name, "black")
        time_ax.axvline(at, color=colour, linestyle="--", linewidth=1)
        time_ax.text(
            at,
            heights[i % len(heights)],
            f" {name} {at:.2f} s",
            color=colour,
            fontsize=8,
            va="center",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
        )
    for at in turn.final_times:
        time_ax.text(at, -0.55, f" STT final {at:.2f} s", color="tab:brown", fontsize=8)
    time_ax.set_xlabel("wall-clock time since the first LLM token (s)")
    end = max([*turn.final_times, *turn.chunk_times, *turn.events.values(), 0.1])
    time_ax.set_xlim(-0.05 * end, end * 1.12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
