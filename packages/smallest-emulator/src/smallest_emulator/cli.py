"""Command line: ``smallest-emulator --port 0 --profile multi-complete --speed 4``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import importlib.util
import logging
import signal
import sys

from smallest_emulator._version import __version__
from smallest_emulator.config import PROFILE_INFO, PROFILES, EmulatorConfig, parse_overrides
from smallest_emulator.server import Emulator

_FAULTS = (
    "ttfb_ms",
    "pause_ms",
    "pause_after_chunks",
    "error_after_chunks",
    "close_after_chunks",
    "concurrency_limit",
    "http_status",
    "malformed_json_after_chunks",
    "unknown_status_after_chunks",
    "binary_frame_after_chunks",
    "complete_backoff_ms",
    "max_buffer_delay_ms",
)
#: Engines and the module each needs (from the ``speech`` extra).
_ENGINE_MODULES = {"espeak": "espeakng_loader", "pocketsphinx": "pocketsphinx"}
_DEFAULTS = EmulatorConfig()


class UsageError(Exception):
    """A bad command line or environment: one line on stderr, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    """The CLI argument parser (every flag shows its default)."""
    profiles = "\n".join(
        f"  {name:<21} [{PROFILE_INFO[name].kind}] {PROFILE_INFO[name].summary}"
        for name in PROFILES
    )
    ap = argparse.ArgumentParser(
        "smallest-emulator",
        description=__doc__,
        epilog="profiles:\n" + profiles,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--version", action="version", version=f"smallest-emulator {__version__}")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default: 0)")
    ap.add_argument(
        "--profile",
        default="default",
        choices=PROFILES,
        metavar="NAME",
        help="protocol reading, see the list below (default: default)",
    )
    ap.add_argument(
        "--speed", type=float, default=1.0, help="pacing vs real time; 0 = unpaced (default: 1.0)"
    )
    ap.add_argument(
        "--engine",
        default="deterministic",
        choices=["deterministic", "espeak"],
        help="TTS audio engine; espeak needs the 'speech' extra (default: deterministic)",
    )
    ap.add_argument(
        "--stt-engine",
        default="script",
        choices=["script", "pocketsphinx"],
        help="STT engine; pocketsphinx needs the 'speech' extra (default: script)",
    )
    ap.add_argument(
        "--transcript", default=None, help="STT script: utterances separated by '|' (default: none)"
    )
    ap.add_argument(
        "--idle-timeout-s",
        type=float,
        default=None,
        help=f"socket idle timeout in seconds (default: {_DEFAULTS.idle_timeout_s:g})",
    )
    for name in _FAULTS:
        default = getattr(_DEFAULTS, name)
        ap.add_argument(
            "--" + name.replace("_", "-"),
            type=int,
            default=None,
            help=f"see README fault knobs (default: {default if default is not None else 'off'})",
        )
    ap.add_argument("--never-answer", action="store_true", help="accept and never respond")
    ap.add_argument(
        "--drop-connection-on-connect", action="store_true", help="abort every connection"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any EmulatorConfig field (override grammar), repeatable (default: none)",
    )
    ap.add_argument(
        "--quiet", action="store_true", help="log only warnings, to stderr (default: off)"
    )
    return ap


def config_from_args(ns: argparse.Namespace) -> EmulatorConfig:
    """Build an EmulatorConfig from parsed arguments; raises UsageError for bad values."""
    over: dict[str, str] = {
        "speed": str(ns.speed),
        "engine": ns.engine,
        "stt_engine": ns.stt_engine,
    }
    if ns.transcript:
        over["transcript"] = ns.transcript
    if ns.idle_timeout_s is not None:
        over["idle_timeout_s"] = str(ns.idle_timeout_s)
    for name in _FAULTS:
        value = getattr(ns, name)
        if value is not None:
            over[name] = str(value)
    if ns.never_answer:
        over["never_answer"] = "true"
    if ns.drop_connection_on_connect:
        over["drop_connection_on_connect"] = "true"
    try:
        for item in ns.set:
            if "=" not in item:
                raise ValueError(f"--set {item!r}: expected NAME=VALUE")
            over.update(parse_overrides(item, has_key=False))
        return EmulatorConfig().apply_profile(ns.profile).with_overrides(over)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _missing_engine_module(name: str) -> str | None:
    """The module an engine needs when it is not installed, else None."""
    module = _ENGINE_MODULES.get(name)
    if module is None or importlib.util.find_spec(module) is not None:
        return None
    return module


def check_engines(cfg: EmulatorConfig) -> None:
    """Refuse engines whose optional packages are missing (instead of 500 per request)."""
    for engine in (cfg.engine, cfg.stt_engine):
        module = _missing_engine_module(engine)
        if module is not None:
            raise UsageError(
                f"engine {engine!r} needs the 'speech' extra ({module} is not installed): "
                "pip install 'smallest-emulator[speech]'"
            )


def banner(emu: Emulator, cfg: EmulatorConfig, profile: str) -> list[str]:
    """The first lines printed: base URL, profile, engines, speed."""
    speed = "unpaced" if cfg.speed <= 0 or cfg.speed == float("inf") else f"{cfg.speed:g}x"
    return [
        emu.base_url,
        f"profile {profile} ({PROFILE_INFO[profile].kind}); ws {emu.ws_url}",
        f"engine {cfg.engine}, stt engine {cfg.stt_engine}",
        f"speed {speed}; any 'Bearer sk_...' key works; keys are never logged",
    ]


async def _serve(ns: argparse.Namespace, cfg: EmulatorConfig) -> None:
    emu = Emulator(cfg, host=ns.host, port=ns.port)
    try:
        await emu.start()
    except OSError as exc:
        await emu.stop()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {ns.port} on {ns.host} is already in use") from None
        raise UsageError(f"cannot listen on {ns.host}:{ns.port}: {exc.strerror or exc}") from None
    for line in banner(emu, cfg, ns.profile):
        print(line, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``smallest-emulator`` script."""
    ns = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(ns)
        check_engines(cfg)
        logging.basicConfig(
            stream=sys.stderr if ns.quiet else sys.stdout,
            level=logging.WARNING if ns.quiet else logging.INFO,
            format="%(asctime)s %(message)s",
        )
        logging.getLogger("aiohttp").setLevel(logging.WARNING)
        asyncio.run(_serve(ns, cfg))
    except UsageError as exc:
        print(f"smallest-emulator: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
