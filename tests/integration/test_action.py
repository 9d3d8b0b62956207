"""The GitHub Action (action.yml) through its step, ci/action.sh, run as the runner would: a
leaking program fails the step with its verdict in the job summary and JUnit kept; its twin
passes. No runner here, so the step's environment is set by hand."""
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from clihelp import ROOT
from programs import build_programs

pytestmark = pytest.mark.integration

SCRIPT = ROOT / "ci" / "action.sh"


def run_step(tmp_path, **inputs):
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = dict(os.environ, TLSLEAK_SKIP_SETUP="1", GITHUB_STEP_SUMMARY=str(summary),
               GITHUB_OUTPUT=str(outputs),
               **{f"INPUT_{k.upper()}": str(v) for k, v in inputs.items()})
    r = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=900)
    out = dict(line.split("=", 1) for line in outputs.read_text().splitlines()) \
        if outputs.exists() else {}
    return r, summary.read_text() if summary.exists() else "", out


@pytest.mark.parametrize("leak, code, verdict", [(2048, 1, "leak"), (0, 0, "ok")])
def test_the_step_fails_on_a_leak_and_reports_it_in_the_summary(tmp_path, leak, code, verdict):
    prog = build_programs().program("checkpoint_header")
    r, summary, out = run_step(tmp_path, command=f"'{prog}' 4000 {leak} 100",
                               allocators="system", out=tmp_path / "run")
    assert r.returncode == code, r.stdout + r.stderr
    assert out == {"results": str(tmp_path / "run" / "results.json"),
                   "junit": str(tmp_path / "run" / "junit.xml"), "exit-code": str(code),
                   "inconclusive": "false"}
    assert summary.startswith("### tlsleak: ` checkpoint_header `: ")
    assert f"(exit {code})" in summary.splitlines()[0]
    row = [line for line in summary.splitlines() if line.startswith("checkpoint_header  system")]
    assert row and row[0].split()[2] == verdict, summary
    if leak:
        assert "rss grows 20" in summary and "B/thread" in summary
    suite = ET.parse(out["junit"]).getroot()
    assert len(list(suite.iter("testcase"))) == 1
    assert (len(list(suite.iter("failure"))) == 1) == bool(leak)


@pytest.mark.parametrize("leak, code, verdict", [(2048, 1, "leak"), (0, 0, "ok")])
def test_the_step_judges_an_unmodified_program_per_thread_too(tmp_path, leak, code, verdict):
    # No checkpoints: the probe counts the program's threads.
    prog = build_programs().program("churn_pthread")
    r, summary, out = run_step(tmp_path, command=f"'{prog}' 100000 {leak}", threads=10000,
                               allocators="system", out=tmp_path / "run")
    assert r.returncode == code, r.stdout + r.stderr
    row = [line for line in summary.splitlines() if line.startswith("churn_pthread  system")]
    assert row and row[0].split()[2] == verdict, summary
    if leak:
        assert "rss grows 20" in summary and "B/thread" in summary


@pytest.mark.parametrize("strict, code", [("", 0), ("true", 4)])
def test_a_cell_that_cannot_be_judged_is_said_and_fails_the_step_only_when_asked(tmp_path,
                                                                                   strict,
                                                                                   code):
    # Five threads: counted, but over in less than a sample or two, so not measured.
    prog = build_programs().program("churn_pthread")
    r, summary, out = run_step(tmp_path, command=f"'{prog}' 5 0", allocators="system",
                               out=tmp_path / "run", fail_on_inconclusive=strict)
    assert r.returncode == code, r.stdout + r.stderr
    assert out["exit-code"] == "4" and out["inconclusive"] == "true"
    assert "**inconclusive**" in summary.splitlines()[0] and "(exit 4)" in summary
    if not strict:
        assert "::warning::" in r.stdout


def test_a_backtick_in_the_program_s_name_does_not_break_the_summary(tmp_path):
    odd = tmp_path / "we`ird prog"
    odd.symlink_to(build_programs().program("checkpoint_header"))
    r, summary, out = run_step(tmp_path, command=f"'{odd}' 4000 0 100", allocators="system",
                               out=tmp_path / "run")
    assert r.returncode == 0, r.stdout + r.stderr
    first, _, command = summary.splitlines()[:3]
    assert first == "### tlsleak: `` we`ird prog ``: no leak (exit 0)"
    assert command.startswith("`` tlsleak run ") and command.endswith(" ``")


def test_an_empty_command_is_one_line_and_exit_2(tmp_path):
    r, summary, out = run_step(tmp_path, command="")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "'command' input is empty" in r.stderr
    assert summary == "" and out == {}


def test_a_bad_option_is_tlsleaks_usage_error_in_the_summary(tmp_path):
    r, summary, out = run_step(tmp_path, command="/bin/true", options="--floor -3")
    assert r.returncode == 2
    assert "**usage error** (exit 2)" in summary and out["exit-code"] == "2"


def test_action_yml_hands_every_input_to_the_script():
    action = (ROOT / "action.yml").read_text()
    script = SCRIPT.read_text()
    inputs = re.findall(r"^  ([a-z-]+):\n    description:", action.split("\noutputs:")[0], re.M)
    read = set(re.findall(r"\$\{?(INPUT_[A-Z_]+)", script))
    assert sorted(inputs) == ["allocators", "baseline", "command", "fail-on-inconclusive",
                              "options", "out", "threads"]
    for name in inputs:
        var = "INPUT_" + name.upper().replace("-", "_")
        assert f"{var}: ${{{{ inputs.{name} }}}}" in action
        assert var in read
    assert 'run: \'"$GITHUB_ACTION_PATH/ci/action.sh"\'' in action
