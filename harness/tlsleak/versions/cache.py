"""The build cache: one entry per build of an allocator from an exact source tree.

Layout (ROOT is the checkout):
  ROOT/.cache/builds/NAME/<tree>-<hash>/   one entry; <tree> is the commit's or tree hash's
                                           first 12 hex digits, <hash> 8 of the full key
      build.json    what was built (Built.to_json): written last, so it marks a finished build
      failed.json   instead of build.json when the build failed: the error and the log's tail
      build.log     every step's command and output
      lib/          the static archive and the shared library (with its soname links)
      include/      the public headers of that tree
      .lock         held by whoever builds or removes the entry (leases.py)
      .lease        held shared by every run using the entry: prune leaves it
      .used         touched at every use (prune by "unused since")
  ROOT/.cache/ccache/                      ccache's store, when ccache is installed

The key hashes (allocator, source key = commit or tree hash, the recipe's options and modes,
compiler identity and version, the machine it compiles for, RECIPE_FORMAT): a change of any
of them is a new entry.
"""

import dataclasses
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from tlsleak import atomic, families, identity
from tlsleak.families import recipe as recipes
from tlsleak.versions import leases

# Bumped when a recipe changes what it produces, so older entries are not reused.
RECIPE_FORMAT = 1
LOG_TAIL_LINES = 40


class BuildFailed(Exception):
    """The build of an entry failed (now, or before: `cached`); `log_tail` is its last lines.
    `infrastructure`: not the tree's fault (a tool missing, a file system error): exit 3, not
    "this commit does not build" (125 under git bisect run), and not remembered."""

    def __init__(self, message, log_tail="", entry=None, cached=False, infrastructure=False):
        super().__init__(message)
        self.log_tail = log_tail
        self.entry = entry
        self.cached = cached
        self.infrastructure = infrastructure


@dataclasses.dataclass(frozen=True)
class Built:
    """A finished build in the cache (the fields of its build.json)."""

    name: str
    version: str  # as the allocator's project writes it
    label: str  # the VERSION part of configuration ids (identity.label)
    commit: str  # full commit, "" when the source is not a git commit
    source: str  # the spec it was resolved from
    source_kind: str
    source_key: str
    options: list
    compiler: str
    modes: list
    static_lib: str
    shared_lib: str
    preload_lib: str
    include_dir: str
    static_link: str
    static_link_options: list
    static_libs: list
    static_extra_targets: list
    expect: str
    inprocess: str
    seconds: float
    steps: list  # [step, seconds] in order: where the build time went
    log: str
    entry: str
    built_at: float
    target: str = ""  # the machine the compiler builds for (cc -dumpmachine)
    route: str = "malloc"  # how programs reach it (recipe.Recipe.route)
    reused: bool = False  # not stored: whether ensure_built found it already built

    def to_json(self):
        data = dataclasses.asdict(self)
        data.pop("reused")
        return {"format": 1, **data}

    @classmethod
    def from_json(cls, data, reused=False):
        fields = {f.name for f in dataclasses.fields(cls)}
        data = {"steps": [], **{k: v for k, v in data.items() if k in fields}}
        # One home for the label rule and for how to link: the code, also for entries
        # written before either changed (build.json records them for the reader).
        data["label"] = identity.label(data["version"], data["commit"],
                                       data.get("source_kind", ""), data.get("source_key", ""))
        data.update(link_fields(families.FAMILIES.get(data["name"]),
                                recipes.target_os(data.get("target", ""))))
        return cls(**data, reused=reused)

    def ids(self, modes=None):
        """The configuration ids this build gives, NAME@LABEL:MODE, in `modes` (default all)."""
        return [identity.format_id(self.name, self.label, m) for m in self.modes
                if not modes or m in modes]


def link_fields(family, os_name=""):
    """How programs link and identify a build of `family` for target system `os_name` (recipe
    data, not build output)."""
    if family is None or family.recipe is None:
        return {}
    r = family.recipe.for_os(os_name)
    return {"route": r.route, "static_link": r.static_link, "static_link_options": list(r.static_link_options),
            "static_libs": list(r.static_libs),
            "static_extra_targets": list(r.static_extra_targets),
            "expect": family.name, "inprocess": family.inprocess}


def builds_dir(root):
    return Path(root) / ".cache" / "builds"


