"""The corpus of real programs (README, "Corpus"): what each program is (programs.json), how it
is built (CMakeLists.txt, a CMake project of its own, as a user's would be), the
configurations it runs under, and the truth about it measured outside tlsleak (truth.json).

The truth: the corpus's own preload (preload/rss_at.c, not tlsleak's probe) reads the resident
set size when N and when 3N of the program's threads have finished, N a quarter of its
threads, under each configuration (the allocator preloaded before it, as tlsleak preloads
it); (RSS(3N) - RSS(N)) / 2N is the growth per thread. A verdict needs a margin: `leak` when
every run is at least LEAK_ABOVE x the floor, `ok` when every run is at most OK_BELOW x the
floor; anything between is `close` and stays out of the suite (said so, never passed).

How a program is started under tlsleak and how a verdict is held against the truth:
starts.py. Read by test_corpus.py and ci/corpus.py."""
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tlsleak import defaults, provenance

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LAUNCHER = ROOT / "tlsleak"
TRUTH_FILE = HERE / "truth.json"
# The interpreter ci/setup.sh chose (the one the test command runs): it runs the corpus's Python
# program and the pytest start, whoever imports this module.
_CHOSEN = ROOT / ".cache" / "python"
PYTHON = _CHOSEN.read_text().strip() if _CHOSEN.exists() else sys.executable
TRUTH_FORMAT = "tlsleak-corpus-truth/1"
FLOOR = defaults.default("floor")
OK_BELOW, LEAK_ABOVE = 0.5, 2.0  # x the floor: the truth's margin on each side
# RSS "at N" is the median of the readings at N x each of these: one reading alone can land
# while a program holds a few large blocks for a moment (mimalloc's stress test holds blocks
# of up to 6 MB), and the difference of two such readings is not a rate.
AROUND = tuple(round(0.75 + 0.05 * i, 2) for i in range(11))
# Variables that change how an allocator or the C library behaves: never inherited by a
# program of the corpus, whether tlsleak runs it or the truth is measured.
BUILD_TYPE = "RelWithDebInfo"  # -O2 -g -DNDEBUG, as a distribution builds
INFLUENCES = ("LD_", "MALLOC_", "MIMALLOC_", "TCMALLOC_", "JE_MALLOC", "GLIBC_TUNABLES",
              "TBB_", "PYTHONMALLOC")


@dataclass(frozen=True)
class Program:
    name: str
    run: str  # a target of CMakeLists.txt, or "python"
    args: tuple
    threads: int
    twin: str
    about: str
    script: str = ""


def programs():
    doc = json.loads((HERE / "programs.json").read_text())
    return [Program(p["name"], p["run"], tuple(p["args"]), p["threads"], p["twin"], p["about"],
                    p.get("script", "")) for p in doc["programs"]]


def by_name(name):
    found = [p for p in programs() if p.name == name]
    if not found:
        raise KeyError(f"no program {name!r} in tests/corpus/programs.json")
    return found[0]


def clean_env(**extra):
    """The caller's environment without what changes an allocator's or libc's behaviour, with
    tlsleak's set-up skipped (the test command or ci/corpus.py did it), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(INFLUENCES)}
    return {**env, "TLSLEAK_SKIP_SETUP": "1", **extra}


def configurations():
    """`tlsleak list --json --configure`'s `system` and the override configurations of real
    allocators (not the project's own allocators/, whose allocator is a test instrument):
    label, preload, available, reason."""
    r = subprocess.run([str(LAUNCHER), "list", "--json", "--configure"], capture_output=True,
                       text=True, env=clean_env(), timeout=1800, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"tlsleak list --json failed ({r.returncode}): {r.stderr.strip()}")
    return [c for c in json.loads(r.stdout)["configs"]
            if c["mode"] == "system"
            or (c["mode"] == "override" and not c["origin"].startswith("allocators/"))]


# --- the build ---------------------------------------------------------------------------------

def mimalloc_source():
    """mimalloc's source tree from Debian's source package (ci/setup.sh fetches it), or ""."""
    found = sorted((ROOT / ".cache" / "src").glob("mimalloc-*/test/test-stress.c"))
    return str(found[-1].parents[1]) if found else ""


class Built:
    """The corpus's build folder: the programs, the truth's preload, the CTest tests."""

    def __init__(self, build_dir, log):
        self.dir = Path(build_dir)
        self.log = log  # what CMake said (a program left out says why)
        self.rss_at = self.dir / "lib" / "libcorpus_rss_at.so"

    def argv(self, program):
        """The program's command line, or None when it was not built here."""
        if program.run == "python":
            return [PYTHON, str(HERE / "programs" / program.script), *program.args]
        exe = self.dir / "bin" / program.run
        return [str(exe), *program.args] if exe.exists() else None

    def why_missing(self, program):
        said = [line.strip("- ") for line in self.log.splitlines()
                if "corpus: " in line and program.run in line]
        return said[0] if said else f"{program.run} was not built (see {self.dir})"

    def compilers(self):
        """{C: ..., CXX: ...}: the first line of each compiler's --version, and the build type."""
        cache = (self.dir / "CMakeCache.txt").read_text()
        found = {"build_type": BUILD_TYPE}
        for lang in ("C", "CXX"):
            m = re.search(rf"^CMAKE_{lang}_COMPILER:FILEPATH=(.*)$", cache, re.M)
            said = subprocess.run([m.group(1), "--version"], capture_output=True, text=True)
            found[lang] = f"{m.group(1)}: {said.stdout.splitlines()[0]}"
        return found

    def configure(self, allocators=None):
        """(Re)configure, registering each program's CTest test under allocators[name]
        (default: system)."""
        cmd = ["cmake", "-S", str(HERE), "-B", str(self.dir), f"-Dtlsleak_DIR={ROOT / 'cmake'}",
               f"-DCMAKE_BUILD_TYPE={BUILD_TYPE}",
               f"-DCORPUS_MIMALLOC_SOURCE={mimalloc_source()}",
               f"-DPython3_EXECUTABLE={PYTHON}"]
        for p in programs():
            labels = (allocators or {}).get(p.name) or ["system"]
            cmd.append(f"-DCORPUS_ALLOCATORS_{p.name}={';'.join(labels)}")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"configuring the corpus failed:\n{r.stdout}\n{r.stderr}")
        self.log = r.stdout


