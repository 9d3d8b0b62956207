"""Series thinned evenly, the first and the last point kept (thinning.py)."""
import pytest

from tlsleak import thinning

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("n, keep", [(1000, 24), (401, 400), (10, 3), (7, 7), (3, 10), (0, 5)])
def test_evenly_keeps_at_most_keep_first_and_last_in_order(n, keep):
    idx = thinning.evenly(n, keep)
    assert len(idx) == min(n, keep) and idx == sorted(set(idx))
    if n:
        assert idx[0] == 0 and idx[-1] == n - 1


def test_evenly_spreads_the_points():
    idx = thinning.evenly(1001, 11)
    assert idx == list(range(0, 1001, 100))


def test_thin_picks_the_items():
    assert thinning.thin("abcdefghij", 4) == ["a", "d", "g", "j"]


def test_halve_keeps_the_first_and_the_latest():
    items = list(range(9))
    thinning.halve(items)
    assert items == [0, 2, 4, 6, 8]
    items = list(range(10))
    thinning.halve(items)
    assert items == [0, 2, 4, 6, 8, 9]
