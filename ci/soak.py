#!/usr/bin/env python3
"""Reliability soak, a benchmark (not part of the test suite): many healthy cells with every
core loaded by other work, counting false leaks; many fault cells (crash, hang, runaway,
hostile output, interrupts at start-up, build, run and clean-up), counting lost runs and
processes that survive a run. Uses the real CLI as a user would.

    ci/soak.py [--healthy-runs N] [--fault-rounds N] [--json FILE]

A healthy run is HEALTHY on every available configuration (one cell each); a lost run is
one that did not end with the exit code its fault calls for, or whose results.json is missing
or does not hold the cells that finished; a survivor is any process whose command line names
the run's programs (the scenario, tests/programs/hostile.py, the run's build folder) once the
run is over.
"""
import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import procs  # noqa: E402  (the tests' process finder)
TLSLEAK = str(ROOT / "tlsleak")
HOSTILE = str(ROOT / "tests" / "programs" / "hostile.py")
ENV = dict(os.environ, TLSLEAK_SKIP_SETUP="1")
OWN = {"tmp": "/nonexistent"}  # the soak's folder, once made
# Scenarios that do not leak here (the bench's healthy set, and the negative control).
HEALTHY = ("control_flat", "seed_thread_local", "tss_dtor_free", "pthread_key_dtor_free")
HOSTILE_MODES = (("bigint", 200), ("negative", 200), ("nan", 200), ("inf", 200),
                 ("long_line", 20), ("stderr_flood", 20), ("many_checkpoints", 20000),
                 ("setsid_escape", 0))


def spin():
    while True:
        pass


def survivors(words):
    """Processes of this soak's runs only (other people's work shares the machine): their
    command line names this checkout's build, the hostile program or the soak's folder, plus
    one of `words`."""
    ours = (str(ROOT / "build"), HOSTILE, OWN["tmp"])
    found = []
    for p in psutil.process_iter(["cmdline"]):
        line = " ".join(p.info["cmdline"] or [])
        if any(o in line for o in ours) and any(w in line for w in words) \
                and p.pid != os.getpid() and "soak.py" not in line:
            found.append((p.pid, line[:120]))
    return found


def working_in(folder):
    """(pid, command line) of the processes working in folder (a build the soak started)."""
    found = []
    for pid in procs.working_in(folder):
        try:
            found.append((pid, " ".join(psutil.Process(pid).cmdline())[:120]))
        except psutil.Error:
            pass
    return found


def results(out):
    try:
        return json.loads((Path(out) / "results.json").read_text())
    except (OSError, ValueError):
        return None


class Tally:
    def __init__(self):
        self.runs = self.cells = self.lost = self.survivors = 0
        self.verdicts = {}
        self.notes = []

    def add_cells(self, doc):
        for c in (doc or {}).get("cells", []):
            self.cells += 1
            self.verdicts[c["verdict"]] = self.verdicts.get(c["verdict"], 0) + 1

    def check_survivors(self, words, what, folder=None):
        time.sleep(0.2)
        left = survivors(words) + (working_in(folder) if folder else [])
        if left:
            self.survivors += len(left)
            self.notes.append(f"{what}: survivors {left}")
            for pid, _ in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def lose(self, what):
        self.lost += 1
        self.notes.append(f"lost run: {what}")


