"""The space `tlsleak explore` searches: the dimensions of one thread's teardown, as data.

A point is a dict {dimension name: value}. Every point is run by one program,
repro/explore/explore_point.cpp (built as `explore_point` beside the scenarios of every
variant, docs/DESIGN.md "The explore program"), whose options are the dimension names (`--early-key 1`);
nothing is compiled per point. The allocator and its link mode are not a dimension: they are the
configuration (`-a`) a point runs under.

Each dimension lists its values from the simplest to the least simple; the first is where
minimisation (minimise.py) tries to bring it. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass

# glibc's PTHREAD_DESTRUCTOR_ITERATIONS (and TSS_DTOR_ITERATIONS): destructor rounds at thread
# exit. The program checks --round against the platform's own value at run time.
ROUNDS = 4


@dataclass(frozen=True)
class Dimension:
    name: str
    values: tuple  # simplest first
    doc: str

    @property
    def simplest(self):
        return self.values[0]

    @property
    def option(self) -> str:
        """The program's option for this dimension."""
        return "--" + self.name.replace("_", "-")


DIMENSIONS = (
    Dimension("tls", ("pthread", "c11", "cxx", "tlsvar"),
              "how the destructor is registered: a pthread key, a C11 tss key, a C++ "
              "thread_local object, or a pthread key whose destructor reads a __thread variable "
              "(not its value) to find what to act on"),
    Dimension("round", tuple(range(1, ROUNDS + 1)),
              "destructor round in which the destructor acts; it re-arms its key until then "
              "(a C++ thread_local destructor has no rounds: always 1)"),
    Dimension("action", ("free", "malloc_free", "calloc", "realloc", "aligned", "handoff",
                         "free_many", "large"),
              "what the destructor does: free the thread's block; malloc, write and free a "
              "block; the same with calloc; realloc the thread's block to twice its size and "
              "free it; posix_memalign(4096) and free; malloc a block the main thread frees "
              "after the join; free 200 blocks in a row (at most 1 MiB), past cache flush "
              "thresholds; malloc and free 1 MiB + size"),
    Dimension("prealloc", (1, 0),
              "1: the thread uses the allocator in its body, before its destructors (it mallocs "
              "the blocks it holds, or mallocs and frees one block); 0: it never calls the "
              "allocator itself before its destructors (the main thread mallocs the blocks it "
              "holds)"),
    Dimension("early_key", (0, 1),
              "1: the keys are created before any allocator initialises (ELF .preinit_array), "
              "so their destructors come before the allocator's; 0: in main, after it"),
    Dimension("keys", (1, 3),
              "keys (or thread_local objects) per thread, each with its destructor acting"),
    Dimension("end", ("return", "exit", "detached"),
              "how the thread ends: returns, calls pthread_exit, or returns detached (nobody "
              "joins it; the main thread waits until the OS no longer lists it)"),
    Dimension("concurrency", (1, 4), "threads alive at once"),
    Dimension("size", (1024, 16, 65536), "block size class in bytes"),
)

BY_NAME = {d.name: d for d in DIMENSIONS}
NAMES = tuple(d.name for d in DIMENSIONS)

# Actions that act on blocks the thread holds (from its body, or from the main thread when
# prealloc is 0); the others only allocate in the destructor.
HOLDING_ACTIONS = ("free", "realloc", "free_many")


# Catalog scenarios (repro/scenarios/) that are points of this space: the dimensions where each
# differs from the simplest point. A finding whose minimised point is one of these is a shape the
# catalog already has. (cross_thread_free, thread_pool, dlopen_module and the controls are not
# points: no destructor, reused threads, a module.)
CATALOG = {
    "pthread_key_dtor_free": {},
    "tss_dtor_free": {"tls": "c11"},
    "seed_thread_local": {"tls": "cxx"},
    "dtor_allocates": {"action": "malloc_free"},
    "dtor_first_alloc": {"action": "malloc_free", "prealloc": 0},
    "dtor_allocates_handoff": {"action": "handoff"},
    "last_round_alloc": {"round": ROUNDS, "action": "malloc_free"},
    "dealloc_only_thread": {"round": ROUNDS, "action": "free_many", "prealloc": 0},
    "early_key": {"early_key": 1},
    "pthread_exit_churn": {"end": "exit"},
    "detached_threads": {"end": "detached"},
}


def catalog_shape(point: dict) -> str | None:
    """The catalog scenario that is this point (normalised), or None."""
    p = normalise(point)
    for name, dims in CATALOG.items():
        if normalise(complete(dims)) == p:
            return name
    return None


def simplest() -> dict:
    """The simplest point: every dimension at its simplest value."""
    return {d.name: d.simplest for d in DIMENSIONS}


def validate(point: dict) -> dict:
    """The point itself if every dimension is present with one of its values; ValueError
    naming the first problem otherwise."""
    for name in point:
        if name not in BY_NAME:
            raise ValueError("unknown dimension %r (known: %s)" % (name, ", ".join(NAMES)))
    for d in DIMENSIONS:
        if d.name not in point:
            raise ValueError("dimension %r missing" % d.name)
        if point[d.name] not in d.values:
            raise ValueError("%s=%r is not one of %s"
                             % (d.name, point[d.name], ", ".join(map(str, d.values))))
    return point


def normalise(point: dict) -> dict:
    """The point the program really runs: dimensions that do not apply set to their simplest
    value, so two points that run the same thing compare equal. A C++ thread_local destructor
    has no rounds to re-arm in and is registered at first use, never before the allocator."""
    p = dict(validate(dict(point)))
    if p["tls"] == "cxx":
        p["round"] = BY_NAME["round"].simplest
        p["early_key"] = BY_NAME["early_key"].simplest
    return p


def complete(partial: dict) -> dict:
    """A point from the dimensions given, the rest at their simplest."""
    return validate({**simplest(), **partial})


def key(point: dict) -> str:
    """Canonical text of a point, e.g. "tls=pthread round=4 ... size=1024" (ids, dedupe)."""
    return " ".join("%s=%s" % (name, point[name]) for name in NAMES)


def parse_key(text: str) -> dict:
    """The point `key` printed; ValueError when it is not one."""
    out = {}
    for token in text.split():
        name, sep, value = token.partition("=")
        if not sep or name not in BY_NAME:
            raise ValueError("not a point: %r" % token)
        d = BY_NAME[name]
        out[name] = int(value) if isinstance(d.simplest, int) else value
    return validate(out)


def argv(point: dict, *, threads: int, interval: int) -> list:
    """The options of explore_point for this point (after the program path)."""
    p = normalise(point)
    out = []
    for d in DIMENSIONS:
        out += [d.option, str(p[d.name])]
    return out + ["--threads", str(threads), "--interval", str(interval)]


def differs(a: dict, b: dict) -> list:
    """Names of the dimensions where two points differ, in dimension order."""
    return [name for name in NAMES if a[name] != b[name]]


def size() -> int:
    """Number of points in the full product."""
    n = 1
    for d in DIMENSIONS:
        n *= len(d.values)
    return n
