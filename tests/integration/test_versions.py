"""The versions backend (harness/tlsleak/versions): sources pinned to exact trees, one cache
entry per build, failures remembered, and the user's clone never touched. Runs the real git
and the real compiler on a throwaway history of the `faulty` allocator (faultyrepo.py)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faultyrepo import ROOT, git, make_faulty_repo
from tlsleak import families, identity, versions, vocab
from tlsleak.checkpoints import CheckpointLog
from tlsleak.versions import leases, sources

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def faulty_repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("faulty-repo") / "faulty"
    return repo, make_faulty_repo(repo)


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory):
    """A checkout-like root whose .cache/builds starts empty (shared by this module)."""
    return tmp_path_factory.mktemp("cache-root")


def repo_state(repo):
    """Everything about a clone a build must not change."""
    return {"head": git(repo, "rev-parse", "HEAD"),
            "symbolic": git(repo, "symbolic-ref", "-q", "--short", "HEAD")
            if (Path(repo) / ".git" / "HEAD").read_text().startswith("ref:") else "",
            "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
            "files": sorted((p.name, p.stat().st_mtime_ns) for p in Path(repo).iterdir()
                            if p.name != ".git"),
            "bisect": (Path(repo) / ".git" / "BISECT_LOG").read_text()
            if (Path(repo) / ".git" / "BISECT_LOG").exists() else None}


def build(repo, ref, root):
    return versions.ensure_built("faulty", versions.resolve(f"git:{repo}@{ref}", "faulty", root),
                                 root=root)


def test_refs_resolve_to_full_commits(faulty_repo, cache_root):
    repo, commits = faulty_repo
    for ref, label in [("v1.0.0", "start"), ("v1.1.0", "v1.1"), ("main", "fix"),
                       ("HEAD~2", "broken"), (commits["leak"][:9], "leak"),
                       (commits["notes"], "notes")]:
        src = versions.resolve(f"git:{repo}@{ref}", "faulty", cache_root)
        assert (src.kind, src.commit, src.key) == ("git", commits[label], commits[label]), ref
    # Without the prefix, DIR@REF is a git ref too.
    assert versions.resolve(f"{repo}@v1.2.0", "faulty", cache_root).commit == commits["fix"]


def test_bad_specs_are_one_line_usage_errors(faulty_repo, cache_root, tmp_path):
    repo, _ = faulty_repo
    for spec, words in [(f"git:{repo}@nosuchtag", "no commit named 'nosuchtag'"),
                        (f"git:{tmp_path}@main", "not a git repository"),
                        (f"dir:{tmp_path / 'absent'}", "no such directory"),
                        ("nonsense-spec", "bad source")]:
        with pytest.raises(versions.SourceError) as e:
            versions.resolve(spec, "faulty", cache_root)
        assert words in str(e.value) and "\n" not in str(e.value)
        assert e.value.exit_code == vocab.EXIT_USAGE


def test_offline_upstream_is_an_infrastructure_error(cache_root, monkeypatch):
    # No network in tests: an unreachable upstream must say so in one line, exit code 3.
    with pytest.raises(versions.SourceError) as e:
        versions.resolve("upstream:v9.9.9", "faulty", cache_root,
                         upstream_url=f"file://{cache_root}/no-such-upstream.git")
    assert e.value.exit_code == vocab.EXIT_INFRA and "network needed" in str(e.value)


def test_two_commits_with_one_version_are_two_builds(faulty_repo, cache_root):
    repo, commits = faulty_repo
    a, b = build(repo, "v1.1.0", cache_root), build(repo, commits["leak"], cache_root)
    assert a.version == b.version == "1.1.0"
    assert (a.commit, b.commit) == (commits["v1.1"], commits["leak"])
    assert a.entry != b.entry and a.label != b.label
    assert a.label == f"1.1.0+g{commits['v1.1'][:7]}"
    for built in (a, b):
        assert not built.reused and Path(built.static_lib).is_file()
        assert Path(built.shared_lib).is_file()
        recorded = json.loads((Path(built.entry) / "build.json").read_text())
        assert recorded["commit"] == built.commit and recorded["version"] == "1.1.0"
        assert recorded["source"] == f"git:{repo}@{'v1.1.0' if built is a else commits['leak']}"
    # Different trees, different code: the leaking commit's library is not the clean one's.
    assert Path(a.shared_lib).read_bytes() != Path(b.shared_lib).read_bytes()


def test_same_commit_again_reuses_its_entry(faulty_repo, cache_root):
    repo, commits = faulty_repo
    first = build(repo, "v1.0.0", cache_root)
    stamp = Path(first.static_lib).stat().st_mtime_ns
    again = build(repo, commits["start"], cache_root)  # another name, same commit
    # Reused, not rebuilt: the same entry and build record, the library untouched.
    assert again.reused and again.entry == first.entry and again.seconds == first.seconds
    assert Path(again.static_lib).stat().st_mtime_ns == stamp


def test_a_commit_that_does_not_build_fails_fast_and_is_remembered(faulty_repo, cache_root):
    repo, commits = faulty_repo
    with pytest.raises(versions.BuildFailed) as e:
        build(repo, commits["broken"], cache_root)
    assert not e.value.cached and "this does not compile" in e.value.log_tail
    failed = json.loads((Path(e.value.entry) / "failed.json").read_text())
    assert failed["commit"] == commits["broken"] and "exited" in failed["error"]
    assert not (Path(e.value.entry) / "build.json").exists()
    with pytest.raises(versions.BuildFailed) as again:
        build(repo, "HEAD~2", cache_root)
    assert again.value.cached  # failed from the record, not built again


def test_the_users_clone_is_untouched_even_mid_bisect(faulty_repo, tmp_path):
    repo, commits = faulty_repo
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    git(clone, "bisect", "start", commits["fix"], commits["start"])  # checks out a midpoint
    (clone / "faulty.h").write_text((clone / "faulty.h").read_text() + "/* local edit */\n")
    (clone / "untracked.txt").write_text("mine\n")
    before = repo_state(clone)
    assert before["bisect"] and before["status"]
    root = tmp_path / "root"
    for ref in ("v1.0.0", "v1.2.0", "HEAD"):
        build(clone, ref, root)
    with pytest.raises(versions.BuildFailed):
        build(clone, commits["broken"], root)
    assert repo_state(clone) == before
    # The build used the commit, not the working tree: no local edit in the exported tree.
    head = build(clone, "HEAD", root)
    assert head.commit == git(clone, "rev-parse", "HEAD") and head.reused
    assert "local edit" not in (Path(head.include_dir) / "faulty.h").read_text()


def test_plain_directory_and_tarball_sources_are_keyed_by_content(faulty_repo, tmp_path):
    repo, _ = faulty_repo
    tree = tmp_path / "tree"
    tree.mkdir()
    subprocess.run(f"git -C {repo} archive v1.2.0 | tar -x -C {tree}", shell=True, check=True)
    root = tmp_path / "root"
    first = versions.resolve(f"dir:{tree}", "faulty", root)
    (tree / "build").mkdir()  # build outputs are not part of the tree
    (tree / "build" / "x.o").write_text("x")
    assert versions.resolve(str(tree), "faulty", root).key == first.key
    (tree / "README").write_text("changed\n")
    assert versions.resolve(f"dir:{tree}", "faulty", root).key != first.key
    built = versions.ensure_built("faulty", first, root=root)
    # named by its contents, never as the packaged or another tree's 1.2.0 (identity.label)
    assert (built.version, built.commit) == ("1.2.0", "")
    assert built.label == "1.2.0+d" + first.key.rpartition("-")[2][:7]
    tarball = tmp_path / "faulty-1.2.0.tar.gz"
    subprocess.run(["git", "-C", str(repo), "archive", "--prefix=faulty-1.2.0/",
                    "-o", str(tarball), "v1.2.0"], check=True)
    src = versions.resolve(str(tarball), "faulty", root)
    assert src.kind == "tarball" and src.key == "tar-" + sources.file_hash(tarball)
    from_tar = versions.ensure_built("faulty", src, root=root)
    assert (from_tar.version, from_tar.label) == ("1.2.0", "1.2.0+t" + src.key[4:11])


def test_prune_removes_what_it_is_asked_to(faulty_repo, tmp_path):
    repo, commits = faulty_repo
    root = tmp_path / "root"
    old, new = build(repo, "v1.0.0", root), build(repo, "v1.2.0", root)
    with pytest.raises(versions.BuildFailed):
        build(repo, commits["broken"], root)
    os.utime(Path(old.entry) / ".used", (time.time() - 10 * 86400,) * 2)
    failed_entry = next((root / ".cache/builds/faulty").glob("*/failed.json")).parent
    # This process built (or tried) them, so it leases them until it lets them go.
    removed, in_use = versions.prune(root, everything=True)
    assert removed == [] and sorted(in_use) == sorted([Path(old.entry), Path(new.entry),
                                                       failed_entry])
    leases.release()
    assert versions.prune(root, failed=True) == ([failed_entry], [])
    assert not list((root / ".cache/builds/faulty").glob("*/failed.json"))
    removed, in_use = versions.prune(root, unused_since=time.time() - 86400)
    assert removed == [Path(old.entry)] and Path(new.entry).exists() and not in_use
    assert versions.prune(root, everything=True) == ([Path(new.entry)], [])


def _debian(name, root=ROOT):
    tree = sources.debian_tree(families.get(name).recipe.debian_source, root)
    if tree is None:
        pytest.skip(f"no Debian source package of {name} in {root}/.cache/src (ci/setup.sh)")
    return tree


@pytest.mark.parametrize("name,expected", [
    # The version each tree states: mimalloc's CMake package version, jemalloc's VERSION file.
    ("mimalloc", lambda t: ".".join(
        __import__("re").findall(r"set\(mi_version_(?:major|minor|patch) (\d+)\)",
                                 (t / "cmake/mimalloc-config-version.cmake").read_text()))),
    ("jemalloc", lambda t: (t / "VERSION").read_text().strip()),
    ("tcmalloc", lambda t: __import__("re").search(r"AC_INIT\(\[gperftools\],\s*\[([^\]]+)\]",
                                                   (t / "configure.ac").read_text()).group(1)),
])
def test_debian_source_packages_build_with_their_own_version(name, expected):
    tree = _debian(name)
    # Static only, as the next test links it: one cache entry, so the second build is reused.
    built = versions.ensure_built(name, versions.resolve_for(name, "debian", ROOT), ["static"],
                                  root=ROOT)
    assert built.version == expected(tree)
    # No commit: the id is NAME@VERSION:MODE, a git id in the version cut to 7 digits.
    short = built.version[:built.version.index("-g") + 9] if name == "jemalloc" else built.version
    assert built.label == short
    for path in (built.static_lib, built.shared_lib, built.preload_lib):
        assert Path(path).is_file()
    # The shared library carries the version string the allocator reports in-process.
    if name == "jemalloc":
        assert built.version.encode() in Path(built.shared_lib).read_bytes()
    header = {"mimalloc": "mimalloc.h", "jemalloc": "jemalloc.h", "tcmalloc": "tcmalloc.h"}[name]
    assert (Path(built.include_dir) / header).is_file()


def _alloc_line(out):
    """The program's alloc record as the harness reads it (%XX undone, version decoded)."""
    log = CheckpointLog.from_lines(out.splitlines())
    return {k: str(v) for k, v in log.alloc.items()}


