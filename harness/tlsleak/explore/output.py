"""What `tlsleak explore` writes into its output folder: findings.json (everything, for
machines), findings.md (the table people read), and per finding a folder with the standalone
repro (emit.py), its build and run commands, and a Markdown issue draft for the allocator's
tracker.

findings.json and findings.md are written as the search goes (save(), after every point,
each file replaced whole: a reader never sees half of one), with `state` "running"; at the end
(write()) the finding folders too, and `state` "finished", or "interrupted" when an interrupt
ended the search: what was found until then is kept."""

from __future__ import annotations

import os
from pathlib import Path

from tlsleak import UsageError, atomic

from . import emit, search, space

FORMAT = "tlsleak-explore/1"
OUTPUTS = ("findings.json", "findings.md")
STATES = ("running", "finished", "interrupted")  # findings.json's `state`


def _finding_name(i, point):
    shape = space.catalog_shape(point)
    return "F%d-%s" % (i, shape or "new")


def describe(findings, result):
    """The findings as dicts: name, minimal point, leaking and non-leaking configurations."""
    out = []
    for i, f in enumerate(findings, 1):
        m = f.minimised
        p = result.points.get(space.key(m.point))
        runs = p.runs if p else []
        out.append({
            "name": _finding_name(i, m.point),
            "point": m.point,
            "key": space.key(m.point),
            "differs_from_simplest": {k: m.point[k]
                                      for k in space.differs(space.simplest(), m.point)},
            "catalog": space.catalog_shape(m.point),
            "found_at": m.start,
            "minimised": m.point != m.start or bool(m.steps),
            "oracle_calls": m.calls,
            "duplicates": [d.start for d in f.duplicates],
            "leaks": [r.to_dict() for r in runs if r.verdict == "leak"],
            "no_leak": [r.to_dict() for r in runs if r.verdict != "leak"],
        })
    return out


def _rates(runs):
    return ", ".join("%s %.0f B/thread" % (r["label"], r["rate"] or 0) for r in runs) or "-"


def _others(runs):
    return ", ".join("%s %s" % (r["label"], r["verdict"]) for r in runs) or "-"


def table(described):
    rows = ["| finding | minimal point (differs from the simplest) | leaks (B/thread) | "
            "does not leak | catalog |", "|---|---|---|---|---|"]
    for d in described:
        diff = " ".join("%s=%s" % kv for kv in d["differs_from_simplest"].items()) or "simplest"
        rows.append("| %s | `%s` | %s | %s | %s |" % (
            d["name"], diff, _rates(d["leaks"]), _others(d["no_leak"]),
            d["catalog"] or "**new**"))
    return "\n".join(rows)


def _issue(d, build, run, settings, config_id=None):
    point = d["key"]
    rows = [r for r in d["leaks"] if r["config"] == config_id] or d["leaks"]
    first = rows[0] if rows else {"label": "?", "rate": 0}
    lines = [
        "# Memory grows per thread when a thread's teardown does: %s" % point, "",
        "A program that creates and joins threads, each ending with the teardown shape below, "
        "grows its resident memory linearly with the number of threads under %s "
        "(%.0f bytes per thread)." % (first["label"], first["rate"] or 0), "",
        "## Shape", "",
    ]
    for dim in space.DIMENSIONS:
        lines.append("- `%s=%s`: %s" % (dim.name, d["point"][dim.name], dim.doc))
    lines += ["", "## Reproduce", "", "```sh", build, run, "```", "",
              "It prints `threads_done rss_bytes` every 1000 threads; RSS grows steadily.", "",
              "## Where it leaks and where it does not", "",
              "| configuration | verdict | bytes/thread |", "|---|---|---|"]
    for r in d["leaks"] + d["no_leak"]:
        lines.append("| %s | %s | %s |" % (r["label"], r["verdict"],
                                            "-" if r["rate"] is None else "%.0f" % r["rate"]))
    lines += ["", "Measured by `tlsleak explore` (%d threads per run, sequential Theil-Sen "
              "slope against a floor of %g B/thread)." % (settings.workload.threads,
                                                         settings.criteria.floor), ""]
    return "\n".join(lines)


def _manifest_entry(conf):
    return {"name": conf.name, "version": conf.version, "mode": conf.mode,
            "library": conf.library, "preload": conf.preload}


