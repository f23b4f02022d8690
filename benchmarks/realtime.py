"""Real-time load: how many TTS streams paced at 1× real time one client core carries.

    python benchmarks/realtime.py [--quick] [--only FRAMEWORK ...] [--json out.json]

The emulator runs in its own process at ``speed`` 1.0, pinned to one core; each measurement
is a fresh worker process pinned to the other core (where ``os.sched_setaffinity`` allows)
that opens N streams through one plugin, each a separate plugin instance speaking one
~5 s utterance, starts staggered over one second. Delivery lag = the framework receiving
audio − the emulator sending the chunk that completed it (same monotonic clock; the
emulator's ``trace=`` option keeps its send times), so the emulator's own pacing is not
counted. A ramp over N finds, per framework and implementation, the largest N whose p99
delivery lag in steady state (from half a second after the last stream's first audio)
stays under 50 ms with every stream finished: streams per client core. The p99 while the
N streams start is reported beside it.

Implementations: ``ours`` (the core's standard-library decoders, what a plain install
gets), ``ours+fast`` (with ``smallest-core[fast]``) and ``official``, interleaved at every
N and repeated.

    python benchmarks/realtime.py worker FRAMEWORK IMPL BASE_URL N [--no-freeze] [--uvloop]
                                         [--gc-threshold G0,G1,G2]

is one measurement (one JSON line), run by the ramp.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

LAG_BUDGET_S = 0.050
IMPLS = ("ours", "ours+fast", "official")
FRAMEWORKS = ("livekit", "pipecat", "videosdk")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _cores() -> tuple[int | None, int | None]:
    """(emulator core, client core), or Nones where affinity cannot be set."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None, None
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)


def _pin(pid: int, cpu: int | None) -> bool:
    if cpu is None:
        return False
    try:
        os.sched_setaffinity(pid, {cpu})
    except (AttributeError, OSError):
        return False
    return True


# ----------------------------------------------------------------------------- worker
def _runqueue_wait_s() -> float:
    """Seconds this process's threads were ready to run but waited for a CPU (the
    kernel's schedstat): time another process held the client's core."""
    total = 0
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return float("nan")
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


async def measure(framework: str, impl: str, url: str, n: int, freeze: bool) -> dict[str, Any]:
    """N paced streams through one plugin in this process; lags from the emulator's traces."""
    import gc

    import psutil
    from common import key, now, percentile
    from drivers.registry import TTS_DRIVERS
    from load import CONC_TEXT, RATE, GcPauses, _delivery_lags, _traces

    from smallest_core import _codec

    make = TTS_DRIVERS[framework]["official" if impl == "official" else "ours"]
    run = uuid.uuid4().hex[:8]
    drivers = [make(url, key(speed=1, trace=f"{run}-{i}")) for i in range(n)]
    proc = psutil.Process()
    for d in drivers:
        await d.__aenter__()
    stagger = 1.0 / n

    async def one(i: int) -> Any:
        await asyncio.sleep(i * stagger)
        return await drivers[i].turn([CONC_TEXT])

    try:
        if not freeze:
            gc.collect()
        pauses = GcPauses(freeze=freeze)
        with pauses:
            c0, w0, q0 = time.process_time(), now(), _runqueue_wait_s()
            turns = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
            cpu_s, wall = time.process_time() - c0, now() - w0
            waited = _runqueue_wait_s() - q0
        rss = proc.memory_info().rss
    finally:
        await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)
    traces = _traces(url, f"{run}-")["tts"]
    sent_bytes = sum(ctx[-1][0] for ctxs in traces.values() for ctx in ctxs if ctx)
    timed: list[tuple[float, float]] = []  # (receipt, lag)
    ok = 0
    for i, t in enumerate(turns):
        if isinstance(t, BaseException) or not t.pushes:
            continue
        ok += 1
        lags_i = _delivery_lags(t.pushes, traces.get(f"{run}-{i}", []))
        timed.extend((at, lag) for (at, _), lag in zip(t.pushes, lags_i, strict=False))
    lags = [lag for _, lag in timed]
    # Steady state: from half a second after the last stream's first audio. Before it,
    # streams are still starting (N starts in one second, a far higher start rate than
    # a real deployment sees), and a framework's per-stream start-up work shows there.
    firsts = [t.pushes[0][0] for t in turns if not isinstance(t, BaseException) and t.pushes]
    steady_from = max(firsts, default=0.0) + 0.5
    steady = [lag for at, lag in timed if at >= steady_from]
    starting = [lag for at, lag in timed if at < steady_from]
    audio_s = sent_bytes / 2 / RATE
    delivered = sum(n for t in turns if not isinstance(t, BaseException) for _, n in t.pushes)
    return {
        "delivered_per_sent": delivered / sent_bytes if sent_bytes else None,
        "n": n,
        "streams_ok": ok,
        "deliveries": len(lags),
        "lag_p50": percentile(steady, 50),
        "lag_p99": percentile(steady, 99),
        "lag_max": max(steady, default=float("nan")),
        "steady_deliveries": len(steady),
        "start_lag_p99": percentile(starting, 99),
        "all_lag_p99": percentile(lags, 99),
        "cpu_pct": 100 * cpu_s / wall,
        "cpu_per_audio_s": cpu_s / audio_s if audio_s else None,
        "runqueue_wait_pct": 100 * waited / wall,
        "rss_mb": rss / 2**20,
        **pauses.summary(),
        "decoders": "(its own)" if impl == "official" else _codec.BACKEND,
        "errors": sorted({repr(t)[:120] for t in turns if isinstance(t, BaseException)})[:3],
    }


