"""stats.trend: the Theil-Sen slope and its interval."""
import numpy as np
import pytest

from tlsleak.stats import Judgement, Rate, theil_sen

pytestmark = pytest.mark.unit


def test_theil_sen_thins_long_series_and_keeps_the_slope():
    x = np.arange(50000)
    rate = theil_sen(x, 3 * x + 7, max_points=500)
    assert rate.n <= 500
    assert rate.slope == pytest.approx(3)


def test_theil_sen_without_spread_is_none():
    assert theil_sen([1, 1, 1], [1, 2, 3]) is None


def test_rate_to_dict_carries_its_unit():
    assert Rate(1.5, 1.0, 2.0, 10, 0.95).to_dict() == {
        "value": 1.5, "unit": "B/thread", "ci": [1.0, 2.0], "confidence": 0.95, "n": 10}
    assert Judgement("ok", None, "r").to_dict() == {"verdict": "ok", "rate": None, "reason": "r"}


def test_a_series_without_a_byte_of_change_is_flat_even_with_ties_in_x():
    # scipy's interval is NaN there (a slow program sampled twice at one count)
    rate = theil_sen([1, 1, 2, 2, 3, 3, 4, 4], [5] * 8)
    assert (rate.slope, rate.low, rate.high, rate.intercept) == (0, 0, 0, 5)
