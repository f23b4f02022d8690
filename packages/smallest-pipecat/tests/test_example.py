"""The example runs offline against the emulator with one command."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "pipecat" / "roundtrip.py"


def test_example_roundtrip_offline(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("SMALLEST_API_KEY", "SMALLEST_BASE_URL")
    }
    out = tmp_path / "hello.wav"
    text = "Offline example works."
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), text, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"transcript: {text}" in result.stdout
    with wave.open(str(out), "rb") as wav:
        assert wav.getframerate() == 24000
        assert wav.getnframes() > 24000
