"""One run of the matrix, from plan to conclusion: plan the cells, build what they need, run
them `jobs` at a time (an interrupt stops every child and keeps the finished cells), judge each
one (policy.decide), check the controls, compare with a baseline, choose the exit code and write
results.json and junit.xml. Commands (run, bench, and the ones to come) call run(); they only
parse and print."""
import datetime as dt
import os
import secrets
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from tlsleak import (InfraError, UsageError, atomic,
                     baseline, catalog, configs, exec_probe, interrupts, platforms, policy,
                     results, runner, shard, sourcebuilds, target)
from tlsleak import progress as progress_mod
from tlsleak.host import current as host
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
    platform: str = "native"  # platforms.NAMES: where the programs run
    shard: tuple | None = None  # (K, N): run only shard K of N of the plan (shard.py)
    repos: dict = field(default_factory=dict)  # --repo NAME=DIR: clones REFs in -a name
    built: list = field(default_factory=list)  # [(versions.Built, modes)] built by the caller
    env: dict = field(default_factory=dict)  # given explicitly (--env): every cell gets it
    overwrite: bool = False  # replace another run's results in `out`
    report: bool = True  # the views (summary.md, report.html, plots/) will be written in `out`


@dataclass
class Session:
    """A finished run: its results document, where it went, and what the baseline said."""
    doc: dict
    out: Path
    unavailable: list
    changes: dict | None
    build_s: float = 0.0  # configure + build of the repro programs, for bisect's step table

    @property
    def exit_code(self):
        return self.doc["exit_code"]

    @property
    def run_id(self):
        return self.doc["run_id"]


def load(build_dir=None, cmake_args=(), platform="native", built=()):
    """The build tree, its manifest and its configurations (labelled), for a platform: its own
    build tree unless one is named, its toolchain. `built`: the source builds of this run
    (sourcebuilds.prepare), none by default."""
    plat = platforms.get(platform)
    plat.check()
    if build_dir is None and plat.BUILD_DIR is not None:
        build_dir = ROOT / plat.BUILD_DIR
    build = Build(build_dir, [*plat.cmake_args(), *cmake_args], built)
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
    # Under an override the preloaded allocator must serve malloc (its alloc line, or the probe's
    # view); under system the program's own allocator is not known in advance.
    return chosen, [runner.Cell(id=f"{name}-{c.slug}", scenario=name, role="exec", config=c,
                                argv=req.exec_argv, target=tgt,
                                expect=c.expect if c.mode == "override" else "")
                    for c in chosen]


def judge_cell(cell, settings):
    """Run one cell and return its results record; anything that goes wrong in it is this
    cell's error, never the run's end."""
    try:
        return _judge_cell(cell, settings)
    except Exception as e:
        why = f"harness failure in this cell: {type(e).__name__}: {e}"[:300]
        return results.cell_record(cell, settings, policy.Outcome(stop="not_started", detail=why),
                                   policy.Verdict("error", why), dict(cell.env))


def _judge_cell(cell, settings):
    try:
        env, env_set = runner.cell_env(cell.config, cell.target, cell.env)
    except ValueError as e:
        env, env_set = None, {}
        outcome = policy.Outcome(stop="not_started", detail=str(e))
    else:
        env, env_set, counter = exec_probe.attach(cell, settings, env, env_set)
        try:
            outcome = runner.run_cell(cell, settings, env, counter)
        finally:
            if counter is not None:
                counter.close()
    if outcome.stop == "interrupted":
        return None
    library = cell.config.library if cell.config.mode in ("dynamic", "override") else ""
    verdict = policy.decide_safely(outcome, settings.criteria, cell.expect, cell.role,
                                   settings.workload.looks, library, cell.config.route,
                                   version=cell.config.version)
    return results.cell_record(cell, settings, outcome, verdict, env_set)


def run_cells(cells, settings, jobs, progress=True):
    """Every cell, jobs at a time. An interrupt (SIGINT, SIGTERM, SIGHUP) kills the running programs
    and keeps only the cells that had finished. Returns (records in plan order, interrupted)."""
    interrupts.install()
    shown = progress_mod.for_stream(sys.stderr, len(cells)) if progress else progress_mod.Silent()

    def one(cell):
        shown.started(cell.id)
        try:
            return judge_cell(cell, settings)
        finally:
            shown.ended(cell.id)  # off the running list before the next cell starts

    pool = ThreadPoolExecutor(max_workers=jobs)
    futures, interrupted = [], False
    try:
        futures = [pool.submit(one, c) for c in cells]
        for fut in interrupts.as_completed(futures):
            shown.finished(fut.result())
    except KeyboardInterrupt:
        interrupted = True
    with interrupts.deferred():  # a second interrupt must not lose the finished cells
        if interrupted:
            runner.LIVE.kill_all()
        pool.shutdown(wait=True, cancel_futures=True)
        runner.LIVE.sweep()
        shown.close()
    finished = [f.result() for f in futures if f.done() and not f.cancelled()]
    return [r for r in finished if r is not None], interrupted


def exec_program_problem(argv):
    """Why the --exec program cannot be started, or None (checked before any build)."""
    prog = argv[0]
    if shutil.which(prog) is None:
        where = "no such file" if os.sep in prog else "not found in PATH"
        if os.path.exists(prog):
            where = "not an executable file"
        return f"--exec: cannot run {prog}: {where}"
    return None


