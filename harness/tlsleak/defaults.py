"""Every tunable of a run, with its default and range, in one table.

The CLI parsers (commands/), the run settings (settings.py), the docs test and the unit tests
all read PARAMS, so a default or a range is written exactly once. The groups of SETTINGS_GROUPS
are the fields of a run's Settings; the others are the tunables of one command (explore,
bisect) or the rules run settings are derived by (derived). Workload ranges match the repro
programs' own (docs/DESIGN.md "Repro command line"), except `threads`: the harness needs at least 10 to fit
a trend, and caps it where a run would take days.
"""
from dataclasses import dataclass

from tlsleak import signals

KIB, MIB = 1 << 10, 1 << 20


@dataclass(frozen=True)
class Param:
    name: str  # field name in Workload, Criteria or Limits
    group: str  # "workload", "criteria" or "limits"
    default: object  # 0 for interval and the caps: derived at run time (see help)
    # "int", "float" (lo excluded when lo_open), "size" (bytes, K/M/G), "duration" (seconds;
    # 90s, 10m, 1h), "choice", "flag", or "internal" (no option)
    kind: str
    lo: float = None
    hi: float = None
    lo_open: bool = False
    unit: str = ""
    help: str = ""
    flag: str = ""  # CLI option; "" = --name with dashes
    choices: tuple = ()
    metavar: str = ""

    @property
    def option(self):
        return self.flag or "--" + self.name.replace("_", "-")