def run(argv, timeout=300):
    return subprocess.run([TLSLEAK, *argv], env=ENV, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def available(kind=None):
    listing = json.loads(run(["list", "--json", "--configure"]).stdout)
    return [c for c in listing["configs"] if c["available"] and (kind is None or
                                                                 c["mode"] == kind)]


def healthy(n_runs, tmp, tally):
    spinners = [multiprocessing.Process(target=spin, daemon=True)
                for _ in range(os.cpu_count() or 1)]
    for s in spinners:
        s.start()
    false_leaks = []
    try:
        for i in range(n_runs):
            out = Path(tmp) / f"healthy-{i}"
            argv = ["run", "--out", str(out), "--no-controls", "--threads", "2000", "-j", "2"]
            for name in HEALTHY:
                argv += ["-s", name]
            r = run(argv)
            doc = results(out)
            tally.runs += 1
            tally.add_cells(doc)
            if doc is None or r.returncode not in (0, 1):
                tally.lose(f"healthy {i}: exit {r.returncode} {r.stderr.strip()[-200:]}")
            for c in (doc or {}).get("cells", []):
                if c["verdict"] == "leak":
                    false_leaks.append(f"{c['id']}: {c['reason']}")
            tally.check_survivors(HEALTHY, f"healthy {i}")
    finally:
        for s in spinners:
            s.kill()
    return false_leaks


def fault_matrix(tmp, i, overrides, tally):
    out = Path(tmp) / f"faults-{i}"
    argv = ["run", "--out", str(out), "--no-controls", "-j", "2", "--timeout", "2",
            "--max-rss", "300M", "--interval", "10", "-s", "fault_crash_dtor",
            "-s", "fault_hang_dtor", "-s", "fault_runaway", "-a", "system"]
    for c in overrides:
        argv += ["-a", c["id"]]
    r = run(argv)
    doc = results(out)
    tally.runs += 1
    tally.add_cells(doc)
    if doc is None or r.returncode != 1 or not doc["cells"]:
        tally.lose(f"fault matrix {i}: exit {r.returncode} {r.stderr.strip()[-200:]}")
    tally.check_survivors(["fault_crash_dtor", "fault_hang_dtor", "fault_runaway"],
                          f"fault matrix {i}")


def hostile(tmp, i, overrides, tally):
    for mode, n in HOSTILE_MODES:
        out = Path(tmp) / f"hostile-{i}-{mode}"
        argv = ["run", "--out", str(out), "-j", "2", "--timeout", "2", "-a", "system"]
        for c in overrides:
            argv += ["-a", c["id"]]
        r = run([*argv, "--exec", "--", HOSTILE, mode, str(n)])
        doc = results(out)
        tally.runs += 1
        tally.add_cells(doc)
        want = (1,) if mode == "setsid_escape" else (0, 1)  # a timeout is a finding
        if doc is None or r.returncode not in want or len(doc["cells"]) != len(overrides) + 1:
            tally.lose(f"hostile {mode}: exit {r.returncode} {r.stderr.strip()[-200:]}")
        tally.check_survivors([HOSTILE], f"hostile {mode}")


def interrupted(argv, ready, signals, timeout=180, to_harness=False):
    """Run, wait until ready(proc), send the signals to the process started (on Linux, the
    warden) or to the harness itself; (exit status, stderr)."""
    proc = subprocess.Popen([TLSLEAK, *argv], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while not ready(proc) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    target = proc
    if to_harness:
        try:
            target = procs.harness_of(psutil.Process(proc.pid))
        except psutil.Error:  # already over
            pass
    for s in signals:
        try:
            target.send_signal(s)
        except (ProcessLookupError, psutil.Error):
            pass
        time.sleep(0.02)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def interrupts(tmp, i, tally):
    # start-up: a moment after launch
    out = Path(tmp) / f"int-start-{i}"
    t0 = time.monotonic()
    rc, err = interrupted(["run", "--out", str(out), "-a", "system", "-s", "control_flat"],
                          lambda p: time.monotonic() - t0 > 0.1 * (i % 5), [signal.SIGINT])
    tally.runs += 1
    if rc not in (130, -signal.SIGINT) or "Traceback" in err:
        tally.lose(f"start-up interrupt: exit {rc} {err.strip()[-200:]}")
    # build: a fresh build folder, interrupted once CMake runs
    bd = Path(tmp) / f"int-build-{i}"
    rc, err = interrupted(["run", "--out", str(Path(tmp) / f"int-build-out-{i}"), "-a",
                           "system", "-s", "control_flat", "--build-dir", str(bd)],
                          lambda p: survivors([f"-B {bd}", f"--build {bd}"]), [signal.SIGTERM])
    tally.runs += 1
    if rc != 130 or "Traceback" in err:
        tally.lose(f"build interrupt: exit {rc} {err.strip()[-200:]}")
    tally.check_survivors([str(bd)], "build interrupt", folder=bd)
    # run and clean-up: once the first cell finished, one interrupt, then three at once
    for what, sigs in (("run", [signal.SIGINT]), ("clean-up", [signal.SIGINT] * 3)):
        out = Path(tmp) / f"int-{what}-{i}"
        seen = []

        def first_cell_done(p, seen=seen):
            line = p.stderr.readline()
            seen.append(line)
            return line.startswith("[  1/2]")
        rc, err = interrupted(["run", "--out", str(out), "-a", "system", "-j", "1",
                               "--no-controls", "-s", "control_flat", "--threads", "2000",
                               "-s", "fault_hang_dtor", "--timeout", "60"],
                              first_cell_done, sigs)
        doc = results(out)
        tally.runs += 1
        tally.add_cells(doc)
        got = None if doc is None else [(c["id"], c["verdict"]) for c in doc["cells"]]
        if rc != 130 or got is None or [i for i, _ in got] != ["control_flat-system"]:
            # Say enough to tell a harness fault from a soak mistake (which cell ended first).
            tally.lose(f"{what} interrupt: exit {rc}, cells {got}, lines seen {seen[-3:]}, "
                       f"stderr {err.strip()[-300:]}")
        tally.check_survivors(["fault_hang_dtor", "control_flat"], f"{what} interrupt")
    # SIGKILL, of the harness (even rounds) or of the process started (odd: on Linux the
    # warden, and the harness cleans up after it), while a grandchild that left its group
    # with setsid() runs: nothing it started may live on
    to_harness = i % 2 == 0
    rc, err = interrupted(["run", "--out", str(Path(tmp) / f"int-kill-{i}"), "-a", "system",
                           "--timeout", "60", "--exec", "--", HOSTILE, "setsid_escape", "0"],
                          lambda p: len([x for x in survivors(["setsid_escape"])
                                         if "-m tlsleak" not in x[1]]) == 2,  # it escaped
                          [signal.SIGKILL], to_harness=to_harness)
    tally.runs += 1
    deadline = time.monotonic() + 10  # the harness's own clean-up, when the warden was killed
    while survivors(["setsid_escape"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    if rc != -signal.SIGKILL:
        tally.lose(f"kill -9 of the {'harness' if to_harness else 'process started'}: "
                   f"exit {rc} {err.strip()[-200:]}")
    tally.check_survivors(["setsid_escape"], "kill -9")


def main():
    # Started in the background by a script (`nohup ... &`), this process inherits SIGINT
    # ignored, and so would every harness it starts: a Ctrl-C sent before the harness takes
    # SIGINT over would be dropped by the launcher's shell. Its runs are meant to get SIGINT
    # as from a terminal, so the default action is put back for them.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--healthy-runs", type=int, default=20, help="runs of the healthy scenarios "
                    "on every configuration (20 x 4 x 13 configurations = 1040 cells)")
    ap.add_argument("--fault-rounds", type=int, default=3)
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()
    # The runs skip the launcher's set-up (it would be timed with them): done once here, so
    # the soak also runs in a fresh clone.
    subprocess.run([str(ROOT / "ci" / "setup.sh"), "run"], check=True, stdin=subprocess.DEVNULL)
    overrides = available("override")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tlsleak-soak-") as tmp:
        OWN["tmp"] = tmp
        h = Tally()
        false_leaks = healthy(args.healthy_runs, tmp, h)
        t_healthy = time.monotonic() - t0
        print(f"soak: healthy: {h.runs} runs, {h.cells} cells, {len(false_leaks)} false leaks, "
              f"{h.lost} lost, {h.survivors} survivors, {t_healthy:.0f} s", file=sys.stderr,
              flush=True)
        f = Tally()
        for i in range(args.fault_rounds):
            fault_matrix(tmp, i, overrides, f)
            hostile(tmp, i, overrides, f)
            interrupts(tmp, i, f)
            print(f"soak: fault round {i}: {f.runs} runs, {f.cells} cells, {f.lost} lost, "
                  f"{f.survivors} survivors, {f.verdicts}", file=sys.stderr, flush=True)
    figures = {
        "healthy": {"runs": h.runs, "cells": h.cells, "false_leaks": len(false_leaks),
                    "verdicts": h.verdicts, "lost_runs": h.lost, "survivors": h.survivors,
                    "seconds": round(t_healthy), "load": f"{os.cpu_count()} spinning processes"},
        "faults": {"runs": f.runs, "cells": f.cells, "verdicts": f.verdicts,
                   "lost_runs": f.lost, "survivors": f.survivors,
                   "seconds": round(time.monotonic() - t0 - t_healthy)},
        "notes": false_leaks + h.notes + f.notes,
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    bad = len(false_leaks) + h.lost + h.survivors + f.lost + f.survivors
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