def worker_main(argv: list[str]) -> None:
    from common import quiet

    ap = argparse.ArgumentParser()
    ap.add_argument("framework")
    ap.add_argument("impl")
    ap.add_argument("url")
    ap.add_argument("n", type=int)
    ap.add_argument("--cpu", type=int)
    ap.add_argument("--no-freeze", action="store_true")
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--gc-threshold", help="gc.set_threshold(G0, G1, G2) before measuring")
    a = ap.parse_args(argv)
    quiet()
    if a.gc_threshold:
        import gc

        gc.set_threshold(*(int(v) for v in a.gc_threshold.split(",")))
    pinned = _pin(0, a.cpu)
    coro = measure(a.framework, a.impl, a.url, a.n, freeze=not a.no_freeze)
    if a.uvloop:
        import uvloop

        result = uvloop.run(coro)
    else:
        result = asyncio.run(coro)
    result["client_pinned"] = pinned
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # framework plugins may leave non-daemon threads behind


# ------------------------------------------------------------------------------- ramp
class PacedEmulator:
    """The emulator's CLI at speed 1.0 in its own process, pinned to ``cpu`` if possible."""

    def __init__(self, cpu: int | None) -> None:
        self.cpu = cpu
        self.pinned = False

    def __enter__(self) -> str:
        exe = Path(sys.executable).with_name("smallest-emulator")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "smallest_emulator"]
        for attempt in range(3):  # a loaded machine may fail a start; say why at the end
            with tempfile.TemporaryFile("w+") as err:
                self.proc = subprocess.Popen(
                    [*cmd, "--port", "0", "--speed", "1", "--quiet"],
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                )
                self.pinned = _pin(self.proc.pid, self.cpu)
                assert self.proc.stdout is not None
                url = self.proc.stdout.readline().strip()
                if url.startswith("http"):
                    return url
                self.proc.kill()
                self.proc.wait(10)
                err.seek(0)
                why = err.read().strip().splitlines()[-1:] or [url or "no output"]
            log(f"emulator did not start (attempt {attempt + 1}): {why[0][:200]}")
            time.sleep(2)
        raise RuntimeError("emulator did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_worker(
    fw: str, impl: str, url: str, n: int, cpu: int | None, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One measurement; a worker that crashed (not one that was slow) is tried once more."""
    result = _run_worker_once(fw, impl, url, n, cpu, extra)
    if "error" in result and "timed out" not in result["error"]:
        log(f"{fw}/{impl} N={n} failed ({result['error'][:100]}); trying once more")
        time.sleep(3)
        result = _run_worker_once(fw, impl, url, n, cpu, extra)
    return result


def _run_worker_once(
    fw: str, impl: str, url: str, n: int, cpu: int | None, extra: tuple[str, ...]
) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / "realtime.py"), "worker", fw, impl, url, str(n), *extra]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    env = dict(os.environ)
    env.pop("SMALLEST_CORE_PURE", None)
    if impl == "ours":
        env["SMALLEST_CORE_PURE"] = "1"
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=180, check=False, env=env
        )
    except subprocess.TimeoutExpired:
        return {"n": n, "error": "timed out after 180 s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"n": n, "error": tail[0][:200]}
    return dict(json.loads(lines[-1]))


def passes(runs: list[dict[str, Any]]) -> bool:
    """Every stream finished and the median p99 lag is within budget."""
    good = [r for r in runs if "error" not in r and r.get("streams_ok") == r.get("n")]
    if len(good) < len(runs) or not good:
        return False
    return statistics.median(r["lag_p99"] for r in good) < LAG_BUDGET_S


def _near_budget(runs: list[dict[str, Any]]) -> bool:
    """A point worth repeating: it failed, or its p99 lag is within 2× of the budget."""
    return any(
        "error" in r
        or r.get("streams_ok") != r.get("n")
        or LAG_BUDGET_S / 2 <= r["lag_p99"] <= 2 * LAG_BUDGET_S
        for r in runs
    )


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each numeric field over the repetitions."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return {"error": runs[0].get("error", "no run")}
    out: dict[str, Any] = {}
    for name, value in good[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            vals = [r[name] for r in good if isinstance(r.get(name), int | float)]
            out[name] = statistics.median(vals)
        else:
            out[name] = value
    out["reps"] = len(good)
    out["lag_p99_runs"] = [r.get("lag_p99") for r in good]
    return out


def ramp(
    frameworks: list[str], start: int, cap: int, reps: int, bisect: bool, budget_s: float
) -> dict[str, Any]:
    """For each framework: raise N by half from ``start`` until every implementation misses
    the lag budget (or ``cap``), implementations interleaved and alternated at each N; then
    one bisection step between each implementation's last pass and first miss. Each
    framework gets an equal share of what is left of ``budget_s``."""
    emu_cpu, client_cpu = _cores()
    started = time.time()
    out: dict[str, Any] = {"rows": {}, "points": {}}
    emu = PacedEmulator(emu_cpu)
    with emu as url:
        out["conditions"] = {
            "emulator_core": emu_cpu if emu_cpu is not None else "unpinned",
            "client_core": client_cpu if client_cpu is not None else "unpinned",
            "emulator_pinned": emu.pinned,
            "speed": 1.0,
            "lag_budget_ms": LAG_BUDGET_S * 1000,
            "reps": reps,
            "start": start,
            "cap": cap,
            "load_avg_at_start": os.getloadavg(),
        }
        log(f"paced emulator at {url}; emulator core {emu_cpu}, client core {client_cpu}")

        def point(fw: str, impl: str, n: int) -> None:
            runs = out["points"].setdefault(f"{fw}/{impl}", {}).setdefault(str(n), [])
            r = run_worker(fw, impl, url, n, client_cpu)
            runs.append(r)
            keys = ("lag_p99", "streams_ok", "cpu_pct", "runqueue_wait_pct", "error")
            shown = {k: r.get(k) for k in keys}
            log(f"{fw}/{impl} N={n}: {shown}")

        for k, fw in enumerate(frameworks):
            # An equal share of what is left: time a framework did not need goes on.
            left = started + budget_s - time.time()
            deadline = time.time() + left / (len(frameworks) - k)
            alive = {impl: True for impl in IMPLS}
            best: dict[str, int] = {impl: 0 for impl in IMPLS}
            first_miss: dict[str, int | None] = {impl: None for impl in IMPLS}
            n = start
            while any(alive.values()) and n <= cap:
                for rep in range(reps):
                    order = IMPLS if rep % 2 == 0 else tuple(reversed(IMPLS))
                    for impl in order:
                        runs = out["points"].get(f"{fw}/{impl}", {}).get(str(n), [])
                        # Repeat only where it can matter: within 2× of the budget.
                        if alive[impl] and (not runs or _near_budget(runs)):
                            point(fw, impl, n)
                for impl in IMPLS:
                    if alive[impl]:
                        if passes(out["points"][f"{fw}/{impl}"][str(n)]):
                            best[impl] = n
                        else:
                            alive[impl], first_miss[impl] = False, n
                if time.time() > deadline:
                    log(f"{fw}: time budget spent, stopping the ramp at N={n}")
                    break
                n = max(n + 1, n * 3 // 2)
            if bisect and time.time() < deadline:
                for impl in IMPLS:
                    miss = first_miss[impl]
                    if miss is None or miss - best[impl] < 4:
                        continue
                    mid = (best[impl] + miss) // 2
                    for _ in range(reps):
                        point(fw, impl, mid)
                    if passes(out["points"][f"{fw}/{impl}"][str(mid)]):
                        best[impl] = mid
                    else:
                        first_miss[impl] = mid
            for impl in IMPLS:
                pts = out["points"].get(f"{fw}/{impl}", {})
                at = pts.get(str(best[impl])) if best[impl] else pts.get(str(start))
                out["rows"][f"{fw}/{impl}"] = {
                    "max_streams": best[impl],
                    "first_miss": first_miss[impl],
                    "capped": alive[impl],  # still passing when the ramp stopped
                    "stopped": "cap" if n > cap else "time budget",
                    "at": summarize(at) if at else {},
                }
    out["conditions"]["elapsed_s"] = time.time() - started
    out["conditions"]["load_avg_at_end"] = os.getloadavg()
    return out


GC_THRESHOLD = "20000,50,100"
"""A raised collector threshold (Python's default is 700,10,10): the young generation is
collected 30× less often, the older ones 5× and 10× less (deployment guidance candidate)."""


def freeze_and_loop(fw: str, n: int, reps: int) -> dict[str, Any]:
    """Ours (with the fast extra) and official at one N: gc.freeze() on/off, a raised
    collector threshold and, if installed, uvloop instead of asyncio's loop. Variants and
    implementations are interleaved within each repetition, the order alternating."""
    import importlib.util

    emu_cpu, client_cpu = _cores()
    thr = ("--gc-threshold", GC_THRESHOLD)
    variants: dict[str, tuple[str, ...]] = {
        "asyncio, gc.freeze()": (),
        "asyncio, no freeze": ("--no-freeze",),
        f"asyncio, gc.freeze(), threshold {GC_THRESHOLD}": thr,
    }
    if importlib.util.find_spec("uvloop"):
        variants["uvloop, gc.freeze()"] = ("--uvloop",)
        variants[f"uvloop, gc.freeze(), threshold {GC_THRESHOLD}"] = ("--uvloop", *thr)
    out: dict[str, Any] = {"framework": fw, "n": n}
    runs: dict[str, list[dict[str, Any]]] = {}
    cells = [(impl, name) for impl in ("ours+fast", "official") for name in variants]
    with PacedEmulator(emu_cpu) as url:
        for rep in range(reps):
            for impl, name in cells if rep % 2 == 0 else list(reversed(cells)):
                r = run_worker(fw, impl, url, n, client_cpu, variants[name])
                runs.setdefault(f"{impl} / {name}", []).append(r)
                log(
                    f"{fw}/{impl} N={n} {name}: lag_p99 {r.get('lag_p99')} "
                    f"cpu/audio s {r.get('cpu_per_audio_s')}"
                )
    for cell, rs in runs.items():
        out[cell] = summarize(rs)
    return out


def run(
    quick: bool, frameworks: list[str] | None = None, budget_s: float | None = None
) -> dict[str, Any]:
    fws = frameworks or list(FRAMEWORKS)
    if quick:  # < 3 minutes: one point (16 streams) per implementation, one repetition
        result = ramp(fws, start=16, cap=16, reps=1, bisect=False, budget_s=budget_s or 170)
    else:  # ≤ 20 minutes on 2 cores, the variants included
        result = ramp(fws, start=12, cap=300, reps=2, bisect=True, budget_s=budget_s or 1000)
        if "livekit" in fws:  # at the largest N ours carried: where GC and the loop matter
            n = result["rows"]["livekit/ours+fast"]["max_streams"] or 8
            result["variants"] = freeze_and_loop("livekit", n, reps=1)
    result["quick"] = quick
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="two points per implementation (< 3 min)")
    ap.add_argument("--only", choices=FRAMEWORKS, action="append", help="limit frameworks")
    ap.add_argument("--budget-s", type=float, help="stop ramping after this many seconds")
    ap.add_argument("--variants", type=int, metavar="N", help="also gc.freeze/uvloop at N streams")
    ap.add_argument("--reps", type=int, default=2, help="repetitions of each variant")
    ap.add_argument("--variants-only", action="store_true", help="skip the ramp")
    ap.add_argument("--json", type=Path, help="write the results here")
    a = ap.parse_args()
    result = {} if a.variants_only else run(a.quick, a.only, a.budget_s)
    if a.variants:
        reps = 1 if a.quick else a.reps
        vs = {fw: freeze_and_loop(fw, a.variants, reps) for fw in a.only or ["livekit"]}
        result["variants"] = next(iter(vs.values())) if len(vs) == 1 else vs
    text = json.dumps(result, indent=1, default=str)
    if a.json:
        a.json.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
