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

    def _run_point(self, point, settings):
        self.now += 1.0
        rate = self.leaks(point)
        return [search.Run("cfg", "cfg", "ok" if rate is None else "leak", rate, "")]


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


class Interrupted(Fake):
    """Fake, with an interrupt (SIGINT, SIGTERM, SIGHUP: KeyboardInterrupt in the main thread)
    during point number `at`, which therefore never finishes."""

    def __init__(self, leaks, at):
        super().__init__(leaks)
        self.at, self.started = at, 0

    def _run_point(self, point, settings):
        self.started += 1
        if self.started == self.at:
            raise KeyboardInterrupt
        return super()._run_point(point, settings)


def two_leaks(p):
    """Two different leaks (rates a factor 10 apart): a last-round first allocation, and a
    thread that ends by pthread_exit."""
    if p["round"] == 4 and p["prealloc"] == 0 and p["tls"] != "cxx":
        return 17000.0
    return 1700.0 if p["end"] == "exit" else None


def test_an_interrupt_ends_the_search_with_every_finished_point_and_every_leak_found():
    whole = search.explore(Fake(two_leaks), seed=1)
    design = len(whole.design)
    result = search.explore(Interrupted(two_leaks, at=design + 1), seed=1)  # minimising
    assert result.interrupted and result.stopped == "interrupted"
    assert len(result.points) == design  # the interrupted point is not kept
    leaking = [p for p in whole.design if two_leaks(p)]
    found = [f.minimised.point for f in search.findings(result)]
    assert leaking and all(any(two_leaks(p) == two_leaks(f) for f in found) for p in leaking)


def test_leaks_the_budget_leaves_unminimised_are_all_kept_as_found():
    design = len(search.explore(Fake(two_leaks), seed=1).design)
    result = search.explore(Fake(two_leaks, budget=design + 1), seed=1)
    assert result.stopped == "budget spent" and not result.minimised
    rates = {two_leaks(f.minimised.point) for f in search.findings(result)}
    assert rates == {17000.0, 1700.0}  # both leaks, though only the first was being minimised


def test_the_findings_are_saved_after_every_point_as_they_stand():
    saved = []

    def save(s):
        saved.append((len(s.points), len(search.findings(s))))
    result = search.explore(Fake(two_leaks), seed=1, save=save)
    assert [n for n, _ in saved][-1] == len(result.points)
    assert {n for n, _ in saved} == set(range(1, len(result.points) + 1))  # every point
    first = next(i for i, p in enumerate(result.design, 1) if two_leaks(p))
    assert max(f for n, f in saved if n == first) == 1  # a leak is saved the moment it is found
