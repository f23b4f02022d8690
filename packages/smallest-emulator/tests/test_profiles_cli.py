"""Profile labels, CLI messages, version and startup banner."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import aiohttp
import pytest
from emulator_kit import cli

from smallest_emulator import PROFILE_INFO, PROFILES, __version__
from smallest_emulator.cli import build_parser


def test_every_profile_is_labelled() -> None:
    assert set(PROFILE_INFO) == set(PROFILES)
    assert {info.kind for info in PROFILE_INFO.values()} <= {"documented reading", "stress"}
    assert PROFILE_INFO["strict"].kind == "stress"
    assert PROFILE_INFO["default"].kind == "documented reading"
    assert all(info.summary for info in PROFILE_INFO.values())


def test_help_lists_defaults_and_profile_labels() -> None:
    text = build_parser().format_help()
    assert "(default: 127.0.0.1)" in text and "documented reading" in text and "stress" in text
    for name in PROFILES:
        assert name in text


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smallest_emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and __version__ in out.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--set", "no_such_knob=1"), "no_such_knob"),
        (("--set", "pause_ms=soon"), "pause_ms"),
        (("--set", "complete_mode=whenever"), "complete_mode"),
        (("--set", "novalue"), "NAME=VALUE"),
    ],
)
def test_bad_options_one_line_exit_2(args: tuple[str, ...], needle: str) -> None:
    out = run_cli("--port", "0", *args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_busy_port_one_line_exit_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = run_cli("--port", str(port))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and str(port) in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_espeak_without_extra_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from smallest_emulator import cli

    monkeypatch.setattr(cli, "_missing_engine_module", lambda name: "espeakng_loader")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--engine", "espeak", "--port", "0"])
    assert exit_info.value.code == 2


async def test_banner_and_log_lines(http: aiohttp.ClientSession) -> None:
    async with cli("--profile", "strict") as (stdout, first):
        assert first.startswith("http://127.0.0.1:")
        banner = [(await asyncio.wait_for(stdout.readline(), 5)).decode() for _ in range(3)]
        text = "".join(banner)
        assert "profile strict (stress)" in text and "engine deterministic" in text
        assert "speed unpaced" in text
        async with http.post(
            first + "/waves/v1/tts",
            json={"text": "x", "voice_id": "nobody"},
            headers={"Authorization": "Bearer sk_secret_cli"},
        ) as r:
            assert r.status == 400
        line = (await asyncio.wait_for(stdout.readline(), 10)).decode()
        assert "POST /waves/v1/tts 400" in line and "Invalid Voice ID" in line
        assert "sk_secret" not in line
