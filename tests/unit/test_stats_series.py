"""stats.series on synthetic series with a known answer: the rules of one series."""
import re

import numpy as np
import pytest

from tlsleak.stats import judge_series, newest_rise, theil_sen

pytestmark = pytest.mark.unit

KiB = 1024
MiB = 1024 * KiB
BASE = 8 * MiB
X = np.arange(0, 20001, 500)  # 41 checkpoints, 500 threads apart, like the default run


def quantize(y, step):
    return (np.asarray(y) // step) * step


def test_flat_is_ok():
    j = judge_series(X, np.full(len(X), BASE))
    assert j.verdict == "ok"
    assert j.rate.slope == 0
    assert j.rate.high < 128
    assert "flat" in j.reason


def test_linear_1024_per_thread_is_a_leak_with_the_right_slope():
    j = judge_series(X, BASE + 1024 * X)
    assert j.verdict == "leak"
    assert j.rate.slope == pytest.approx(1024, rel=0.02)
    assert j.rate.low <= 1024 <= j.rate.high
    assert j.rate.n == 33  # points with x >= 20% of 20000


def test_reason_is_a_short_sentence_with_slope_ci_and_floor():
    j = judge_series(X, BASE + 1031 * X)
    assert re.fullmatch(r"rss grows 1031 B/thread \(95% CI 1031\.\.1031\) > floor 128", j.reason), \
        j.reason


def test_two_mib_steps_of_a_256_byte_leak_are_a_leak():
    # 256 B/thread accumulates 2 MiB every 8192 threads: RSS moves in 2 MiB steps (huge pages)
    y = BASE + quantize(256 * X, 2 * MiB)
    assert len(set(y)) == 3  # really step-wise: three levels over the run
    j = judge_series(X, y)
    assert j.verdict == "leak", j.reason
    assert j.rate.low > 128


def test_four_kib_page_steps_of_a_1024_byte_leak_are_a_leak():
    x = np.append(np.arange(0, 20000, 487), 20000)  # the interval does not divide into pages
    y = BASE + quantize(1024 * x + 1234, 4 * KiB)
    assert not np.allclose(np.diff(y) / np.diff(x), 1024)  # really quantized
    j = judge_series(x, y)
    assert j.verdict == "leak", j.reason
    assert j.rate.slope == pytest.approx(1024, rel=0.02)


@pytest.mark.parametrize("seed", range(10))
def test_noisy_flat_is_ok(seed):
    rng = np.random.default_rng(seed)
    y = BASE + rng.normal(0, 200 * KiB, len(X))
    j = judge_series(X, y)
    assert j.verdict == "ok", j.reason
    assert abs(j.rate.slope) < 64


@pytest.mark.parametrize("seed", range(5))
def test_noisy_linear_leak_is_a_leak_and_its_ci_covers_the_truth(seed):
    rng = np.random.default_rng(100 + seed)
    y = BASE + 1024 * X + rng.normal(0, 200 * KiB, len(X))
    j = judge_series(X, y)
    assert j.verdict == "leak", j.reason
    assert j.rate.low <= 1024 <= j.rate.high


def test_noise_outliers_do_not_move_the_robust_slope():
    y = (BASE + 1024 * X).astype(float)
    y[[10, 20, 30]] += 64 * MiB  # three wild samples
    j = judge_series(X, y)
    assert j.verdict == "leak"
    assert j.rate.slope == pytest.approx(1024, rel=0.02)


def test_rise_then_plateau_inside_the_warmup_is_ok():
    y = BASE + 1024 * np.minimum(X, 3000)  # a cache that fills in the first 3000 threads
    j = judge_series(X, y)
    assert j.verdict == "ok", j.reason


def test_warmup_zero_keeps_the_early_rise():
    y = BASE + 1024 * np.minimum(X, 3000)
    assert judge_series(X, y, warmup=0.0).rate.n == len(X)
    assert judge_series(X, y).rate.n < len(X)


@pytest.mark.parametrize("stop", [0.5, 0.55, 0.6, 0.65, 0.7])
def test_rise_then_plateau_after_the_first_half_is_never_a_leak(stop):
    y = BASE + 1024 * np.minimum(X, stop * X[-1])
    j = judge_series(X, y)
    assert j.verdict in ("ok", "inconclusive"), j.reason
    if j.verdict == "ok":
        assert "plateau" in j.reason


def test_clear_plateau_is_ok_and_says_plateau():
    y = BASE + 1024 * np.minimum(X, 0.6 * X[-1])
    j = judge_series(X, y)
    assert j.verdict == "ok", j.reason
    assert "plateau" in j.reason
    assert j.rate.low > 128  # it did grow overall: the plateau rule decided
    assert j.tail is not None and j.tail.high < 128


def test_slow_leak_below_the_floor_is_ok():
    j = judge_series(X, BASE + 32 * X)
    assert j.verdict == "ok", j.reason
    assert j.rate.slope == pytest.approx(32, rel=0.02)


def test_the_same_slow_leak_is_a_leak_with_a_lower_floor():
    assert judge_series(X, BASE + 32 * X, floor=16).verdict == "leak"


def test_slope_near_the_floor_with_noise_is_inconclusive():
    rng = np.random.default_rng(7)
    y = BASE + 128 * X + rng.normal(0, 200 * KiB, len(X))
    j = judge_series(X, y)
    assert j.verdict == "inconclusive", j.reason
    assert j.rate.low <= 128 <= j.rate.high


def test_too_few_points_after_the_warmup_is_inconclusive():
    x = np.array([0, 4000, 8000, 12000, 16000, 20000])  # 5 left after the 20% warm-up
    j = judge_series(x, BASE + 1024 * x)
    assert j.verdict == "inconclusive"
    assert j.rate is None
    assert "only 5 points" in j.reason


def test_min_points_is_adjustable():
    x = np.array([0, 4000, 8000, 12000, 16000, 20000])
    assert judge_series(x, BASE + 1024 * x, min_points=5).verdict == "leak"


def test_zero_range_of_x_is_inconclusive():
    x = np.full(10, 500)
    j = judge_series(x, BASE + np.arange(10) * MiB)
    assert j.verdict == "inconclusive"
    assert j.rate is None


def test_all_x_zero_is_inconclusive():
    j = judge_series(np.zeros(10), np.arange(10))
    assert j.verdict == "inconclusive"
    assert j.rate is None


def test_empty_series_is_inconclusive():
    j = judge_series([], [])
    assert j.verdict == "inconclusive" and j.rate is None


def test_growth_that_starts_late_is_not_ok():
    y = BASE + 1024 * np.maximum(X - 16000, 0)  # leaks only over the last fifth
    j = judge_series(X, y)
    assert j.verdict == "inconclusive", j.reason
    assert "late" in j.reason


def test_steps_too_coarse_for_the_flat_last_half_are_not_called_a_plateau():
    # 200 B/thread in 2 MiB steps: one step every 10486 threads, none in the last 8000
    y = BASE + quantize(200 * X, 2 * MiB)
    j = judge_series(X, y)
    assert j.verdict == "inconclusive", j.reason
    assert "steps" in j.reason


def test_unsorted_input_gives_the_same_judgement():
    rng = np.random.default_rng(3)
    order = rng.permutation(len(X))
    y = BASE + quantize(256 * X, 2 * MiB)
    a, b = judge_series(X, y), judge_series(X[order], y[order])
    assert (a.verdict, a.rate) == (b.verdict, b.rate)


def test_higher_confidence_widens_the_interval():
    rng = np.random.default_rng(11)
    y = BASE + 1024 * X + rng.normal(0, 200 * KiB, len(X))
    r90 = judge_series(X, y, confidence=0.90).rate
    r99 = judge_series(X, y, confidence=0.99).rate
    assert r99.low <= r90.low and r99.high >= r90.high
    assert (r99.high - r99.low) > (r90.high - r90.low)
    assert r99.confidence == 0.99


def test_flat_with_the_newest_points_jumping_is_not_ok():
    # The late leak: flat for most of the run, then the last checkpoints jump (1.74 MB
    # to 3.08 MB) while the robust slope still says "flat: CI 0..0". Growth that starts at
    # the end is not hidden: not ok.
    y = np.full(len(X), BASE, dtype=float)
    y[-2:] = [BASE + 200 * KiB, BASE + 1340 * KiB]
    j = judge_series(X, y)
    assert j.verdict == "inconclusive", j.reason
    assert "newest points rise" in j.reason and j.rate.slope == 0
    assert judge_series(X, y, newest=0).verdict == "ok"  # the guard is what sees it


def test_the_newest_points_within_the_noise_seen_before_are_no_jump():
    rng = np.random.default_rng(3)
    y = BASE + rng.normal(0, 64 * KiB, len(X))
    y[-1] = BASE + 60 * KiB  # high, but not above what the older points reached
    y[5] = BASE + 70 * KiB
    assert newest_rise(X.astype(float), y, theil_sen(X, y), 128, 0.1) == 0
    assert judge_series(X, y).verdict == "ok"


def test_a_jump_by_less_than_the_floor_over_the_newest_span_is_allowed():
    y = np.full(len(X), BASE, dtype=float)
    y[-1] += 128 * 500 - 1  # a floor's growth over the last interval: not a jump
    assert judge_series(X, y).verdict == "ok"


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("start", [0.55, 0.6, 0.65])
def test_a_leak_that_starts_late_and_lasts_through_the_last_half_is_a_leak(start, seed):
    # The late leak: 2 KiB per thread from 60-70 % of the run on, in noisy memory
    # (the whole window's interval straddles the floor). It goes on through most of the last
    # half of the window, at one pace: a leak, at the rate since it started.
    rng = np.random.default_rng(seed)
    y = BASE + 2048 * np.maximum(X - start * X[-1], 0) + rng.normal(0, 1.5 * MiB, len(X))
    j = judge_series(X, y)
    assert j.verdict == "leak", j.reason
    assert 256 <= j.rate.slope <= 3500, j.reason


def test_growth_in_the_last_fifth_only_is_not_called_a_leak_yet():
    # A cache that starts filling at the very end looks the same as a leak that does.
    y = BASE + 2048 * np.maximum(X - 0.8 * X[-1], 0)
    assert judge_series(X, y).verdict == "inconclusive"


@pytest.mark.parametrize("start", [0.65, 0.7])
def test_a_late_leak_is_judged_at_its_own_pace_not_the_whole_window_s(start):
    # Recorded from a run of tests/programs/late_leak (2 KiB per thread from 65 % of the run):
    # the whole window grows at a fraction of the leak, the last half at the leak's pace; the
    # sequential tail check (a last half more than twice as steep) would call that 'growth in
    # steps' and give up.
    y = BASE + 2048 * np.maximum(X - start * X[-1], 0)
    j = judge_series(X, y)
    assert j.verdict == "leak" and "a leak that started late" in j.reason, j.reason
    assert j.rate.slope == pytest.approx(2048, rel=0.2)


def test_one_late_step_is_no_late_leak():
    y = np.full(len(X), BASE, dtype=float)
    y[-4:] += 4 * MiB  # one step at 90 % of the run
    assert judge_series(X, y).verdict != "leak"


def test_a_page_sized_step_among_dense_newest_points_is_no_growth_starting():
    # Seen in the corpus (OpenSSL's per-thread state under tbbmalloc, 10000 threads sampled
    # from outside): the older points thinned to every 400 threads, the newest at every 10,
    # and one 24.5 KiB step among them. The newest tenth of the points spanned 150 threads, so
    # the step read as growth starting; the newest tenth of the threads spans 1000.
    x = np.concatenate([np.arange(0, 9000, 400), np.arange(9000, 10001, 10)]).astype(float)
    y = np.full(len(x), BASE, dtype=float)
    y[-5:] += 24.5 * KiB
    j = judge_series(x, y)
    assert j.verdict == "ok", j.reason


def test_a_jump_of_megabytes_among_dense_newest_points_is_still_seen():
    x = np.concatenate([np.arange(0, 9000, 400), np.arange(9000, 10001, 10)]).astype(float)
    y = np.full(len(x), BASE, dtype=float)
    y[-5:] += 1340 * KiB
    j = judge_series(x, y)
    assert j.verdict == "inconclusive" and "newest points rise" in j.reason, j.reason
