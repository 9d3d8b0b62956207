"""Where the repro programs run (`--platform`): natively, built against musl and run natively,
or cross-built for Windows and run under Wine. Each platform is one module here with the same
small interface, chosen by name where a command needs it (as host/ is for the harness's own OS):

  NAME            its --platform name
  BUILD_DIR       the CMake build tree it uses by default (relative to the checkout)
  cmake_args()    extra configure arguments (a toolchain file)
  TOOLCHAIN       the families.recipe.Toolchain allocators built from source use for it
  SETUP_PROFILE   the ci/setup.sh profile that installs its tools, or None
  MAX_JOBS        cells it can run at once (None: as many as -j)
  check()         raise InfraError, one line, when a tool it needs is missing
  target(t)       the target.Target of its manifest, with what its cells' environment needs
  running(t)      a context manager around the cells: what must live while they run
  describe_exit(returncode, end)  ("crash" | "error", one line) or None: the host's reading

The workload defaults that differ per platform are defaults.PLATFORM_DEFAULTS.
"""
from tlsleak import UsageError
from tlsleak.platforms import musl, native, wine

PLATFORMS = {m.NAME: m for m in (native, musl, wine)}
NAMES = tuple(PLATFORMS)


def get(name):
    try:
        return PLATFORMS[name]
    except KeyError:
        raise UsageError(f"unknown platform '{name}' (known: {', '.join(NAMES)})") from None
