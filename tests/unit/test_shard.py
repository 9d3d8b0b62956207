"""Sharding a plan (`run --shard K/N`, shard.py): every cell in exactly one shard, the controls
in every shard, and the plan's fingerprint by which `merge` knows shards belong together."""
from dataclasses import dataclass, replace

import pytest

from tlsleak import UsageError, shard
from tlsleak.settings import Settings

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class FakeCell:
    id: str
    role: str = "scenario"


def synthetic_plan():
    """16 scenarios x 13 configurations, the controls first, as session.plan orders them."""
    confs = ["system"] + [f"alloc{i}@1.{i}-{m}" for i in range(4) for m in
                          ("static", "dynamic", "override")]
    roles = {"control_leak": "control-leak", "control_flat": "control-flat",
             "thread_pool": "control-flat"}
    scen = list(roles) + [f"scenario{i:02d}" for i in range(13)]
    return [FakeCell(f"{s}-{c}", roles.get(s, "scenario")) for s in scen for c in confs]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_shards_cover_every_cell_once_and_every_shard_has_the_controls(n):
    cells = synthetic_plan()
    controls = [c for c in cells if c.role != "scenario"]
    shards = [shard.select(cells, k, n) for k in range(1, n + 1)]
    dealt = [c.id for s in shards for c in s if c.role == "scenario"]
    assert sorted(dealt) == sorted(c.id for c in cells if c.role == "scenario")  # once each
    for s in shards:
        assert [c for c in s if c.role != "scenario"] == controls
        assert s == [c for c in cells if c in s]  # plan order kept
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1


def test_a_shard_is_the_same_whatever_the_plan_order():
    cells = synthetic_plan()
    ids = {c.id for c in shard.select(cells, 2, 3)}
    assert ids == {c.id for c in shard.select(list(reversed(cells)), 2, 3)}


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", "-1/2", ""])
def test_a_malformed_shard_is_refused(text):
    with pytest.raises(UsageError, match="malformed --shard"):
        shard.parse(text)


def test_fingerprint_follows_cells_and_measuring_settings_not_the_limits():
    cells, s = synthetic_plan(), Settings()
    base = shard.fingerprint(cells, s)
    assert shard.fingerprint(list(reversed(cells)), s) == base
    assert shard.fingerprint(cells[1:], s) != base
    assert shard.fingerprint(cells, replace(s, workload=replace(s.workload, threads=2000))) != base
    assert shard.fingerprint(cells, replace(s, criteria=replace(s.criteria, floor=64))) != base
    assert shard.fingerprint(cells, replace(s, limits=s.limits.with_machine_caps(7))) == base
