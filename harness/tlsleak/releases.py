"""The releases of an allocator's history that `tlsleak history` measures: every tag matching a
pattern, or a range of commits every N, in a stated order; how they are dealt to shards; and
the `history` block of the results document (docs/RESULTS.md "A release history") that
records them, each with its commit and whether it built.

Orders: `version` (tag names compared as versions, v2.1.7 < v2.1.7a < v2.1.10), `date` (the
tagged commit's committer date, ties by version), `ancestry` (a range: oldest commit first).
"""
import re
from dataclasses import asdict, dataclass
from types import SimpleNamespace

from tlsleak import UsageError, shard
from tlsleak.bisect import git

ORDERS = ("version", "date", "ancestry")


@dataclass
class Release:
    """One point of the history: the ref people name it by (a tag, or a commit's 12 hex
    digits), its commit, the commit's date; once built, its configuration ids, or why not."""
    ref: str
    commit: str
    date: str = ""
    index: int = 0  # its place in the whole history (every shard's), in the stated order
    built: bool | None = None  # None: not tried (another shard's)
    ids: list | None = None  # the configuration ids it was built as
    error: str = ""  # the first error line of a build that failed
    build_s: float | None = None
    reused: bool = False

    def to_dict(self):
        return asdict(self)


def version_key(name):
    """Tag names compared as versions: digit runs as numbers, the rest as text."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t)
                 for t in re.split(r"(\d+)", name) if t)


def _dated(repo, ref):
    commit = git(repo, "rev-parse", f"{ref}^{{commit}}")
    return Release(ref=ref, commit=commit, date=git(repo, "log", "-1", "--format=%cI", commit))


def ordered(releases, order):
    """The releases in `order` ("version" or "date"), indexed."""
    if order == "date":
        key = (lambda r: (r.date, version_key(r.ref)))
    else:
        key = (lambda r: version_key(r.ref))
    out = sorted(releases, key=key)
    for i, r in enumerate(out):
        r.index = i
    return out


def from_tags(repo, patterns, order="version"):
    """Every tag of `repo` matching one of the globs `patterns`, in `order`."""
    tags = git(repo, "tag", "--list", *patterns).split()
    if not tags:
        raise UsageError(f"no tag of {repo} matches {' or '.join(map(repr, patterns))}")
    return ordered([_dated(repo, t) for t in tags], order)


def from_range(repo, spec, every):
    """A..B every N commits along B's first-parent line, oldest first: A, then every N-th
    commit after it, and B always."""
    a, sep, b = spec.partition("..")
    if not sep or not a or not b:
        raise UsageError(f"malformed --range '{spec}' (expected A..B, e.g. v2.0.0..v2.1.0)")
    start = git(repo, "rev-parse", f"{a}^{{commit}}")
    line = git(repo, "rev-list", "--reverse", "--first-parent", f"{start}..{b}").split()
    if not line:
        raise UsageError(f"--range {spec}: no commits after {a} up to {b}")
    picked = [start] + line[every - 1::every]
    if picked[-1] != line[-1]:
        picked.append(line[-1])
    out = []
    for i, c in enumerate(picked):
        r = _dated(repo, c[:12])
        r.index = i
        out.append(r)
    return out


def dealt(releases, k, n):
    """The releases of shard k of n: dealt round-robin in the history's order."""
    return releases[k - 1::n]


def fingerprint(name, modes, scenarios, releases, settings):
    """The plan fingerprint of a whole history (shard.fingerprint over one pseudo-cell per
    scenario, release commit and mode): the same on every shard, known before any build."""
    cells = [SimpleNamespace(id=f"{s}-{name}@{r.commit}:{m}")
             for s in scenarios for r in releases for m in modes]
    return shard.fingerprint(cells, settings)


def block(name, repo, modes, scenarios, order, select, releases):
    """The results document's `history` object."""
    return {"allocator": name, "repo": str(repo), "modes": list(modes),
            "scenarios": list(scenarios), "order": order, "select": select,
            "releases": [r.to_dict() for r in releases]}


def of_block(hist):
    """The Release objects of a `history` block, in their order."""
    return [Release(**r) for r in sorted(hist["releases"], key=lambda r: r["index"])]


def merged(blocks):
    """One `history` block from the shards' (None when the documents have none); a
    UsageError when they are histories of different things."""
    blocks = [b for b in blocks if b]
    if not blocks:
        return None
    first = blocks[0]
    same = ("allocator", "modes", "scenarios", "order", "select")
    for b in blocks[1:]:
        if any(b[k] != first[k] for k in same):
            raise UsageError("the results are histories of different releases or scenarios")
    by_index = {}
    for b in blocks:
        for r in b["releases"]:
            by_index.setdefault(r["index"], r)
    return {**first, "releases": [by_index[i] for i in sorted(by_index)]}


def config_order(hist):
    """{configuration id: position}: the cells of a history in release order."""
    ids = [i for r in of_block(hist) for i in r.ids or []]
    return {i: n for n, i in enumerate(ids)}
