"""The explore space as data (harness/tlsleak/explore/space.py) and its covering design
(design.py): every pair of values of every two dimensions in some point, the same design from
the same seed in any process."""
import os
import subprocess
import sys
from itertools import combinations

import pytest

from tlsleak.build import ROOT
from tlsleak.explore import design, space

pytestmark = pytest.mark.unit


def test_every_dimension_has_distinct_values_with_the_simplest_first():
    assert space.simplest() == {"tls": "pthread", "round": 1, "action": "free", "prealloc": 1,
                                "early_key": 0, "keys": 1, "end": "return", "concurrency": 1,
                                "size": 1024}
    for d in space.DIMENSIONS:
        assert len(set(d.values)) == len(d.values) >= 2, d.name
        assert d.simplest == d.values[0]
    assert space.BY_NAME["round"].values == (1, 2, 3, 4)  # glibc's destructor rounds


def test_a_point_maps_to_one_command_line_of_the_program():
    p = space.complete({"round": 4, "action": "free_many", "prealloc": 0, "early_key": 1,
                        "keys": 3, "end": "exit"})
    assert space.argv(p, threads=2000, interval=50) == [
        "--tls", "pthread", "--round", "4", "--action", "free_many", "--prealloc", "0",
        "--early-key", "1", "--keys", "3", "--end", "exit", "--concurrency", "1",
        "--size", "1024", "--threads", "2000", "--interval", "50"]


def test_the_program_knows_every_dimension_and_value():
    # explore_point's usage (the source of truth for its options) names each of them.
    src = (ROOT / "repro" / "explore" / "explore_point.cpp").read_text()
    for d in space.DIMENSIONS:
        assert '"%s"' % d.option in src or d.name in ("concurrency", "size"), d.option
        for v in d.values:
            if isinstance(v, str):
                assert '"%s"' % v in src, (d.name, v)


def test_bad_points_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="unknown dimension 'colour'"):
        space.validate({**space.simplest(), "colour": 1})
    with pytest.raises(ValueError, match="round=9 is not one of"):
        space.validate({**space.simplest(), "round": 9})
    with pytest.raises(ValueError, match="'keys' missing"):
        space.validate({k: v for k, v in space.simplest().items() if k != "keys"})


def test_a_thread_local_object_has_no_rounds_and_no_early_key():
    p = space.normalise(space.complete({"tls": "cxx", "round": 4, "early_key": 1}))
    assert (p["round"], p["early_key"]) == (1, 0)
    q = space.complete({"tls": "pthread", "round": 4, "early_key": 1})
    assert space.normalise(q) == q


def test_the_text_of_a_point_reads_back_as_the_point():
    p = space.complete({"tls": "tlsvar", "round": 3, "size": 16, "end": "detached"})
    assert space.parse_key(space.key(p)) == p
    with pytest.raises(ValueError):
        space.parse_key("tls=pthread colour=blue")


@pytest.mark.parametrize("seed", range(5))
def test_the_design_covers_every_pair_of_values(seed):
    points = design.pairwise(seed)
    for p in points:
        space.validate(p)
    assert design.uncovered_pairs(points) == []
    # Far fewer points than the product, and at least the largest pair product (8 x 4).
    assert 32 <= len(points) <= 60 < space.size()


def test_the_uncovered_pairs_check_really_checks():
    points = design.pairwise(1)
    (a, va), (b, vb) = ("action", "large"), ("tls", "tlsvar")
    thinned = [p for p in points if not (p[a] == va and p[b] == vb)]
    assert ((b, vb), (a, va)) in design.uncovered_pairs(thinned) \
        or ((a, va), (b, vb)) in design.uncovered_pairs(thinned)


def test_the_same_seed_gives_the_same_design_and_another_seed_another():
    assert design.pairwise(7) == design.pairwise(7)
    assert design.pairwise(7) != design.pairwise(8)


def test_the_design_does_not_depend_on_the_process_hash_seed():
    code = ("from tlsleak.explore import design, space; "
            "print([space.key(p) for p in design.pairwise(3)])")
    outs = set()
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(ROOT / "harness"))
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                capture_output=True, text=True).stdout)
    assert len(outs) == 1


def test_pairs_are_counted_over_every_two_dimensions():
    dims = space.DIMENSIONS[:3]
    points = design.pairwise(0, dims)
    want = sum(len(a.values) * len(b.values) for a, b in combinations(dims, 2))
    got = {((a.name, p[a.name]), (b.name, p[b.name]))
           for p in points for a, b in combinations(dims, 2)}
    assert len(got) == want


def test_catalog_shapes_are_points_of_the_space_and_scenarios_of_the_catalog():
    from tlsleak import catalog
    names = {s.name for s in catalog.load(ROOT)}
    assert set(space.CATALOG) <= names
    for name, dims in space.CATALOG.items():
        assert space.catalog_shape(space.complete(dims)) == name
    assert space.catalog_shape(space.complete({"round": 4, "action": "calloc"})) is None
    # A thread_local object's round is always 1: round 4 under cxx is still the seed's shape.
    assert space.catalog_shape(space.complete({"tls": "cxx", "round": 4})) == "seed_thread_local"


def test_a_design_over_one_dimension_has_each_of_its_values():
    keys = space.BY_NAME["keys"]
    assert design.pairwise(1, (keys,)) == [{"keys": v} for v in keys.values]
