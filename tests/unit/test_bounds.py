"""Whatever a child prints, the harness stays up, bounded and truthful: values no memory figure
can take are malformed (counted, never fatal), the stored series are thinned to a fixed budget,
a cap broken without measured growth is not called a leak, and bad numbers on the command line
are usage errors."""
import argparse
import json
import math

import pytest

from tlsleak import UsageError, baseline, checkpoints, configs, pipeline, policy, results, runner
from tlsleak.commands.options import size
from tlsleak.settings import Criteria, Limits, Settings

pytestmark = pytest.mark.unit

CP = "TLSLEAK/1 cp done=5 t_ns=100 rss={}"


@pytest.mark.parametrize("value", ["9" * 400, str(1 << 63), str(-(1 << 63) - 1), "-4096",
                                   "nan", "inf", "-inf", "1e309", "NaN", "Infinity", "12.5", "abc"])
def test_a_value_no_memory_figure_can_take_makes_the_line_malformed(value):
    """Integers past int64, non-finite numbers, negative or non-integer figures."""
    log = checkpoints.CheckpointLog.from_lines([CP.format(4096), CP.format(value)])
    assert log.malformed == 1 and len(log.checkpoints) == 1


def test_integers_at_the_signed_64_bit_edge_still_parse():
    log = checkpoints.CheckpointLog.from_lines([CP.format((1 << 63) - 1)])
    assert log.malformed == 0 and log.checkpoints[0]["rss"] == (1 << 63) - 1


def test_an_over_long_line_is_malformed_and_never_stored():
    log = checkpoints.CheckpointLog()
    log.feed(CP.format(1) + " x=" + "9" * checkpoints.MAX_LINE, 0.0)
    assert log.malformed == 1 and log.checkpoints == []


def test_unknown_records_are_counted_not_kept_without_bound():
    log = checkpoints.CheckpointLog.from_lines(["TLSLEAK/1 weird a=1"] * 10_000)
    assert log.unknown_count == 10_000 and len(log.unknown) <= checkpoints.KEEP_UNKNOWN


def test_stored_checkpoints_are_thinned_to_the_budget_keeping_first_and_last():
    n = 50 * checkpoints.BUDGET
    log = checkpoints.CheckpointLog.from_lines(CP.replace("done=5", f"done={i}").format(4096)
                                               for i in range(n))
    assert log.received == n
    assert len(log.checkpoints) <= 2 * checkpoints.BUDGET
    done = [c["done"] for c in log.checkpoints]
    assert done[0] == 0 and done == sorted(done) and log.done == n - 1


def test_a_thinned_series_is_still_judged_the_same():
    from tlsleak import stats
    lines = [f"TLSLEAK/1 cp done={i} t_ns={i} rss={8_000_000 + 512 * i}" for i in range(100_000)]
    log = checkpoints.CheckpointLog.from_lines(lines)
    judged = stats.judge_signals(log.checkpoints, floor=128, confidence=0.95, warmup=0.2,
                                   stats_floor=32, deciding=("rss",))
    assert judged.verdict == "leak" and judged.rate.slope == pytest.approx(512)


def _cps(per_thread, n=41, step=250):
    return tuple({"done": i * step, "t_ns": i, "rss": (8 << 20) + per_thread * i * step,
                  "t_recv": i * 0.01} for i in range(n))


def test_a_cap_broken_with_no_measured_growth_is_inconclusive_not_a_leak():
    out = policy.Outcome(stop="cap", detail="RSS 250 MiB exceeded the cap 200 MiB",
                         returncode=-9, checkpoints=_cps(0),
                         alloc={"name": "system", "owns": 1}, end=None)
    v = policy.decide(out, Criteria(sequential=False), "system")
    assert v.verdict == "inconclusive" and not v.runaway
    assert "no growth" in v.reason and "cap" in v.reason
    grows = policy.decide(policy.Outcome(**{**out.__dict__, "checkpoints": _cps(4096)}),
                          Criteria(sequential=False), "system")
    assert grows.verdict == "leak" and grows.runaway


def test_judging_that_raises_is_an_error_cell(monkeypatch):
    def boom(*a, **k):
        raise OverflowError("int too large to convert to float")
    monkeypatch.setattr(policy.stats, "judge_signals", boom)
    v = policy.decide_safely(policy.Outcome(returncode=0, checkpoints=_cps(0)),
                             Criteria(sequential=False))
    assert v.verdict == "error" and "OverflowError" in v.reason


