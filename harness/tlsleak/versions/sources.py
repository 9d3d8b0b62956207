"""Where an allocator's source comes from, resolved to one exact tree with a key.

A source spec names a tree; `resolve` pins it (a git ref to its full commit, a directory or a
tarball to a hash of its contents) and `Source.export` writes that tree into a scratch folder.
Nothing here writes into the user's clone: only `rev-parse`, `describe` and `archive` run there,
with GIT_OPTIONAL_LOCKS=0, so its working tree, index, HEAD and any `git bisect` in progress
stay as they were.

Spec forms (NAME is the allocator; ROOT the checkout whose .cache/ holds sources and builds):
  debian             Debian's source package of NAME, unpacked in ROOT/.cache/src/PKG-VERSION/
  git:DIR@REF        REF (tag, branch, commit) of the git clone DIR
  dir:DIR            a plain source directory (its files are hashed; build folders excluded)
  tar:FILE           a release tarball (.tar, .tar.gz, .tar.bz2, .tar.xz)
  upstream:TAG       TAG of the allocator's upstream repository (needs the network)
Without a prefix: an existing file is a tarball, DIR@REF a git ref, a directory a plain one.
"""

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from tlsleak import provision
from tlsleak.vocab import EXIT_INFRA, EXIT_USAGE

# Exit codes of the CLI (README, "Exit codes"): a spec that names nothing is a usage error; a
# source that exists but cannot be reached (no network, a broken clone) is infrastructure.

SPEC_KINDS = ("debian", "git", "dir", "tar", "upstream")

# Never part of a source tree's identity, nor copied: build outputs and version control.
EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", "build", "out", "_deps", ".cache", "__pycache__"})


class SourceError(Exception):
    """A spec that cannot be resolved; `exit_code` is EXIT_USAGE or EXIT_INFRA."""

    def __init__(self, message, exit_code=EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


@dataclasses.dataclass(frozen=True)
class Source:
    """One exact tree. `key` identifies its contents: the commit for git, else a content hash."""

    kind: str  # "git", "dir", "tarball", "debian", "upstream"
    spec: str  # as given, for the record
    location: str  # the clone, directory or tarball (absolute)
    ref: str = ""  # the git ref as given
    commit: str = ""  # full commit id (git, upstream)
    key: str = ""  # commit, or "tree-<sha256>" / "tar-<sha256>"
    describe: str = ""  # `git describe --long --tags` of the commit, "" when there is none

    def short(self):
        """A short name of this tree: the commit's first 12 hex digits, or the hash's."""
        return self.key.split("-")[-1][:12]

    def export(self, dest):
        """Write the tree into `dest` (created; must not exist)."""
        dest = Path(dest)
        dest.mkdir(parents=True)
        if self.kind in ("git", "upstream"):
            _git_export(self.location, self.commit, dest)
        elif self.kind == "tarball":
            _untar(Path(self.location), dest)
        else:
            _copy_tree(Path(self.location), dest)


def _git_env():
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)  # e.g. set by `git bisect run`: we name the clone explicitly
    return env


def _git(repo, *args, check=True):
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env=_git_env())
    if check and proc.returncode != 0:
        raise SourceError(f"git {args[0]} in {repo} failed: "
                          f"{(proc.stderr.strip().splitlines() or ['?'])[-1]}", EXIT_INFRA)
    return proc


def _git_export(repo, commit, dest):
    # git archive reads objects only; the tar stream is unpacked by us, in the scratch folder.
    with subprocess.Popen(["git", "-C", str(repo), "archive", "--format=tar", commit],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_git_env()) as proc:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            _extract(tar, dest)
        err = proc.stderr.read().decode(errors="replace").strip()
    if proc.returncode != 0:
        raise SourceError(f"git archive {commit} in {repo} failed: {err}", EXIT_INFRA)


def _extract(tar, dest):
    if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4, 3.12: refuse escaping members
        tar.extractall(dest, filter="data")
    else:
        tar.extractall(dest)


def _untar(path, dest):
    """Unpack a release tarball; its single top-level folder, if any, becomes `dest`."""
    with tarfile.open(path) as tar:
        _extract(tar, dest)
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        inner = entries[0]
        for child in list(inner.iterdir()):
            child.rename(dest / child.name)
        inner.rmdir()


