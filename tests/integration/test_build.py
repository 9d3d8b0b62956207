"""One build tree shared by runs at once (harness/tlsleak/build.py): a run that configured for
its own allocators built from source still builds them when another run configured the tree
for others in between (issue 20: "No rule to make target 'variant_…'", configure and build
took the build tree's lock separately). Real builds of a scripted `faulty` history, real CMake,
real concurrent processes."""
import subprocess
import threading
from pathlib import Path

import pytest

from clihelp import run_cli
from faultyrepo import make_faulty_repo
from tlsleak import families, versions
from tlsleak.build import Build

pytestmark = pytest.mark.integration

SCENARIO = "control_flat"


@pytest.fixture(scope="module")
def faulty_repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("faulty-repo") / "faulty"
    return repo, make_faulty_repo(repo)


def _built(repo, ref, root):
    return versions.ensure_built("faulty", versions.resolve(f"git:{repo}@{ref}", "faulty", root),
                                 ["static"], root=root)


def _alloc(program):
    out = subprocess.run([str(program), "--threads", "50"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("TLSLEAK/1 alloc "))
    return families.observed(dict(kv.split("=", 1) for kv in line.split()[2:]))


def test_a_run_builds_its_own_configuration_after_another_configured_the_tree(faulty_repo,
                                                                              tmp_path):
    repo, _ = faulty_repo
    old, new = _built(repo, "v1.0.0", tmp_path), _built(repo, "v1.1.0", tmp_path)
    tree = tmp_path / "build"
    first = Build(tree, built=[(old, ["static"])])
    mine = {c["id"]: c for c in first.configure()["configs"]}[old.ids(["static"])[0]]
    # Another run configures the same tree for its own build, and builds it, meanwhile.
    second = Build(tree, built=[(new, ["static"])])
    theirs = {c["id"]: c for c in second.configure()["configs"]}[new.ids(["static"])[0]]
    second.build([f"tlsleak.{theirs['variant']}.{SCENARIO}"])
    # Then the first builds what it planned: its configuration is still in the tree.
    first.build([f"tlsleak.{mine['variant']}.{SCENARIO}"])
    assert _alloc(Path(mine["bin_dir"]) / SCENARIO)["version"] == "1.0.0"
    assert _alloc(Path(theirs["bin_dir"]) / SCENARIO)["version"] == "1.1.0"


def test_two_runs_with_different_source_builds_at_once_both_finish(faulty_repo, tmp_path):
    repo, commits = faulty_repo
    runs = {}

    def run(ref):
        runs[ref] = run_cli("run", "-s", SCENARIO, "-a", f"faulty@{ref}:static", "--repo",
                            f"faulty={repo}", "--no-controls", "--no-report", "--threads", "2000",
                            out=tmp_path / ref)

    threads = [threading.Thread(target=run, args=(ref,)) for ref in ("v1.0.0", commits["leak"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ref, version in (("v1.0.0", "1.0.0"), (commits["leak"], "1.1.0")):
        r = runs[ref]
        assert r.rc == 0, r.stderr
        (cell,) = r.doc["cells"]
        assert (cell["observed_allocator"]["version"], cell["verdict"]) == (version, "ok")
        assert cell["allocator"]["commit"] == (commits["start"] if version == "1.0.0"
                                               else commits["leak"])
