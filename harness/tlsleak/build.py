"""Configure and build the repro programs with CMake, incrementally, under a lock.

The build directory is shared by every run on the machine, so configure and build hold an
exclusive lock on it (two runs in parallel must not corrupt the cache)."""
import json
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

from tlsleak import InfraError, interrupts, paths, versions
from tlsleak.host import current as host
from tlsleak.families.recipe import HOST
from tlsleak.versions import builtfile, debian
from tlsleak.vocab import EXEC

ROOT = paths.SOURCE  # what CMake builds from (paths.py)
VARIANT_PREFIX = "variant_"  # a variant's target: every program of it (repro/CMakeLists.txt)


def default_build_dir():
    return Path(os.environ.get("TLSLEAK_BUILD_DIR", paths.state() / "build"))


@contextmanager
def _locked(build_dir):
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".tlsleak.lock", "w") as fh:
        host.lock(fh)
        try:
            yield
        finally:
            host.unlock(fh)


def _run_logged(cmd, log_path, what):
    """Run a build step in a process group of its own (dying with the harness); on an
    interrupt the whole group (make, the compilers) is killed and waited for before the
    caller lets the lock go."""
    with open(log_path, "a") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = None
        try:
            with interrupts.held():
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, **host.popen_kwargs())
            rc = proc.wait()
        except BaseException:
            if proc is not None:
                host.kill_group_and_wait(proc)
            raise
    if rc != 0:
        tail = Path(log_path).read_text(errors="replace").splitlines()[-15:]
        raise InfraError(f"{what} failed (exit {rc}); log: {log_path}\n" + "\n".join(tail))


def program_targets(cells, native=True):
    """The CMake targets that build what `cells` run: each cell's own program and the module
    its variant's programs may load (`tlsleak.VARIANT.PROGRAM`, repro/CMakeLists.txt), never
    the variant's other programs. A configuration built by another target (a preload library)
    and every cross build (its DLLs beside the programs) keep the configuration's target."""
    out = []
    for c in cells:
        t = c.config.target
        if native and t.startswith(VARIANT_PREFIX) and c.role != EXEC:
            variant = t[len(VARIANT_PREFIX):]
            out += [f"tlsleak.{variant}.{c.scenario}", f"tlsleak.{variant}.tls_module"]
        else:
            out.append(t)
    return out


def _wants_variant(config, targets):
    """Whether `targets` build programs of this manifest configuration."""
    return (config.get("target") in targets
            or f"tlsleak.{config.get('variant')}.tls_module" in targets)


def _inputs_newer(stamp):
    """Whether a CMake input changed since the stamp was written (a new target, say, that the
    generated build files do not know yet)."""
    made = stamp.stat().st_mtime
    inputs = [ROOT / "CMakeLists.txt", ROOT / "repro" / "CMakeLists.txt",
              ROOT / "probe" / "CMakeLists.txt", ROOT / "tests" / "programs" / "CMakeLists.txt",
              *ROOT.glob("cmake/*.cmake"), *ROOT.glob("allocators/**/*.cmake")]
    return any(p.stat().st_mtime > made for p in inputs if p.exists())


def _newest(path):
    """The newest mtime of a file or of anything under a folder (0 when absent)."""
    try:
        st = os.stat(path)
    except OSError:
        return 0.0
    newest = st.st_mtime
    if os.path.isdir(path):
        with os.scandir(path) as it:
            for e in it:
                newest = max(newest, _newest(e.path) if e.is_dir(follow_symlinks=False)
                             else e.stat().st_mtime)
    return newest


def newest_input(build_dir, manifest):
    """When anything a repro build reads last changed: our sources and CMake files, the
    build tree's own configuration, and the allocator libraries the configurations link."""
    watched = [ROOT / "CMakeLists.txt", ROOT / "cmake", ROOT / "allocators", ROOT / "repro",
               build_dir / "manifest.json", build_dir / "tlsleak-built.json",
               build_dir / "CMakeCache.txt"]
    watched += [c["library"] for c in manifest.get("configs", []) if c.get("library")]
    return max(_newest(p) for p in watched)
_CACHE_LINE = re.compile(r"^(#.*|//.*|\s*|[^=]+:[A-Z_]+=.*|[^=:]+=.*)$")


def cache_broken(build_dir):
    """Why build_dir/CMakeCache.txt cannot be trusted (unreadable, a line that is no cache
    entry, made for another folder), or None when it is sound or absent."""
    path = Path(build_dir) / "CMakeCache.txt"
    if not path.exists():
        return None
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        return f"unreadable ({e})"
    bad = next((n for n, line in enumerate(lines, 1) if not _CACHE_LINE.match(line)), None)
    if bad is not None:
        return f"line {bad} is not a cache entry"
    made_for = [line.split("=", 1)[1] for line in lines
                if line.startswith("CMAKE_CACHEFILE_DIR:")]
    if not made_for or Path(made_for[0]).resolve() != Path(build_dir).resolve():
        return "it was not made for this folder"
    return None


