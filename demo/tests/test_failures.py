"""A framework that fails is named with its error, writes nothing and fails the run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import run

UNREACHABLE = {"SMALLEST_API_KEY": "sk_bad_demo_key", "SMALLEST_BASE_URL": "https://127.0.0.1:9"}


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("name", ["livekit", "pipecat", "videosdk"])
async def test_unreachable_server_is_a_named_failure(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in UNREACHABLE.items():
        monkeypatch.setenv(key, value)
    (tmp_path / f"{name}.wav").write_bytes(b"from an earlier run")
    (tmp_path / f"{name}-v4.wav").write_bytes(b"from an earlier run")

    code = await run.main(["--frameworks", name, "--out", str(tmp_path)])

    out = capsys.readouterr().out
    assert code != 0
    failed = [line for line in out.splitlines() if line.startswith("failed:")]
    assert failed, out
    assert run.FRAMEWORKS[name] in failed[0]
    assert re.search(r"connect|reach", failed[0], re.IGNORECASE), failed[0]
    assert _files(tmp_path) == []  # no empty or stale output
    assert UNREACHABLE["SMALLEST_API_KEY"] not in out


async def test_every_failed_framework_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in UNREACHABLE.items():
        monkeypatch.setenv(key, value)

    code = await run.main(["--frameworks", "pipecat,videosdk", "--out", str(tmp_path)])

    out = capsys.readouterr().out
    assert code != 0
    failed = [line for line in out.splitlines() if line.startswith("failed:")]
    assert [line.split()[1] for line in failed] == ["Pipecat", "VideoSDK"], out
