"""The detector's calibration benchmark (`tlsleak bench`): figures, not a timed test.

It measures, on this machine, with the other cores busy:
  - the false-positive rate over healthy cells (cells that do not leak);
  - detection power against the injected leak size, deciding on the OS's view alone and with
    the allocator's statistics;
  - time to verdict per cell (median and 95th percentile);
  - the harness's wall time over the bare program's for the same threads, and a bare
    pthread create/join loop's rate as the physical limit;
  - the default matrix's wall time.
Everything is measured in one run and reported as medians and ratios, since the machine is
shared and noisy. Results go to results/bench/, and into the README's bench section when asked
(--update-readme).
"""
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace

from tlsleak import atomic, interrupts, paths, pipeline, provenance, session, signals
from tlsleak.build import ROOT
from tlsleak.defaults import default
from tlsleak.settings import Settings, Workload
from tlsleak.vocab import JUDGED

SIZES = (16, 64, 256, 512, 1024, 4096)
TARGETS = {"fp_rate": 0.01, "power_stats_64": 0.95, "power_os_512": 0.95,
           "median_verdict_s": 1.0, "harness_over_bare": 1.2, "matrix_s": 60.0}
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Options:
    runs: int = default("bench_runs")
    reps: int = default("bench_reps")
    threads: int = 10000
    healthy: tuple = ()
    load: bool = True
    update_readme: bool = False
    argv: tuple = ()


@contextmanager
def busy_neighbours(n):
    """Keep n other cores busy with spinning processes for the duration."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _percentile(values, q):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def upper_bound(k, n, confidence=0.95):
    """One-sided Clopper-Pearson upper bound of a rate seen k times in n."""
    if k >= n:
        return 1.0
    stats = interrupts.load("scipy.stats")  # heavy: only when a bound is computed
    return float(stats.beta.ppf(confidence, k + 1, n - k))


def _progress(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def judge(cell, settings):
    """One cell's results record, through the pipeline's pool: an interrupt stops its program
    and ends the bench (KeyboardInterrupt)."""
    records, interrupted = pipeline.run_cells([cell], settings, 1, show_progress=False)
    if interrupted:
        raise KeyboardInterrupt
    return records[0]


def false_positives(healthy, settings, runs):
    """Run healthy cells round-robin until `runs` results; count the false leaks."""
    results = []
    while len(results) < runs:
        for cell in healthy:
            if len(results) >= runs:
                break
            results.append(judge(cell, settings))
    leaks = [r["id"] for r in results if r["verdict"] == "leak"]
    other = [r["id"] for r in results if r["verdict"] not in JUDGED]
    return {"runs": len(results), "false_leaks": len(leaks), "not_ok_ids": leaks + other,
            "inconclusive_or_worse": len(other),
            "rate": len(leaks) / len(results), "rate_upper_95": upper_bound(len(leaks),
                                                                            len(results)),
            "durations": [r["duration_s"] for r in results]}


def power(leak_scenario, confs, settings, reps):
    """Detection rate of control_leak per block size, OS signals alone and with statistics."""
    table, durations = {}, []
    for label, choice in (("os", "os"), ("stats", "all")):
        for size in SIZES:
            s = replace(settings, workload=replace(settings.workload, size=size),
                        criteria=replace(settings.criteria, deciding=signals.deciding(choice)))
            hits = n = s_hits = s_n = 0
            per_config = {}
            for conf in confs:
                cell = pipeline.scenario_cell(leak_scenario, conf, s.workload)
                got = [judge(cell, s) for _ in range(reps)]
                durations += [r["duration_s"] for r in got]
                k = sum(r["verdict"] == "leak" for r in got)
                per_config[conf.label] = f"{k}/{reps}"
                hits, n = hits + k, n + reps
                if any("heap_inuse" in r["signals"] for r in got):  # exact in-use bytes
                    s_hits, s_n = s_hits + k, s_n + reps
            table[f"{label}:{size}"] = {
                "detected": hits, "runs": n, "rate": hits / n, "per_config": per_config,
                "with_inuse_stats": {"detected": s_hits, "runs": s_n,
                                     "rate": s_hits / s_n if s_n else None}}
            _progress(f"power {label} {size} B/thread: {hits}/{n}")
    return table, durations


def _wall(argv, env=None):
    t0 = time.monotonic()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=True)
    return time.monotonic() - t0


def overhead(flat_scenario, system, settings, reps, bare_churn):
    """Harness wall time / bare wall time for the same threads, and the bare loop's rate."""
    full = replace(settings, criteria=replace(settings.criteria, sequential=False))
    cell = pipeline.scenario_cell(flat_scenario, system, full.workload)
    threads = settings.workload.threads
    bare, harnessed, loop = [], [], []
    for _ in range(reps):
        bare.append(_wall(cell.argv))
        t0 = time.monotonic()
        judge(cell, full)
        harnessed.append(time.monotonic() - t0)
        if bare_churn:
            loop.append(threads / _wall([bare_churn, str(threads)]))
    ratios = [h / b for h, b in zip(harnessed, bare)]
    return {"threads": threads, "bare_s_median": statistics.median(bare),
            "harness_s_median": statistics.median(harnessed),
            "ratio_median": statistics.median(ratios),
            "bare_loop_threads_per_s": statistics.median(loop) if loop else None,
            "repro_threads_per_s": threads / statistics.median(bare)}


