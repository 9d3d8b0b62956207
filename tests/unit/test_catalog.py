"""The scenario catalog comes from the tagged header of each repro source file."""
import re

import pytest

from tlsleak import catalog
from tlsleak.build import ROOT

pytestmark = pytest.mark.unit


def test_header_tags_make_one_scenario_per_declaration(tmp_path):
    src = tmp_path / "repro" / "scenarios" / "two.c"
    src.parent.mkdir(parents=True)
    src.write_text("/*\n * @scenario a_key tls=pthread\n * @scenario a_tss tls=c11\n"
                   " * @role scenario\n * @summary Two mechanisms.\n"
                   " * @refs jemalloc/jemalloc #896; glibc bug 22111\n */\n"
                   "/* @scenario not_in_header */\nint x;\n")
    found = catalog.load(tmp_path)
    assert [(s.name, s.tls) for s in found] == [("a_key", "pthread"), ("a_tss", "c11")]
    assert found[0].refs == ["jemalloc/jemalloc #896", "glibc bug 22111"]
    assert found[0].source == "repro/scenarios/two.c"


def test_shipped_catalog_has_the_foundation_scenarios_and_both_controls():
    found = {s.name: s for s in catalog.load(ROOT)}
    for name in ("seed_thread_local", "tss_dtor_free", "pthread_key_dtor_free", "control_flat",
                 "control_leak"):
        assert name in found, name
        assert found[name].summary
    assert found["control_leak"].role == "control-leak"
    assert found["control_flat"].role == "control-flat"
    assert any("944" in r for r in found["seed_thread_local"].refs)


@pytest.mark.parametrize("header, message", [
    ("int x; /* @scenario a */", "must start with a /* ... */ header"),
    ("/*\n * @scenario a\n */", "no @role"),
    ("/*\n * @scenario a\n * @role control\n */", "bad @role 'control'"),
    ("/*\n * @role scenario\n */", "no @scenario line"),
    ("/*\n * @scenario a b\n * @role scenario\n */", "bad line '@scenario a b'"),
    ("/*\n * @scenario a tls=tss\n * @role scenario\n */", "a: bad tls 'tss'"),
    ("/*\n * @scenario a\n * @scenario a tls=c11\n * @role scenario\n */", "declared twice"),
])
def test_a_header_breaking_the_cmake_rule_is_refused_with_the_same_words(tmp_path, header,
                                                                         message):
    """The catalog follows repro/CMakeLists.txt's rule: what CMake refuses, so does Python."""
    from tlsleak import InfraError
    src = tmp_path / "repro" / "scenarios" / "bad.c"
    src.parent.mkdir(parents=True)
    src.write_text(header + "\nint x;\n")
    with pytest.raises(InfraError, match=re.escape(message)):
        catalog.load(tmp_path)
