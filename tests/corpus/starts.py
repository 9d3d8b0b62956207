"""The ways a corpus program is started under tlsleak, as real projects start programs, and
each cell's verdict held against the truth measured outside tlsleak (corpus.py).

A plan is {program name: [configuration labels]}. Each start runs every program of a plan
under its configurations the way its users would: one `tlsleak run --exec` per program
(directly, through a wrapper script without `exec`, through `sh -c`), one CTest test per
program (tlsleak_add_test, in the corpus's own CMake project), one pytest test per program
(the `tlsleak` fixture of the pytest plugin). Each cell of each run is an Outcome."""
import json
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import corpus

TIMEOUT = 1800  # s, for one program's run under all its configurations
NO_RESULTS = "none"  # the verdict of a cell whose run wrote no results.json
PER_THREAD = "B/thread"  # the unit of a rate judged against the program's finished threads


@dataclass
class Outcome:
    program: str
    start: str
    config: str
    verdict: str  # tlsleak's verdict, or NO_RESULTS
    rate: object  # tlsleak's rate value, or None
    unit: str
    reason: str
    status: int  # the start's answer for the program: tlsleak's exit code, or a test's 0/1
    results: str  # its results.json


def outcomes(path, program, start, labels, status, said=""):
    """One Outcome per configuration of `labels`, from the results.json at `path`."""
    try:
        cells = {c["config"]: c for c in json.loads(Path(path).read_text())["cells"]}
    except (OSError, ValueError, KeyError):
        cells = {}
    found = []
    for label in labels:
        c = cells.get(label)
        if c is None:
            last = [line for line in said.strip().splitlines() if line.strip()][-1:]
            found.append(Outcome(program, start, label, NO_RESULTS, None, "",
                                 f"no cell in {path}: {' '.join(last)}", status, str(path)))
            continue
        rate = c.get("rate") or {}
        found.append(Outcome(program, start, label, c["verdict"], rate.get("value"),
                             rate.get("unit", ""), c.get("reason", ""), status, str(path)))
    return found


def tlsleak_argv(labels, out, command, threads):
    """`tlsleak run --exec` of `command` under `labels`, results into `out`, judged over the
    program's whole run (`threads`, its own count: the truth's window is N to 3N of them; cut
    short at tlsleak's default, a program whose cache fills for longer would be judged on its
    filling alone)."""
    return [str(corpus.LAUNCHER), "run", *[x for label in labels for x in ("-a", label)],
            "--threads", str(threads), "--out", str(out), "--exec", "--", *command]


def _exec_start(name, command_of):
    """A start that runs `tlsleak run --exec -- command_of(argv)` once per program."""
    def start(built, plan, out):
        found = []
        for program, labels in plan.items():
            folder = Path(out) / name / program
            shutil.rmtree(folder, ignore_errors=True)
            argv = command_of(built.argv(corpus.by_name(program)))
            threads = corpus.by_name(program).threads
            proc = subprocess.run(tlsleak_argv(labels, folder, argv, threads),
                                  capture_output=True, text=True, env=corpus.clean_env(),
                                  timeout=TIMEOUT, stdin=subprocess.DEVNULL)
            found += outcomes(folder / "results.json", program, name, labels, proc.returncode,
                              proc.stdout + proc.stderr)
        return found
    return start


def _junit_status(path, name_of):
    """{test name: 0 passed, 1 failed or errored} from a JUnit XML file."""
    status = {}
    try:
        cases = ET.parse(path).iter("testcase")
    except (OSError, ET.ParseError):
        return status
    for tc in cases:
        bad = tc.get("status") == "fail" or any(tc.find(t) is not None
                                                for t in ("failure", "error"))
        status[name_of(tc.get("name"))] = 1 if bad else 0
    return status


