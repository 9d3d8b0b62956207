#!/usr/bin/env python3
"""Benchmark (prints figures, asserts nothing): how regularly tlsleak_sampler samples a fast
program while every core is busy (docs/DESIGN.md "The sampler"). A program churns threads as
fast as it can (tests/programs/churn_pthread, the probe preloaded), BUSY busy loops load the
cores, and the sampler samples it every INTERVAL; printed: threads per second, the gaps between
consecutive samples (median, 99th percentile, largest, in ms and in intervals), and how the
sampler was scheduled (realtime where it may take the lowest real-time priority).

    ci/sampler_gaps.py [--runs 3] [--threads 40000] [--busy CPUS] [--interval-ms 10]

Needs the build tree (`./tlsleak list` builds it; or cmake --build build --target
tlsleak_probe tlsleak_sampler tlsleak_test_programs)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "harness"))
from tlsleak import probe  # noqa: E402


def one_run(manifest, threads, interval_ms):
    """(threads per second, [gaps in ms], scheduling) of one sampled run."""
    library, sampler = manifest["probe"]["library"], manifest["probe"]["sampler"]
    program = ROOT / "build" / "bin" / "programs" / "churn_pthread"
    with tempfile.TemporaryDirectory() as folder:
        path = probe.create(Path(folder) / "counts", gate=True)
        env = {**os.environ, **probe.environment(path, library)}
        t0 = time.monotonic()
        proc = subprocess.Popen([str(program), str(threads), "2048"], env=env,
                                stdout=subprocess.DEVNULL)
        out = subprocess.run([sampler, str(proc.pid), str(int(interval_ms * 1000)),
                              "--probe", str(path)], capture_output=True, text=True).stdout
        proc.wait()
        seconds = time.monotonic() - t0
    lines = [line.split() for line in out.splitlines()]
    times = [int(w[1]) for w in lines if w[0] == "S"]
    gaps = [(b - a) / 1e6 for a, b in zip(times, times[1:])]
    scheduling = next((w[3] for w in lines if w[0] == "H" and len(w) > 3), "normal")
    return threads / seconds, gaps, scheduling


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=40000)
    ap.add_argument("--busy", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--interval-ms", type=float, default=10.0)
    args = ap.parse_args()
    manifest = json.loads((ROOT / "build" / "manifest.json").read_text())
    busy = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(args.busy)]
    try:
        with open("/proc/loadavg") as fh:
            load = fh.read().split()[0]
        print(f"{args.busy} busy loop(s), {os.cpu_count()} CPUs, load average {load}, "
              f"interval {args.interval_ms:g} ms")
        for run in range(args.runs):
            rate, gaps, scheduling = one_run(manifest, args.threads, args.interval_ms)
            gaps.sort()
            p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
            print(f"run {run + 1}: {rate:,.0f} threads/s, {len(gaps) + 1} samples ({scheduling}); "
                  f"gap median {statistics.median(gaps):.1f} ms, p99 {p99:.1f} ms, "
                  f"largest {gaps[-1]:.1f} ms = {gaps[-1] / args.interval_ms:.1f} intervals")
    finally:
        for b in busy:
            b.kill()
            b.wait()


if __name__ == "__main__":
    main()
