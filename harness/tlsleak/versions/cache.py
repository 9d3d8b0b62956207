"""The build cache: one entry per build of an allocator from an exact source tree.

Layout (ROOT is the checkout):
  ROOT/.cache/builds/NAME/<tree>-<hash>/   one entry; <tree> is the commit's or tree hash's
                                           first 12 hex digits, <hash> 8 of the full key
      build.json    what was built (Built.to_json): written last, so it marks a finished build
      failed.json   instead of build.json when the build failed: the error and the log's tail
      build.log     every step's command and output
      lib/          the static archive and the shared library (with its soname links)
      include/      the public headers of that tree
      .lock         fcntl lock: one build of an entry at a time, across processes
      .used         touched at every use (prune by "unused since")
  ROOT/.cache/ccache/                      ccache's store, when ccache is installed

The key hashes (allocator, source key = commit or tree hash, the recipe's options and modes,
compiler identity and version, RECIPE_FORMAT): a change of any of them is a new entry.
"""

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from tlsleak import atomic

from . import recipes

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
    label: str  # the VERSION part of configuration ids (config_version)
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
        data["label"] = config_version(data["name"], data["version"], data["commit"])
        data.update(_link_fields(recipes.RECIPES.get(data["name"])))
        return cls(**data, reused=reused)


def _link_fields(recipe):
    """How programs link and identify a build of `recipe` (recipe data, not build output)."""
    if recipe is None:
        return {}
    return {"static_link": recipe.static_link,
            "static_link_options": list(recipe.static_link_options),
            "static_libs": list(recipe.static_libs),
            "static_extra_targets": list(recipe.static_extra_targets),
            "expect": recipe.expect or recipe.name, "inprocess": recipe.inprocess}


def config_version(name, version, commit):
    """The VERSION of NAME@VERSION:MODE for a build: the version as its project writes it, a
    git id in it cut to 7 digits (jemalloc's 5.3.0-0-g54eaed1), and for a git commit `+g` and
    the commit's first 7 digits unless the version already names it: two commits with one
    version number stay two configurations, and an id does not change when another version
    joins the run."""
    label = re.sub(r"-g([0-9a-f]{7})[0-9a-f]{33}$", r"-g\1", version)
    if commit and not any(commit.startswith(h) for h in _hex_words(label)):
        return f"{label}+g{commit[:7]}"
    return label


def _hex_words(text):
    return [m.lower() for m in re.findall(r"g([0-9a-fA-F]{7,40})\b", text)]


def builds_dir(root):
    return Path(root) / ".cache" / "builds"


def entry_key(recipe, source, compiler):
    ident = {"format": RECIPE_FORMAT, "name": recipe.name, "source": source.key,
             "options": list(recipe.options), "modes": list(recipe.modes), "compiler": compiler}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def _lock(entry):
    entry.mkdir(parents=True, exist_ok=True)
    fd = os.open(entry / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"tlsleak: waiting for another build of {entry}", file=sys.stderr)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _tail(path, lines=LOG_TAIL_LINES):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _touch(entry):
    (entry / ".used").touch()


def lookup(entry):
    """The Built of a finished entry, else None."""
    try:
        return Built.from_json(json.loads((Path(entry) / "build.json").read_text()), reused=True)
    except (OSError, ValueError, TypeError):
        return None


def ensure_built(name, source, modes=None, *, root, jobs=None, retry_failed=False):
    """The build of allocator `name` from `source` (a sources.Source), from the cache or built
    now. `modes` (default: all the recipe has) must be ones the recipe supports. Raises
    BuildFailed, at once when this entry failed before (unless retry_failed), and KeyError /
    ValueError for an unknown allocator or mode."""
    root = Path(root).resolve()
    recipe = recipes.recipe(name)
    bad = [m for m in (modes or ()) if m not in recipe.modes]
    if bad:
        raise ValueError(f"{name} has no mode {', '.join(bad)} (it has: {', '.join(recipe.modes)})")
    env, ccache = recipes.compiler_env()
    compiler = recipes.compiler_id(env)
    if compiler is None:
        raise BuildFailed(f"{name}: the C compiler {env['CC'].split()[-1]} cannot be run "
                          "(set CC, or install gcc)", infrastructure=True)
    key = entry_key(recipe, source, compiler)
    entry = builds_dir(root) / name / f"{source.short()}-{key[:8]}"
    fd = _lock(entry)
    try:
        found = lookup(entry)
        if found and all(not p or Path(p).exists() for p in
                         (found.static_lib, found.shared_lib, found.preload_lib)):
            _touch(entry)
            return found
        failed = entry / "failed.json"
        if failed.exists() and not retry_failed:
            data = json.loads(failed.read_text())
            raise BuildFailed(f"{name} from {source.spec} did not build (before): {data['error']}",
                              data.get("log_tail", ""), str(entry), cached=True)
        return _build(recipe, source, entry, env, ccache, compiler, root, jobs)
    finally:
        os.close(fd)  # releases the lock


