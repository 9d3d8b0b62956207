"""The in-process checks of repro/common/alloc/ (one file per allocator): a program the
configuration's allocator really serves is judged served by it, and the same program whose
malloc comes from somewhere else, with that allocator still loaded, is an error ("allocator
check failed"), never a measurement of the wrong allocator. The other malloc is the C
library's, put first in the lookup order by preloading libc itself (ld.so(8): LD_PRELOAD'ed
objects are searched before the program's own dependencies)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clihelp import ROOT, run_cli
from tlsleak import configs, pipeline, settings
from tlsleak.build import Build
from tlsleak.checkpoints import CheckpointLog
from tlsleak.identity import allocator_problem

pytestmark = pytest.mark.integration

# The families whose check this file covers (beside the matrix's own served-by test for all).
CHECKED = ("scudo",)
DATA = ROOT / "tests" / "data"


def _configurations():
    manifest = Build().configure()
    return configs.label_all([configs.Config.from_manifest(c) for c in manifest["configs"]])


def _control_flat(conf, **changes):
    fake = configs.Config(**{**conf.__dict__, **changes})
    cell = pipeline.Cell(id=f"control_flat-{conf.label}", scenario="control_flat",
                         role="control-flat", config=fake,
                         argv=[f"{conf.bin_dir}/control_flat", "--threads", "2000"],
                         expect=conf.expect)
    return pipeline.judge_cell(cell, settings.make(threads=2000))


@pytest.mark.parametrize("family", CHECKED)
def test_a_program_the_allocator_serves_is_judged_served_by_it(family):
    confs = [c for c in _configurations() if c.name == family and c.available]
    if not confs:
        pytest.skip(f"no {family} configuration available here")
    Build().build([c.target for c in confs if c.target])
    for conf in confs:
        res = _control_flat(conf)
        assert res["verdict"] == "ok", (conf.id, res["reason"])
        assert res["observed_allocator"]["name"] == family
        assert res["observed_allocator"]["owns"] is True


@pytest.mark.parametrize("family", CHECKED)
def test_the_allocator_loaded_but_not_serving_malloc_is_an_error(family):
    confs = [c for c in _configurations()
             if c.name == family and c.available and c.mode == "dynamic"]
    if not confs:
        pytest.skip(f"no {family}:dynamic configuration available here")
    conf = confs[0]
    Build().build([conf.target])
    # The cell preloads what an override cell would: here the C library, the file this very
    # Python process runs on.
    libc = re.search(r"(/\S*/libc\.so\.6)$", Path("/proc/self/maps").read_text(), re.M)
    res = _control_flat(conf, mode="override", preload=libc.group(1))
    assert res["verdict"] == "error", res["reason"]
    assert "allocator check failed" in res["reason"]
    assert "does not own a fresh malloc block" in res["reason"], res["reason"]


def _scripted_rpmalloc(repo):
    """A one-commit git history (tag 2.0.1) of tests/data/rpmalloc-layout: not rpmalloc (none
    can be had offline: Debian has no rpmalloc), a malloc that forwards to the C library's in
    rpmalloc's layout, so the recipe and the file-level check run on a tree they did not
    write."""
    shutil.copytree(DATA / "rpmalloc-layout", repo)
    for args in (("init", "-q", "--initial-branch=main"), ("add", "-A"),
                 ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "2.0.1"),
                 ("tag", "2.0.1")):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_a_file_level_check_says_so_and_still_fails_a_foreign_malloc(tmp_path):
    """rpmalloc has no call that claims a block: the cell says owns_by=file; and with the C
    library's malloc first in the lookup order the same program is an error."""
    _scripted_rpmalloc(tmp_path / "rpmalloc")
    r = run_cli("run", "-a", "rpmalloc@2.0.1:dynamic", "--repo",
                f"rpmalloc={tmp_path / 'rpmalloc'}", "-s", "control_flat", "--no-controls",
                "--threads", "2000", out=tmp_path / "out")
    assert r.rc == 0, r.stdout + r.stderr
    c = r.doc["cells"][0]
    assert c["verdict"] == "ok", c["reason"]
    assert c["observed_allocator"]["name"] == "rpmalloc"
    assert c["observed_allocator"]["owns_by"] == "file"
    assert c["allocator"]["version"].startswith("2.0.1")
    # The same program, the C library's malloc bound first: rpmalloc loaded, not serving.
    libc = re.search(r"(/\S*/libc\.so\.6)$", Path("/proc/self/maps").read_text(), re.M)
    proc = subprocess.run([*c["command"][:1], "--threads", "10"], capture_output=True, text=True,
                          env={**os.environ, "LD_PRELOAD": libc.group(1)}, timeout=60)
    alloc = CheckpointLog.from_lines(proc.stdout.splitlines(), 0.0).alloc
    assert (alloc["name"], str(alloc["owns"])) == ("rpmalloc", "0"), proc.stdout
    assert "does not own" in allocator_problem(alloc, "rpmalloc")