def _last_cp(out):
    line = [ln for ln in out.splitlines() if ln.startswith("TLSLEAK/1 cp ")][-1]
    return dict(kv.split("=", 1) for kv in line.split()[2:])


def test_built_allocators_become_configurations_of_the_repro_build(faulty_repo, cache_root,
                                                                     tmp_path):
    repo, commits = faulty_repo
    clean, leaking = build(repo, "v1.1.0", cache_root), build(repo, commits["leak"], cache_root)
    items = [(clean, None), (leaking, ["override"])]
    bdir = tmp_path / "build"
    built_file = versions.write_built_file(bdir / "tlsleak-built.json", items)
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(bdir)], check=True, capture_output=True)
    configs = {c["id"]: c for c in json.loads((bdir / "manifest.json").read_text())["configs"]}
    ids = clean.ids() + leaking.ids(["override"])
    assert ids == [f"faulty@{clean.label}:{m}" for m in ("static", "dynamic", "override")] + [
        f"faulty@{leaking.label}:override"]
    for cid, built in zip(ids, (clean, clean, clean, leaking)):
        c = configs[cid]
        assert c["available"] and (c["version"], c["commit"], c["source"]) == (
            "1.1.0", built.commit, built.source)
    assert f"faulty@{leaking.label}:static" not in configs
    assert configs["system"]["commit"] == "" and configs["system"]["source"] == ""

    static, dynamic = configs[ids[0]], configs[ids[1]]
    scenario = "dtor_allocates"  # a key destructor mallocs after the allocator's teardown
    targets = [f"tlsleak.{c['variant']}.{scenario}" for c in (static, dynamic)]
    targets.append(f"tlsleak.system.{scenario}")
    subprocess.run(["cmake", "--build", str(bdir), "-j2", *sum((["--target", t] for t in targets), [])],
                   check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "TLSLEAK_FAULTY")}

    def run(config):
        cmd = [str(Path(config["bin_dir"]) / scenario), "--threads", "500"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60,
                              env={**env, "LD_PRELOAD": config["preload"]} if config["preload"] else env)
        return _alloc_line(proc.stdout), _last_cp(proc.stdout)

    for config, where in [(static, static["bin_dir"]), (dynamic, clean.shared_lib),
                          (configs[ids[2]], clean.preload_lib)]:
        alloc, cp = run(config)
        assert (alloc["name"], alloc["version"], alloc["owns"]) == ("faulty", "1.1.0", "1"), config["id"]
        assert alloc["malloc_from"].startswith(str(where)), (config["id"], alloc)
        assert int(cp["alloc_threads"]) <= 2, (config["id"], cp)  # torn down, nothing re-made
    # The leaking commit, same version number: every thread leaves a cache behind.
    alloc, cp = run(configs[ids[3]])
    assert alloc["malloc_from"] == leaking.preload_lib and int(cp["alloc_threads"]) >= 400

    # Nothing is sticky: with the file emptied the next configure forgets those builds.
    versions.write_built_file(built_file, [])
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(bdir)], check=True, capture_output=True)
    configs = {c["id"] for c in json.loads((bdir / "manifest.json").read_text())["configs"]}
    assert not configs & set(ids)