PARAMS = (
    # workload: what the program does (passed on its command line)
    Param("threads", "workload", 10000, "int", 10, 10_000_000, unit="threads",
          help="threads each cell creates and joins (--exec: stop the program once this many "
               "of its threads have finished, as the probe counts them)"),
    Param("concurrency", "workload", 1, "int", 1, 4096, unit="threads",
          help="threads alive at once"),
    Param("size", "workload", 1024, "int", 1, 1 << 30, unit="B", help="block size in bytes"),
    Param("interval", "workload", 0, "int", 1, 10_000_000, unit="threads",
          help="threads between checkpoints (default threads/40)"),
    # criteria: how a cell is judged
    Param("floor", "criteria", 128.0, "float", 0, 1 << 30, lo_open=True, unit="B/thread",
          help="growth below which a cell is not a leak, for the OS's view"),
    Param("stats_floor", "criteria", 32.0, "float", 0, 1 << 30, lo_open=True, unit="B/thread",
          help="the same floor for the allocator's own statistics, exact to the byte"),
    Param("signals", "criteria", "all", "choice", choices=tuple(signals.CHOICES),
          help="what may decide a verdict: the OS's view and the allocator's statistics "
               "(all), or the OS's view alone (os)"),
    Param("time_floor", "criteria", 16.0 * KIB, "float", 0, 1 << 40, lo_open=True, unit="B/s",
          help="--exec, threads not counted (static program, or no thread ends): growth in "
               "time below which it is not a leak"),
    Param("confidence", "criteria", 0.95, "float", 0.5, 0.9999,
          help="confidence level of the slope interval"),
    Param("warmup", "criteria", 0.2, "float", 0, 0.9,
          help="fraction of threads ignored at the start"),
    Param("sequential", "criteria", True, "flag", flag="--no-sequential",
          help="run every thread of every cell instead of stopping a cell as soon as its "
               "verdict is settled"),
    Param("budget_s", "criteria", 30.0, "float", 0, 86400, lo_open=True, unit="s",
          flag="--budget", help="sequential: stop a cell after this long and judge what arrived"),
    # criteria the statistics use that are no option (stats/)
    Param("min_points", "criteria", 6, "internal", unit="points",
          help="points a series needs after the warm-up to be judged"),
    Param("leak_horizon", "criteria", 0.85, "internal",
          help="sequential: share of the planned looks before a leak may settle (a cache that "
               "fills for a while grows as linearly as a leak until it stops)"),
    Param("agree", "criteria", 2, "internal", unit="looks",
          help="sequential: consecutive looks that must give the same verdict to settle it"),
    Param("newest_share", "criteria", 0.1, "internal",
          help="share of a series' threads whose points must not rise above the trend for "
               "an ok (growth that starts at the end)"),
    # limits: when the harness stops a program
    Param("timeout_s", "limits", 120.0, "float", 0, 86400, lo_open=True, unit="s",
          flag="--timeout", help="seconds before a cell is killed as a timeout"),
    Param("duration_s", "limits", 0.0, "float", 0, 86400, unit="s", flag="--duration",
          help="--exec: stop the program after this long and judge what was seen, a normal "
               "end (default: the --budget when sequential)"),
    Param("max_rss", "limits", 0, "size", unit="B",
          help="kill a cell past this RSS, as a runaway leak (default: half the memory, shared "
               "by the jobs)"),
    Param("max_vsize", "limits", 0, "size", unit="B",
          help="kill a cell past this virtual size (default: 16 x the memory)"),
    Param("max_maps", "limits", 0, "int", 1, 1 << 31, unit="maps", metavar="N",
          help="kill a cell past this many mappings (default: 80%% of vm.max_map_count)"),
    Param("sample_interval_s", "limits", 0.01, "internal", unit="s",
          help="period of the external sampling"),
    Param("sample_budget", "limits", 1000, "internal", unit="samples",
          help="samples (and paired points) kept per process and per cell: at most twice "
               "this many, thinned evenly"),
    # derived: the rules settings are derived by
    Param("checkpoints", "derived", 40, "internal", unit="checkpoints",
          help="checkpoints a cell prints when --interval is not given (interval = threads / "
               "this): the looks sequential judging plans for"),
    # explore: the search of `tlsleak explore` (its cells take the run settings' other defaults)
    Param("explore_budget_s", "explore", 600.0, "duration", 0, 30 * 86400, lo_open=True,
          unit="s", flag="--budget",
          help="start no point after this long (10m, 90s); counted from the end of the build"),
    Param("explore_threads", "explore", 2000, "int", 100, 1_000_000, unit="threads",
          flag="--threads", metavar="N",
          help="threads per run: enough for the floor, short enough for hundreds of runs"),
    Param("explore_cell_budget_s", "explore", 20.0, "internal", unit="s",
          help="sequential budget of one explore run"),
    # bench: how much the calibration measures (`tlsleak bench`)
    Param("bench_runs", "bench", 200, "int", 1, 100000, unit="runs", flag="--runs",
          metavar="N", help="healthy runs for the false-positive rate"),
    Param("bench_reps", "bench", 3, "int", 1, 1000, unit="runs", flag="--reps", metavar="N",
          help="runs per configuration and leak size for the power"),
    # bisect: how a step that is neither ok nor leak is judged again
    Param("bisect_retry", "bisect", 4, "internal",
          help="a bisect step whose verdict is neither ok nor leak is judged once more with this "
               "many times the threads, budget and timeout before it counts as untestable"),
)

# The groups whose rows are the fields of a run's Settings (settings.py).
SETTINGS_GROUPS = ("workload", "criteria", "limits")

BY_NAME = {p.name: p for p in PARAMS}

# Defaults that differ per --platform (platforms/), over PARAMS' own. Wine creates and joins a
# few hundred threads per second (natively about ten thousand): fewer threads and a shorter
# budget keep judging a cell under 10 s there; 2000 threads still give 40 checkpoints of 50.
PLATFORM_DEFAULTS = {
    "native": {},
    "wine": {"threads": 2000, "budget_s": 8.0, "timeout_s": 60.0},
}


def default(name, platform="native"):
    return PLATFORM_DEFAULTS.get(platform, {}).get(name, BY_NAME[name].default)


def platform_dependent():
    """The settings whose default depends on --platform."""
    return sorted({n for over in PLATFORM_DEFAULTS.values() for n in over})


def in_group(group):
    return [p for p in PARAMS if p.group == group]
