"""session.plan: the cells a run plans; here, the configurations an --exec run uses, and the
scenarios a target cannot build."""
from pathlib import Path

import pytest

from tlsleak import catalog, configs, session
from tlsleak.target import Target

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def conf(cid, name, mode, origin="debian package", available=True):
    return configs.Config(id=cid, name=name, version="1", mode=mode, available=available,
                          reason="", bin_dir="/b", target="t", preload="/p.so",
                          library="/p.so", origin=origin, expect=name, label=cid)


CONFS = [conf("system", "system", "system", origin="the C library"),
         conf("mimalloc@2.0.9:override", "mimalloc", "override"),
         conf("mimalloc@2.0.9:dynamic", "mimalloc", "dynamic"),
         conf("jemalloc@5.3.0:override", "jemalloc", "override", available=False),
         conf("faulty@1.0.0:override", "faulty", "override", origin="allocators/faulty")]


def test_exec_runs_under_system_and_the_overrides_of_real_allocators_unless_asked():
    req = session.Request(exec_argv=["./prog"])
    chosen, cells = session.plan(req, [], CONFS, Target())
    assert [c.id for c in chosen] == ["system", "mimalloc@2.0.9:override"]
    assert [c.id for c in cells] == ["prog-system", "prog-mimalloc@2.0.9-override"]
    asked = session.Request(exec_argv=["./prog"], allocators=["faulty:override"])
    assert [c.id for c in session.plan(asked, [], CONFS, Target())[0]] == \
        ["faulty@1.0.0:override"]


def test_a_scenario_the_target_cannot_build_is_listed_unavailable_with_the_builds_reason():
    """Not dropped unsaid: the run's `unavailable` names it (results.document)."""
    scen = catalog.load(ROOT)
    tgt = Target(scenarios=("control_leak", "control_flat", "thread_pool", "dtor_allocates"),
                 unavailable=(("seed_thread_local", "no C++ library"),))
    req = session.Request(scenarios=["dtor_allocates", "seed_thread_local"])
    missing = session.unavailable_scenarios(req, scen, tgt)
    assert [(m.scenario, m.reason) for m in missing] == [("seed_thread_local", "no C++ library")]
    assert [c.scenario for c in session.plan(req, scen, CONFS[:1], tgt)[1]] == [
        "control_leak", "control_flat", "thread_pool", "dtor_allocates"]
    entry = {"config": missing[0].label, "id": missing[0].id, "scenario": "seed_thread_local"}
    assert entry == {"config": "scenario seed_thread_local", "id": "seed_thread_local",
                     "scenario": "seed_thread_local"}
    assert session.unavailable_scenarios(session.Request(exec_argv=["./p"]), scen, tgt) == []