def build(build_dir):
    built = Built(build_dir, "")
    built.configure()
    r = subprocess.run(["cmake", "--build", str(built.dir), "-j2"], capture_output=True,
                       text=True, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"building the corpus failed:\n{r.stdout[-4000:]}\n{r.stderr}")
    return built


# --- the truth, measured outside tlsleak ------------------------------------------------------

def thresholds(program):
    n = program.threads // 4
    return n, {k: sorted(round(k * n * f) for f in AROUND) for k in (1, 3)}


def parse_readings(text):
    readings, total = {}, None
    for line in text.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "at" in fields and "rss" in fields:
            readings[int(fields["at"])] = int(fields["rss"])
        elif "total" in fields:
            total = int(fields["total"])
    return readings, total


def measure_once(built, program, config, scratch):
    """(RSS(3N) - RSS(N)) / 2N of one run of `program` under `config`, in B/thread."""
    n, at = thresholds(program)
    out = Path(scratch) / f"{program.name}-{config['label'].replace(':', '-')}.rss"
    out.unlink(missing_ok=True)
    preload = " ".join(x for x in (config["preload"], str(built.rss_at)) if x)
    env = clean_env(CORPUS_RSS_OUT=str(out), LD_PRELOAD=preload,
                    CORPUS_RSS_AT=",".join(str(t) for k in (1, 3) for t in at[k]))
    proc = subprocess.run(built.argv(program), env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=900)
    readings, total = parse_readings(out.read_text() if out.exists() else "")
    # (A thread may still be counted after the program's last join returned, and not at all
    # when the process ends first: `total` is only told.)
    if proc.returncode != 0 or len(readings) != 2 * len(AROUND):
        raise RuntimeError(f"{program.name} under {config['label']}: exit {proc.returncode}, "
                           f"{total} threads counted, readings {readings}: "
                           f"{proc.stderr.strip()[-500:]}")
    rss = {k: statistics.median(readings[t] for t in at[k]) for k in (1, 3)}
    return (rss[3] - rss[1]) / (2 * n)


def implied(rates):
    """The verdict the outside measurement implies, with its margin on both sides."""
    if all(r >= LEAK_ABOVE * FLOOR for r in rates):
        return "leak"
    if all(r <= OK_BELOW * FLOOR for r in rates):
        return "ok"
    return "close"


def measure(built, configs, runs, chosen, scratch, command, say=print):
    """The truth document for the programs `chosen` under `configs`, `runs` runs each;
    `command` is the command line that measured it. Each configuration's entry names its
    measurement (an index into `measurements`: date, command, harness, host, compilers)."""
    doc = {"format": TRUTH_FORMAT,
           "floor": FLOOR, "ok_below": OK_BELOW * FLOOR, "leak_above": LEAK_ABOVE * FLOOR,
           "method": ("(RSS(3N) - RSS(N)) / 2N in B/thread, N = a quarter of the program's "
                      "threads, RSS(N) the median of readings at N x "
                      + ", ".join(map(str, AROUND)) + ", read by preload/rss_at.c"),
           "measurements": [{"date": datetime.date.today().isoformat(), "command": command,
                             "harness": provenance.harness(), "host": provenance.host(),
                             "compilers": built.compilers(), "python": PYTHON}],
           "programs": {}}
    for program in chosen:
        n, _ = thresholds(program)
        entry = doc["programs"][program.name] = {"threads": program.threads, "n": n,
                                                 "configs": {}}
        for config in configs:
            if not config["available"] or built.argv(program) is None:
                continue
            rates = [round(measure_once(built, program, config, scratch), 1)
                     for _ in range(runs)]
            entry["configs"][config["label"]] = {
                "allocator": config["id"], "library": config["library"], "runs": rates,
                "rate": round(statistics.median(rates), 1), "verdict": implied(rates),
                "measured": 0}
            say(f"{program.name:24} {config['label']:20} {statistics.median(rates):9.1f} "
                f"B/thread  {implied(rates)}  (runs: {', '.join(map(str, rates))})")
    return doc


def merged(new, old):
    """`new` with what `old` recorded and `new` did not measure (programs, configurations),
    each keeping its own measurement; measurements nothing refers to any more are dropped."""
    out = json.loads(json.dumps(new))
    index = {}  # old measurement -> its index in out
    for name, entry in old.get("programs", {}).items():
        mine = out["programs"].setdefault(name, {**entry, "configs": {}})
        for label, t in entry["configs"].items():
            if label in mine["configs"]:
                continue
            if t["measured"] not in index:
                index[t["measured"]] = len(out["measurements"])
                out["measurements"].append(old["measurements"][t["measured"]])
            mine["configs"][label] = {**t, "measured": index[t["measured"]]}
    return out


def load_truth(path=TRUTH_FILE):
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != TRUTH_FORMAT:
        raise ValueError(f"{path}: not a {TRUTH_FORMAT} document")
    return doc


def truth_of(doc, program, config):
    """The recorded truth for one program under one configuration, or None."""
    return doc["programs"].get(program, {}).get("configs", {}).get(config)