def test_debian_builds_run_as_static_configurations(tmp_path):
    """Debian's trees built by the backend become static configurations (mimalloc's keeps
    today's id, mimalloc@2.0.9:static) whose programs are served by that build."""
    items, absent = [], []
    for name in ("mimalloc", "jemalloc", "tcmalloc"):
        if sources.debian_tree(families.get(name).recipe.debian_source, ROOT) is None:
            absent.append(name)
            continue
        # Static only is linked here; ccache (.cache/ccache) keeps jemalloc's rebuilds short.
        items.append((versions.ensure_built(name, versions.resolve_for(name, "debian", ROOT),
                                            ["static"], root=ROOT), ["static"]))
    if not items:
        pytest.skip(f"no Debian source package of {', '.join(absent)} in {ROOT}/.cache/src "
                    "(ci/setup.sh fetches them)")
    bdir = tmp_path / "build"
    versions.write_built_file(bdir / "tlsleak-built.json", items)
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(bdir)], check=True, capture_output=True)
    configs = {c["id"]: c for c in json.loads((bdir / "manifest.json").read_text())["configs"]}
    for built, _ in items:
        if built.name == "mimalloc":
            assert f"mimalloc@{built.version}:static" == f"mimalloc@{built.label}:static"
    targets = []
    for built, _ in items:
        c = configs[f"{built.name}@{built.label}:static"]
        assert c["available"] and c["library"] == built.static_lib and c["source"] == built.source
        targets += ["--target", f"tlsleak.{c['variant']}.control_flat"]
    subprocess.run(["cmake", "--build", str(bdir), "-j2", *targets], check=True,
                   capture_output=True)
    for built, _ in items:
        c = configs[f"{built.name}@{built.label}:static"]
        proc = subprocess.run([str(Path(c["bin_dir"]) / "control_flat"), "--threads", "100"],
                              capture_output=True, text=True, check=True, timeout=60)
        alloc = _alloc_line(proc.stdout)
        assert (alloc["name"], alloc["owns"]) == (built.name, "1")
        assert alloc["malloc_from"] == str(Path(c["bin_dir"]) / "control_flat")
        # The version read in-process, decoded by its family, is the one asked for, as the
        # project writes it (jemalloc's whole 5.3.0-0-g<commit>): nothing to object to.
        assert alloc["version"] == built.version
        assert identity.version_problem(alloc, built.name, built.version) is None