def start_ctest(built, plan, out):
    """The corpus's CMake project registers each program with tlsleak_add_test under its
    plan's configurations; `ctest` runs them (one after another, as `ctest` does by default),
    in the same build folder each time, as a developer reruns them."""
    built.configure(plan)
    junit = Path(out) / "ctest" / "junit.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["ctest", "--test-dir", str(built.dir), "-R",
                           "^(" + "|".join(plan) + ")$", "--output-junit", str(junit)],
                          capture_output=True, text=True, env=corpus.clean_env(),
                          timeout=TIMEOUT * len(plan), stdin=subprocess.DEVNULL)
    status = _junit_status(junit, lambda name: name)
    found = []
    for program, labels in plan.items():
        found += outcomes(built.dir / "tlsleak" / program / "results.json", program, "ctest",
                          labels, status.get(program, -1), proc.stdout + proc.stderr)
    return found


def start_pytest(built, plan, out):
    """A user's own pytest suite (start/pytest_user.py) with one test per program, run with
    `pytest -p tlsleak.pytest_plugin` in a folder of its own."""
    project = Path(out) / "pytest"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copy(corpus.HERE / "start" / "pytest_user.py", project / "test_threads.py")
    cases = [{"id": program, "argv": built.argv(corpus.by_name(program)), "allocators": labels,
              "threads": corpus.by_name(program).threads,
              "record": str(project / f"{program}.record")} for program, labels in plan.items()]
    (project / "cases.json").write_text(json.dumps(cases, indent=1))
    junit = project / "junit.xml"
    env = corpus.clean_env(CORPUS_CASES=str(project / "cases.json"),
                           PYTHONPATH=str(corpus.ROOT / "harness"))
    proc = subprocess.run([corpus.PYTHON, "-m", "pytest", "-p", "tlsleak.pytest_plugin",
                           "-p", "no:cacheprovider", f"--junitxml={junit}", "-q",
                           "test_threads.py"], cwd=project, capture_output=True, text=True,
                          env=env, timeout=TIMEOUT * len(plan), stdin=subprocess.DEVNULL)
    status = _junit_status(junit, lambda name: name[name.find("[") + 1:-1])
    found = []
    for case in cases:
        record = Path(case["record"])
        where = Path(record.read_text()) if record.exists() else project / "none"
        results = sorted(where.rglob("results.json")) or [where / "results.json"]
        found += outcomes(results[-1], case["id"], "pytest", case["allocators"],
                          status.get(case["id"], -1), proc.stdout + proc.stderr)
    return found


STARTS = {
    "direct": _exec_start("direct", lambda argv: argv),
    "wrapper": _exec_start("wrapper", lambda argv: [str(corpus.HERE / "start" / "wrapper.sh"),
                                                   *argv]),
    "sh -c": _exec_start("sh -c", lambda argv: ["sh", "-c", shlex.join(argv)]),
    "ctest": start_ctest,
    "pytest": start_pytest,
}


def run(start, built, plan, out):
    return STARTS[start](built, plan, out)


# --- held against the truth -------------------------------------------------------------------

def plan_for(truth, names, labels):
    """{program: the labels of `labels` with a verdict in the truth (not `close`)}, for the
    programs `names`; a program left with none is left out."""
    plan = {}
    for name in names:
        judged = [label for label in labels
                  if (corpus.truth_of(truth, name, label) or {}).get("verdict") in ("ok", "leak")]
        if judged:
            plan[name] = judged
    return plan


def suite_plan(start, names, labels):
    """The default suite's share (README "Corpus"): directly, every program under every
    configuration of `labels` (system first); through another start, every program under
    system, and each override under one program as well, the programs taken in turn by start
    and override, so that each start meets every override."""
    overrides = labels[1:]
    if start == "direct":
        return {name: list(labels) for name in names}
    plan = {name: [labels[0]] for name in names}
    turn = list(STARTS).index(start) * len(overrides)
    for k, label in enumerate(overrides):
        plan[names[(turn + k) % len(names)]].append(label)
    return plan


