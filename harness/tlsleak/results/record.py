"""The results document built from a run (docs/RESULTS.md, schema/results-2.schema.json):
one record per cell, the document around them, and the provenance every cell carries. Built
here and nowhere else."""
import datetime as dt

from tlsleak import provenance, thinning, vocab
from tlsleak.results.model import SCHEMA_ID, summary_counts
from tlsleak.stats import rate_to_dict

MAX_SAMPLES_KEPT = 400


def cell_record(cell, settings, outcome, verdict, env_set):
    """The results.json object of one cell (docs/RESULTS.md "A cell")."""
    c = cell.config
    cps = list(outcome.checkpoints or verdict.checkpoints)  # --exec: the deciding process's
    a = outcome.alloc
    rec = {
        "id": cell.id, "scenario": cell.scenario, "role": cell.role, "config": c.label,
        "target": cell.target.label,
        "allocator": {"id": c.id, "name": c.name, "version": c.version, "mode": c.mode,
                      "commit": c.commit or None,
                      "library": c.library or None, "origin": c.origin, "route": c.route},
        "observed_allocator": None if a is None else {
            "name": a.get("name"), "version": str(a.get("version", "")),
            "owns": str(a.get("owns")) == "1", "malloc_from": a.get("malloc_from", ""),
            "libc": a.get("libc", ""), "mode": a.get("mode", ""),
            # how `owns` was decided: the block itself, or only the file defining malloc
            "owns_by": a.get("owns_by") or "block"},
        "verdict": verdict.verdict, "reason": verdict.reason, "signal": verdict.signal,
        "rate": rate_to_dict(verdict.rate),
        "signals": {name: j.to_dict() for name, j in verdict.signals.items()},
        "threads": {"requested": settings.workload.threads if cell.role != "exec" else None,
                    "finished": cps[-1].get("done") if cps else None,
                    "os_baseline": cps[0].get("os_threads") if cps else None,
                    "os_final": cps[-1].get("os_threads") if cps else None,
                    "os_max_sampled": max((s["threads"] for s in outcome.samples),
                                          default=None)},
        "exit": exit_record(outcome),
        "duration_s": outcome.duration_s, "command": list(cell.argv), "env": env_set,
        "checkpoints": cps, "samples": thinning.thin(outcome.samples, MAX_SAMPLES_KEPT),
        "stderr_tail": outcome.stderr_tail, "malformed_lines": outcome.malformed,
    }
    if outcome.stop != "not_started":
        rec["attribution"] = list(verdict.attribution)
    if verdict.runaway:
        rec["runaway"] = True
    if verdict.stopped_early:
        rec["stopped_early"] = True
    if outcome.settled_on:
        rec["settled_at"] = outcome.settled_on[-1].get("done")
    if outcome.probe is not None:
        rec["probe"] = outcome.probe
    if outcome.max_gap_s is not None:
        rec["max_gap_s"] = round(outcome.max_gap_s, 4)
    if verdict.subjects:
        rec["subjects"] = list(verdict.subjects)
    return rec


def exit_record(outcome):
    """How the process ended: its own exit code or signal, or `stopped_by_harness` (with the
    stop: settled, budget, threads, duration, timeout, cap) when the harness killed it, whose signal says
    nothing about the program."""
    if outcome.stop in vocab.STOPPED_BY_HARNESS:
        return {"code": None, "signal": None, "stopped_by_harness": True, "stop": outcome.stop}
    return {"code": outcome.returncode, "signal": outcome.signal}


def _now():
    return dt.datetime.now(dt.timezone.utc)


def document(*, argv, started, duration_s, interrupted, manifest, settings, cells, unavailable,
             controls, exit_code, baseline=None, plan=None, tgt=None):
    """The whole results document, every cell stamped with its provenance. `tgt`: the
    target.Target the programs ran on."""
    doc = {
        "schema": SCHEMA_ID,
        "harness": provenance.harness(),
        "command": ["tlsleak", *argv],
        "started": started.isoformat(timespec="seconds"),
        "finished": _now().isoformat(timespec="seconds"),
        "duration_s": round(duration_s, 2),
        "interrupted": interrupted,
        "host": provenance.host(),
        "build": manifest.get("build", {}),
        "settings": settings.as_dict(),
        "cells": cells,
        "unavailable": [{"config": c.label, "id": c.id, "reason": c.reason,
                         **({"scenario": c.scenario} if getattr(c, "scenario", None) else {})}
                        for c in unavailable],
        "summary": summary_counts(cells),
        "controls": controls,
        "exit_code": exit_code,
    }
    if tgt is not None:
        doc["target"] = tgt.record()
    if baseline is not None:
        doc["baseline"] = baseline
    if plan is not None:
        doc["plan"] = plan
    stamp_provenance(doc)
    return doc


def stamp_provenance(doc):
    """Each cell carries where it came from, so it still says so when copied out alone."""
    b, h = doc["build"], doc["host"]
    common = {
        "compiler": {"c": b.get("c_compiler"), "cxx": b.get("cxx_compiler"),
                     "c_flags": b.get("c_flags"), "cxx_flags": b.get("cxx_flags"),
                     "build_type": b.get("build_type"),
                     **({"c_path": b["c_compiler_path"]} if b.get("c_compiler_path") else {})},
        "os": f"{h['os']} ({h['kernel']}, {h['machine']})",
        # the programs' libc when the build names one (musl), else the host's
        "libc": b.get("libc") or h["libc"],
        "harness": doc["harness"],
    }
    for cell in doc["cells"]:
        alloc = cell["allocator"]
        alloc["origin"] = provenance.package_of(alloc["library"]) or alloc["origin"]
        cell["provenance"] = common
