"""The cell pipeline, one for every command that runs programs (run, compare, bisect, bench,
explore): plan a cell (a Cell: which program, under which configuration, with which arguments
and environment), run it (runner.run_cell, with the probe's thread counts for --exec), judge it
(policy.decide_safely: the allocator, version and probe checks included) and record it
(results.cell_record). run_cells is the one pool: it runs cells `jobs` at a time, and an
interrupt (SIGINT, SIGTERM, SIGHUP) stops every program and keeps the cells that had finished.
"""
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tlsleak import configs, exec_probe, interrupts, policy, progress, results, runner
from tlsleak.host import current as host
from tlsleak.target import Target
from tlsleak.vocab import EXEC

# --- plan a cell -------------------------------------------------------------------------------


@dataclass
class Cell:
    """One program under one configuration: what runner.run_cell starts and the results
    record describes."""
    id: str
    scenario: str
    role: str
    config: object  # configs.Config
    argv: list
    expect: str = ""  # the allocator the program must report ("" when not known in advance)
    target: Target = field(default_factory=Target)
    env: dict = field(default_factory=dict)  # given explicitly (--env), recorded in the cell


def scenario_cell(scenario, config, workload, tgt=None):
    """The cell that runs a catalog scenario under a configuration with this workload."""
    tgt = tgt or Target()
    return Cell(id=configs.cell_id(scenario.name, config), scenario=scenario.name,
                role=scenario.role, config=config,
                argv=tgt.argv(config.bin_dir, scenario.name, workload.argv()),
                expect=config.expect, target=tgt)


def program_cell(program, args, config, tgt=None, *, id="", role="scenario", env=None):
    """The cell that runs one of the built programs other than the scenarios (`explore_point`)
    from a configuration's bin_dir with these arguments (and these environment variables)."""
    tgt = tgt or Target()
    return Cell(id=id or configs.cell_id(program, config), scenario=program, role=role,
                config=config, argv=tgt.argv(config.bin_dir, program, list(args)),
                expect=config.expect, target=tgt, env=dict(env or {}))


def exec_cell(argv, config, tgt):
    """The cell that runs the user's own program (--exec) under a system or override
    configuration. Under an override the preloaded allocator must serve malloc (its alloc
    line, or the probe's view); under system the program's own allocator is not known."""
    name = Path(argv[0]).name
    return Cell(id=f"{name}-{config.slug}", scenario=name, role=EXEC, config=config,
                argv=list(argv), target=tgt,
                expect=config.expect if config.mode == "override" else "")


# --- run, judge and record one cell ----------------------------------------------------------


def judge_cell(cell, settings):
    """Run one cell and return its results record, or None when an interrupt cut it short;
    anything that goes wrong in it is this cell's error, never the run's end."""
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


# --- the pool ----------------------------------------------------------------------------------


def run_cells(cells, settings, jobs, show_progress=True):
    """Every cell, `jobs` at a time. An interrupt (SIGINT, SIGTERM, SIGHUP) kills the running
    programs and keeps only the cells that had finished. Returns (records in plan order,
    interrupted)."""
    interrupts.install()
    host.become_subreaper()  # a grandchild that setsid()s away still comes back to be killed
    shown = (progress.for_stream(sys.stderr, len(cells)) if show_progress
             else progress.Silent())

    def one(cell):
        shown.started(cell.id)
        try:
            return judge_cell(cell, settings)
        finally:
            shown.ended(cell.id)  # off the running list before the next cell starts

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
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
    return [r for r in finished if r is not None], interrupted or runner.LIVE.stopping
