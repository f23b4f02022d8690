"""Every way this repo is checked, as nox sessions (run with uv: fast, offline-friendly).

``nox -s tests`` runs what CI runs: lint, types, the core and emulator suites, one session
per framework (each in the environment its users get) and the combined one.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["tests"]

ROOT = Path(__file__).parent
REPORTS = ROOT / ".reports"
TEST_DEPS = ["pytest>=8", "pytest-asyncio>=1.3", "pytest-timeout>=2.3", "hypothesis>=6.100"]
CORE = ["-e", "packages/smallest-core"]
EMULATOR = ["-e", "packages/smallest-emulator"]

# Python 3.12/3.13 live beside 3.11 under pyenv on our machines but not on PATH.
for _bin in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[23].*/bin"))):
    if _bin not in os.environ.get("PATH", ""):
        os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + _bin

PYTHONS = ["3.11", "3.12", "3.13"]
FRAMEWORKS = {
    "livekit": "packages/smallest-livekit",
    "pipecat": "packages/smallest-pipecat",
    "videosdk": "packages/smallest-videosdk",
}


def _pytest(session: nox.Session, name: str, *paths: str) -> None:
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / f"{name}.xml"
    session.run(
        "pytest",
        *paths,
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
        *session.posargs,
    )


def _present(path: str) -> bool:
    return (ROOT / path / "pyproject.toml").exists()


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Everything CI runs, each part in its own environment."""
    present = [name for name, path in FRAMEWORKS.items() if _present(path)]
    for name in ("lint", "typecheck", "core", "emulator", *present, "combined"):
        session.notify(name)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy: strict on the core, checked on the emulator."""
    session.install(*CORE, *EMULATOR, "mypy>=1.11")
    session.run("mypy", "packages/smallest-core/src", "packages/smallest-emulator/src")


@nox.session(python=PYTHONS)
def core(session: nox.Session) -> None:
    """The sans-I/O core: table tests from shared fixtures and property tests."""
    session.install(*CORE, *TEST_DEPS, "audioop-lts; python_version >= '3.13'")
    _pytest(session, f"core-{session.python}", "packages/smallest-core/tests")


@nox.session(python=PYTHONS)
def emulator(session: nox.Session) -> None:
    """The emulator with its real-speech extra, driven by a plain aiohttp client."""
    session.install("-e", "packages/smallest-emulator[speech]", *TEST_DEPS)
    _pytest(session, f"emulator-{session.python}", "packages/smallest-emulator/tests")


def _framework(session: nox.Session, name: str) -> None:
    path = FRAMEWORKS[name]
    if not _present(path):
        session.error(f"{path} is missing")
    session.install(*CORE, *EMULATOR, "-e", f"{path}[test]", *TEST_DEPS, "mypy>=1.11")
    session.run("mypy", f"{path}/src")
    _pytest(session, name, f"{path}/tests")


@nox.session(python="3.11")
def livekit(session: nox.Session) -> None:
    """smallest-livekit against livekit-agents, as its users install it."""
    _framework(session, "livekit")


@nox.session(python="3.11")
def pipecat(session: nox.Session) -> None:
    """smallest-pipecat against pipecat-ai, as its users install it."""
    _framework(session, "pipecat")


@nox.session(python="3.11")
def videosdk(session: nox.Session) -> None:
    """smallest-videosdk against videosdk-agents, as its users install it."""
    _framework(session, "videosdk")


@nox.session(python="3.11")
def combined(session: nox.Session) -> None:
    """All three frameworks in one environment: the cross-package suite in tests/."""
    adapters = [a for p in FRAMEWORKS.values() if _present(p) for a in ("-e", f"{p}[test]")]
    session.install(*CORE, *EMULATOR, *adapters, *TEST_DEPS)
    _pytest(session, "combined", "tests")