def _walk(top):
    """Files under `top`, relative, sorted, build folders and version control excluded."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in EXCLUDED_DIRS and not d.startswith("cmake-build-"))
        rel = Path(dirpath).relative_to(top)
        # Symlinks to folders are listed as files (their target text is hashed, not followed).
        for name in sorted(filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]):
            out.append(rel / name)
    return sorted(set(out))


def tree_hash(top):
    """sha256 over the sorted paths, executable bits and contents (symlinks: their target)."""
    top = Path(top)
    h = hashlib.sha256()
    for rel in _walk(top):
        path = top / rel
        if path.is_symlink():
            kind, data = b"l", os.readlink(path).encode()
        else:
            kind = b"x" if os.access(path, os.X_OK) else b"f"
            data = path.read_bytes()
        h.update(kind + str(rel).encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def _copy_tree(src, dest):
    for rel in _walk(src):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target, follow_symlinks=False)


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def debian_trees(package, root):
    """The unpacked source packages ROOT/.cache/src/PACKAGE-VERSION/, oldest first."""
    src = Path(root) / ".cache" / "src"
    return sorted((p for p in src.glob(f"{package}-[0-9]*") if p.is_dir()),
                  key=lambda p: [int(x) if x.isdigit() else x
                                 for x in p.name.replace("+", ".").replace("-", ".").split(".")])


def debian_tree(package, root):
    """The newest unpacked source package of PACKAGE, or None."""
    trees = debian_trees(package, root)
    return trees[-1] if trees else None


def debian_source(package, tree):
    """The Source of one unpacked Debian source package `tree` (a folder)."""
    return Source(kind="debian", spec=f"debian:{package}", location=str(tree),
                  key="tree-" + tree_hash(tree))


def resolve_git(repo, ref, spec=None, kind="git"):
    """REF of the clone REPO, pinned to its full commit."""
    repo = Path(repo).resolve()
    if not repo.is_dir():
        raise SourceError(f"{repo}: no such directory")
    if _git(repo, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise SourceError(f"{repo}: not a git repository")
    proc = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise SourceError(f"{repo}: no commit named '{ref}'")
    commit = proc.stdout.strip()
    describe = _git(repo, "describe", "--long", "--tags", "--abbrev=7", commit,
                    check=False).stdout.strip()
    return Source(kind=kind, spec=spec or f"git:{repo}@{ref}", location=str(repo), ref=ref,
                  commit=commit, key=commit, describe=describe)


def resolve(spec, name, root, upstream_url=None, debian_package=None):
    """Pin `spec` (see the module docstring) for allocator `name` to an exact Source."""
    root = Path(root).resolve()
    kind, sep, rest = spec.partition(":")
    if spec == "debian":
        kind, sep = "debian", ":"
    if not sep or kind not in SPEC_KINDS:
        kind, rest = _guess_kind(spec), spec
    if kind == "debian":
        package = rest or debian_package or name
        tree = debian_tree(package, root)
        if tree is None:  # planned now: fetched now (by set-up, when there is one)
            provision.fetch_source(package)
            tree = debian_tree(package, root)
        if tree is None:
            why = Path(root) / ".cache" / "src" / f"{package}.unavailable"
            reason = why.read_text().strip() if why.is_file() else "run ci/setup.sh to fetch it"
            raise SourceError(f"{name}: no Debian source package {package} in "
                              f"{root / '.cache' / 'src'}: {reason}", EXIT_INFRA)
        return debian_source(package, tree)
    if kind == "git":
        repo, at, ref = rest.rpartition("@")
        if not at or not repo or not ref:
            raise SourceError(f"bad source '{spec}': expected git:DIR@REF")
        return resolve_git(repo, ref, spec=spec)
    if kind == "dir":
        top = Path(rest).resolve()
        if not top.is_dir():
            raise SourceError(f"{rest}: no such directory")
        return Source(kind="dir", spec=spec, location=str(top), key="tree-" + tree_hash(top))
    if kind == "tar":
        path = Path(rest).resolve()
        if not path.is_file() or not tarfile.is_tarfile(path):
            raise SourceError(f"{rest}: not a tarball")
        return Source(kind="tarball", spec=spec, location=str(path),
                      key="tar-" + file_hash(path))
    return resolve_upstream(rest, name, root, upstream_url, spec)


def _guess_kind(spec):
    path = Path(spec)
    if path.is_file():
        return "tar"
    if path.is_dir():
        return "dir"
    if "@" in spec and Path(spec.rpartition("@")[0]).is_dir():
        return "git"
    raise SourceError(f"bad source '{spec}': not a file, directory or DIR@REF "
                      "(accepted: debian, git:DIR@REF, dir:DIR, tar:FILE, upstream:TAG)")


def resolve_upstream(tag, name, root, url, spec=None):
    """TAG of the upstream repository, fetched once into ROOT/.cache/upstream/NAME.git."""
    if not url:
        raise SourceError(f"{name}: no upstream repository known")
    if not tag:
        raise SourceError("bad source 'upstream:': expected upstream:TAG")
    mirror = Path(root) / ".cache" / "upstream" / f"{name}.git"
    have = mirror.is_dir() and _git(mirror, "rev-parse", "--verify", "--quiet",
                                    f"{tag}^{{commit}}", check=False).returncode == 0
    if not have:
        if not mirror.is_dir():
            mirror.parent.mkdir(parents=True, exist_ok=True)
            _git(mirror.parent, "init", "--bare", "--quiet", mirror.name)
        # One tag, shallow: enough to build it; its version comes from the tag itself.
        proc = _git(mirror, "fetch", "--quiet", "--depth", "1", url,
                    f"refs/tags/{tag}:refs/tags/{tag}", check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            if "couldn't find remote ref" in proc.stderr:
                raise SourceError(f"{name}: {url} has no tag '{tag}'")
            raise SourceError(f"{name}: cannot fetch {tag} from {url} (network needed): {last}",
                              EXIT_INFRA)
    src = resolve_git(mirror, tag, spec=spec or f"upstream:{tag}", kind="upstream")
    return dataclasses.replace(src, describe=src.describe or f"{tag}-0-g{src.commit[:7]}")
