"""The report commands on real runs of a tiny matrix: `run` writes plots/, summary.md and
report.html beside results.json; two shards (`run --shard K/2`) merged hold the cells of the
unsharded run; `show` prints a real cell; `report` rewrites the views of a results file; no
command replaces a file it did not write; a run whose scenario cell could not be judged exits
4 and says so last; a closed output pipe ends quietly."""
import os
import subprocess

import pytest

from clihelp import ROOT, run_cli

pytestmark = pytest.mark.integration

# A tiny matrix: the controls plus one real scenario, under the C library's malloc and the
# project's own allocator in each mode. tss_dtor_free is there so that the shards have
# scenario cells to deal (the controls run in every shard).
TINY = ["-s", "control_flat", "-s", "tss_dtor_free", "-a", "system", "-a", "faulty",
        "--threads", "2000", "-j", "2"]


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    r = run_cli("run", *TINY, out=tmp_path_factory.mktemp("whole") / "out")
    assert r.rc == 0, r.stdout + r.stderr
    return r


def test_run_writes_the_results_then_the_three_report_outputs(whole):
    out = whole.out
    for name in ("results.json", "junit.xml", "summary.md", "report.html", "plots/grid.png",
                 "plots/grid.svg"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text()
    for c in whole.doc["cells"]:
        assert 'data-cell="%s"' % c["id"] in html
    assert "report: %s" % (out / "report.html") in whole.stdout


def test_no_report_writes_only_the_results(tmp_path):
    r = run_cli("run", "-s", "control_flat", "-a", "system", "--threads", "2000",
                "--no-report", out=tmp_path / "out")
    assert r.rc == 0, r.stderr
    assert sorted(p.name for p in r.out.iterdir()) == ["junit.xml", "results.json"]


def test_two_shards_merged_are_the_unsharded_run(whole, tmp_path):
    shards = []
    for k in (1, 2):
        r = run_cli("run", *TINY, "--shard", f"{k}/2", out=tmp_path / f"shard{k}")
        assert r.rc == 0, r.stdout + r.stderr
        assert r.doc["plan"]["fingerprint"] == whole.doc["plan"]["fingerprint"]
        assert r.doc["plan"]["shard"] == [k, 2]
        shards.append(r)
    scen = [{c["id"] for c in s.doc["cells"] if c["role"] == "scenario"} for s in shards]
    assert scen[0] and scen[1] and not scen[0] & scen[1]
    ctl = [{c["id"] for c in s.doc["cells"] if c["role"] != "scenario"} for s in shards]
    assert ctl[0] == ctl[1]  # every shard proves its own detector
    m = run_cli("merge", shards[0].out, shards[1].out / "results.json", "--out",
                tmp_path / "merged")
    assert m.rc == 0, m.stdout + m.stderr
    merged = m.doc
    assert [c["id"] for c in merged["cells"]] == [c["id"] for c in whole.doc["cells"]]
    assert merged["plan"]["merged"] == [[1, 2], [2, 2]] and merged["controls"]["passed"]
    assert (m.out / "report.html").is_file() and (m.out / "junit.xml").is_file()


def test_merge_refuses_a_shard_of_another_plan(whole, tmp_path):
    other = run_cli("run", "-s", "control_flat", "-a", "system", "--threads", "2500",
                    "--no-report", "--shard", "2/2", out=tmp_path / "other")
    assert other.rc == 0, other.stderr
    r = run_cli("merge", whole.out, other.out, "--out", tmp_path / "merged")
    lines = r.stderr.strip().splitlines()
    assert r.rc == 2 and len(lines) == 1 and "different plans" in lines[0], r.stderr
    assert not (tmp_path / "merged").exists()


def test_show_prints_a_real_cell(whole):
    c = next(c for c in whole.doc["cells"] if c["id"] == "tss_dtor_free-system")
    r = run_cli("show", "tss_dtor_free-system", whole.out / "results.json")
    assert r.rc == 0, r.stderr
    assert r.stdout.startswith("tss_dtor_free-system: OK")
    assert c["reason"] in r.stdout and " ".join(c["command"]) in r.stdout
    assert "stopped by the harness once the verdict was settled" in r.stdout
    assert "<- settled" in r.stdout


def test_show_of_an_unknown_cell_is_one_line_exit_2(whole):
    r = run_cli("show", "no_such_cell", whole.out / "results.json")
    assert r.rc == 2 and len(r.stderr.strip().splitlines()) == 1 and "no cell" in r.stderr


def test_report_rewrites_the_views_where_asked(whole, tmp_path):
    r = run_cli("report", whole.out / "results.json", "--md", tmp_path / "s.md",
                "--html", tmp_path / "r.html", "--plots", tmp_path / "p")
    assert r.rc == 0, r.stderr
    assert (tmp_path / "s.md").read_text().startswith("## tlsleak: ")
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "p" / "grid.png").is_file()


def test_a_cell_too_short_to_judge_exits_4_and_the_tables_last_line_says_why(tmp_path):
    """Twelve threads give three checkpoints, too few to fit a trend: inconclusive, which is
    never a silent pass (README "Exit codes")."""
    r = run_cli("run", "-s", "tss_dtor_free", "-a", "system", "--threads", "12", "--interval",
                "4", "--no-controls", "--no-report", out=tmp_path / "out")
    assert r.rc == 4, r.stdout + r.stderr
    assert r.doc["exit_code"] == 4 and r.doc["cells"][0]["verdict"] == "inconclusive"
    table = r.stdout[:r.stdout.index("\nresults: ")].splitlines()
    assert table[-1].startswith("exit 4: no leak found, but 1 cell could not be judged "
                                "(tss_dtor_free-system)")


def test_run_refuses_a_folder_holding_a_summary_it_did_not_write_before_running(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.md").write_text("# release notes\n")
    r = run_cli("run", "-s", "control_flat", "-a", "system", "--threads", "2000", out=out)
    assert r.rc == 2 and r.stderr.strip().splitlines() == [
        f"tlsleak: error: {out / 'summary.md'} is not tlsleak's: not replaced (use --overwrite "
        "to replace, or write elsewhere)"], r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["summary.md"]  # nothing ran or was written
    r = run_cli("run", "-s", "control_flat", "-a", "system", "--threads", "2000", "--no-report",
                out=out)
    assert r.rc == 0 and (out / "summary.md").read_text() == "# release notes\n"


def test_merge_and_report_keep_what_they_did_not_write(whole, tmp_path):
    r = run_cli("merge", whole.out, "--out", whole.out)
    assert r.rc == 2 and "holds one of the inputs, results.json" in r.stderr
    mine = tmp_path / "notes.html"
    mine.write_text("<html>mine</html>")
    r = run_cli("report", whole.out / "results.json", "--html", mine)
    assert r.rc == 2 and "notes.html is not tlsleak's" in r.stderr
    assert mine.read_text() == "<html>mine</html>"
    r = run_cli("report", whole.out / "results.json", "--html", mine, "--overwrite")
    assert r.rc == 0 and mine.read_text().startswith("<!DOCTYPE html>")


def test_a_closed_output_pipe_ends_quietly():
    """`tlsleak list --json | head -1`: no traceback, the status of a program that SIGPIPE
    ended (141). The reader is gone before the first write, so the test does not depend on
    how much of the output fits in the pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run([str(ROOT / "tlsleak"), "list", "--json"], stdout=write_end,
                          stderr=subprocess.PIPE, timeout=120,
                          env={**os.environ, "TLSLEAK_SKIP_SETUP": "1"})
    os.close(write_end)
    assert proc.returncode == 141 and proc.stderr == b""