def default_matrix_time(out):
    """The default matrix (`tlsleak run`), run in-process with the default settings; its
    results go to `out`."""
    jobs = os.cpu_count() or 1
    defaults = Settings()
    req = session.Request(settings=replace(defaults,
                                           limits=defaults.limits.with_machine_caps(jobs)),
                          jobs=jobs, out=out, argv=["run", "--out", str(out)], progress=False,
                          overwrite=True)
    t0 = time.monotonic()
    rc = session.run(req).exit_code
    return {"seconds": time.monotonic() - t0, "exit_code": rc}


def render(doc):
    """The figures as the markdown table that goes into the README."""
    fp, pw, ov, tv, mx = (doc["false_positives"], doc["power"], doc["overhead"],
                          doc["time_to_verdict"], doc["matrix"])
    t = TARGETS
    st = pw["stats:64"]["with_inuse_stats"]

    def mark(ok):
        return "meets" if ok else "**misses**"

    lines = [f"Measured {doc['date']} on {doc['host']['cpus']} cores "
             f"({doc['host']['os']}), other cores busy: {doc['load']}; "
             f"`{' '.join(doc['command'])}`.", "",
             "| figure | measured | target | |", "|---|---|---|---|",
             f"| false positives over healthy cells | {fp['false_leaks']}/{fp['runs']} = "
             f"{fp['rate']:.1%} (95% upper bound {fp['rate_upper_95']:.1%}); "
             f"{fp['inconclusive_or_worse']} not ok | ≤ {t['fp_rate']:.0%} | "
             f"{mark(fp['rate'] <= t['fp_rate'])} |",
             f"| detection at 64 B/thread, with allocator statistics (configurations whose "
             f"allocator reports bytes in use; all of them) | {st['rate']:.0%} "
             f"({st['detected']}/{st['runs']}); {pw['stats:64']['rate']:.0%} "
             f"({pw['stats:64']['detected']}/{pw['stats:64']['runs']}) | ≥ "
             f"{t['power_stats_64']:.0%} | {mark((st['rate'] or 0) >= t['power_stats_64'])} |",
             f"| detection at 512 B/thread, RSS alone | {pw['os:512']['rate']:.0%} "
             f"({pw['os:512']['detected']}/{pw['os:512']['runs']}) | ≥ "
             f"{t['power_os_512']:.0%} | {mark(pw['os:512']['rate'] >= t['power_os_512'])} |",
             f"| time to verdict per cell, median (p95) | {tv['median_s']:.2f} s "
             f"({tv['p95_s']:.2f} s) | ≤ {t['median_verdict_s']:.0f} s | "
             f"{mark(tv['median_s'] <= t['median_verdict_s'])} |",
             f"| harness / bare wall time, {ov['threads']} threads (median) | "
             f"{ov['ratio_median']:.2f} | ≤ {t['harness_over_bare']} | "
             f"{mark(ov['ratio_median'] <= t['harness_over_bare'])} |",
             f"| default matrix wall time | {mx['seconds']:.1f} s | ≤ {t['matrix_s']:.0f} s | "
             f"{mark(mx['seconds'] <= t['matrix_s'])} |", ""]
    rates = [f"repro {ov['repro_threads_per_s']:,.0f} threads/s"]
    if ov["bare_loop_threads_per_s"]:
        rates.insert(0, f"bare pthread create/join loop {ov['bare_loop_threads_per_s']:,.0f} "
                        f"threads/s (the physical limit)")
    lines += ["Thread rates: " + "; ".join(rates) + ".", "",
              "Detection rate by injected leak size (control_leak, every configuration):", "",
              "| B/thread | " + " | ".join(str(s) for s in SIZES) + " |",
              "|---|" + "---|" * len(SIZES),
              "| RSS alone (floor %g) | " % doc["settings"]["floor"]
              + " | ".join(f"{pw[f'os:{s}']['rate']:.0%}" for s in SIZES) + " |",
              "| with allocator statistics (floor %g) | " % doc["settings"]["stats_floor"]
              + " | ".join(f"{pw[f'stats:{s}']['rate']:.0%}" for s in SIZES) + " |"]
    return "\n".join(lines)


