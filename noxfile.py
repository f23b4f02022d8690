"""Every way this repo is checked, as nox sessions (run with uv: fast, offline-friendly).

``nox -s tests`` runs what CI runs: lint, types, the core and emulator suites, one session
per framework (each in the environment its users get) and the combined one.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator
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
    versioned = [f"{name}-{py}" for name in ("core", "emulator") for py in PYTHONS]
    cross = ("combined", "vendor", "demo-tests", "build")
    for name in ("lint", "typecheck", *versioned, *present, *cross):
        session.notify(name)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # uv.lock is committed (reproducible editor environments); it must match pyproject.
    session.run("uv", "lock", "--check", external=True)


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy: strict on the core, checked on the emulator."""
    session.install(*CORE, *EMULATOR, "mypy>=1.11")
    session.run("mypy", "packages/smallest-core/src", "packages/smallest-emulator/src")


@nox.session(python=PYTHONS)
def core(session: nox.Session) -> None:
    """The sans-I/O core: table tests from shared fixtures and property tests, run twice:
    with the standard-library decoders, then with the ``fast`` extra's native ones."""
    session.install(*CORE, *TEST_DEPS, "audioop-lts; python_version >= '3.13'")
    tests = "packages/smallest-core/tests"
    # SMALLEST_CORE_EXPECT_BACKEND makes tests/test_codec.py prove which decoders ran.
    pure = {"SMALLEST_CORE_PURE": "1", "SMALLEST_CORE_EXPECT_BACKEND": "stdlib"}
    with _env(session, pure):
        _pytest(session, f"core-{session.python}", tests)
    session.install("-e", "packages/smallest-core[fast]")
    with _env(session, {"SMALLEST_CORE_EXPECT_BACKEND": "msgspec+pybase64"}):
        _pytest(session, f"core-{session.python}-fast", tests)


@contextlib.contextmanager
def _env(session: nox.Session, values: dict[str, str]) -> Iterator[None]:
    """``values`` in the environment of every command the session runs meanwhile."""
    saved = {k: session.env.get(k) for k in values}
    session.env.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                session.env.pop(k, None)
            else:
                session.env[k] = v


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
    session.install(*CORE, *EMULATOR, *_all_adapters(), *TEST_DEPS)
    # A plain `pytest` at the root must collect every suite side by side (no clashing
    # module names): checked here, in the environment that has every framework.
    session.run("pytest", "--collect-only", "-q", "-p", "no:cacheprovider", silent=True)
    _pytest(session, "combined", "tests", "-m", "not soak", "--ignore=tests/vendor")


def _all_adapters() -> list[str]:
    return [a for p in FRAMEWORKS.values() if _present(p) for a in ("-e", f"{p}[test]")]


@nox.session(python="3.11")
def soak(session: nox.Session) -> None:
    """1,000 turns per adapter with barge-ins and faults: memory, sockets, lost/stale bytes."""
    session.install(*CORE, *EMULATOR, *_all_adapters(), *TEST_DEPS)
    _pytest(session, "soak", "tests", "-m", "soak", "--ignore=tests/vendor")


# The vendor's own clients, unmodified, as the judge of the emulator (tests/vendor).
VENDOR = [
    "smallestai==5.14.*",
    "livekit-agents==1.8.9",
    "livekit-plugins-smallestai==1.8.9",
    "pipecat-ai[websocket]==1.14.0",
    "videosdk-agents==1.0.30",
    "videosdk-plugins-smallestai==1.0.30",
    # imported by the tests themselves: raw protocol checks and reference decoders
    "aiohttp>=3.9",
    "av",
    "httpx",
    "numpy",
]


@nox.session(python="3.11")
def vendor(session: nox.Session) -> None:
    """The emulator judged by the vendor's SDK and the three official plugins, unmodified."""
    session.install(*EMULATOR, *VENDOR, *TEST_DEPS)
    _pytest(session, "vendor", "tests/vendor")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Ours vs the official plugins on the same emulator; writes BENCHMARKS.md.

    The core's ``fast`` extra is installed: the unpaced rows still measure ours with the
    standard-library decoders (a plain install), the real-time ramp measures both.
    """
    fast_core = ["-e", "packages/smallest-core[fast]"]
    session.install(*fast_core, *EMULATOR, *_all_adapters(), "-r", "benchmarks/requirements.txt")
    args = session.posargs or ["--json", "benchmarks/results.json"]
    session.run("python", "benchmarks/run.py", *args)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The main job in miniature: reply → our TTS → audio → our STT → text, per framework."""
    session.log(
        "installing the demo: three agent frameworks, espeak-ng, pocketsphinx, matplotlib "
        "(about 20 s on a fast connection; `nox -R -s demo` skips this next time)"
    )
    session.install(*_demo_deps(), silent=False)
    session.run("python", "demo/run.py", *session.posargs)