def write_finding(d, folder, by_id, settings, *, env=None):
    """The finding's folder: the standalone repro built against the first leaking
    configuration of an allocator other than tlsleak's own faulty (the one an upstream report
    is about), its commands for every leaking configuration, and the issue draft. Adds
    repro, build, run and dir to `d`."""
    folder.mkdir(parents=True, exist_ok=True)
    leaking = [by_id[r["config"]] for r in d["leaks"] if r["config"] in by_id]
    conf = next((c for c in leaking if c.name != "faulty"), leaking[0] if leaking else None)
    path, build, run = emit.write(d["point"], folder,
                                  None if conf is None else _manifest_entry(conf), env=env,
                                  title="tlsleak explore finding %s:" % d["name"])
    d.update(repro=str(Path(path).resolve()), build=build, run=run, dir=str(folder.resolve()))
    (folder / "build.txt").write_text(build + "\n")
    (folder / "run.txt").write_text(run + "\n")
    lines = []
    for c in leaking:
        b, r = emit.commands(d["point"], _manifest_entry(c), path=os.path.basename(path),
                             env=env)
        lines += ["# %s" % c.label, b, r, ""]
    (folder / "commands.txt").write_text("\n".join(lines))
    (folder / "issue.md").write_text(_issue(d, build, run, settings,
                                            None if conf is None else conf.id))


def claim(out, overwrite=False):
    """Refuse, before anything runs, an output folder that holds another explore run's findings
    (unless `overwrite`) or a file by the name of one; returns it as a Path."""
    out = Path(out)
    held = [name for name in OUTPUTS if (out / name).exists() or (out / name).is_symlink()]
    if out.exists() and not out.is_dir():
        raise UsageError(f"output folder {out} is a file")
    if held and not overwrite:
        raise UsageError(f"output folder {out} holds another run's {' and '.join(held)} "
                         f"(use --overwrite to replace them, or another --out)")
    return out


def _document(result, settings, confs, described, *, env, argv, duration_s, state):
    settings_doc = settings.as_dict()
    settings_doc["deciding"] = list(settings_doc["deciding"])
    return {
        "format": FORMAT, "state": state, "argv": list(argv), "seed": result.seed,
        "dims": list(result.dims), "env": dict(env or {}), "settings": settings_doc,
        "configs": [c.id for c in confs], "duration_s": round(duration_s, 1),
        "stopped": result.stopped, "covered": {k: list(v) for k, v in result.covered.items()},
        "design": [space.key(p) for p in result.design],
        "points": [{"key": k, "phase": p.phase, "runs": [r.to_dict() for r in p.runs]}
                   for k, p in result.points.items()],
        "findings": described,
    }


def _markdown(result, confs, described, duration_s, state):
    covered = "; ".join("%s %d of %d points" % (k, *v) for k, v in result.covered.items())
    says = {"running": " (still running: the findings so far)",
            "interrupted": " (interrupted: the findings until then)"}.get(state, "")
    md = ["# tlsleak explore: %d finding(s)%s" % (len(described), says), "",
          "Seed %d, %d configuration(s), %d point(s) run in %.0f s%s; %s." % (
              result.seed, len(confs), len(result.points), duration_s,
              " (stopped: %s)" % result.stopped if result.stopped else "", covered), "",
          table(described), ""]
    for d in described:
        if "repro" in d:
            md.append("- %s: `%s` (`%s`, `%s`)" % (d["name"], d["repro"], d["build"], d["run"]))
    return "\n".join(md) + "\n"


def save(out, result, settings, confs, *, env=None, argv=(), duration_s=0.0, state="running",
         described=None):
    """findings.json and findings.md as they stand, each replaced whole; returns the
    described findings."""
    if described is None:
        described = describe(search.findings(result), result)
    doc = _document(result, settings, confs, described, env=env, argv=argv,
                    duration_s=duration_s, state=state)
    atomic.write_json(Path(out) / "findings.json", doc)
    atomic.write_text(Path(out) / "findings.md",
                      _markdown(result, confs, described, duration_s, state))
    return described


def write(out, result, settings, confs, *, env=None, argv=(), duration_s=0.0):
    """Write the output folder at the end of the search (finished, or interrupted: then what
    was found until the interrupt); returns the described findings."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    described = describe(search.findings(result), result)
    by_id = {c.id: c for c in confs}
    for d in described:
        write_finding(d, out / d["name"], by_id, settings, env=env)
    return save(out, result, settings, confs, env=env, argv=argv, duration_s=duration_s,
                state="interrupted" if result.interrupted else "finished", described=described)
