"""One run of the matrix, from plan to conclusion: plan the cells, build what they need, run
them `jobs` at a time (an interrupt stops every child and keeps the finished cells), judge each
one (policy.decide), check the controls, compare with a baseline, choose the exit code and write
results.json and junit.xml. Commands (run, bench, and the ones to come) call run(); they only
parse and print."""
import datetime as dt
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tlsleak import (EXIT_INFRA, EXIT_INTERRUPTED, EXIT_LEAK, EXIT_OK, UsageError, baseline,
                     catalog, configs, policy, report, results, runner, shard, target)
from tlsleak import progress as progress_mod
from tlsleak.build import ROOT, Build
from tlsleak.settings import Settings


@dataclass
class Request:
    """What to run. `allocators` are specs NAME[@VERSION][:MODE]; `exec_argv` a program of the
    user's to run instead of the scenarios."""
    settings: Settings = field(default_factory=Settings)
    scenarios: list = field(default_factory=list)
    allocators: list = field(default_factory=list)
    jobs: int = 1
    controls: bool = True
    exec_argv: list | None = None
    out: Path | None = None
    baseline: str | None = None  # file to compare with
    write_baseline: str | None = None
    cmake_args: list = field(default_factory=list)
    build_dir: str | None = None
    argv: list = field(default_factory=list)  # the command line, for the record
    progress: bool = True  # progress on stderr (progress.py)
    shard: tuple | None = None  # (K, N): run only shard K of N of the plan (shard.py)


@dataclass
class Session:
    """A finished run: its results document, where it went, and what the baseline said."""
    doc: dict
    out: Path
    unavailable: list
    changes: dict | None

    @property
    def exit_code(self):
        return self.doc["exit_code"]


def load(build_dir=None, cmake_args=()):
    """The build tree, its manifest and its configurations (labelled)."""
    build = Build(build_dir, cmake_args)
    manifest = build.configure()
    confs = configs.label_all([configs.Config.from_manifest(c) for c in manifest["configs"]])
    return build, manifest, confs


def choose_scenarios(scenarios, names, controls=True):
    """The scenarios named (default: every non-fault one), the controls first."""
    known = {s.name: s for s in scenarios}
    for name in names:
        if name not in known:
            raise UsageError(f"unknown scenario '{name}' (known: {', '.join(known)})")
    chosen = ([known[n] for n in dict.fromkeys(names)] if names
              else [s for s in scenarios if s.role != "fault"])
    if controls:
        chosen = [s for s in scenarios if s.is_control and s not in chosen] + chosen
    return chosen


def plan(req, scenarios, confs, tgt):
    """The cells of the matrix, or of --exec."""
    if req.exec_argv is None:
        chosen = configs.select(confs, req.allocators)
        cells = [runner.scenario_cell(s, c, req.settings.workload, tgt)
                 for s in choose_scenarios(scenarios, req.scenarios, req.controls)
                 if tgt.buildable(s.name) for c in chosen]
        return chosen, cells
    wanted = req.allocators or ["system"] + [c.id for c in confs
                                             if c.mode == "override" and c.available]
    chosen = configs.select(confs, wanted)
    wrong = [c.label for c in chosen if c.mode not in ("system", "override")]
    if wrong:
        raise UsageError(f"--exec runs an unmodified program: only system and override "
                         f"configurations apply, not {', '.join(wrong)}")
    name = Path(req.exec_argv[0]).name
    # The program's own allocator is not known in advance: checked only when it says.
    return chosen, [runner.Cell(id=f"{name}-{c.slug}", scenario=name, role="exec", config=c,
                                argv=req.exec_argv, expect="", target=tgt) for c in chosen]


def judge_cell(cell, settings):
    """Run one cell and return its results record."""
    try:
        env, env_set = runner.cell_env(cell.config, cell.target, cell.env)
    except ValueError as e:
        env, env_set = None, {}
        outcome = policy.Outcome(stop="not_started", detail=str(e))
    else:
        outcome = runner.run_cell(cell, settings, env)
    if outcome.stop == "interrupted":
        return None
    verdict = policy.decide(outcome, settings.criteria, cell.expect, cell.role,
                            settings.workload.looks)
    return results.cell_record(cell, settings, outcome, verdict, env_set)


def run_cells(cells, settings, jobs, progress=True):
    """Every cell, jobs at a time. An interrupt (SIGINT, SIGTERM) kills the running programs
    and keeps only the cells that had finished. Returns (records in plan order, interrupted)."""
    def on_term(signum, frame):
        raise KeyboardInterrupt

    shown = progress_mod.for_stream(sys.stderr, len(cells)) if progress else progress_mod.Silent()

    def one(cell):
        shown.started(cell.id)
        try:
            return judge_cell(cell, settings)
        finally:
            shown.ended(cell.id)  # off the running list before the next cell starts

    previous = signal.signal(signal.SIGTERM, on_term)
    pool = ThreadPoolExecutor(max_workers=jobs)
    futures, interrupted = [], False
    try:
        futures = [pool.submit(one, c) for c in cells]
        for fut in as_completed(futures):
            shown.finished(fut.result())
    except KeyboardInterrupt:
        interrupted = True
        runner.LIVE.kill_all()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous)
        shown.close()
    finished = [f.result() for f in futures if f.done() and not f.cancelled()]
    return [r for r in finished if r is not None], interrupted


