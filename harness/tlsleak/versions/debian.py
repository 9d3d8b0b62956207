"""Debian's source trees as configurations of every run.

Each unpacked source package in .cache/src of a family with `debian_modes` (mimalloc: static,
the mode its package lacks) is listed in tlsleak-built.json before anything is built, and built
through its recipe into the cache only when a run plans one of its configurations
(build.Build.build calls `realise`). So `tlsleak list` and runs of other configurations never
wait for it, and the one build of such a tree is the recipe's, as for any other source.
"""
import dataclasses
import sys
from pathlib import Path

from tlsleak import families, identity
from tlsleak.families.recipe import StepFailed
from tlsleak.versions import cache, sources


@dataclasses.dataclass(frozen=True)
class Planned:
    """A build of a Debian tree not made yet: the fields tlsleak-built.json lists (builtfile),
    its static archive where the build will put it."""
    name: str
    version: str
    label: str
    source: str
    modes: list
    static_lib: str
    static_link: str
    static_link_options: list
    static_libs: list
    static_extra_targets: list
    expect: str
    inprocess: str
    entry: str
    src: sources.Source = dataclasses.field(repr=False, default=None)
    commit: str = ""
    shared_lib: str = ""
    preload_lib: str = ""
    include_dir: str = ""
    pending: bool = True

    def ids(self, modes=None):
        return [identity.format_id(self.name, self.label, m) for m in self.modes
                if not modes or m in modes]

    def realise(self, root, jobs=None):
        """Build it now (or find it built): the cache.Built, whose archive is where the plan
        said; BuildFailed when it does not build or lands elsewhere."""
        built = cache.ensure_built(self.name, self.src, list(self.modes), root=root, jobs=jobs)
        if built.static_lib != self.static_lib:
            raise cache.BuildFailed(f"{self.name} from {self.source}: the build made "
                                    f"{built.static_lib}, not {self.static_lib}",
                                    infrastructure=True)
        return built


def _plan(family, tree, root):
    """The Built of `tree` when the cache has it (leased), else its Planned; None when the
    folder is not a tree of this family (said on stderr)."""
    recipe = family.recipe
    src = sources.debian_source(recipe.debian_source, tree)
    try:
        version = family.tree_version(Path(tree), "")
    except StepFailed as e:
        print(f"tlsleak: {tree} skipped: {e}", file=sys.stderr)
        return None
    entry = cache.locate(family.name, src, root)[-1]
    if cache.lookup(entry) is not None:
        return cache.ensure_built(family.name, src, root=root)
    return Planned(name=family.name, version=version, label=identity.label(version),
                   source=src.spec, modes=list(family.modes),
                   static_lib=str(entry / "lib" / recipe.static_name),
                   entry=str(entry), src=src, **cache.link_fields(family))


def planned(root):
    """[(cache.Built or Planned, modes)]: every Debian tree in ROOT/.cache/src of a family that
    gives configurations from one by default, one per version, in the modes it gives."""
    items, seen = [], set()
    for family in families.buildable().values():
        if not (family.debian_modes and family.recipe.debian_source
                and family.recipe.static_name):
            continue
        for tree in sources.debian_trees(family.recipe.debian_source, root):
            item = _plan(family, tree.resolve(), root)
            if item is not None and (family.name, item.label) not in seen:
                seen.add((family.name, item.label))
                items.append((item, list(family.debian_modes)))
    return items
