"""The explore search (harness/tlsleak/explore/search.py) with a fake run of each point in place
of real processes: one seed gives one order of points, the budget is checked before every point
and the search stops cleanly saying what it covered, and a leak is minimised to its shape and
found once however often the design and the refinement meet it."""
import pytest

from tlsleak.explore import search, space
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit


class Fake(search.Explorer):
    """Each point takes one second of a fake clock; `leaks(point)` says the rate under the one
    configuration, "cfg" (None: ok)."""

    def __init__(self, leaks, budget=float("inf")):
        self.now = 0.0
        super().__init__([object()], settings=Settings(), tgt=None, deadline=budget,
                         clock=lambda: self.now)
        self.leaks = leaks

    def _run_one(self, point, config, settings):
        self.now += 1.0
        rate = self.leaks(point)
        return search.Run("cfg", "cfg", "ok" if rate is None else "leak", rate, "")


def last_round_first_alloc(p):
    return 17000.0 if p["round"] == 4 and p["prealloc"] == 0 and p["tls"] != "cxx" else None


def test_one_seed_gives_one_order_of_points():
    runs = [list(search.explore(Fake(last_round_first_alloc), seed=5).points) for _ in range(2)]
    assert runs[0] == runs[1]
    other = list(search.explore(Fake(last_round_first_alloc), seed=6).points)
    assert other != runs[0]


def test_the_budget_stops_the_search_before_a_point_and_says_what_was_covered():
    fake = Fake(lambda p: None, budget=10)
    result = search.explore(fake, seed=1)
    assert len(result.points) == 10 and fake.now == 10  # no point started past the budget
    assert result.stopped == "budget spent"
    assert result.covered["design"] == (10, len(result.design))


def test_a_leak_is_minimised_to_its_shape_and_found_once():
    result = search.explore(Fake(last_round_first_alloc), seed=1)
    assert not result.stopped
    found = search.findings(result)
    assert len(found) == 1
    assert found[0].minimised.point == space.complete({"round": 4, "prealloc": 0})
    # refinement ran every neighbour of the minimal point
    for n in search.neighbours(found[0].minimised.point, space.DIMENSIONS):
        assert space.key(n) in result.points
