"""Sequential judging: a verdict is settled only when it holds at the per-look confidence."""
import numpy as np
import pytest

from tlsleak.stats import Judgement, Rate, Sequential, look_confidence, tail_agrees

pytestmark = pytest.mark.unit


def _feed(seq, ys, interval=250):
    """Offer the checkpoints one by one; return (index settled at, judgement) or (None, None)."""
    cps = []
    for i, y in enumerate(ys):
        cps.append({"done": i * interval, "rss": int(y)})
        j = seq.look(cps)
        if j is not None:
            return i, j
    return None, None


def test_look_confidence_is_bonferroni_over_the_planned_looks():
    assert look_confidence(0.95, 40) == pytest.approx(1 - 0.05 / 40)
    assert look_confidence(0.95, 1) == pytest.approx(0.95)
    assert look_confidence(0.95, 0) == pytest.approx(0.95)


def test_a_linear_leak_settles_as_leak_at_the_horizon():
    # Not before 85% of the planned looks (a bounded cache must have had the chance to stop).
    at, j = _feed(Sequential(), [4e6 + 1024 * 250 * i for i in range(41)])
    assert j is not None and j.verdict == "leak"
    assert at == 34 and j.rate.slope == pytest.approx(1024, rel=0.01)


def test_a_leak_settles_only_where_the_last_half_agrees_with_the_whole_window():
    # Growth in large steps: the last half's interval lies apart from the whole window's.
    whole = Rate(slope=800, low=700, high=900, n=30, confidence=0.99)
    step = Rate(slope=4000, low=3000, high=5000, n=15, confidence=0.99)
    steady = Rate(slope=850, low=600, high=1100, n=15, confidence=0.99)
    assert not tail_agrees(Judgement("leak", whole, "", step))
    assert tail_agrees(Judgement("leak", whole, "", steady))


def test_a_flat_series_settles_as_ok():
    at, j = _feed(Sequential(), [4e6] * 41)
    assert j is not None and j.verdict == "ok" and at <= 10


def test_a_rate_near_the_floor_never_settles():
    rng = np.random.default_rng(7)
    ys = [4e6 + 128 * 250 * i + rng.normal(0, 300e3) for i in range(41)]
    at, j = _feed(Sequential(), ys)
    assert at is None


def test_a_verdict_must_hold_on_consecutive_looks():
    flat = [4e6] * 41
    at1, _ = _feed(Sequential(agree=1), flat)
    at3, _ = _feed(Sequential(agree=3), flat)
    assert at1 is not None and at3 == at1 + 2
    # A verdict that flips between looks never settles.
    seq = Sequential(agree=2)
    seq._streak = ["leak"]
    assert seq.look([{"done": i * 250, "rss": 4_000_000} for i in range(12)]) is None


def test_each_look_is_stricter_than_the_nominal_confidence():
    seq = Sequential(confidence=0.95, looks=40)
    cps = [{"done": i * 250, "rss": 4_000_000 + (i % 2) * 40960} for i in range(12)]
    assert seq.judge(cps).rate.confidence == pytest.approx(1 - 0.05 / 40)


def test_a_long_series_measures_both_trends_to_a_few_bytes_and_still_agrees():
    # Thousands of points (an --exec program sampled every 10 ms): the intervals are a few
    # bytes wide and need not overlap; a last half within a factor of two is the same trend.
    whole = Rate(slope=2047, low=2044, high=2049, n=1000, confidence=0.99)
    tail = Rate(slope=2080, low=2076, high=2084, n=500, confidence=0.99)
    assert tail_agrees(Judgement("leak", whole, "", tail))


def test_an_ok_never_settles_while_the_newest_checkpoints_jump():
    # Flat for 20 checkpoints, then every new one a step up: a leak starting at the end (the
    # issue's late leak settled ok with its last checkpoint jumping from 1.74 to 3.08 MB).
    cps = [{"done": i * 250, "rss": int(4e6 + 700e3 * max(0, i - 19))} for i in range(26)]
    for i in range(20, 26):
        looked = Sequential()
        looked._streak = ["ok"]  # the look before said ok: one more would settle it
        assert looked.look(cps[:i + 1]) is None, i
        assert Sequential().judge(cps[:i + 1]).verdict != "ok", i
    # without the re-check of the newest points, the first jump settles ok
    blind = Sequential(newest=0)
    blind._streak = ["ok"]
    assert blind.look(cps[:21]).verdict == "ok"


def test_a_late_leak_is_a_leak_for_sequential_judging_too():
    # The last half is three times as steep as the whole window: not 'growth in steps' when it
    # goes on at that pace through the last quarter (tests/programs/late_leak, 65 %).
    cps = [{"done": i * 250, "rss": int(4e6 + 2048 * max(0, i * 250 - 6500))} for i in range(41)]
    j = Sequential().judge(cps)
    assert j.verdict == "leak" and "started late" in j.reason, j.reason
