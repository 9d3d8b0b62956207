"""session.plan: the cells a run plans; here, the configurations an --exec run uses."""
import pytest

from tlsleak import configs, session
from tlsleak.target import Target

pytestmark = pytest.mark.unit


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
