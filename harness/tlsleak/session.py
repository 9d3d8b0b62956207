"""One run of the matrix, from plan to conclusion: plan the cells, build what they need, run
them through the cell pipeline (pipeline.run_cells: `jobs` at a time, an interrupt stops every
child and keeps the finished cells), check the controls, compare with a baseline, choose the
exit code and write results.json and junit.xml. Commands (run, compare, bisect, bench) call
run(); they only parse and print."""
import datetime as dt
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from tlsleak import (InfraError, UsageError, atomic,
                     baseline, catalog, configs, interrupts, paths, pipeline, platforms, provision,
                     results, shard, sourcebuilds, target)
from tlsleak.host import current as host
from tlsleak import build as build_mod
from tlsleak.build import ROOT, Build, default_build_dir
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
    plan: dict | None = None  # the plan this run is a share of, when not its cells' (history)
    history: dict | None = None  # the results' `history` block (tlsleak history, releases.py)


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


def build_dir_of(build_dir, platform="native"):
    """The build tree named, else the platform's own."""
    plat = platforms.get(platform)
    if build_dir is None and plat.BUILD_DIR is not None:
        return paths.state() / plat.BUILD_DIR
    return Path(build_dir) if build_dir is not None else default_build_dir()


def load(build_dir=None, cmake_args=(), platform="native", built=()):
    """The build tree, its manifest and its configurations (labelled), for a platform: its own
    build tree unless one is named, its toolchain (set up first: provision.py). `built`: the
    source builds of this run (sourcebuilds.prepare), none by default."""
    plat = platforms.get(platform)
    provision.ensure(plat.SETUP_PROFILE)
    plat.check()
    build = Build(build_dir_of(build_dir, platform), [*plat.cmake_args(), *cmake_args], built,
                  plat.TOOLCHAIN)
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


@dataclass(frozen=True)
class UnavailableScenario:
    """A scenario of the matrix this target's toolchain cannot build, and why (the manifest's
    reason): written among the run's `unavailable`, beside the configurations."""

    scenario: str
    reason: str

    @property
    def label(self):
        return f"scenario {self.scenario}"

    @property
    def id(self):
        return self.scenario


def unavailable_scenarios(req, scenarios, tgt):
    """The scenarios of the matrix this target's toolchain cannot build, each with the
    manifest's reason: listed among the run's unavailable, never dropped unsaid (a command that
    names the whole catalog, as `history` does, still runs the rest). Another target's own
    scenarios (`@platform`) are not this one's: not listed."""
    if req.exec_argv is not None:
        return []
    why = {s.name: tgt.why_not(s.name)
           for s in choose_scenarios(scenarios, req.scenarios, req.controls)}
    return [UnavailableScenario(name, reason) for name, reason in why.items() if reason]


def plan(req, scenarios, confs, tgt):
    """The configurations chosen and the cells of the matrix, or of --exec."""
    if req.exec_argv is None:
        chosen = configs.select(confs, req.allocators)
        cells = [pipeline.scenario_cell(s, c, req.settings.workload, tgt)
                 for s in choose_scenarios(scenarios, req.scenarios, req.controls)
                 if tgt.buildable(s.name) for c in chosen]
        return chosen, cells
    # Unless asked: the system allocator and the overrides of real allocators.
    wanted = req.allocators or ["system"] + [c.id for c in confs if c.mode == "override"
                                             and c.available and not c.ours]
    chosen = configs.select(confs, wanted)
    wrong = [c.label for c in chosen if c.mode not in ("system", "override")]
    if wrong:
        raise UsageError(f"--exec runs an unmodified program: only system and override "
                         f"configurations apply, not {', '.join(wrong)}")
    return chosen, [pipeline.exec_cell(req.exec_argv, c, tgt) for c in chosen]


def exec_program_problem(argv):
    """Why the --exec program cannot be started, or None (checked before any build)."""
    prog = argv[0]
    if shutil.which(prog) is None:
        where = "no such file" if os.sep in prog else "not found in PATH"
        if os.path.exists(prog):
            where = "not an executable file"
        return f"--exec: cannot run {prog}: {where}"
    return None


RUNS = paths.state() / "results" / "runs"
LATEST = RUNS / "latest"


@dataclass
class _Planned:
    """A run between its plan and its conclusion: what was planned and how it is judged."""
    req: Request
    build: Build
    plat: object  # platforms module
    tgt: object  # target.Target
    chosen: list
    cells: list
    planned: dict  # results.json's "plan" (shard.plan_record)
    unavailable: list
    settings: Settings
    base: dict | None = None  # the --baseline document
    out: Path | None = None


def _refuse_bad_input(req):
    """UsageError for anything wrong with the request, before anything is built or run.
    Returns (the output folder claimed or None, the baseline or None, the catalog)."""
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
    return out, base, scenarios