RUNS = ROOT / "results" / "runs"
LATEST = RUNS / "latest"


def run(req, show=None):
    """Plan, build, run, conclude; returns the finished Session. Bad input raises UsageError
    before anything is built or run. `show(session)` is called with the concluded run before
    anything is written, so a write failure never hides the verdicts."""
    interrupts.install()
    host.become_subreaper()  # a grandchild that setsid()s away still comes back to be killed
    w = req.settings.workload
    if w.concurrency > w.threads:
        raise UsageError(f"--concurrency {w.concurrency} exceeds --threads {w.threads}")
    if w.interval > w.threads:
        raise UsageError(f"--interval {w.interval} exceeds --threads {w.threads}")
    if req.shard and req.write_baseline:
        raise UsageError("--write-baseline records a whole run, not a shard: merge the shards "
                         "(tlsleak merge) and run without --shard to write a baseline")
    out = results.claim_out_dir(req.out, req.overwrite, views=req.report) if req.out else None
    if req.exec_argv is not None:
        problem = exec_program_problem(req.exec_argv)
        if problem:
            raise UsageError(problem)
    base = baseline.load(req.baseline) if req.baseline else None
    if req.write_baseline:
        results.check_out_dir(os.path.dirname(os.path.abspath(req.write_baseline)))
        if os.path.exists(req.write_baseline):
            baseline.load(req.write_baseline)  # refuse a broken one before running
    scenarios = catalog.load(ROOT)
    if req.exec_argv is None:  # fail on a bad scenario name before building anything
        choose_scenarios(scenarios, req.scenarios, req.controls)
    tb = time.monotonic()
    prepared = sourcebuilds.prepare(req.allocators, req.repos, ROOT, req.jobs)
    build, manifest, confs = load(req.build_dir, req.cmake_args, req.platform,
                                  prepared.items + req.built)
    req = replace(req, allocators=prepared.specs)
    plat = platforms.get(req.platform)
    tgt = plat.target(target.Target.from_manifest(manifest))
    chosen, cells = plan(req, scenarios, confs, tgt)
    planned = shard.plan_record(cells, req.settings, req.shard)
    if req.shard:
        cells = shard.select(cells, *req.shard)
    planned["selected"] = len(cells)
    for cell in cells:
        cell.env = dict(req.env)
    unavailable = [c for c in confs if not c.available]
    # Caps left to the machine are shared by the cells that actually run at once.
    settings = replace(req.settings, limits=req.settings.limits.with_machine_caps(
        req.jobs, len(cells)))

    started = dt.datetime.now(dt.timezone.utc)
    run_id = f"{started:%Y%m%d-%H%M%S}-{os.getpid()}-{secrets.token_hex(2)}"
    t0 = time.monotonic()
    targets = [c.target for c in chosen]
    if req.exec_argv is not None and tgt.probe_target:
        targets.append(tgt.probe_target)  # counts the program's threads (exec_probe.py)
    if req.progress:
        print(f"tlsleak: building {len(set(targets))} configuration(s)...", file=sys.stderr)
    manifest = build.build(targets, jobs=req.jobs)
    build_s = time.monotonic() - tb
    jobs = min(req.jobs, plat.MAX_JOBS or req.jobs)
    with plat.running(tgt):
        records, interrupted = run_cells(cells, settings, jobs, req.progress)
    with interrupts.deferred():  # concluding and writing finish whatever comes
        done = _conclude(req, settings, out, run_id, started, t0, manifest, cells, records,
                         interrupted, unavailable, base, show, planned, tgt)
    done.build_s = build_s
    if interrupts.noted() and not interrupted:
        raise KeyboardInterrupt  # the run is written; it still ends as interrupted
    return done


def _conclude(req, settings, out, run_id, started, t0, manifest, cells, records, interrupted,
              unavailable, base, show, planned, tgt):
    order = {c.id: i for i, c in enumerate(cells)}
    records.sort(key=lambda r: order[r["id"]])
    controls = results.check_controls(records)
    changes = baseline.compare(records, base) if base is not None else None
    doc = results.document(
        argv=req.argv, started=started, duration_s=time.monotonic() - t0,
        interrupted=interrupted, manifest=manifest, settings=settings, cells=records,
        unavailable=unavailable, controls=controls,
        exit_code=results.exit_code(records, controls, interrupted, changes),
        baseline=None if base is None else {"file": str(Path(req.baseline).resolve()),
                                            **changes}, plan=planned, tgt=tgt)
    doc = {"schema": doc["schema"], "run_id": run_id, **doc}
    default_out = out is None
    out = out or RUNS / run_id
    done = Session(doc=doc, out=out, unavailable=unavailable, changes=changes)
    if show is not None:
        show(done)
    results.write_outputs(out, doc)
    if default_out:  # `tlsleak show` and people look here first
        atomic.symlink(out, LATEST)
    if req.write_baseline and not interrupted:
        # Explanations already written survive: from the file being replaced, else --baseline.
        previous = (baseline.load(req.write_baseline) if os.path.exists(req.write_baseline)
                    else base)
        try:
            baseline.write(req.write_baseline, doc, previous)
        except OSError as e:
            raise InfraError(f"could not write the baseline {req.write_baseline}: "
                             f"{e.strerror or e} (results are in {out})")
    return done
