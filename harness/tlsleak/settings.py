"""What a run is asked to do, in three separate parts: the program's workload, the criteria a
cell is judged by, and the limits past which the harness stops a program. Defaults come from
defaults.PARAMS, nowhere else."""
from dataclasses import asdict, dataclass, field, fields, replace

import psutil

from tlsleak import signals
from tlsleak.defaults import default
from tlsleak.host import current as host


@dataclass(frozen=True)
class Workload:
    """What the repro program does: passed on its command line (docs/DESIGN.md "Repro command line")."""
    threads: int = default("threads")
    concurrency: int = default("concurrency")
    size: int = default("size")
    interval: int = default("interval")  # 0: threads / default("checkpoints")

    @property
    def effective_interval(self):
        return self.interval or max(1, self.threads // default("checkpoints"))

    def argv(self):
        return ["--threads", str(self.threads), "--concurrency", str(self.concurrency),
                "--size", str(self.size), "--interval", str(self.effective_interval)]

    @property
    def looks(self):
        """Checkpoints a cell will print: the looks sequential judging plans for."""
        return self.threads // self.effective_interval


@dataclass(frozen=True)
class Criteria:
    """How a cell is judged (see stats/ and policy.py)."""
    floor: float = default("floor")
    stats_floor: float = default("stats_floor")
    deciding: tuple = signals.deciding(default("signals"))
    confidence: float = default("confidence")
    warmup: float = default("warmup")
    sequential: bool = default("sequential")  # end a cell as soon as its verdict is settled
    budget_s: float = default("budget_s")  # sequential: judge what arrived by then
    time_floor: float = default("time_floor")  # B/s, for a program whose threads are not counted
    min_points: int = default("min_points")  # points a series needs after the warm-up
    leak_horizon: float = default("leak_horizon")  # sequential: looks before a leak settles
    agree: int = default("agree")  # sequential: looks in a row that settle a verdict
    newest_share: float = default("newest_share")  # newest points re-checked before an ok

    def judge_kw(self):
        """The keyword arguments of stats.judge_signals."""
        return dict(floor=self.floor, stats_floor=self.stats_floor, deciding=self.deciding,
                    confidence=self.confidence, warmup=self.warmup,
                    min_points=self.min_points, newest=self.newest_share)

    def sequential_kw(self, looks):
        """The keyword arguments of stats.Sequential for a run that plans `looks` looks."""
        return dict(self.judge_kw(), looks=looks, agree=self.agree, horizon=self.leak_horizon)


@dataclass(frozen=True)
class Limits:
    """When the harness stops a program; 0 for a cap means none."""
    timeout_s: float = default("timeout_s")
    duration_s: float = default("duration_s")  # --exec: stop and judge after this long; 0 none
    max_rss: int = default("max_rss")
    max_vsize: int = default("max_vsize")
    max_maps: int = default("max_maps")
    sample_interval_s: float = default("sample_interval_s")
    sample_budget: int = default("sample_budget")  # samples kept per process: at most 2 x

    def with_machine_caps(self, jobs, cells=None):
        """Caps left at 0 get values from the machine: half the memory shared by the cells
        running at once (min(jobs, cells), not the jobs asked for), 16 times the memory in
        address space, 80 % of vm.max_map_count."""
        total = psutil.virtual_memory().total
        jobs = max(1, min(jobs, cells) if cells else jobs)
        limit = host.map_count_limit()
        return replace(self, max_rss=self.max_rss or total // (2 * jobs),
                       max_vsize=self.max_vsize or 16 * total,
                       max_maps=self.max_maps or (int(limit * 0.8) if limit else 0))


@dataclass(frozen=True)
class Settings:
    """The three parts together, as a run and its results document carry them."""
    workload: Workload = field(default_factory=Workload)
    criteria: Criteria = field(default_factory=Criteria)
    limits: Limits = field(default_factory=Limits)

    def as_dict(self):
        """The results document's flat "settings" object (docs/RESULTS.md)."""
        d = {}
        for part in (self.workload, self.criteria, self.limits):
            d.update(asdict(part))
        d["interval"] = self.workload.effective_interval
        d["deciding"] = list(self.criteria.deciding)
        return d


def make(**values):
    """Settings from flat field names (threads=..., floor=..., timeout_s=...): the form the CLI
    and the tests use."""
    parts = {}
    for cls, key in ((Workload, "workload"), (Criteria, "criteria"), (Limits, "limits")):
        names = {f.name for f in fields(cls)}
        parts[key] = cls(**{k: values.pop(k) for k in list(values) if k in names})
    if values:
        raise TypeError(f"unknown settings: {', '.join(values)}")
    return Settings(**parts)