def test_the_default_rss_cap_is_shared_by_the_cells_that_run_at_once():
    one = Limits().with_machine_caps(1)
    assert Limits().with_machine_caps(64, cells=1).max_rss == one.max_rss
    assert Limits().with_machine_caps(64, cells=2).max_rss == one.max_rss // 2
    assert Limits().with_machine_caps(2, cells=10).max_rss == one.max_rss // 2


@pytest.mark.parametrize("text", ["inf", "1e309", "", "nan", "-inf", "  "])
def test_a_size_that_is_not_a_finite_positive_number_is_a_usage_error(text):
    with pytest.raises(argparse.ArgumentTypeError):
        size(text)


def test_a_baseline_whose_cells_are_not_objects_is_refused(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"format": baseline.FORMAT, "cells": {"a-system": "leak"}}))
    with pytest.raises(UsageError, match="cell 'a-system' is not an object"):
        baseline.load(path)


SYSTEM = configs.Config(id="system", name="system", version="", mode="system", available=True,
                        reason="", bin_dir="", target="", preload="", library="", origin="",
                        expect="system")


def test_a_cell_environment_is_the_allow_list_plus_what_is_given(monkeypatch):
    for name in ("LD_AUDIT", "LD_LIBRARY_PATH", "MALLOC_CONF", "MIMALLOC_VERBOSE",
                 "TLSLEAK_FAULTY", "GLIBC_TUNABLES", "SOMETHING_ELSE"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("PATH", "/usr/bin")
    env, recorded = runner.cell_env(SYSTEM, extra={"TLSLEAK_FAULTY": "drop"})
    assert env["PATH"] == "/usr/bin" and env["TLSLEAK_FAULTY"] == "drop"
    assert not {"LD_AUDIT", "LD_LIBRARY_PATH", "MALLOC_CONF", "MIMALLOC_VERBOSE",
                "GLIBC_TUNABLES", "SOMETHING_ELSE"} & set(env)
    assert recorded == {"TLSLEAK_FAULTY": "drop"}


def test_malloc_from_another_library_than_the_configured_one_is_an_error():
    alloc = {"name": "mimalloc", "owns": 1, "malloc_from": "/tmp/elsewhere/libmimalloc.so.2"}
    out = policy.Outcome(returncode=0, checkpoints=_cps(0), alloc=alloc,
                         end={"done": 10000, "status": "ok"})
    v = policy.decide(out, Criteria(sequential=False), "mimalloc",
                      library="/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0")
    assert v.verdict == "error" and "/tmp/elsewhere/libmimalloc.so.2" in v.reason


def test_no_non_finite_number_reaches_a_stored_checkpoint():
    log = checkpoints.CheckpointLog.from_lines([CP.format(v) for v in ("1e309", "nan", "12")])
    for cp in log.checkpoints:
        assert all(not isinstance(v, float) or math.isfinite(v) for v in cp.values())


def test_a_non_finite_value_of_any_key_is_malformed_and_other_keys_stay_free():
    assert checkpoints.parse_line("TLSLEAK/1 cp done=1 delta=-5 note=x").fields["delta"] == -5
    assert checkpoints.parse_line("TLSLEAK/1 cp done=1 ratio=nan") is None
    assert checkpoints.parse_line("TLSLEAK/1 start threads=1e309") is None


def test_malformed_lines_are_shown_in_the_reason():
    v = policy.decide_safely(policy.Outcome(returncode=0, checkpoints=_cps(0), malformed=3,
                                            alloc={"name": "system", "owns": 1},
                                            end={"done": 10000}),
                             Criteria(sequential=False), "system")
    assert v.verdict == "ok" and "3 malformed TLSLEAK/1 line(s) ignored" in v.reason


def test_a_settled_cell_is_recorded_when_its_kept_checkpoints_were_thinned_after_it_settled():
    """A program printing checkpoints faster than the harness kills it: the kept checkpoints
    are thinned again after the verdict settled, so fewer are kept than were judged. The cell
    is still recorded with the threads it settled after (was an IndexError, an error cell)."""
    seen = _cps(1024, n=3000, step=1)
    kept = seen[::4] + seen[-1:]
    out = policy.Outcome(stop="settled", returncode=-9, checkpoints=kept, settled_on=seen[:2500])
    crit = Criteria()
    verdict = policy.decide_safely(out, crit)
    cell = pipeline.Cell(id="x-system", scenario="x", role="exec", config=SYSTEM, argv=["x"])
    rec = results.cell_record(cell, Settings(criteria=crit), out, verdict, {})
    assert verdict.verdict == "leak" and rec["settled_at"] == seen[2499]["done"] == 2499
    assert len(rec["checkpoints"]) < 2500
