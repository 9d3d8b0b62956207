"""Configurations of the manifest, their labels, and specs resolved against them (the spec
syntax itself: test_identity.py)."""
import pytest

from tlsleak import UsageError
from tlsleak.configs import Config, label_all, select

pytestmark = pytest.mark.unit


def _conf(id_, available=True, reason=""):
    name, _, rest = id_.partition("@")
    version, _, mode = rest.partition(":")
    mode = mode or "system"
    return Config(id=id_, name=name, version=version, mode=mode, available=available,
                  reason=reason, bin_dir="", target="", preload="", library="", origin="",
                  expect=name)


@pytest.fixture
def confs():
    return label_all([_conf("system"), _conf("mimalloc@2.0.9:dynamic"),
                      _conf("mimalloc@2.0.9:override"), _conf("mimalloc@2.0.9:static"),
                      _conf("mimalloc@2.1.7:static"),
                      _conf("jemalloc@5.3.0:static", False, "no libjemalloc.a")])


def test_labels_show_version_only_when_two_exist(confs):
    labels = {c.id: c.label for c in confs}
    assert labels["mimalloc@2.0.9:dynamic"] == "mimalloc:dynamic"
    assert labels["mimalloc@2.0.9:static"] == "mimalloc@2.0.9:static"
    assert labels["system"] == "system"


def test_cell_ids_come_from_the_identity_not_the_label(confs):
    """A cell id stays the same when a second version joins: it never uses the label."""
    from tlsleak.configs import cell_id
    assert cell_id("last_round_alloc", confs[1]) == "last_round_alloc-mimalloc@2.0.9-dynamic"
    assert cell_id("control_leak", confs[0]) == "control_leak-system"
    alone = label_all([_conf("mimalloc@2.0.9:static")])[0]
    assert alone.label != confs[3].label and cell_id("x", alone) == cell_id("x", confs[3])


def test_select_default_is_every_available(confs):
    assert [c.id for c in select(confs, [])] == [c.id for c in confs if c.available]


def test_select_by_name_mode_and_version_prefix(confs):
    assert [c.id for c in select(confs, ["mimalloc:static"])] == [
        "mimalloc@2.0.9:static", "mimalloc@2.1.7:static"]
    assert [c.id for c in select(confs, ["mimalloc@2.1:static"])] == ["mimalloc@2.1.7:static"]
    assert len(select(confs, ["mimalloc", "mimalloc:override"])) == 4  # no duplicates


@pytest.mark.parametrize("spec, message", [
    ("nosuch", "unknown allocator 'nosuch'"),
    ("mimalloc@9.9", "no mimalloc version '9.9'"),
    ("system:override", "has no mode 'override'"),
    ("jemalloc:static", "unavailable: no libjemalloc.a"),
])
def test_select_errors_name_the_problem(confs, spec, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        select(confs, [spec])


@pytest.mark.parametrize("manifest, program, preload", [
    ({"build": {"system": "Linux-6.1.0"}}, "/b/seed", "LD_PRELOAD"),
    ({"build": {"system": "Windows-10.0"}}, "/b/seed.exe", ""),
    ({"build": {"system": "Darwin-23.0"}}, "/b/seed", "DYLD_INSERT_LIBRARIES"),
    ({"build": {"system": "Linux-6.1.0"}, "target": {"suffix": ".elf", "preload_var": "X"}},
     "/b/seed.elf", "X"),
])
def test_target_facts_come_from_the_manifest(manifest, program, preload):
    """docs/DESIGN.md "Build manifest": the program suffix and preload variable are the target's."""
    from tlsleak.target import Target
    t = Target.from_manifest({**manifest, "scenarios": [{"name": "seed"}]})
    assert (t.program("/b", "seed"), t.preload_var) == (program, preload)
    assert t.buildable("seed") and not t.buildable("other")


def test_a_target_launcher_prefixes_the_program():
    from tlsleak.target import Target
    t = Target.from_manifest({"build": {"system": "Windows-10.0"},
                              "target": {"launcher": ["wine"]}})
    assert t.argv("/b", "seed", ["--threads", "10"]) == ["wine", "/b/seed.exe", "--threads", "10"]
