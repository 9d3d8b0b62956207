"""What the programs run on (the target), as the build manifest says: the program file suffix,
the launcher a program runs under (e.g. ["wine"] for a cross-built Windows program), the
variable that preloads a library, the scenarios this toolchain can build. Host process
control is host/'s business; this module only reads build/manifest.json (docs/DESIGN.md
section 4).

The manifest may state the facts in an optional "target" object (`suffix`, `launcher`,
`preload_var`);
without it they follow from `build.system` (CMake's CMAKE_SYSTEM: "Linux-6.1.0",
"Windows-10.0", "Darwin-23.0").
"""
import os
from dataclasses import dataclass, field

# Every variable that preloads a library somewhere: never inherited by a cell.
PRELOAD_VARS = ("LD_PRELOAD", "DYLD_INSERT_LIBRARIES")

# By the system's name: (program suffix, preload variable or "" for none).
_BY_SYSTEM = {"Windows": (".exe", ""), "Darwin": ("", "DYLD_INSERT_LIBRARIES")}
_DEFAULT = ("", "LD_PRELOAD")


@dataclass(frozen=True)
class Target:
    system: str = ""
    suffix: str = ""
    preload_var: str = "LD_PRELOAD"
    launcher: tuple = ()  # argv prefix a program runs under; () = run it directly
    scenarios: tuple = field(default=())  # names the toolchain can build; () = not stated
    probe: str = ""  # the thread-counting preload library for --exec ("" = none here)
    probe_target: str = ""  # the CMake target that builds it

    @classmethod
    def from_manifest(cls, manifest):
        system = (manifest.get("build") or {}).get("system", "")
        suffix, preload = _BY_SYSTEM.get(system.split("-", 1)[0], _DEFAULT)
        stated = manifest.get("target") or {}
        return cls(system=system, suffix=stated.get("suffix", suffix),
                   preload_var=stated.get("preload_var", preload),
                   launcher=tuple(stated.get("launcher", ())),
                   scenarios=tuple(s["name"] for s in manifest.get("scenarios") or ()),
                   probe=(manifest.get("probe") or {}).get("library", ""),
                   probe_target=(manifest.get("probe") or {}).get("target", ""))

    def program(self, bin_dir, scenario):
        return os.path.join(bin_dir, scenario + self.suffix)

    def argv(self, bin_dir, scenario, args):
        """The command line that runs a scenario program with these arguments."""
        return [*self.launcher, self.program(bin_dir, scenario), *args]

    def buildable(self, name):
        return not self.scenarios or name in self.scenarios
