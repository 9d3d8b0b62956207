"""A checkout anywhere (issue 20): under a path with a space and non-ASCII characters, with
--out, --repo and --exec paths like it, the controls pass and the dynamic and override
configurations run, the preload included (LD_PRELOAD splits at spaces: environment.py names the
library by a link), and the `alloc` line's %20 reads back as the space it is. And a run holds
a lease on the builds it uses: `tlsleak cache prune --all` meanwhile leaves them and says so.
A copy of this tree, its own build and cache; the real launcher, compilers and allocators."""
import json
import os
import shutil
import subprocess
import threading

import pytest

from faultyrepo import ROOT, make_faulty_repo

pytestmark = pytest.mark.integration

TIMEOUT = 1800  # a whole build from nothing, on a loaded machine
FAST = ["--threads", "2000", "-j", "2"]


def _copy_checkout(dest):
    """This tree's files (committed or not, as `git ls-files` lists them), its Python choice,
    Debian's source trees and the compiler cache: a clone without the network or set-up."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / ".cache").mkdir(exist_ok=True)
    shutil.copy2(ROOT / ".cache" / "python", dest / ".cache" / "python")
    for part in ("src", "ccache"):
        if (ROOT / ".cache" / part).is_dir():
            shutil.copytree(ROOT / ".cache" / part, dest / ".cache" / part, symlinks=True)


def _tlsleak(checkout, *args, **kw):
    return subprocess.run([str(checkout / "tlsleak"), *map(str, args)], capture_output=True,
                          text=True, env=dict(os.environ, TLSLEAK_SKIP_SETUP="1"),
                          stdin=subprocess.DEVNULL, timeout=TIMEOUT, **kw)


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    base = tmp_path_factory.mktemp("paths") / "sp ace ünï"
    checkout = base / "tlsleak"
    checkout.mkdir(parents=True)
    _copy_checkout(checkout)
    repo = base / "faulty répo"
    make_faulty_repo(repo)
    return base, checkout, repo


def _available(checkout, wanted):
    listing = json.loads(_tlsleak(checkout, "list", "--json", "--configure").stdout)
    have = {c["id"] for c in listing["configs"] if c["available"]}
    return [c for c in wanted if c in have]


def test_a_checkout_under_a_path_with_a_space_passes_its_controls(odd):
    base, checkout, repo = odd
    configs = _available(checkout, ["faulty@1.0.0:dynamic", "faulty@1.0.0:override",
                                    "mimalloc@2.0.9:dynamic", "mimalloc@2.0.9:override",
                                    "mimalloc@2.0.9:static"])
    # Debian's mimalloc tree is listed (available) without being built: a run that plans it
    # builds it, through its recipe, into this checkout's cache.
    assert not list((checkout / ".cache" / "builds").glob("mimalloc/*/build.json"))
    out = base / "out dir é"
    # NAME:MODE, as `--repo faulty=` makes faulty@REF a ref of that clone
    specs = sum((["-a", c.replace("@1.0.0", "").replace("@2.0.9", "")] for c in configs), [])
    r = _tlsleak(checkout, "run", "-s", "dtor_allocates", "-a", "system", *specs,
                 "-a", "faulty@v1.1.0:override",
                 "--repo", f"faulty={repo}", *FAST, "--out", out)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["controls"]["passed"], doc["controls"]
    assert not [c["id"] for c in doc["cells"] if c["verdict"] == "error"], r.stdout
    assert set(configs) | {"system"} <= {c["allocator"]["id"] for c in doc["cells"]}
    for cell in doc["cells"]:
        a, seen = cell["allocator"], cell["observed_allocator"]
        if a["mode"] in ("dynamic", "override"):
            # read back with its space, and the very file configured
            assert os.path.samefile(seen["malloc_from"], a["library"]), cell["id"]
    built = [c for c in doc["cells"] if c["allocator"]["name"] == "faulty"
             and c["allocator"]["version"] == "1.1.0"]
    assert built and all(" " in c["allocator"]["library"] for c in built)
    assert (out / "summary.md").is_file() and (out / "report.html").is_file()
    if "mimalloc@2.0.9:static" in configs:
        assert list((checkout / ".cache" / "builds").glob("mimalloc/*/build.json"))


def test_exec_under_such_paths_and_a_prune_during_the_run(odd):
    base, checkout, repo = odd
    program = base / "ex éc" / "control flat"
    program.parent.mkdir(exist_ok=True)
    shutil.copy2(checkout / "build" / "bin" / "system" / "control_flat", program)
    fifo = base / "go"
    os.mkfifo(fifo)
    out = base / "out exec"
    done = {}
    runner = threading.Thread(target=lambda: done.update(r=_tlsleak(
        checkout, "run", "-a", "faulty@v1.1.0:override", "--repo", f"faulty={repo}",
        "--out", out, "--exec", "--", "sh", "-c", 'read x < "$0"; exec "$1" --threads 2000',
        fifo, program)))
    runner.start()
    try:
        with open(fifo, "w") as go:  # returns once the program is running: the run holds it
            pruned = _tlsleak(checkout, "cache", "prune", "--all")
            go.write("go\n")
    finally:
        runner.join(TIMEOUT)
    assert pruned.returncode == 0, pruned.stderr
    kept = [line for line in pruned.stdout.splitlines() if line.startswith("kept ")]
    assert any("/faulty/" in line and "in use by a run" in line for line in kept), pruned.stdout
    r = done["r"]
    assert r.returncode == 0, r.stdout + r.stderr
    (cell,) = json.loads((out / "results.json").read_text())["cells"]
    assert cell["verdict"] == "ok" and cell["observed_allocator"]["name"] == "faulty"
    assert cell["observed_allocator"]["version"] == "1.1.0"
    assert os.path.samefile(cell["observed_allocator"]["malloc_from"],
                            cell["allocator"]["library"])
