"""Results documents for the tests of the results model and its views: a synthetic run of seven
cells, one of each verdict (make_doc), and two recorded runs (tests/data/report/):

- results.json, a real run trimmed to a known leak (last_round_alloc under mimalloc:dynamic),
  its controls, an ok cell and a crash (fault_crash_dtor), compared with a baseline. Recorded
  with `tlsleak run -j2 -s control_leak -s control_flat -s last_round_alloc -s
  fault_crash_dtor -s seed_thread_local -a system -a mimalloc:dynamic --baseline
  results/baseline/linux-x86_64-glibc.json`, keeping 7 of its 12 cells (summary and baseline
  lists recomputed); written before results recorded their target.
- wine-results.json: `tlsleak run --platform wine -s control_leak -s control_flat -s
  seed_thread_local -a system -a mimalloc:static --threads 1000`.
- exec-results.json: an --exec run through `sh -c` (`tlsleak run -a system --threads 4000
  --exec -- sh -c "churn_pthread 100000 2048"`, paths shortened): two processes, the program
  that finished the threads judged on its own, the shell recorded.
"""
import copy
import json
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "report"
RECORDED = DATA / "results.json"
WINE_RECORDED = DATA / "wine-results.json"
EXEC_RECORDED = DATA / "exec-results.json"
VERDICTS = ("ok", "leak", "inconclusive", "crash", "timeout", "error")
# Cells of the recorded run: the known leak, the crash, an ok scenario cell.
LEAK = "last_round_alloc-mimalloc@2.0.9-dynamic"
CRASH = "fault_crash_dtor-system"
OK = "last_round_alloc-system"


def recorded():
    return json.loads(RECORDED.read_text())


def wine_recorded():
    return json.loads(WINE_RECORDED.read_text())


def exec_recorded():
    return json.loads(EXEC_RECORDED.read_text())


def cell_of(doc, cid):
    """The cell of `doc` whose id is `cid`."""
    return next(c for c in doc["cells"] if c["id"] == cid)


def rate(slope, half, n=33, unit="B/thread"):
    return {"value": slope, "unit": unit, "ci": [slope - half, slope + half],
            "confidence": 0.95, "n": n}


def cell(scenario, config, role, verdict, *, r=None, reason="", signal="rss", finished=20000,
         code=0, sig=None, duration=2.5, stderr=""):
    """A whole results cell, as results.record builds one."""
    name, _, mode = config.partition(":")
    return {
        "id": "%s-%s" % (scenario, name if mode == "system" else "%s@1.0-%s" % (name, mode)),
        "scenario": scenario, "role": role, "config": config,
        "allocator": {"id": "%s@1.0:%s" % (name, mode), "name": name, "version": "1.0",
                      "mode": mode, "library": None if mode == "system" else "/usr/lib/lib%s.so" % name,
                      "origin": "debian package"},
        "observed_allocator": {"name": name, "version": "1.0", "owns": True,
                               "malloc_from": "/usr/lib/lib%s.so" % name, "libc": "glibc-2.36"},
        "verdict": verdict, "reason": reason or "%s because" % verdict,
        "signal": signal if r else None, "rate": r,
        "signals": {"rss": {"verdict": verdict if verdict in ("ok", "leak", "inconclusive")
                            else "inconclusive", "rate": r, "reason": "rss says so"}} if r else {},
        "threads": {"requested": 20000, "finished": finished, "os_baseline": 1, "os_final": 1,
                    "os_max_sampled": 2},
        "exit": {"code": code, "signal": sig},
        "duration_s": duration,
        "command": ["/build/bin/%s" % scenario, "--threads", "20000"],
        "env": {"LD_PRELOAD": "/usr/lib/lib%s.so" % name} if mode == "override" else {},
        "checkpoints": [{"done": 0, "t_ns": 0, "rss": 4096, "t_recv": 0.01},
                        {"done": 500, "t_ns": 100, "rss": 8192, "t_recv": 0.02}],
        "samples": [{"t": 0.0, "rss": 4096, "threads": 1}],
        "stderr_tail": stderr,
        "provenance": {"compiler": {"c": "GNU 12.2.0", "cxx": "GNU 12.2.0", "c_flags": "-O2",
                                    "cxx_flags": "-O2", "build_type": "Release"},
                       "os": "Debian GNU/Linux 12 (6.1.0, x86_64)", "libc": "glibc 2.36",
                       "harness": {"version": "0.1.0", "commit": None, "dirty": False}},
    }


