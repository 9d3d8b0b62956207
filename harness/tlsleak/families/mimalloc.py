"""mimalloc (microsoft/mimalloc): its version is one number, MI_MALLOC_VERSION in
include/mimalloc.h, which mi_version() returns at run time. How that number decodes is a table
CMake reads too (allocators/mimalloc-version.json), so the header read at configure time, the
tree read before a build and the running library read in-process all decode alike."""
import json
import re

from tlsleak.families import SOURCE_ROOT, Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text, single

TABLE = json.loads((SOURCE_ROOT / "allocators" / "mimalloc-version.json").read_text())


def decode(number):
    """MI_MALLOC_VERSION / mi_version() -> "major.minor.patch" (209 -> 2.0.9, 3010 -> 3.0.10,
    3208 -> 3.2.8, 20300 -> 2.3.0). A value that is not a number of a known width is returned
    as it is: the mismatch, if any, is then shown as read."""
    text = str(number).strip()
    rule = TABLE["digits"].get(str(len(text))) if text.isdigit() else None
    if rule is None:
        return text
    patch, minor = rule["patch"], rule["minor"]
    parts = (text[:-(patch + minor)], text[-(patch + minor):-patch], text[-patch:])
    return ".".join(str(int(p)) for p in parts)


def tree_version(tree, describe=""):
    """The version the tree's library will report: its header's MI_MALLOC_VERSION, decoded.
    (Its cmake/mimalloc-config-version.cmake disagrees on a few tags, e.g. v1.1.0 says 1.0.)"""
    m = re.search(r"^#define MI_MALLOC_VERSION\s+(\d+)", read_text(tree / "include" / "mimalloc.h"),
                  re.M)
    if m:
        return decode(m.group(1))
    raise StepFailed("not a mimalloc tree: no MI_MALLOC_VERSION in include/mimalloc.h")


def build(ctx):
    if ctx.windows:
        return build_windows(ctx)
    ctx.run("cmake", "-S", ctx.src, "-B", ctx.build, *ctx.cmake_args(), "-DMI_BUILD_TESTS=OFF",
            "-DMI_OVERRIDE=ON", "-DMI_BUILD_STATIC=ON", "-DMI_BUILD_SHARED=ON",
            "-DMI_BUILD_OBJECT=OFF", "-DMI_INSTALL_TOPLEVEL=ON")
    ctx.run("cmake", "--build", ctx.build, "-j", str(ctx.jobs))
    shared = single(ctx.build / "libmimalloc.so*")
    return Artefacts(static=str(single(ctx.build / "libmimalloc.a")), shared=str(shared),
                     preload=str(shared), include=str(ctx.src / "include"))


# The Windows target (MinGW): the static library and the DLL, both reached through mimalloc's
# API (route api, repro/common/mimalloc_api.c: MinGW programs' malloc stays the CRT's), and,
# when the tree carries the prebuilt redirect module (upstream's bin/; Debian's source package
# drops it), the DLL built for redirection (MI_OVERRIDE, MI_WIN_REDIRECT) as `mimalloc.dll`,
# the name the module looks for (v2.1.x's CMake says libmimalloc.dll), with
# mimalloc-redirect.dll beside it: the `redirect` mode (cmake/tlsleak_built.cmake).
DLL_SETUP = SOURCE_ROOT / "cmake" / "mimalloc-dll.cmake"
WINDOWS_OPTIONS = ("MI_OVERRIDE=ON MI_WIN_REDIRECT=ON with bin/mimalloc-redirect.lib, else OFF",
                   "MI_BUILD_STATIC=ON", "MI_BUILD_SHARED=ON",
                   "mimalloc.dll, mimalloc-redirect.dll its first import", "Release")
WRAP = "-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free"


def build_windows(ctx):
    redirect = (ctx.src / "bin" / "mimalloc-redirect.lib").is_file()
    flag = "ON" if redirect else "OFF"
    ctx.run("cmake", "-S", ctx.src, "-B", ctx.build, *ctx.cmake_args(), "-DMI_BUILD_TESTS=OFF",
            f"-DMI_OVERRIDE={flag}", f"-DMI_WIN_REDIRECT={flag}", "-DMI_BUILD_STATIC=ON",
            "-DMI_BUILD_SHARED=ON", "-DMI_BUILD_OBJECT=OFF",
            f"-DCMAKE_PROJECT_INCLUDE={DLL_SETUP}")
    ctx.run("cmake", "--build", ctx.build, "-j", str(ctx.jobs))
    static = [p for p in sorted(ctx.build.glob("lib*.a")) if not p.name.endswith(".dll.a")]
    if not static:
        raise StepFailed("no static mimalloc library after the build")
    module = ctx.build / "mimalloc-redirect.dll"
    return Artefacts(static=str(static[0]), shared=str(single(ctx.build / "mimalloc.dll")),
                     preload=str(module) if redirect and module.is_file() else "",
                     include=str(ctx.src / "include"))


FAMILY = Family(
    name="mimalloc", inprocess="mi_version(): an int, decoded by allocators/mimalloc-version.json",
    decode=decode, tree_version=tree_version, debian_modes=("static",),
    target_modes={"windows": ("static", "dynamic", "redirect")},
    recipe=Recipe(build=build,
                  options=("MI_OVERRIDE=ON", "MI_BUILD_STATIC=ON", "MI_BUILD_SHARED=ON",
                           "Release"),
                  debian_source="mimalloc", upstream="https://github.com/microsoft/mimalloc",
                  static_name="libmimalloc.a",
                  # tlsleak_mimalloc_exports (repro/) re-exports the mi_* API the static
                  # library hides, for the run-time identification.
                  static_extra_targets=("tlsleak_mimalloc_exports",),
                  targets={"windows": dict(
                      options=WINDOWS_OPTIONS, static_name="libmimalloc-static.a",
                      shared_name="mimalloc.dll",
                      static_link="plain", static_link_options=(WRAP,), static_libs=(),
                      static_extra_targets=("tlsleak_mimalloc_api", "tlsleak_mimalloc_exports"),
                      route="api")}))
