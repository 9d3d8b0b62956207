"""What the programs run on (the target), as the build manifest says: the program file suffix,
the launcher a program runs under (e.g. ["wine"] for a cross-built Windows program), the
variable that preloads a library, the scenarios this toolchain can build. Host process
control is host/'s business; this module only reads build/manifest.json (docs/DESIGN.md
"Build manifest").

The manifest may state the facts in an optional "target" object (`os`, `suffix`,
`launcher`, `launcher_env`, `preload_var`; CMake writes every one); without it they follow from `build.system` (CMake's CMAKE_SYSTEM: "Linux-6.1.0",
"Windows-10.0", "Darwin-23.0").
"""
import os
import platform as _host
from dataclasses import dataclass, field

from tlsleak import UsageError, environment

# Every variable that preloads a library somewhere: never inherited by a cell.
PRELOAD_VARS = ("LD_PRELOAD", "DYLD_INSERT_LIBRARIES")

# By the system's name: (program suffix, preload variable or "" for none).
_BY_SYSTEM = {"Windows": (".exe", ""), "Darwin": ("", "DYLD_INSERT_LIBRARIES")}
_DEFAULT = ("", "LD_PRELOAD")
# CMake's CMAKE_SYSTEM_PROCESSOR and Python's machine() spell some processors differently.
_ARCH = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}
_OS = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}


def arch_name(text):
    """One spelling per processor: 'AMD64' and 'x86_64' are 'x86_64', 'aarch64' is 'arm64'."""
    t = (text or "").lower()
    return _ARCH.get(t, t)


def label(os_name, arch, platform="native"):
    """What a run's programs ran on, as one word for grids and merged ids: 'linux-x86_64',
    'macos-arm64', 'windows-x86_64-wine' (the platform named when it is not native)."""
    words = [os_name or "unknown", arch_name(arch) or "unknown"]
    return "-".join(words + ([platform] if platform != "native" else []))


def os_of_system(system):
    """'linux', 'windows', 'macos' from CMake's system ('Linux-6.1.0'); '' when unknown."""
    name = (system or "").split("-", 1)[0]
    return _OS.get(name, name.lower())


def _preloadable(path):
    """The probe library by a path the preload variable can carry (environment.preload_path);
    a usage error in one line when there is none."""
    try:
        return environment.preload_path(path)
    except ValueError as e:
        raise UsageError(str(e))


@dataclass(frozen=True)
class Target:
    system: str = ""
    suffix: str = ""
    preload_var: str = "LD_PRELOAD"
    launcher: tuple = ()  # argv prefix a program runs under; () = run it directly
    launcher_env: tuple = ()  # (name, value) pairs the launcher needs (Wine: WINEDEBUG)
    os: str = ""  # "linux", "windows", "macos" as the build says; "" = not stated
    arch: str = ""  # the target processor as the build says ("x86_64"); "" = not stated
    platform: str = "native"  # where the programs run (platforms/): set by the platform
    scenarios: tuple = field(default=())  # names the toolchain can build; () = not stated
    unavailable: tuple = field(default=())  # (name, reason) of those it cannot build
    probe: str = ""  # the thread-counting preload library for --exec ("" = none here)
    probe_target: str = ""  # the CMake target that builds it
    sampler: str = ""  # the program that samples a cell's processes ("" = none: from a thread)
    sampler_target: str = ""  # the CMake target that builds it

    @classmethod
    def from_manifest(cls, manifest):
        system = (manifest.get("build") or {}).get("system", "")
        suffix, preload = _BY_SYSTEM.get(system.split("-", 1)[0], _DEFAULT)
        stated = manifest.get("target") or {}
        return cls(system=system, suffix=stated.get("suffix", suffix),
                   preload_var=stated.get("preload_var", preload),
                   launcher=tuple(stated.get("launcher", ())),
                   launcher_env=tuple(sorted((stated.get("launcher_env") or {}).items())),
                   os=stated.get("os", ""), arch=arch_name(stated.get("arch", "")),
                   scenarios=tuple(s["name"] for s in manifest.get("scenarios") or ()),
                   unavailable=tuple((s["name"], s.get("reason", ""))
                                     for s in manifest.get("unavailable_scenarios") or ()),
                   probe=_preloadable((manifest.get("probe") or {}).get("library", "")),
                   probe_target=(manifest.get("probe") or {}).get("target", ""),
                   sampler=(manifest.get("probe") or {}).get("sampler", ""),
                   sampler_target=(manifest.get("probe") or {}).get("sampler_target", ""))

    def tools(self, exec_cells=False):
        """The CMake targets of the harness's own programs the cells need beside their
        configurations': the sampler (sampler.py) for every cell, the probe (exec_probe.py)
        for --exec cells."""
        return [t for t in (self.sampler_target, self.probe_target if exec_cells else "") if t]

    @property
    def label(self):
        """'linux-x86_64', 'windows-x86_64-wine': see label(). Without the build's word, the
        system's name and (for a native build) this host's processor."""
        native = self.platform == "native"
        return label(self.os or os_of_system(self.system),
                     self.arch or (_host.machine() if native else ""), self.platform)

    def record(self):
        """The results document's `target` object (docs/RESULTS.md)."""
        return {"label": self.label, "platform": self.platform,
                "os": self.os or os_of_system(self.system), "arch": self.arch or None,
                "system": self.system}

    def program(self, bin_dir, scenario):
        return os.path.join(bin_dir, scenario + self.suffix)

    def argv(self, bin_dir, scenario, args):
        """The command line that runs a scenario program with these arguments."""
        return [*self.launcher, self.program(bin_dir, scenario), *args]

    def buildable(self, name):
        return not self.scenarios or name in self.scenarios

    def why_not(self, name):
        """Why this toolchain does not build scenario `name` (the manifest's reason), or None
        when it builds it or does not say."""
        return dict(self.unavailable).get(name) if not self.buildable(name) else None
