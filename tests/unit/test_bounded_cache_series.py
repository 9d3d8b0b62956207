"""A bounded cache is not a leak: series recorded from the faulty allocator's `fill` switch (a
global cache that grows 1 KiB per thread for 5000 threads, then stays flat) and `steps` switch
(1 MiB every 1000 threads, five times, then flat), each over 10000 threads (tests/data/series/,
with the command that made them).

Judged at the end of the run the detector is right: fill is a plateau (ok), steps is
inconclusive (its last half is flat, but too short to rule out a leak hidden inside 1 MiB steps).
Judged sequentially, as `tlsleak run` does by default, it used to settle `leak` long before
the growth stopped (fill after about 2000 threads, steps after about 5000): every look before the
plateau sees a clean linear trend in the whole window and in its last half alike. No rule on the
data alone can tell them apart early, so the detector has a horizon (stats.LEAK_HORIZON): no
`leak` before 85% of the planned looks (the last half of the post-warm-up window then starts
after 0.6 x 0.85 = 51% of the threads, past a fill that stops at 50%), and only when the last
half's trend is the whole window's (stats.tail_agrees). The price: real leaks settle near the
end of their run instead of at a fifth of it."""
import json
from pathlib import Path

import pytest

from tlsleak.stats import LEAK_HORIZON, Sequential, judge_signals

pytestmark = pytest.mark.unit

SERIES = Path(__file__).resolve().parents[1] / "data" / "series"
FILL = "bounded_cache_fill_5000_faulty"
STEPS = "bounded_cache_steps_1MiB_faulty"


def load(name):
    return json.loads((SERIES / f"{name}.json").read_text())["checkpoints"]


def settled(cps):
    """(verdict, threads done) where the harness's sequential judging would settle, offering the
    checkpoints one by one with one look per checkpoint; (end verdict, None) if it never does."""
    seq = Sequential(looks=len(cps) - 1)
    for i in range(1, len(cps) + 1):
        j = seq.look(cps[:i])
        if j is not None:
            return j.verdict, cps[i - 1]["done"]
    return seq.judge(cps).verdict, None


@pytest.mark.parametrize("name", [FILL, STEPS])
def test_the_recorded_cache_really_grows_then_stays_flat(name):
    cps = load(name)
    rss = {c["done"]: c["rss"] for c in cps}
    assert rss[5000] - rss[0] > 4 << 20  # grew by megabytes over the first 5000 threads
    assert rss[10000] == rss[5000]  # and not one byte after
    tcache = {c["done"]: c["alloc_tcache"] for c in cps}
    assert tcache[10000] - tcache[0] > 4 << 20  # the allocator says it is its cache


def test_a_filled_cache_is_a_plateau_at_the_end_of_the_run():
    assert judge_signals(load(FILL)).verdict == "ok"


def test_a_cache_grown_in_steps_is_not_a_leak_at_the_end_of_the_run():
    assert judge_signals(load(STEPS)).verdict != "leak"


def test_sequential_judging_never_calls_a_filling_cache_a_leak():
    # Offered one checkpoint at a time, the detector never settles `leak`. `ok` is the ideal;
    # `inconclusive` is acceptable (at the per-look confidence, heap_mapped, which faulty
    # commits in 4 MiB steps, is too coarse to call its last half flat).
    assert settled(load(FILL))[0] != "leak"


def test_sequential_judging_never_calls_a_cache_grown_in_steps_a_leak():
    # Never `leak`; `ok` or `inconclusive` (10000 threads are too few to show that 1 MiB steps
    # stopped, at a floor of 128 B/thread) are both right.
    assert settled(load(STEPS))[0] != "leak"


@pytest.mark.parametrize("name", ["linear_leak_256B_mimalloc", "slow_leak_144B_glibc_conc4"])
def test_a_real_leak_still_settles_but_only_past_the_horizon(name):
    cps = load(name)
    verdict, done = settled(cps)
    assert verdict == "leak"
    assert done >= LEAK_HORIZON * cps[-1]["done"]


def test_without_the_horizon_the_filling_cache_would_settle_leak_early():
    # The failure the horizon prevents, shown on the same data.
    cps = load(FILL)
    seq = Sequential(looks=len(cps) - 1, horizon=0.0)
    looks = (seq.look(cps[:i]) for i in range(1, len(cps) + 1))
    assert next(j for j in looks if j is not None).verdict == "leak"
