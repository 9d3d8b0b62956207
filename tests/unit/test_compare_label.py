"""How `tlsleak compare` labels a scenario from the cells of each side, and how `-a` specs with
a source split (NAME@REF:MODE, REF possibly holding ':' and '@')."""
import pytest

from tlsleak import sourcebuilds
from tlsleak.commands import compare

pytestmark = pytest.mark.unit


def cells(verdict, *rates):
    return [{"verdict": verdict, "rate": {"value": r, "unit": "B/thread"}} for r in rates]


def test_a_verdict_that_flips_is_regressed_one_way_and_fixed_the_other():
    assert compare.label(cells("ok", 0, 0, 0), cells("leak", 900, 950, 1000), 128)[0] == "regressed"
    assert compare.label(cells("leak", 900, 950, 1000), cells("ok", 0, 0, 0), 128)[0] == "fixed"


def test_a_rate_that_moves_beyond_the_floor_is_rate_changed_by_mann_whitney():
    what, p = compare.label(cells("leak", 1000, 1010, 990, 1005),
                            cells("leak", 4000, 4100, 3900, 4050), 128)
    assert what == "rate changed" and p < 0.05


def test_overlapping_rates_or_a_change_under_the_floor_are_unchanged():
    assert compare.label(cells("leak", 1000, 1200, 900, 1100),
                         cells("leak", 1050, 950, 1150, 1000), 128)[0] == "unchanged"
    # significant, but 20 B/thread is below the 128 B/thread floor
    assert compare.label(cells("leak", 1000, 1001, 1002, 1003),
                         cells("leak", 1020, 1021, 1022, 1023), 128)[0] == "unchanged"


@pytest.mark.parametrize("text, parts", [
    ("mimalloc@2.0.9:static", ("mimalloc", "2.0.9", "static")),
    ("faulty@v1.1.0", ("faulty", "v1.1.0", None)),
    ("mimalloc@dir:/src/mi malloc:static", ("mimalloc", "dir:/src/mi malloc", "static")),
    ("faulty@git:/r/faulty@main:override", ("faulty", "git:/r/faulty@main", "override")),
    ("jemalloc:static", ("jemalloc", None, "static")),
])
def test_source_specs_split_at_the_first_at_and_a_trailing_mode(text, parts):
    assert sourcebuilds.split(text) == parts