def _forget_cache(build_dir):
    """Remove CMake's cache so the next configure starts from scratch (the objects stay)."""
    (Path(build_dir) / "CMakeCache.txt").unlink(missing_ok=True)
    shutil.rmtree(Path(build_dir) / "CMakeFiles", ignore_errors=True)
    (Path(build_dir) / "manifest.json").unlink(missing_ok=True)


class Build:
    """One CMake build tree: its manifest, and targets built on demand. `built` lists this
    run's source builds [(versions.Built, modes)]; it adds Debian's source trees of .cache/src
    (versions/debian.py), each built through its recipe with `toolchain` (the platform's) into
    the cache when a target of one of its configurations is."""

    def __init__(self, build_dir=None, cmake_args=(), built=(), toolchain=HOST):
        self.dir = Path(build_dir or default_build_dir()).resolve()
        self.cmake_args = list(cmake_args)
        self.built = list(built)
        self.toolchain = toolchain
        self.log = self.dir / "build.log"
        self._items = None  # self.built and the Debian trees, once looked at

    def items(self):
        """[(versions.Built or debian.Planned, modes)]: what tlsleak-built.json lists."""
        if self._items is None:
            try:
                planned = debian.planned(paths.state(), self.toolchain)
            except versions.BuildFailed as e:
                raise InfraError(str(e))
            self._items = builtfile.merged(self.built, planned)
        return self._items

    def built_file(self):
        return self.dir / "tlsleak-built.json"

    def _args_file(self):
        return self.dir / "tlsleak-cmake-args.json"

    def configure(self):
        """Run CMake's configure step when the tree is new or the options changed."""
        with _locked(self.dir):
            return self._configure()

    def _configure(self):
        """configure(), the lock held. This run's source builds are rewritten into
        tlsleak-built.json first (an empty list when none; only on change: its mtime says
        when): CMake reads them from there, so nothing sticks in CMakeCache.txt."""
        if cache_broken(self.dir):  # a corrupted cache never heals by itself
            _forget_cache(self.dir)
        manifest = self.dir / "manifest.json"
        try:
            same = json.loads(self._args_file().read_text()) == self.cmake_args
        except (OSError, ValueError):
            same = False
        builtfile.write(self.built_file(), self.items())
        if (manifest.exists() and same and not _inputs_newer(manifest)
                and self.built_file().stat().st_mtime <= manifest.stat().st_mtime):
            return self.manifest()
        cmd = ["cmake", "-S", str(ROOT), "-B", str(self.dir), *self.cmake_args,
               f"-DTLSLEAK_CCACHE_DIR={paths.state() / '.cache' / 'ccache'}"]
        try:
            _run_logged(cmd, self.log, "cmake configure")
        except InfraError:  # once more from scratch: a cache CMake itself cannot use
            if not (self.dir / "CMakeCache.txt").exists():
                raise
            _forget_cache(self.dir)
            _run_logged(cmd, self.log, "cmake configure (from scratch)")
        self._args_file().write_text(json.dumps(self.cmake_args))
        return self.manifest()

    def manifest(self):
        try:
            return json.loads((self.dir / "manifest.json").read_text())
        except (OSError, ValueError) as e:
            raise InfraError(f"cannot read the build manifest: {e}")

    def _stamp(self):
        return self.dir / "tlsleak-build-stamp.json"

    def _realise(self, manifest, targets, jobs):
        """Build the planned source trees (Debian's) that a configuration of `targets` needs."""
        ids = {c["id"] for c in manifest.get("configs", []) if _wants_variant(c, targets)}
        for i, (item, modes) in enumerate(self.items()):
            if getattr(item, "pending", False) and ids & set(item.ids(modes)):
                try:
                    self._items[i] = (item.realise(paths.state(), jobs), modes)
                except versions.BuildFailed as e:
                    raise InfraError(f"{e}" + (f"\n{e.log_tail}" if e.log_tail else ""))

    def build(self, targets, jobs=None):
        """Build the named targets. Under one hold of the build tree's lock: configure again
        when another run changed the tree since this one configured (its own source builds
        listed), build what they need from source, then `cmake --build`. Skipped, without
        even starting cmake (~2 s of a one-cell run), when the stamp of the last build says
        these targets were built after every input last changed."""
        if not targets:
            return self.manifest()
        wanted = sorted(set(targets))
        cmd = ["cmake", "--build", str(self.dir), "--parallel", str(jobs or os.cpu_count() or 2)]
        for t in wanted:
            cmd += ["--target", t]
        with _locked(self.dir):
            manifest = self._configure()
            self._realise(manifest, wanted, jobs)
            inputs_at = newest_input(self.dir, manifest)
            try:
                stamp = json.loads(self._stamp().read_text())
            except (OSError, ValueError):
                stamp = {}
            fresh = stamp.get("inputs_at", -1) >= inputs_at
            if fresh and set(wanted) <= set(stamp.get("targets", [])):
                return manifest
            self._stamp().unlink(missing_ok=True)
            _run_logged(cmd, self.log, "build of " + ", ".join(wanted))
            done = sorted(set(wanted) | set(stamp.get("targets", []) if fresh else ()))
            self._stamp().write_text(json.dumps({"inputs_at": inputs_at, "targets": done}))
        return self.manifest()
