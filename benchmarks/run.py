"""Ours vs the official Smallest plugins, per framework, on one emulator, in one run.

    nox -s bench                 # full run (~30 min on 2 cores), writes BENCHMARKS.md
    nox -s bench -- --quick      # fewer repeats, 50 concurrent streams (~8 min)
    nox -s bench -- --realtime-only   # only the real-time ramp, merged into results.json
    python benchmarks/run.py --only livekit --no-write

Latency scenarios run against an in-process emulator (its logs give the truth: exact PCM,
word times, socket counters). CPU and concurrency run in a worker process per
implementation against the emulator's CLI in a third process, so only client CPU counts.
All of these are unpaced or paced at twice real time; the real-time ramp (``realtime.py``:
N streams at 1× real time, emulator and client on separate cores) runs last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
# The unpaced suites measure ours as a plain install gets it: the core's standard-library
# decoders, even though this environment has smallest-core[fast]. The real-time ramp
# (realtime.py) measures both, per worker.
os.environ.setdefault("SMALLEST_CORE_PURE", "1")

from common import NotSupported, median, quiet  # noqa: E402
from drivers.base import IMPLS  # noqa: E402
from drivers.registry import FRAMEWORKS  # noqa: E402

# scenario -> emulator pacing (0 = unpaced; 2 = twice real time, as the brief asks)
TTS_PLAN = {
    "first_audio": 0.0,
    "dead_air": 2.0,
    "back_to_back": 2.0,
    "word_error": 0.0,
    "barge_in": 2.0,
    "sockets": 0.0,
    "pause_loss": 0.0,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def latency_suite(frameworks: list[str], repeats: int) -> dict[str, Any]:
    """Scenarios 1-7 and 10 against one in-process emulator."""
    import tts_scenarios as S
    from common import key
    from drivers.registry import TTS_DRIVERS, driver

    from smallest_emulator import Emulator, EmulatorConfig
    from smallest_emulator.engines.deterministic import synthesize

    out: dict[str, Any] = {"tts": {}, "stt": {}}
    async with Emulator(config=EmulatorConfig(speed=0.0)) as emu:
        out["server_ttfb_s"] = await S.server_ttfb(emu, 10)
        log(f"server TTFB (bare client, warm socket): {out['server_ttfb_s'] * 1000:.2f} ms")
        for fw in frameworks:
            for impl in IMPLS:
                make = TTS_DRIVERS[fw][impl]
                res = out["tts"].setdefault(f"{fw}/{impl}", {})
                for name, speed in TTS_PLAN.items():
                    emu.config.speed = speed
                    t0 = time.perf_counter()
                    reps = repeats
                    try:
                        res[name] = await asyncio.wait_for(S.SCENARIOS[name](make, emu, reps), 180)
                    except NotSupported as exc:
                        res[name] = {"na": str(exc)}
                    except Exception as exc:  # reported in the table, never a number
                        res[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                    shown = {k: v for k, v in res[name].items() if k != "samples"}
                    log(f"{fw}/{impl} {name}: {shown} ({time.perf_counter() - t0:.1f}s)")
            # STT (metric 10)
            emu.config.speed = 0.0
            text = "hello big world"
            pcm = synthesize(text, 16000).pcm
            for impl in IMPLS:
                stt = driver(fw, impl, emu.base_url, key(transcript=text))
                res = out["stt"].setdefault(f"{fw}/{impl}", {})
                if stt.stt_reason:
                    res["na"] = stt.stt_reason
                    continue
                try:
                    lat = []
                    for _ in range(15):  # STT runs are fast; single-ms medians need many
                        h = await stt.utterance(pcm, finalize=True)
                        if h.final_at:
                            lat.append(h.final_at - h.finalize_at)
                    end = await stt.utterance(pcm, finalize=False)
                    res.update(
                        finalize_s=median(lat) if lat else None,
                        finals=len(lat),
                        final_at_end=end.final_text == text,
                    )
                except Exception as exc:
                    res["error"] = f"{type(exc).__name__}: {exc}"[:200]
                log(f"{fw}/{impl} stt: {res}")
    return out


class EmulatorProcess:
    """The emulator's CLI in its own process (its CPU is not the client's)."""

    def __enter__(self) -> str:
        exe = Path(sys.executable).with_name("smallest-emulator")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "smallest_emulator"]
        self.proc = subprocess.Popen(
            [*cmd, "--port", "0", "--speed", "0", "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        url = self.proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"emulator did not start: {url!r}")
        return url

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def worker(mode: str, fw: str, impl: str, url: str, n: float, repeats: int = 1) -> dict[str, Any]:
    """The median of ``repeats`` worker runs, field by field (a run is one process)."""
    runs = [_worker_once(mode, fw, impl, url, n) for _ in range(repeats)]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    out: dict[str, Any] = dict(good[0])
    for name, value in good[0].items():
        values = [r[name] for r in good if isinstance(r.get(name), int | float)]
        if isinstance(value, int | float) and not isinstance(value, bool) and values:
            out[name] = statistics.median(values)
    out["runs"] = len(good)
    return out


def _worker_once(mode: str, fw: str, impl: str, url: str, n: float) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "load.py"), mode, fw, impl, url, str(n)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 240 s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0][:200]}
    return dict(json.loads(lines[-1]))


def load_suite(frameworks: list[str], seconds: float, streams: int, repeats: int) -> dict[str, Any]:
    """Metrics 8 and 9: client CPU per audio second, 200 concurrent streams."""
    from drivers.registry import driver

    out: dict[str, Any] = {"cpu": {}, "tts_conc": {}, "stt_conc": {}}
    with EmulatorProcess() as url:
        log(f"emulator process at {url}")
        out["cpu_floor"] = worker("cpu-floor", "-", "-", url, seconds, repeats)
        log(f"cpu floor (bare aiohttp + json + base64): {out['cpu_floor']}")
        for fw in frameworks:
            for impl in IMPLS:
                tag = f"{fw}/{impl}"
                out["cpu"][tag] = worker("cpu", fw, impl, url, seconds, repeats)
                log(f"{tag} cpu: {out['cpu'][tag]}")
                out["tts_conc"][tag] = worker("tts-conc", fw, impl, url, streams, repeats)
                log(f"{tag} {streams} TTS streams: {out['tts_conc'][tag]}")
                reason = driver(fw, impl).stt_reason
                if reason:
                    out["stt_conc"][tag] = {"na": reason}
                else:
                    out["stt_conc"][tag] = worker("stt-conc", fw, impl, url, streams, repeats)
                log(f"{tag} {streams} STT streams: {out['stt_conc'][tag]}")
    return out


def _commit() -> str:
    """The measured tree: HEAD, and whether the working tree differed from it."""
    try:
        run = lambda *a: subprocess.run(  # noqa: E731
            ["git", *a], cwd=HERE.parent, capture_output=True, text=True, check=False
        ).stdout.strip()
        head = run("rev-parse", "--short", "HEAD")
        return head + (" + uncommitted changes" if run("status", "--porcelain") else "")
    except OSError:
        return "unknown"


def realtime_only(args: argparse.Namespace) -> None:
    """Measure the real-time ramp; keep every other row of the saved results."""
    import realtime
    import report

    path = args.json or HERE / "results.json"
    results = json.loads(path.read_text())
    if "date" not in results:  # the measured rows keep the date they were measured on
        import re

        found = re.search(r"on (\d{4}-\d{2}-\d{2})", (HERE.parent / "BENCHMARKS.md").read_text())
        results["date"] = found.group(1) if found else None
    import core_micro

    n = 5_000 if args.quick else 30_000
    results["core"]["decoders"] = core_micro.decoder_options(n)
    results["core"]["receive_by_backend"] = core_micro.receive_by_backend(n)
    log(f"decoders: {results['core']['decoders']} {results['core']['receive_by_backend']}")
    results["realtime"] = realtime.run(args.quick, args.only)
    results["realtime"]["receive_by_backend"] = results["core"]["receive_by_backend"]
    quick = " --quick" if args.quick else ""
    results["realtime"]["cmd"] = f"nox -s bench -- --realtime-only{quick}"
    path.write_text(json.dumps(results, indent=1, default=str))
    frameworks = results.get("frameworks", list(FRAMEWORKS))
    table, md = report.render(results, frameworks, results["cmd"])
    print(table)
    if not args.no_write:
        (HERE.parent / "BENCHMARKS.md").write_text(md)
        log("wrote BENCHMARKS.md")
    sys.stdout.flush()
    os._exit(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, 50 streams, 15 s CPU")
    ap.add_argument("--only", choices=FRAMEWORKS, action="append", help="limit frameworks")
    ap.add_argument("--no-write", action="store_true", help="print only; keep BENCHMARKS.md")
    ap.add_argument("--skip-load", action="store_true", help="skip CPU and concurrency")
    ap.add_argument("--json", type=Path, help="also dump raw results here")
    ap.add_argument("--render", type=Path, help="only re-render a --json dump (no measuring)")
    ap.add_argument("--skip-realtime", action="store_true", help="skip the real-time ramp")
    ap.add_argument(
        "--realtime-only",
        action="store_true",
        help="only the real-time ramp, merged into the --json dump (the other rows kept)",
    )
    args = ap.parse_args()
    quiet()
    if args.realtime_only:
        realtime_only(args)
        return
    if args.render:
        import report

        saved = json.loads(args.render.read_text())
        table, md = report.render(saved, saved.get("frameworks", list(FRAMEWORKS)), saved["cmd"])
        print(table)
        if not args.no_write:
            (HERE.parent / "BENCHMARKS.md").write_text(md)
        return
    frameworks = args.only or list(FRAMEWORKS)
    repeats = 2 if args.quick else 3
    seconds, streams = (15.0, 50) if args.quick else (60.0, 200)
    started = time.time()
    log(f"benchmarks: {', '.join(frameworks)}; repeats={repeats}; quick={args.quick}")

    import core_micro
    import report

    log("core microbenchmark + profile")
    core = core_micro.run(args.quick)
    log(
        f"core: {core['tts_chunks_only']['frames_per_s']:.0f} TTS frames/s, "
        f"{core['stt']['frames_per_s']:.0f} STT frames/s"
    )
    results: dict[str, Any] = {"core": core, "repeats": repeats, "streams": streams}
    results["cpu_seconds"] = seconds
    results.update(asyncio.run(latency_suite(frameworks, repeats)))
    if not args.skip_load:
        results["load_repeats"] = 1 if args.quick else 3
        results.update(load_suite(frameworks, seconds, streams, results["load_repeats"]))
    if not args.skip_realtime:
        import realtime

        log("real-time ramp (emulator at 1x, emulator and client on separate cores)")
        results["realtime"] = realtime.run(args.quick, frameworks)
        results["realtime"]["receive_by_backend"] = core.get("receive_by_backend")
    results["elapsed_s"] = time.time() - started
    cmd = "nox -s bench" + (" -- --quick" if args.quick else "")
    results["cmd"], results["frameworks"] = cmd, frameworks
    results["date"] = time.strftime("%Y-%m-%d")
    results["commit"] = _commit()
    table, md = report.render(results, frameworks, cmd)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    if not args.no_write:
        (HERE.parent / "BENCHMARKS.md").write_text(md)
        log("wrote BENCHMARKS.md")
    log(f"done in {results['elapsed_s']:.0f} s")
    sys.stdout.flush()
    os._exit(0)  # framework plugins may leave non-daemon threads behind


if __name__ == "__main__":
    main()
