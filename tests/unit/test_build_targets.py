"""build.py: what a run asks CMake to build. A step of bisect or history builds the programs
its cells run, not every program of the variant (README "Release history", the step costs)."""
from types import SimpleNamespace as NS

import pytest

from tlsleak import build

pytestmark = pytest.mark.unit


def _cell(scenario, target, role="scenario"):
    return NS(scenario=scenario, role=role, config=NS(target=target))


def test_a_native_run_builds_only_the_programs_of_its_cells():
    cells = [_cell("last_round_alloc", "variant_mimalloc-2.1.0+g8f0901b-static"),
             _cell("control_flat", "variant_system")]
    assert build.program_targets(cells) == [
        "tlsleak.mimalloc-2.1.0+g8f0901b-static.last_round_alloc",
        "tlsleak.mimalloc-2.1.0+g8f0901b-static.tls_module",
        "tlsleak.system.control_flat", "tlsleak.system.tls_module"]


def test_exec_cells_preload_targets_and_cross_builds_keep_the_configurations_target():
    assert build.program_targets([_cell("prog", "variant_system", role="exec")]) == [
        "variant_system"]
    assert build.program_targets([_cell("x", "tlsleak_preload_jemalloc")]) == [
        "tlsleak_preload_jemalloc"]
    assert build.program_targets([_cell("x", "variant_system")], native=False) == [
        "variant_system"]