def test_a_missing_compiler_is_infrastructure_not_a_bad_commit(faulty_repo, tmp_path,
                                                                 monkeypatch):
    repo, _ = faulty_repo
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    root = tmp_path / "root"
    with pytest.raises(versions.BuildFailed) as e:
        build(repo, "v1.0.0", root)
    assert e.value.infrastructure and "cannot be run" in str(e.value)
    assert not list(root.glob(".cache/builds/faulty/*/failed.json"))


HOLDER = """
import sys
from tlsleak import versions
src = versions.resolve(sys.argv[1], "faulty", sys.argv[2])
print(versions.ensure_built("faulty", src, root=sys.argv[2]).entry, flush=True)
sys.stdin.readline()
"""


def test_a_build_another_process_uses_stays_through_prune(faulty_repo, tmp_path):
    """A run leases every cache entry it uses until it ends (issue 20: `cache prune --all`
    during a run removed the library its next cell loads)."""
    repo, _ = faulty_repo
    root = tmp_path / "root"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, f"git:{repo}@v1.1.0", str(root)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "harness")})
    try:
        entry = Path(holder.stdout.readline().strip())
        assert (entry / "build.json").is_file()
        for how in ({"everything": True}, {"unused_since": time.time() + 60}):
            assert versions.prune(root, **how) == ([], [entry])
        assert (entry / "build.json").is_file() and (entry / "lib" / "libfaulty.so").is_file()
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    assert versions.prune(root, everything=True) == ([entry], [])  # the lease ended with it