def check_controls(cells):
    failures = []
    for cell in cells:
        want = report.CONTROL_EXPECT.get(cell["role"])
        if want and cell["verdict"] != want:
            failures.append(f"{cell['id']}: expected {want}, got {cell['verdict']}")
    return {"passed": not failures, "failures": failures}


def exit_code(cells, controls, interrupted, changes=None):
    if interrupted:
        return EXIT_INTERRUPTED
    if not controls["passed"] or any(c["verdict"] == "error" for c in cells):
        return EXIT_INFRA
    if changes is not None:  # with a baseline, only what it does not expect counts
        return EXIT_LEAK if changes["new"] else EXIT_OK
    findings = [c for c in cells if not c["role"].startswith("control-")
                and c["verdict"] in baseline.FINDINGS]
    return EXIT_LEAK if findings else EXIT_OK


def check_out_dir(out):
    """Refuse an output folder that cannot be written, before anything runs."""
    path = Path(out).resolve()
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {out} cannot be written")
    if path.exists() and not path.is_dir():
        raise UsageError(f"output folder {out} is a file")
    return path


RUNS = ROOT / "results" / "runs"
LATEST = RUNS / "latest"


def run(req):
    """Plan, build, run, conclude; returns the finished Session. Bad input raises UsageError
    before anything is built or run."""
    w = req.settings.workload
    if w.concurrency > w.threads:
        raise UsageError(f"--concurrency {w.concurrency} exceeds --threads {w.threads}")
    if w.interval > w.threads:
        raise UsageError(f"--interval {w.interval} exceeds --threads {w.threads}")
    if req.shard and req.write_baseline:
        raise UsageError("--write-baseline records a whole run, not a shard: merge the shards "
                         "(tlsleak merge) and run without --shard to write a baseline")
    out = check_out_dir(req.out) if req.out else None
    base = baseline.load(req.baseline) if req.baseline else None
    if req.write_baseline:
        check_out_dir(os.path.dirname(os.path.abspath(req.write_baseline)))
        if os.path.exists(req.write_baseline):
            baseline.load(req.write_baseline)  # refuse a broken one before running
    scenarios = catalog.load(ROOT)
    if req.exec_argv is None:  # fail on a bad scenario name before building anything
        choose_scenarios(scenarios, req.scenarios, req.controls)
    build, manifest, confs = load(req.build_dir, req.cmake_args)
    chosen, cells = plan(req, scenarios, confs, target.Target.from_manifest(manifest))
    planned = shard.plan_record(cells, req.settings, req.shard)
    if req.shard:
        cells = shard.select(cells, *req.shard)
    planned["selected"] = len(cells)
    unavailable = [c for c in confs if not c.available]

    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    targets = [c.target for c in chosen]
    if req.progress:
        print(f"tlsleak: building {len(set(targets))} configuration(s)...", file=sys.stderr)
    manifest = build.build(targets, jobs=req.jobs)
    records, interrupted = run_cells(cells, req.settings, req.jobs, req.progress)
    order = {c.id: i for i, c in enumerate(cells)}
    records.sort(key=lambda r: order[r["id"]])
    controls = check_controls(records)
    changes = baseline.compare(records, base) if base is not None else None
    doc = results.document(
        argv=req.argv, started=started, duration_s=time.monotonic() - t0,
        interrupted=interrupted, manifest=manifest, settings=req.settings, cells=records,
        unavailable=unavailable, controls=controls,
        exit_code=exit_code(records, controls, interrupted, changes),
        baseline=None if base is None else {"file": str(Path(req.baseline).resolve()),
                                            **changes}, plan=planned)
    default_out = out is None
    out = out or RUNS / f"{started:%Y%m%d-%H%M%S}-{os.getpid()}"
    out.mkdir(parents=True, exist_ok=True)
    report.write_results(out / "results.json", doc)
    report.write_junit(out / "junit.xml", doc)
    if default_out:  # `tlsleak show` and people look here first
        report.point_latest(out, LATEST)
    if req.write_baseline and not interrupted:
        # Explanations already written survive: from the file being replaced, else --baseline.
        previous = (baseline.load(req.write_baseline) if os.path.exists(req.write_baseline)
                    else base)
        baseline.write(req.write_baseline, doc, previous)
    return Session(doc=doc, out=out, unavailable=unavailable, changes=changes)
