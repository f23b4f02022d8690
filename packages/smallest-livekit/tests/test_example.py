"""The example's offline mode runs one voice turn end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "livekit" / "agent.py"


def test_example_offline_mode() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMALLEST_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "offline"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "STT heard:   Hello from Smallest, how can I help you today?" in result.stdout
    assert "TTS sockets: 1" in result.stdout
