"""The example's offline mode runs end to end with one command."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "videosdk" / "agent.py"


def test_offline_example_speaks_and_transcribes(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("SMALLEST_API_KEY", "SMALLEST_BASE_URL")
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "error" not in result.stdout.lower()
    reply = "Hello! I am speaking through Smallest AI. Every sentence streams as it arrives."
    final = f"STT final_transcript: '{reply}'"
    assert final in result.stdout
    with wave.open(str(tmp_path / "reply.wav")) as reply:
        assert reply.getframerate() == 24000
        assert reply.getnframes() > 24000