def _build(recipe, source, entry, env, ccache, compiler, root, jobs):
    for stale in ("build.json", "failed.json", "build.log"):
        (entry / stale).unlink(missing_ok=True)
    for stale in ("work", "lib", "include"):
        shutil.rmtree(entry / stale, ignore_errors=True)
    log = entry / "build.log"
    work = entry / "work"
    if ccache:
        # Paths relative to the entry, so another commit's unchanged files hit the cache.
        env = dict(env, CCACHE_DIR=str(Path(root) / ".cache" / "ccache"),
                   CCACHE_BASEDIR=str(entry), CCACHE_NOHASHDIR="1")
    ctx = recipes.BuildContext(src=work / "src", build=work / "build", log=log,
                               jobs=jobs or min(os.cpu_count() or 1, 2), env=env,
                               ccache=ccache, describe=source.describe)
    start = time.monotonic()
    log.write_text(f"# {recipe.name} from {source.spec} ({source.commit or source.key})\n"
                   f"# compiler: {compiler}; ccache: {'yes' if ccache else 'no'}\n")
    try:
        source.export(ctx.src)
        version = recipe.tree_version(ctx.src, source.describe)
        art = recipe.build(ctx)
        lib, include = _keep(entry, art)
    except (recipes.StepFailed, OSError) as e:
        seconds = round(time.monotonic() - start, 2)
        tail = _tail(log)
        shutil.rmtree(work, ignore_errors=True)
        if not isinstance(e, recipes.StepFailed) or e.infrastructure:
            raise BuildFailed(f"{recipe.name} from {source.spec}: cannot build here: {e} "
                              f"(log: {log})", tail, str(entry), infrastructure=True) from None
        atomic.write_json(entry / "failed.json", {
            "format": 1, "name": recipe.name, "source": source.spec, "commit": source.commit,
            "source_key": source.key, "compiler": compiler, "error": str(e),
            "seconds": seconds, "log": str(log), "log_tail": tail, "failed_at": time.time()})
        raise BuildFailed(f"{recipe.name} from {source.spec} did not build: {e} (log: {log})",
                          tail, str(entry)) from None
    built = Built(
        name=recipe.name, version=version,
        label=config_version(recipe.name, version, source.commit), commit=source.commit,
        source=source.spec, source_kind=source.kind, source_key=source.key,
        options=list(recipe.options), compiler=compiler, modes=list(recipe.modes),
        static_lib=lib(art.static), shared_lib=lib(art.shared), preload_lib=lib(art.preload),
        include_dir=include, **_link_fields(recipe),
        seconds=round(time.monotonic() - start, 2), steps=ctx.steps, log=str(log),
        entry=str(entry), built_at=time.time())
    shutil.rmtree(work, ignore_errors=True)
    atomic.write_json(entry / "build.json", built.to_json())
    _touch(entry)
    return built


def _keep(entry, art):
    """Copy the artefacts out of the work tree (which is then removed) into lib/ and include/.
    A shared library comes with its siblings (soname links, a proxy's library)."""
    lib = entry / "lib"
    lib.mkdir()
    for path in {p for p in (art.static, art.shared, art.preload) if p}:
        path = Path(path)
        siblings = path.parent.glob("lib*.so*") if ".so" in path.name else [path]
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


def prune(root, *, built_before=None, unused_since=None, everything=False, failed=False,
          keep=()):
    """Remove cache entries: everything, or those built before `built_before` (epoch s),
    unused since `unused_since`, or that failed (`failed`). Entries in `keep` (folders) and
    entries another process holds locked are kept. Returns the removed folders."""
    keep = {str(Path(k)) for k in keep}
    removed = []
    for entry in entries(root):
        if str(entry) in keep:
            continue
        built = lookup(entry)
        used = (entry / ".used").stat().st_mtime if (entry / ".used").exists() else 0
        doomed = (everything
                  or (failed and (entry / "failed.json").exists())
                  or (built_before is not None and built and built.built_at < built_before)
                  or (unused_since is not None and used < unused_since))
        if not doomed:
            continue
        fd = os.open(entry / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # being built or used right now
        try:
            shutil.rmtree(entry)
            removed.append(entry)
        finally:
            os.close(fd)
    return removed