def _demo_deps() -> list[str]:
    return [
        *CORE,
        "-e",
        "packages/smallest-emulator[speech]",
        *_all_adapters(),
        "-r",
        "demo/requirements.txt",
    ]


@nox.session(python="3.11", name="demo-tests")
def demo_tests(session: nox.Session) -> None:
    """The demo and examples: failures named, STT fed in real time, real speech, entry points."""
    session.install(*_demo_deps(), *TEST_DEPS)
    _pytest(session, "demo", "demo/tests", "examples/tests")


# How each example runs offline (against an in-process emulator), from any directory.
EXAMPLES = {
    "livekit": ["examples/livekit/agent.py", "offline"],
    "pipecat": ["examples/pipecat/roundtrip.py", "--out", "{tmp}/pipecat.wav"],
    "videosdk": ["examples/videosdk/agent.py", "--out", "{tmp}"],
}

OFFICIAL = {
    "livekit": ("livekit-plugins-smallestai", "livekit.plugins.smallestai"),
    "pipecat": ("pipecat-ai", "pipecat.services.smallest.tts"),
    "videosdk": ("videosdk-plugins-smallestai", "videosdk.plugins.smallestai"),
}


# A fresh user's shell: no key, the public API root unset, nothing from the workspace.
OFFLINE_ENV = {"PYTHONPATH": "", "SMALLEST_API_KEY": "", "SMALLEST_BASE_URL": ""}


def _wheel(dist: Path, project: str) -> str:
    (wheel,) = dist.glob(f"{project.replace('-', '_')}-*.whl")
    return str(wheel)


def _fresh_venv(session: nox.Session, where: Path) -> str:
    session.run("uv", "venv", "-q", "-p", "3.11", str(where), external=True)
    return str(where / "bin" / "python")


@nox.session(python="3.11")
def build(session: nox.Session) -> None:
    """Build every package; install each wheel alone, run it; install beside the official."""
    import shutil
    import tempfile

    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("uv", "build", "--all-packages", "-q", "-o", str(dist), external=True)
    sdists = sorted(p.name for p in dist.glob("*.tar.gz"))
    session.log(f"built: {sorted(p.name for p in dist.glob('*.whl'))} + {sdists}")
    work = Path(tempfile.mkdtemp(prefix="smallest-wheels-"))
    core, emulator = _wheel(dist, "smallest-core"), _wheel(dist, "smallest-emulator")

    # The core alone: no third-party runtime dependency may come with it.
    python = _fresh_venv(session, work / "core")
    session.run("uv", "pip", "install", "-q", "--python", python, core, external=True)
    session.run(
        python,
        "-c",
        "import smallest_core, importlib.metadata as m; "
        "hard = [r for r in m.requires('smallest-core') or [] if 'extra ==' not in r]; "
        "assert not hard, hard; "
        "print('smallest-core', smallest_core.__version__, 'imports alone')",
        external=True,
        env=OFFLINE_ENV,
    )

    for name, path in FRAMEWORKS.items():
        if not _present(path):
            continue
        project = Path(path).name
        adapter = _wheel(dist, project)
        # 1. The adapter's wheel with the emulator, outside the workspace: run its example.
        python = _fresh_venv(session, work / name)
        session.run(
            "uv", "pip", "install", "-q", "--python", python, core, emulator, adapter, external=True
        )
        script, *args = EXAMPLES[name]
        args = [a.replace("{tmp}", str(work / f"{name}-out")) for a in args]
        with session.chdir(work):
            session.run(python, str(ROOT / script), *args, external=True, env=OFFLINE_ENV)
        # 2. Beside the official plugin users migrate from: both import, pip check clean.
        official, module = OFFICIAL[name]
        python = _fresh_venv(session, work / f"{name}-official")
        session.run(
            "uv", "pip", "install", "-q", "--python", python, core, adapter, official, external=True
        )
        session.run("uv", "pip", "check", "--python", python, external=True)
        session.run(
            python,
            "-c",
            f"import {project.replace('-', '_')}, {module}; "
            f"print('{project} and {official} import side by side')",
            external=True,
        )
    shutil.rmtree(work, ignore_errors=True)
