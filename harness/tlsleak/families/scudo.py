"""LLVM's scudo, the standalone one (llvm/llvm-project, compiler-rt/lib/scudo/standalone): its
version is LLVM's (LLVM_VERSION_MAJOR, _MINOR, _PATCH in llvm/CMakeLists.txt, or
cmake/Modules/LLVMVersion.cmake from LLVM 18). scudo has no run-time version call, so a program
reports none; the build (or the Debian package's resource folder) says which it is.

The recipe builds the allocator alone, as its own documentation does: every .cpp of the
standalone folder (but the Fuchsia and Trusty ports) compiled into one archive and one shared
library; no CMake run of the whole LLVM tree."""
import platform
import re

from tlsleak.families import Family
from tlsleak.families.recipe import Artefacts, Recipe, StepFailed, read_text

STANDALONE = ("compiler-rt", "lib", "scudo", "standalone")
# As scudo's own build: C++17, no exceptions or RTTI, hidden symbols but the C interface
# (its wrappers export themselves), CRC32 checksums with SSE 4.2 on x86.
FLAGS = ("-std=c++17", "-O2", "-g", "-fPIC", "-pthread", "-DNDEBUG", "-fno-exceptions",
         "-fno-rtti", "-fvisibility=hidden")
SKIPPED = ("fuchsia", "trusty")


def standalone(tree):
    """The scudo folder of `tree`: an LLVM tree, or that folder itself."""
    nested = tree.joinpath(*STANDALONE)
    return nested if nested.is_dir() else tree


def tree_version(tree, describe=""):
    for name in (("cmake", "Modules", "LLVMVersion.cmake"), ("llvm", "CMakeLists.txt")):
        text = read_text(tree.joinpath(*name))
        parts = [re.search(rf"set\(\s*LLVM_VERSION_{p}\s+(\d+)", text)
                 for p in ("MAJOR", "MINOR", "PATCH")]
        if all(parts):
            return ".".join(m.group(1) for m in parts)
    raise StepFailed("not an LLVM tree: no LLVM_VERSION_MAJOR in llvm/CMakeLists.txt or "
                     "cmake/Modules/LLVMVersion.cmake")


def build(ctx):
    src = standalone(ctx.src)
    sources = [p for p in sorted(src.glob("*.cpp")) if not any(s in p.name for s in SKIPPED)]
    if not sources:
        raise StepFailed(f"no scudo sources in {'/'.join(STANDALONE)}")
    ctx.build.mkdir(parents=True, exist_ok=True)
    cxx = ctx.env["CXX"].split()
    arch = ["-msse4.2"] if platform.machine() == "x86_64" else []
    objects = []
    for source in sources:
        obj = ctx.build / (source.stem + ".o")
        ctx.run(*cxx, *FLAGS, *arch, f"-I{src / 'include'}", f"-I{src}", "-c", source,
                "-o", obj)
        objects.append(obj)
    ctx.run("ar", "rcs", ctx.build / "libscudo.a", *objects)
    # scudo needs no C++ runtime: --as-needed drops the libstdc++ the driver adds (GCC 12 has
    # no -nostdlib++), so a program's own libstdc++ stays its own.
    ctx.run(*cxx, "-shared", "-pthread", "-Wl,--as-needed", "-o", ctx.build / "libscudo.so",
            *objects)
    return Artefacts(static=str(ctx.build / "libscudo.a"), shared=str(ctx.build / "libscudo.so"),
                     preload=str(ctx.build / "libscudo.so"), include=str(src / "include"))


FAMILY = Family(
    name="scudo", inprocess="none (scudo has no version call)", decode=str,
    tree_version=tree_version,
    recipe=Recipe(build=build, options=FLAGS + ("-msse4.2", "--as-needed"),
                  upstream="https://github.com/llvm/llvm-project",
                  # The wrappers define malloc and the C++ operators in one archive: a plain
                  # link pulls the C half in by -u malloc, the operators for C++ programs.
                  static_link="plain", static_link_options=("-Wl,--undefined=malloc",),
                  static_libs=("pthread",)))