def _plan_run(req, scenarios):
    """Source builds resolved, the build tree configured, the cells planned (this shard's,
    with the --env variables) and the settings with the machine's caps for them."""
    plat = platforms.get(req.platform)
    provision.ensure(plat.SETUP_PROFILE)  # the platform's compilers, before a source build
    plat.check()
    prepared = sourcebuilds.prepare(req.allocators, req.repos, paths.state(), req.jobs,
                                    plat.TOOLCHAIN)
    build, manifest, confs = load(req.build_dir, req.cmake_args, req.platform,
                                  prepared.items + req.built)
    req = replace(req, allocators=prepared.specs)
    tgt = plat.target(target.Target.from_manifest(manifest))
    chosen, cells = plan(req, scenarios, confs, tgt)
    missing = unavailable_scenarios(req, scenarios, tgt)
    planned = dict(req.plan) if req.plan else shard.plan_record(cells, req.settings, req.shard)
    if req.shard:
        cells = shard.select(cells, *req.shard)
    planned["selected"] = len(cells)
    for cell in cells:
        cell.env = dict(req.env)
    # Caps left to the machine are shared by the cells that actually run at once.
    settings = replace(req.settings, limits=req.settings.limits.with_machine_caps(
        req.jobs, len(cells)))
    return _Planned(req=req, build=build, plat=plat, tgt=tgt, chosen=chosen, cells=cells,
                    planned=planned,
                    unavailable=[c for c in confs if not c.available] + missing,
                    settings=settings)


def _build_programs(p):
    """Build what the cells run; returns the manifest as built."""
    targets = (build_mod.program_targets(p.cells, p.plat.NAME == "native")
               + p.tgt.tools(p.req.exec_argv is not None))
    if p.req.progress:
        print(f"tlsleak: building {len(set(targets))} target(s) for {len(p.chosen)} "
              f"configuration(s)...", file=sys.stderr)
    return p.build.build(targets, jobs=p.req.jobs)


def run(req, show=None):
    """Plan, build, run, conclude; returns the finished Session. Bad input raises UsageError
    before anything is built or run. `show(session)` is called with the concluded run before
    anything is written, so a write failure never hides the verdicts."""
    interrupts.install()
    host.become_subreaper()  # a grandchild that setsid()s away still comes back to be killed
    out, base, scenarios = _refuse_bad_input(req)
    tb = time.monotonic()
    p = replace(_plan_run(req, scenarios), base=base, out=out)
    started = dt.datetime.now(dt.timezone.utc)
    run_id = new_run_id(started)
    t0 = time.monotonic()
    manifest = _build_programs(p)
    build_s = time.monotonic() - tb
    jobs = min(p.req.jobs, p.plat.MAX_JOBS or p.req.jobs)
    with p.plat.running(p.tgt):
        records, interrupted = pipeline.run_cells(p.cells, p.settings, jobs, p.req.progress)
    with interrupts.deferred():  # concluding and writing finish whatever comes
        done = _conclude(p, run_id, started, t0, manifest, records, interrupted, show)
    done.build_s = build_s
    if interrupts.noted() and not interrupted:
        raise KeyboardInterrupt  # the run is written; it still ends as interrupted
    return done


def new_run_id(started):
    """The id of a run started at `started` (UTC): its time, the process and 4 random digits."""
    return f"{started:%Y%m%d-%H%M%S}-{os.getpid()}-{secrets.token_hex(2)}"


def with_run_id(doc, run_id):
    """The results document with its run id, right after the schema (as every run writes it)."""
    return {"schema": doc["schema"], "run_id": run_id, **doc}


def _conclude(p, run_id, started, t0, manifest, records, interrupted, show):
    req, out = p.req, p.out
    order = {c.id: i for i, c in enumerate(p.cells)}
    records.sort(key=lambda r: order[r["id"]])
    controls = results.check_controls(records)
    changes = baseline.compare(records, p.base) if p.base is not None else None
    doc = results.document(
        argv=req.argv, started=started, duration_s=time.monotonic() - t0,
        interrupted=interrupted, manifest=manifest, settings=p.settings, cells=records,
        unavailable=p.unavailable, controls=controls,
        exit_code=results.exit_code(records, controls, interrupted, changes),
        baseline=None if p.base is None else {"file": str(Path(req.baseline).resolve()),
                                              **changes}, plan=p.planned, tgt=p.tgt)
    doc = with_run_id(doc, run_id)
    if req.history is not None:  # its scenarios: those this target builds (planned cells)
        planned = {c.scenario for c in p.cells}
        doc["history"] = {**req.history, "scenarios": [s for s in req.history["scenarios"]
                                                       if s in planned]}
    default_out = out is None
    out = out or RUNS / run_id
    done = Session(doc=doc, out=out, unavailable=p.unavailable, changes=changes)
    if show is not None:
        show(done)
    results.write_outputs(out, doc)
    if default_out:  # `tlsleak show` and people look here first
        atomic.symlink(out, LATEST)
    if req.write_baseline and not interrupted:
        # Explanations already written survive: from the file being replaced, else --baseline.
        previous = (baseline.load(req.write_baseline) if os.path.exists(req.write_baseline)
                    else p.base)
        try:
            baseline.write(req.write_baseline, doc, previous)
        except OSError as e:
            raise InfraError(f"could not write the baseline {req.write_baseline}: "
                             f"{e.strerror or e} (results are in {out})")
    return done
