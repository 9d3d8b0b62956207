"""The verdict on memory series recorded from real runs on this kind of machine (tests/data/
series/, each with the command that made it): linear growth, flat, a rise that stops, the
noise of 4 MiB blocks churned 8 at a time, and, derived from a real leak, RSS that moves only
in 2 MiB huge-page steps. Judged both at the end and sequentially, as the harness does."""
import json
from pathlib import Path

import numpy as np
import pytest

from tlsleak.stats import Sequential, judge_signals, judge_series

pytestmark = pytest.mark.unit

SERIES = Path(__file__).resolve().parents[1] / "data" / "series"
HUGE = 2 << 20


def load(name):
    return json.loads((SERIES / f"{name}.json").read_text())["checkpoints"]


def sequential(cps):
    """The verdict the harness would settle on, offering the checkpoints one by one."""
    seq = Sequential(looks=len(cps) - 1)
    for i in range(1, len(cps) + 1):
        j = seq.look(cps[:i])
        if j is not None:
            return j.verdict
    return seq.judge(cps).verdict


@pytest.mark.parametrize("name, slope", [("linear_leak_256B_mimalloc", 258),
                                         ("slow_leak_144B_glibc_conc4", 144)])
def test_real_linear_growth_is_a_leak_at_its_rate(name, slope):
    cps = load(name)
    j = judge_signals(cps)
    assert j.verdict == "leak" and j.rate.slope == pytest.approx(slope, abs=8)
    assert sequential(cps) == "leak"


@pytest.mark.parametrize("name", ["flat_mimalloc", "rise_then_flat_glibc_conc8_64KiB"])
def test_real_flat_and_plateau_series_are_ok(name):
    cps = load(name)
    assert judge_signals(cps).verdict == "ok"
    assert sequential(cps) == "ok"


@pytest.mark.parametrize("name", ["noise_detached_4MiB_conc8_mimalloc",
                                  "noise_pthread_exit_4MiB_conc8_mimalloc"])
def test_real_noise_of_big_blocks_is_never_a_leak(name):
    cps = load(name)
    rss = [c["rss"] for c in cps]
    assert max(rss[5:]) - min(rss[5:]) > 8 << 20  # it really swings by megabytes
    assert judge_signals(cps).verdict != "leak"
    assert sequential(cps) != "leak"


def _huge_pages(cps):
    """RSS as it looks when the heap is backed by transparent huge pages: 2 MiB steps."""
    return [dict(c, rss=int(np.ceil(c["rss"] / HUGE)) * HUGE) for c in cps]


def test_a_small_leak_hidden_in_huge_page_steps_is_not_called_ok():
    cps = _huge_pages(load("linear_leak_256B_mimalloc"))
    x, y = [c["done"] for c in cps], [c["rss"] for c in cps]
    assert len(set(y)) <= 5  # a handful of steps over 20000 threads
    assert judge_series(x, y).verdict != "ok"


def test_a_flat_series_stays_ok_on_huge_pages():
    cps = _huge_pages(load("flat_mimalloc"))
    assert judge_signals(cps).verdict == "ok"