def entry_key(family, source, compiler, target):
    os_name = recipes.target_os(target)
    ident = {"format": RECIPE_FORMAT, "name": family.name, "source": source.key,
             "options": list(family.recipe.for_os(os_name).options),
             "modes": list(family.modes_for(os_name)), "compiler": compiler, "target": target}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def _tail(path, lines=LOG_TAIL_LINES):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def lookup(entry):
    """The Built of a finished entry, else None."""
    try:
        return Built.from_json(json.loads((Path(entry) / "build.json").read_text()), reused=True)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _family(name, modes, os_name=""):
    """The family `name` builds from source, checked against `modes` (for `os_name`)."""
    family = families.get(name)
    if not family.buildable:
        raise KeyError(f"no recipe to build '{name}' from source "
                       f"(known: {', '.join(sorted(families.buildable()))})")
    have = family.modes_for(os_name)
    bad = [m for m in (modes or ()) if m not in have]
    if bad:
        raise ValueError(f"{name} has no mode {', '.join(bad)} (it has: {', '.join(have)})")
    return family


def locate(name, source, root, toolchain=recipes.HOST):
    """(family, compiler environment, ccache, compiler, target, entry folder) of the build of
    `source` with `toolchain`, found without building; BuildFailed (infrastructure) when no
    compiler runs."""
    family = _family(name, None)
    env, ccache = recipes.compiler_env(root, toolchain)
    found = recipes.compiler_id(env)
    if found is None:
        raise BuildFailed(f"{name}: the C compiler {env['CC'].split()[-1]} cannot be run "
                          "(set CC, or install gcc)", infrastructure=True)
    compiler, target = found
    key = entry_key(family, source, compiler, target)
    entry = builds_dir(root) / name / f"{source.short()}-{key[:8]}"
    return family, env, ccache, compiler, target, entry


def ensure_built(name, source, modes=None, *, root, jobs=None, retry_failed=False,
                 toolchain=recipes.HOST):
    """The build of allocator `name` from `source` (a sources.Source) with `toolchain`, from
    the cache or built now, leased for the rest of this process. `modes` (default: all the
    family has for the target) must be ones it supports. Raises BuildFailed, at once when this
    entry failed before (unless retry_failed), and KeyError / ValueError for an unknown
    allocator or mode."""
    root = Path(root).resolve()
    _family(name, modes, toolchain.os)
    family, env, ccache, compiler, target, entry = locate(name, source, root, toolchain)
    with leases.building(entry):
        leases.take(entry)
        found = lookup(entry)
        if found and all(not p or Path(p).exists() for p in
                         (found.static_lib, found.shared_lib, found.preload_lib)):
            (entry / ".used").touch()
            return found
        failed = entry / "failed.json"
        if failed.exists() and not retry_failed:
            data = json.loads(failed.read_text())
            raise BuildFailed(f"{name} from {source.spec} did not build (before): {data['error']}",
                              data.get("log_tail", ""), str(entry), cached=True)
        return _build(family, source, entry, env, ccache, (compiler, target), root, jobs,
                      toolchain)


def _clean(entry):
    for stale in ("build.json", "failed.json", "build.log"):
        (entry / stale).unlink(missing_ok=True)
    for stale in ("work", "lib", "include"):
        shutil.rmtree(entry / stale, ignore_errors=True)


def _scratch(entry):
    """Where the tree is built: the entry's own folder, or, when its path holds what build
    systems split or quote badly (a space: autotools' configure and make fail), a temporary
    folder whose path does not."""
    if re.fullmatch(r"[A-Za-z0-9/._+@=-]*", str(entry)):
        return entry
    return Path(tempfile.mkdtemp(prefix="tlsleak-build-"))


