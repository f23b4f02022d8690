"""Command line: ``smallest-emulator --port 0 --profile multi-complete --speed 4``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from smallest_emulator.config import PROFILES, EmulatorConfig, parse_overrides
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


def build_parser() -> argparse.ArgumentParser:
    """The CLI argument parser."""
    ap = argparse.ArgumentParser("smallest-emulator", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--profile", default="default", choices=PROFILES)
    ap.add_argument("--speed", type=float, default=1.0, help="pacing vs real time; 0 = unpaced")
    ap.add_argument("--engine", default="deterministic", choices=["deterministic", "espeak"])
    ap.add_argument("--stt-engine", default="script", choices=["script", "pocketsphinx"])
    ap.add_argument("--transcript", default=None, help="STT script: utterances separated by '|'")
    ap.add_argument("--idle-timeout-s", type=float, default=None)
    for name in _FAULTS:
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=None)
    ap.add_argument("--never-answer", action="store_true")
    ap.add_argument("--drop-connection-on-connect", action="store_true")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any EmulatorConfig field (override grammar), repeatable",
    )
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    return ap


def config_from_args(ns: argparse.Namespace) -> EmulatorConfig:
    """Build an EmulatorConfig from parsed arguments."""
    cfg = EmulatorConfig().apply_profile(ns.profile)
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
    for item in ns.set:
        over.update(parse_overrides(item, has_key=False))
    return cfg.with_overrides(over)


async def _serve(ns: argparse.Namespace) -> None:
    emu = Emulator(config_from_args(ns), host=ns.host, port=ns.port)
    await emu.start()
    print(emu.base_url, flush=True)
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
    logging.basicConfig(
        stream=sys.stderr if ns.quiet else sys.stdout,
        level=logging.WARNING if ns.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
    )
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    asyncio.run(_serve(ns))


if __name__ == "__main__":
    main()
