"""Debian's source trees as configurations of every run.

Each unpacked source package in .cache/src of a family with `debian_modes` (mimalloc: static,
the mode its package lacks) is listed in tlsleak-built.json before anything is built, and built
through its recipe into the cache only when a run plans one of its configurations
(build.Build.build calls `realise`). So `tlsleak list` and runs of other configurations never
wait for it, and the one build of such a tree is the recipe's, as for any other source.
"""
import sys
from pathlib import Path

from tlsleak import families, identity
from tlsleak.families.recipe import HOST, StepFailed
from tlsleak.versions import cache, sources


class Planned:
    """A build of a Debian tree not made yet: what tlsleak-built.json lists of it (`listed`, a
    cache.Built whose static archive is where the build will put it; builtfile reads its
    fields through this object), and its source, to build it."""
    pending = True

    def __init__(self, listed, src, toolchain):
        self.listed, self.src, self.toolchain = listed, src, toolchain

    def __getattr__(self, name):
        return getattr(self.listed, name)

    def realise(self, root, jobs=None):
        """Build it now (or find it built): the cache.Built, whose archive is where the plan
        said; BuildFailed when it does not build or lands elsewhere."""
        built = cache.ensure_built(self.name, self.src, list(self.modes), root=root, jobs=jobs,
                                   toolchain=self.toolchain)
        if built.static_lib != self.static_lib:
            raise cache.BuildFailed(f"{self.name} from {self.source}: the build made "
                                    f"{built.static_lib}, not {self.static_lib}",
                                    infrastructure=True)
        return built


def _plan(family, tree, root, toolchain):
    """The Built of `tree` for `toolchain` when the cache has it (leased), else its Planned;
    None when the folder is not a tree of this family (said on stderr)."""
    src = sources.debian_source(family.recipe.debian_source, tree)
    try:
        version = family.tree_version(Path(tree), "")
    except StepFailed as e:
        print(f"tlsleak: {tree} skipped: {e}", file=sys.stderr)
        return None
    _, _, _, compiler, target, entry = cache.locate(family.name, src, root, toolchain)
    if cache.lookup(entry) is not None:
        return cache.ensure_built(family.name, src, root=root, toolchain=toolchain)
    os_name = toolchain.os
    recipe = family.recipe.for_os(os_name)
    listed = cache.Built(
        name=family.name, version=version, label=identity.label(version), commit="",
        source=src.spec, source_kind=src.kind, source_key=src.key,
        options=list(recipe.options), compiler=compiler, target=target,
        modes=list(family.modes_for(os_name)), static_lib=str(entry / "lib" / recipe.static_name),
        shared_lib=str(entry / "lib" / recipe.shared_name) if recipe.shared_name else "",
        preload_lib="", include_dir="", **cache.link_fields(family, os_name),
        seconds=0, steps=[], log="", entry=str(entry), built_at=0)
    return Planned(listed, src, toolchain)


def planned(root, toolchain=HOST):
    """[(cache.Built or Planned, modes)]: every Debian tree in ROOT/.cache/src of a family that
    gives configurations from one by default, one per version, in the modes it gives, built
    with `toolchain` (a platform's)."""
    items, seen = [], set()
    for family in families.buildable().values():
        if not (family.debian_modes and family.recipe.debian_source
                and family.recipe.static_name):
            continue
        for tree in sources.debian_trees(family.recipe.debian_source, root):
            item = _plan(family, tree.resolve(), root, toolchain)
            if item is not None and (family.name, item.label) not in seen:
                seen.add((family.name, item.label))
                # For another system there is no package: the tree gives every mode.
                modes = family.modes_for(toolchain.os) if toolchain.os else family.debian_modes
                items.append((item, list(modes)))
    return items