def _build(family, source, entry, env, ccache, compiler, root, jobs, toolchain):
    _clean(entry)
    scratch = _scratch(entry)
    log, work = entry / "build.log", scratch / "work"
    if ccache:
        # Paths relative to the scratch folder, so another commit's unchanged files hit.
        env = dict(env, CCACHE_DIR=str(Path(root) / ".cache" / "ccache"),
                   CCACHE_BASEDIR=str(scratch), CCACHE_NOHASHDIR="1")
    ctx = recipes.BuildContext(src=work / "src", build=work / "build", log=log,
                               jobs=jobs or min(os.cpu_count() or 1, 2), env=env,
                               ccache=ccache, describe=source.describe, toolchain=toolchain)
    start = time.monotonic()
    log.write_text(f"# {family.name} from {source.spec} ({source.commit or source.key})\n"
                   f"# compiler: {compiler[0]} for {compiler[1]}; "
                   f"ccache: {'yes' if ccache else 'no'}\n")
    try:
        source.export(ctx.src)
        ctx.version = family.tree_version(ctx.src, source.describe)
        art = family.recipe.build(ctx)
        lib, include = _keep(entry, art)
    except (recipes.StepFailed, OSError) as e:
        raise _failed(family, source, entry, compiler, e, time.monotonic() - start) from None
    finally:
        shutil.rmtree(work if scratch == entry else scratch, ignore_errors=True)
    os_name = recipes.target_os(compiler[1])
    built = Built(
        name=family.name, version=ctx.version, label=identity.label(ctx.version, source.commit, source.kind, source.key),
        commit=source.commit, source=source.spec, source_kind=source.kind,
        source_key=source.key, options=list(family.recipe.for_os(os_name).options),
        compiler=compiler[0], target=compiler[1], modes=list(family.modes_for(os_name)),
        static_lib=lib(art.static), shared_lib=lib(art.shared), preload_lib=lib(art.preload),
        include_dir=include, **link_fields(family, os_name), seconds=round(time.monotonic() - start, 2), steps=ctx.steps,
        log=str(log), entry=str(entry), built_at=time.time())
    atomic.write_json(entry / "build.json", built.to_json())
    (entry / ".used").touch()
    return built


def _failed(family, source, entry, compiler, error, seconds):
    """The BuildFailed of a build that raised `error`; a failure of the tree is remembered in
    failed.json (asking again fails at once), one of the machine is not."""
    log = entry / "build.log"
    tail = _tail(log)
    if not isinstance(error, recipes.StepFailed) or error.infrastructure:
        return BuildFailed(f"{family.name} from {source.spec}: cannot build here: {error} "
                           f"(log: {log})", tail, str(entry), infrastructure=True)
    atomic.write_json(entry / "failed.json", {
        "format": 1, "name": family.name, "source": source.spec, "commit": source.commit,
        "source_key": source.key, "compiler": compiler[0], "target": compiler[1],
        "error": str(error), "seconds": round(seconds, 2), "log": str(log), "log_tail": tail,
        "failed_at": time.time()})
    return BuildFailed(f"{family.name} from {source.spec} did not build: {error} (log: {log})",
                       tail, str(entry))


def _keep(entry, art):
    """Copy the artefacts out of the work tree (which is then removed) into lib/ and include/.
    A shared library comes with its siblings (soname links, a proxy's library; a DLL's import
    library)."""
    lib = entry / "lib"
    lib.mkdir()
    for path in {p for p in (art.static, art.shared, art.preload) if p}:
        path = Path(path)
        siblings = (path.parent.glob("lib*.so*") if ".so" in path.name
                    else path.parent.glob(path.name + "*") if path.suffix == ".dll" else [path])
        for sib in siblings:
            if not (lib / sib.name).exists():
                shutil.copy2(sib, lib / sib.name, follow_symlinks=False)
    include = ""
    if art.include:
        include = str(entry / "include")
        shutil.copytree(art.include, include, symlinks=True,
                        ignore=shutil.ignore_patterns("*.c", "*.cc", "*.o", "*.in", "*.sh"))
    return (lambda p: str(lib / Path(p).name) if p else ""), include


def entries(root):
    """Every entry folder in the cache."""
    return sorted(p for p in builds_dir(root).glob("*/*") if p.is_dir())


def _doomed(entry, built_before, unused_since, everything, failed):
    built = lookup(entry)
    used = (entry / ".used").stat().st_mtime if (entry / ".used").exists() else 0
    return (everything or (failed and (entry / "failed.json").exists())
            or (built_before is not None and built and built.built_at < built_before)
            or (unused_since is not None and used < unused_since))


def prune(root, *, built_before=None, unused_since=None, everything=False, failed=False,
          keep=()):
    """Remove cache entries: everything, or those built before `built_before` (epoch s),
    unused since `unused_since`, or that failed (`failed`). Entries in `keep` (folders), being
    built, or leased by a run (this process's included) stay. Returns (removed, kept in use)."""
    keep = {str(Path(k)) for k in keep}
    removed, in_use = [], []
    for entry in entries(root):
        if str(entry) in keep or not _doomed(entry, built_before, unused_since, everything,
                                             failed):
            continue
        with leases.removable(entry) as free:
            if free:
                shutil.rmtree(entry)
                removed.append(entry)
            else:
                in_use.append(entry)
    return removed, in_use
