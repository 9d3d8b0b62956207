"""Allocator versions for the Windows target: `-a NAME@REF:MODE --repo` and bisect-step with
`--platform wine` build the commit with the platform's toolchain (mingw-w64) through the
family's recipe, into a cache entry of its own beside the native one, and judge it under Wine;
mimalloc's `redirect` configuration is unavailable, with the reason, for a tree without the
redirect module, and an `error` when its module redirects nothing.

The history is scripted from Debian's mimalloc source tree (.cache/src, set-up fetches it):
  debian     the tree as packaged (no redirect module)
  broken     src/alloc.c does not compile
  fake       the tree again, with a stand-in redirect module (fake_redirect.c) in bin/
"""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from clihelp import ROOT, run_cli
from faultyrepo import git
from tlsleak.families.recipe import HOST
from tlsleak.versions import cache, sources
import winetools

pytestmark = winetools.PYTESTMARK
wine_tools = winetools.wine_tools  # autouse: fails where set-up should have installed the tools

SHORT = ("--threads", "1000", "--budget", "600", "--timeout", "900")  # test_wine_harness.py
MINGW = "x86_64-w64-mingw32-gcc-posix"


def debian_tree():
    trees = sorted(p for p in (ROOT / ".cache" / "src").glob("mimalloc-*") if p.is_dir())
    if not trees:
        pytest.fail("no mimalloc source tree in .cache/src: the test command's set-up "
                    "(ci/setup.sh) fetches Debian's")
    return trees[0]


def fake_module(bin_dir):
    """bin/mimalloc-redirect.dll and .lib (its import library) built from fake_redirect.c."""
    bin_dir.mkdir()
    subprocess.run([MINGW, "-shared", "-o", str(bin_dir / "mimalloc-redirect.dll"),
                    str(Path(__file__).with_name("fake_redirect.c")),
                    f"-Wl,--out-implib,{bin_dir / 'mimalloc-redirect.lib'}"], check=True)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    repo = tmp_path_factory.mktemp("mimalloc-history") / "mimalloc"
    shutil.copytree(debian_tree(), repo, ignore=shutil.ignore_patterns("debian", ".pc"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "debian")
    refs = {"debian": git(repo, "rev-parse", "HEAD")}
    alloc = repo / "src" / "alloc.c"
    alloc.write_text(alloc.read_text() + "\nthis does not compile\n")
    git(repo, "commit", "-qam", "broken")
    refs["broken"] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", refs["debian"], "--", "src/alloc.c")
    fake_module(repo / "bin")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "fake")
    refs["fake"] = git(repo, "rev-parse", "HEAD")
    return repo, refs


def test_bisect_step_under_wine_builds_the_commit_for_windows_beside_the_native_build(history):
    """The seed (microsoft/mimalloc #944) leaks under Wine with mimalloc 2.0.9 linked
    statically (results/wine/): bisect-step says bad (1) for that commit, built by the MinGW
    toolchain into its own cache entry, not the native one; a commit that does not build is
    125, `git bisect run`'s skip."""
    repo, refs = history
    r = run_cli("bisect-step", "--platform", "wine", "--repo", repo, "--ref", refs["debian"],
                "-s", "seed_thread_local", "-a", "mimalloc:static", *SHORT)
    assert r.rc == 1, r.stdout[-1500:] + r.stderr[-1500:]
    assert " leak " in r.stdout
    src = sources.resolve_git(repo, refs["debian"])
    *_, native_entry = cache.locate("mimalloc", src, ROOT, HOST)
    built = [json.loads(p.read_text()) for p in (ROOT / ".cache" / "builds" / "mimalloc")
             .glob(f"{refs['debian'][:12]}-*/build.json")]
    assert [b["target"] for b in built if b["entry"] != str(native_entry)] == \
        ["x86_64-w64-mingw32"], built
    assert {"static", "dynamic", "redirect"} == set(built[0]["modes"])
    r = run_cli("bisect-step", "--platform", "wine", "--repo", repo, "--ref", refs["broken"],
                "-s", "seed_thread_local", "-a", "mimalloc:static", *SHORT)
    assert r.rc == 125 and "does not build" in r.stdout, r.stdout[-1500:] + r.stderr[-1500:]


def test_redirect_is_unavailable_with_the_reason_for_a_tree_without_the_module(history,
                                                                                 tmp_path):
    repo, refs = history
    r = run_cli("run", "--platform", "wine", "-a", f"mimalloc@{refs['debian']}:redirect",
                "--repo", f"mimalloc={repo}", "-s", "control_flat", "--no-controls", *SHORT,
                out=tmp_path)
    assert r.rc == 2, r.stdout[-1500:] + r.stderr[-1500:]  # nothing of it can run
    assert "has no redirect module, bin/mimalloc-redirect.lib" in r.stderr


def test_a_redirect_module_that_redirects_nothing_makes_every_cell_an_error(history, tmp_path):
    """The in-process check (repro/common/alloc/mimalloc.c: mi_is_in_heap_region on a fresh
    malloc block) is what proves redirection: with a module that redirects nothing, the
    program's malloc stays ucrtbase's and the cell is `error`, never a verdict."""
    repo, refs = history
    r = run_cli("run", "--platform", "wine", "-a", f"mimalloc@{refs['fake']}:redirect",
                "--repo", f"mimalloc={repo}", "-s", "control_flat", "--no-controls", *SHORT,
                out=tmp_path)
    (cell,) = r.doc["cells"]
    assert cell["verdict"] == "error", cell
    assert "does not own a fresh malloc block" in cell["reason"]
    assert "ucrtbase" in json.dumps(cell), "the program was not linked against the UCRT"
