"""Minimising a leaking point towards each dimension's simplest value while the leak keeps its
signature, and deduplicating findings by signature (harness/tlsleak/explore/minimise.py), with
fake oracles that model known leak shapes: no process runs here."""
import pytest

from tlsleak.explore import space
from tlsleak.explore.minimise import Leak, Signature, dedupe, minimise, same_signature

pytestmark = pytest.mark.unit

CACHE = frozenset({"alloc_threads", "alloc_tcache"})
BOTH = ("faulty:dynamic", "faulty:static")


def last_round_alloc(point):
    """A thread cache re-created by an allocation in the last destructor round and never torn
    down (the shape of last_round_alloc): any allocating action, round 4, any mechanism with
    rounds; one cache per thread whatever else varies."""
    if point["tls"] == "cxx" or point["round"] != 4 or point["action"] in ("free", "free_many"):
        return None
    return Signature.of({c: Leak(24000.0, CACHE) for c in BOTH})


def counting(oracle):
    calls = []

    def wrapped(point):
        calls.append(space.key(point))
        return oracle(point)
    return wrapped, calls


def test_a_complex_leaking_point_minimises_to_the_known_shape():
    start = {"tls": "tlsvar", "round": 4, "action": "aligned", "prealloc": 0, "early_key": 1,
             "keys": 3, "end": "detached", "concurrency": 4, "size": 65536}
    oracle, calls = counting(last_round_alloc)
    m = minimise(start, oracle)
    assert m.point == space.complete({"round": 4, "action": "malloc_free"})
    assert m.signature == last_round_alloc(start)
    assert len(calls) == len(set(calls)) == m.calls  # no point asked twice
    assert [s.point for s in m.steps if s.kept][-1] == m.point


def test_a_point_that_does_not_leak_is_refused():
    with pytest.raises(ValueError, match="does not leak"):
        minimise(space.simplest(), last_round_alloc)


def test_a_move_that_changes_the_rate_more_than_twofold_is_not_kept():
    # Each key's destructor leaks a block: three keys leak three times as much.
    def per_key(point):
        if point["round"] != 4:
            return None
        return Signature.of({"faulty:dynamic": Leak(1024.0 * point["keys"])})
    m = minimise(space.complete({"round": 4, "keys": 3}), per_key)
    assert m.point["keys"] == 3

    def per_key_mild(point):  # 1.5 times: within the factor, the move is kept
        if point["round"] != 4:
            return None
        return Signature.of({"faulty:dynamic": Leak(1024.0 * (1.5 if point["keys"] == 3 else 1))})
    assert minimise(space.complete({"round": 4, "keys": 3}), per_key_mild).point["keys"] == 1


def test_a_move_that_changes_which_configurations_leak_is_not_kept():
    def racy(point):  # with 4 threads alive, one more configuration leaks too
        if point["action"] != "handoff":
            return None
        configs = BOTH + (("mimalloc:dynamic",) if point["concurrency"] == 4 else ())
        return Signature.of({c: Leak(4096.0) for c in configs})
    m = minimise(space.complete({"action": "handoff", "concurrency": 4, "size": 16}), racy)
    assert m.point == space.complete({"action": "handoff", "concurrency": 4})


def test_a_move_that_changes_what_grows_is_not_kept():
    def two_bugs(point):  # the same rate, but a different structure grows once the thread
        if point["round"] != 4:  # allocated in its body
            return None
        grows = CACHE if point["prealloc"] == 0 else frozenset({"alloc_meta"})
        return Signature.of({"jemalloc:dynamic": Leak(8192.0, grows)})
    m = minimise(space.complete({"round": 4, "prealloc": 0, "end": "exit"}), two_bugs)
    assert m.point == space.complete({"round": 4, "prealloc": 0})


def test_values_between_are_tried_when_the_simplest_loses_the_leak():
    def from_round_3(point):
        if point["round"] < 3:
            return None
        return Signature.of({"tcmalloc:override": Leak(5300.0)})
    assert minimise(space.complete({"round": 4}), from_round_3).point["round"] == 3


def test_signatures_compare_configurations_rates_and_growth():
    ref = Signature.of({"a": Leak(1000.0, CACHE), "b": Leak(50.0)})
    assert same_signature(ref, Signature.of({"a": Leak(1999.0, CACHE), "b": Leak(26.0)}))
    assert not same_signature(ref, Signature.of({"a": Leak(2001.0, CACHE), "b": Leak(50.0)}))
    assert not same_signature(ref, Signature.of({"a": Leak(1000.0, CACHE)}))
    assert not same_signature(ref, Signature.of({"a": Leak(1000.0), "b": Leak(50.0)}))
    assert same_signature(ref, Signature.of({"a": Leak(1000.0, CACHE), "b": Leak(50.0, CACHE)}))
    assert not same_signature(ref, None)


def test_findings_with_one_signature_are_one_finding():
    starts = [space.complete({"round": 4, "action": a, "size": s})
              for a, s in (("calloc", 16), ("large", 65536), ("malloc_free", 1024))]
    results = [minimise(p, last_round_alloc) for p in starts]

    def drop(point):
        return Signature.of({"faulty:override": Leak(22000.0, CACHE)})
    results.append(minimise(space.complete({"end": "exit"}), drop))
    findings = dedupe(results)
    assert len(findings) == 2
    assert findings[0].minimised.point == space.complete({"round": 4, "action": "malloc_free"})
    assert len(findings[0].duplicates) == 2
    assert findings[1].minimised.point == space.simplest() and findings[1].duplicates == []
