"""Each example, run as a user runs it (a subprocess, offline), does what its README says."""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
import wave
from array import array
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1]
OFFLINE = {**os.environ, "SMALLEST_API_KEY": "", "SMALLEST_BASE_URL": "", "PYTHONPATH": ""}
SPEECH = all(importlib.util.find_spec(m) for m in ("espeakng_loader", "pocketsphinx"))
STRICT = "error::DeprecationWarning"  # livekit-agents warns when its legacy CLI is used


def _require_speech() -> None:
    """The demo-tests session installs the speech extra; without it these tests fail
    (never skip): a skipped test would pass for one that proved nothing."""
    if not SPEECH:
        pytest.fail("needs smallest-emulator[speech] (nox -s demo-tests installs it)")


def _run(*args: str, cwd: Path, warnings: str = "default") -> str:
    done = subprocess.run(
        [sys.executable, "-W", warnings, *args],
        cwd=cwd,
        env=OFFLINE,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _sign_flip_rate(path: Path) -> float:
    """How often loud consecutive samples change sign: ~1 for the test tone, far less for speech."""
    with wave.open(str(path), "rb") as wav:
        samples = array("h", wav.readframes(wav.getnframes()))
    loud = [(a, b) for a, b in itertools.pairwise(samples) if abs(a) > 1000]
    assert loud, f"{path} is silent"
    return sum((a < 0) != (b < 0) for a, b in loud) / len(loud)


def test_livekit_example_uses_the_current_entry_point(tmp_path: Path) -> None:
    script = EXAMPLES / "livekit" / "agent.py"
    code = (
        "from pathlib import Path; from livekit.agents.cli.discover import get_import_data; "
        f"print(get_import_data(path=Path({str(script)!r})).app_name)"
    )
    assert _run("-c", code, cwd=tmp_path, warnings=STRICT).split() == ["server"]


def test_livekit_example_offline(tmp_path: Path) -> None:
    out = _run(str(EXAMPLES / "livekit" / "agent.py"), "offline", cwd=tmp_path, warnings=STRICT)
    heard = next(line for line in out.splitlines() if line.startswith("STT heard:"))
    assert heard.removeprefix("STT heard:").strip(), out


def test_pipecat_example_writes_speech(tmp_path: Path) -> None:
    _require_speech()
    wav = tmp_path / "pipecat.wav"
    out = _run(str(EXAMPLES / "pipecat" / "roundtrip.py"), "--out", str(wav), cwd=tmp_path)
    assert _sign_flip_rate(wav) < 0.5, out
    assert "transcript:" in out


def test_videosdk_example_writes_speech_and_announces_every_word(tmp_path: Path) -> None:
    _require_speech()
    out = _run(str(EXAMPLES / "videosdk" / "agent.py"), "--out", str(tmp_path), cwd=tmp_path)
    spoken = [line.split("spoken:", 1)[1].strip() for line in out.splitlines() if "spoken:" in line]
    reply = "Hello! I am speaking through Smallest AI. Every sentence streams as it arrives."
    assert len(spoken) == len(reply.split()), out
    assert spoken[-1] == reply, out
    assert _sign_flip_rate(tmp_path / "reply.wav") < 0.5, out


def test_livekit_example_never_starts_the_deprecated_cli(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-W", STRICT, str(EXAMPLES / "livekit" / "agent.py"), "dev"],
        cwd=tmp_path,
        env={**OFFLINE, "SMALLEST_API_KEY": "sk_example"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "DeprecationWarning" not in done.stderr, done.stderr
    assert "python -m livekit.agents start" in done.stderr, done.stderr
    assert done.returncode == 2