def update_readme(table, path=ROOT / "README.md"):
    text = path.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        return False
    path.write_text(pattern.sub(lambda _: f"{README_START}\n{table}\n{README_END}", text))
    return True


def run(opts, scenarios, confs, build_manifest):
    """The whole benchmark; returns (the document it wrote, the markdown table)."""
    by_name = {s.name: s for s in scenarios}
    defaults = Settings()
    settings = Settings(Workload(threads=opts.threads), defaults.criteria,
                        defaults.limits.with_machine_caps(1))
    healthy_names = [s.name for s in scenarios if s.role == "control-flat"] + list(opts.healthy)
    healthy = [pipeline.scenario_cell(by_name[n], c, settings.workload) for n in healthy_names
               for c in confs]
    system = next(c for c in confs if c.name == "system")
    bare_churn = os.path.join(system.bin_dir, "bare_churn")
    load = (os.cpu_count() or 2) - 1 if opts.load else 0
    t0 = time.monotonic()
    with busy_neighbours(load):
        _progress(f"false positives: {opts.runs} healthy runs ({len(healthy)} cells)")
        fp = false_positives(healthy, settings, opts.runs)
        _progress(f"false positives: {fp['false_leaks']}/{fp['runs']}")
        pw, leak_durations = power(by_name["control_leak"], confs, settings, opts.reps)
    durations = fp.pop("durations") + leak_durations
    _progress("overhead against the bare program")
    ov = overhead(by_name["control_flat"], system, settings, 5,
                  bare_churn if os.path.exists(bare_churn) else None)
    _progress("default matrix")
    # Its own folder per bench run, results/bench/latest pointing at the newest.
    out = paths.state() / "results" / "bench" / dt.datetime.now().strftime(
        f"%Y%m%d-%H%M%S-{os.getpid()}")
    mx = default_matrix_time(out / "matrix")
    doc = {
        "format": "tlsleak-bench/1", "command": ["tlsleak", *opts.argv],
        "date": dt.date.today().isoformat(), "host": provenance.host(),
        "harness": provenance.harness(), "build": build_manifest.get("build", {}),
        "load": f"{load} spinning process(es)", "settings": settings.as_dict(),
        "configs": [c.label for c in confs], "healthy_scenarios": healthy_names,
        "false_positives": fp, "power": pw, "overhead": ov,
        "time_to_verdict": {"cells": len(durations),
                            "median_s": statistics.median(durations),
                            "p95_s": _percentile(durations, 0.95)},
        "matrix": mx, "targets": TARGETS, "wall_s": time.monotonic() - t0,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(doc, indent=2) + "\n")
    table = render(doc)
    (out / "bench.md").write_text("# tlsleak bench\n\n" + table + "\n")
    atomic.symlink(out, out.parent / "latest")
    if opts.update_readme:  # the README's table, and beside it the committed figures it shows
        update_readme(table)
        for name in ("bench.json", "bench.md"):
            (out.parent / name.replace("bench", "readme")).write_bytes((out / name).read_bytes())
    return doc, table, out