CELLS = [
    cell("control_leak", "mimalloc:override", "control-leak", "leak", r=rate(1031.2, 9.1)),
    cell("control_flat", "system:system", "control-flat", "ok", r=rate(0.4, 3.0)),
    cell("seed_thread_local", "mimalloc:override", "scenario", "leak", r=rate(2048, 20),
         reason="rss grows 2048 B/thread (95% CI 2028..2068) > floor 128"),
    cell("tss_dtor_free", "jemalloc:dynamic", "scenario", "inconclusive", r=rate(130, 60),
         reason="rss 130 B/thread (95% CI 70..190) straddles floor 128"),
    cell("pthread_key_dtor_free", "tcmalloc:static", "scenario", "crash", finished=1500, code=-11,
         sig=11, reason="killed by SIGSEGV", stderr="Segmentation fault\x1b[0m\x00 at 0x0"),
    cell("cxx_thread_local", "system:system", "scenario", "timeout", finished=None, code=-9, sig=9),
    cell("fault_abort", "system:system", "fault", "error", code=3, reason="exited with code 3"),
]


def make_doc(cells=CELLS, exit_code=1):
    """A whole results document around `cells`."""
    counts = {v: sum(1 for c in cells if c["verdict"] == v) for v in VERDICTS}
    return {
        "schema": "tlsleak-results/2",
        "harness": {"version": "0.1.0", "commit": "0123456789abcdef0123456789abcdef01234567",
                    "dirty": False},
        "command": ["tlsleak", "run", "--threads", "20000"],
        "started": "2024-11-25T16:02:00+00:00", "finished": "2024-11-25T16:04:00+00:00",
        "duration_s": 120.0, "interrupted": False,
        "host": {"os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0-26-amd64",
                 "machine": "x86_64", "libc": "glibc 2.36", "cpus": 8, "mem_total": 16 << 30,
                 "thp": "madvise", "python": "3.11.2"},
        "build": {"c_compiler": "GNU 12.2.0", "cxx_compiler": "GNU 12.2.0",
                  "build_type": "Release", "c_flags": "-O2", "cxx_flags": "-O2"},
        "settings": {"threads": 20000, "concurrency": 1, "size": 1024, "interval": 500,
                     "warmup": 0.2, "floor": 128.0, "confidence": 0.95,
                     "sample_interval_s": 0.01, "timeout_s": 120.0},
        "cells": copy.deepcopy(cells),
        "unavailable": [{"config": "snmalloc:static", "id": "snmalloc@0.6:static",
                         "reason": "not found"}],
        "summary": counts,
        "controls": {"passed": True, "failures": []},
        "exit_code": exit_code,
    }


# Text a program controls (its name, its output, its stderr), written to break each output:
# a backtick run and a pipe for Markdown, markup for Markdown and HTML, a terminal escape
# that clears the screen, a bidirectional override, a NUL, a mathtext `$` for the plots.
HOSTILE = "ev``il|<b>x</b>*y*\x1b[2J\u202e$a^^b$\x00"


def hostile_doc():
    """The synthetic run with HOSTILE in every text a program or results file can put there."""
    doc = make_doc()
    c = doc["cells"][2]  # the leaking scenario cell
    c.update(id="seed" + HOSTILE.replace(" ", "") + "-system", scenario="seed" + HOSTILE,
             config="sys" + HOSTILE, reason="grew " + HOSTILE, stderr_tail="err " + HOSTILE,
             attribution=["alloc_tcache " + HOSTILE])
    c["command"] = ["/bin/" + HOSTILE, "--x"]
    c["env"] = {"LD_PRELOAD": "/lib/" + HOSTILE}
    doc["unavailable"][0].update(config=HOSTILE, reason=HOSTILE)
    doc["controls"] = {"passed": False, "failures": ["control_flat-system: " + HOSTILE]}
    return doc


def code_spans(line):
    """The code spans of one line of Markdown by CommonMark's rule
    (https://spec.commonmark.org/0.30/#code-spans): a backtick string opens one, and only a
    backtick string of the same length closes it; the content has one space stripped from
    each end when both ends have one. Returns (spans, the text outside them)."""
    spans, outside, i = [], [], 0
    while i < len(line):
        m = re.compile(r"`+").search(line, i)
        if not m or (m.start() > 0 and line[m.start() - 1] == "\\"):
            if not m:
                outside.append(line[i:])
                break
            outside.append(line[i:m.end()])
            i = m.end()
            continue
        outside.append(line[i:m.start()])
        close = re.compile(r"(?<!`)%s(?!`)" % re.escape(m.group())).search(line, m.end())
        if not close:
            outside.append(m.group())
            i = m.end()
            continue
        body = line[m.end():close.start()]
        if len(body) > 2 and body[0] == body[-1] == " " and body.strip():
            body = body[1:-1]
        spans.append(body)
        i = close.end()
    return spans, "".join(outside)