def judged(found, truth, plan):
    """[(Outcome, "" when tlsleak agrees with the outside measurement, else what is wrong)].
    A cell's verdict must be the truth's. The start's answer for a program must fail when one
    of its configurations leaks (tlsleak's exit 1) and pass when none does (exit 0): a wrong
    answer counts against the cells that leak (no leaking program may pass), or against every
    cell when all verdicts are right (the answer is wrong on its own), not against a right
    `ok` whose sibling's wrong verdict failed the run. Every corpus program is dynamically
    linked and finishes its threads, so a verdict not judged per thread (the time-based one
    of a process whose threads were not counted) is right only by chance: not agreement."""
    verdict_of = {(o.program, o.start, o.config): corpus.truth_of(truth, o.program, o.config)
                  ["verdict"] for o in found}
    wrong_verdict = {(o.program, o.start) for o in found
                     if o.verdict != verdict_of[(o.program, o.start, o.config)]}
    out = []
    for o in found:
        expected = verdict_of[(o.program, o.start, o.config)]
        leaks = any(corpus.truth_of(truth, o.program, label)["verdict"] == "leak"
                    for label in plan[o.program])
        wrong = []
        if o.verdict != expected:
            wrong.append(f"tlsleak says {o.verdict} ({o.reason}), the outside measurement "
                         f"{expected}")
        elif o.unit != PER_THREAD:
            wrong.append(f"tlsleak's {o.verdict} is judged in {o.unit or 'nothing'}, not per "
                         f"thread: the program's threads went uncounted ({o.reason})")
        if o.status != (1 if leaks else 0) and (
                expected == "leak" or (o.program, o.start) not in wrong_verdict):
            wrong.append(f"the {o.start} start answered {o.status} for a program that "
                         + ("leaks" if leaks else "does not leak"))
        out.append((o, "; ".join(wrong)))
    return out


# --- the table ----------------------------------------------------------------------------------

COLUMNS = ("program", "start", "configuration", "tlsleak verdict", "tlsleak rate",
           "outside rate", "agree")
# Where the README shows the table (ci/corpus.py table --update-readme writes between them).
README_MARKS = ("<!-- corpus:start -->", "<!-- corpus:end -->")


@dataclass
class Row:
    """One combination (program, start, configuration) over its runs."""
    program: str
    start: str
    config: str
    outside: float
    runs: list  # [(Outcome, what is wrong or "")], as judged() gives them

    def cells(self):
        verdicts = [o.verdict for o, _ in self.runs]
        same = len(set(verdicts)) == 1
        verdict = f"{verdicts[0]} x{len(verdicts)}" if same else ", ".join(verdicts)
        rates = sorted(o.rate for o, _ in self.runs if o.rate is not None)
        units = {o.unit for o, _ in self.runs if o.rate is not None}
        rate = (f"{rates[len(rates) // 2]:.0f} {'/'.join(sorted(units))}" if rates else "-")
        agreed = sum(1 for _, wrong in self.runs if not wrong)
        agree = f"{'yes' if agreed == len(self.runs) else 'NO'} {agreed}/{len(self.runs)}"
        return (self.program, self.start, self.config, verdict, rate,
                f"{self.outside:.0f} B/thread", agree)


def rows(runs, truth):
    """The table's rows from `runs`, a list of (plan, [Outcome]) per run and start."""
    table = {}
    for plan, found in runs:
        for o, wrong in judged(found, truth, plan):
            key = (o.program, o.start, o.config)
            if key not in table:
                outside = corpus.truth_of(truth, o.program, o.config)["rate"]
                table[key] = Row(o.program, o.start, o.config, outside, [])
            table[key].runs.append((o, wrong))
    return list(table.values())


def render(table, markdown=False):
    lines = [row.cells() for row in table]
    if markdown:
        out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        return "\n".join(out + ["| " + " | ".join(cells) + " |" for cells in lines])
    widths = [max(len(str(x)) for x in col) for col in zip(COLUMNS, *lines)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    return "\n".join([fmt.format(*COLUMNS), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*cells) for cells in lines])
