"""The words a run is told in, each written once: verdicts, roles and controls, why a process
stopped, and the exit codes of the CLI. Every module, view and the results schema read them
from here (docs/RESULTS.md lists the same words for readers of results.json)."""

# --- verdicts --------------------------------------------------------------------------------

VERDICTS = ("ok", "leak", "inconclusive", "crash", "timeout", "error")
# The verdicts that answer the question "does this leak?"; the others say it was not answered.
JUDGED = ("ok", "leak")
# The verdicts of a measurement that ran its course (the others: it died, hung or could not run).
MEASURED = ("ok", "leak", "inconclusive")
# Verdicts that are findings in a scenario cell: what a baseline explains and what fails a run.
FINDINGS = ("leak", "crash", "timeout")

# --- roles -----------------------------------------------------------------------------------

# A scenario's role (its `@role` header tag, docs/DESIGN.md "Scenario headers").
SCENARIO_ROLES = ("control-leak", "control-flat", "scenario", "fault")
# The role of a cell that runs the user's own program (`tlsleak run --exec`).
EXEC = "exec"
# What each control must show: the detector proves itself in every run.
CONTROL_EXPECT = {"control-leak": "leak", "control-flat": "ok"}
CONTROL_ROLES = tuple(CONTROL_EXPECT)
# The same rule, in words and as the table's mark.
CONTROL_NOTE = {"control-leak": "must leak", "control-flat": "must be ok"}
CONTROL_MARK = {"control-leak": "[ctl+]", "control-flat": "[ctl-]"}


def is_control(role):
    """Whether a cell or scenario of this role is a control."""
    return role in CONTROL_EXPECT


# --- why a process stopped (Outcome.stop, results.json exit.stop) ------------------------------

STOPS = {
    "exited": "it ended by itself",
    "settled": "once the verdict was settled",
    "budget": "at the time budget",
    "threads": "once --threads threads had finished",
    "duration": "at --duration",
    "timeout": "at the timeout",
    "cap": "past a memory cap",
    "interrupted": "the run was interrupted (SIGINT, SIGTERM, SIGHUP): not a finished cell",
    "not_started": "it could not be started",
}
# Stops where the harness itself killed the process: the signal that ended it was ours, so the
# results record `stopped_by_harness`, never a crash's exit code or signal.
STOPPED_BY_HARNESS = frozenset({"settled", "budget", "threads", "duration", "timeout", "cap"})
# Stops the harness chose because the cell had run long enough: judged on what was seen.
STOPPED_ON_PURPOSE = frozenset({"settled", "budget", "threads", "duration"})

# --- exit codes of the CLI (README "Exit codes") -------------------------------------------

EXIT_OK = 0
EXIT_LEAK = 1
EXIT_USAGE = 2
EXIT_INFRA = 3
# No leak and no error, but a scenario cell (not a control) is `inconclusive`: never a silent
# pass (results.model.exit_code).
EXIT_INCONCLUSIVE = 4
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE: whoever read our output stopped reading
# `tlsleak bisect-step` speaks `git bisect run`'s codes: EXIT_OK good, EXIT_LEAK bad, and
EXIT_SKIP = 125  # this commit cannot be tested: it does not build, or is neither ok nor leak
# git bisect run marks 1..127 bad: a failure of tlsleak's own (a tool missing, a bad option)
# must not look like a bad commit, so bisect-step says it with 128, which stops the bisection.
EXIT_ABORT = 128
# What each exit code means, in the words a wrapper (pytest, CTest, the Action) prints.
EXIT_MEANING = {EXIT_OK: "no leak", EXIT_LEAK: "leak found", EXIT_USAGE: "usage error",
                EXIT_INFRA: "infrastructure failure",
                EXIT_INCONCLUSIVE: "no leak found, but a cell was inconclusive",
                EXIT_INTERRUPTED: "interrupted",
                EXIT_PIPE: "the reader of the output went away"}
