"""The memory signals: one row each, from which judging (stats/), the `--signals` choices
and the docs derive.

floor: "os" (the --floor, for the OS's view of the process), "stats" (the --stats-floor, for the
allocator's own byte-exact statistics) or a number (a count per thread).
role: "deciding" (may decide a cell's verdict), "shown" (judged and shown, never deciding) or
"attribution" (what the allocator says it holds; shown beside the verdict).
A checkpoint key this table does not know is judged and shown as well, never dropped.
"""
from dataclasses import dataclass

# Field names of a checkpoint that are the x axis or bookkeeping, not a memory signal.
BOOKKEEPING = frozenset({"done", "t_ns", "t_recv", "os_threads"})


@dataclass(frozen=True)
class Signal:
    name: str
    unit: str
    floor: object  # "os", "stats" or a number (units per thread)
    role: str
    meaning: str


# Table order is the order in which deciding signals are named: commit first, so where the OS
# keeps a commit charge (Windows) it is the one that decides; it counts every private byte,
# while a working set (rss) may be trimmed. Elsewhere there is no commit and rss decides.
TABLE = (
    Signal("commit", "B", "os", "deciding", "commit charge (Windows)"),
    Signal("rss", "B", "os", "deciding", "resident memory"),
    Signal("heap_inuse", "B", "stats", "deciding", "bytes the allocator says the program holds"),
    Signal("heap_mapped", "B", "stats", "deciding", "bytes the allocator holds from the OS"),
    Signal("vsize", "B", "os", "shown", "address space (allocators reserve it freely)"),
    Signal("maps", "maps", 0.01, "shown", "number of memory mappings"),
    Signal("alloc_meta", "B", "os", "attribution", "allocator metadata bytes"),
    Signal("alloc_tcache", "B", "os", "attribution", "bytes held in per-thread caches"),
    Signal("alloc_threads", "structures", 0.01, "attribution",
           "per-thread heaps or caches alive"),
    Signal("external_rss", "B", "os", "shown",
           "RSS sampled from outside by the harness, mapped onto threads done"),
)
BY_NAME = {s.name: s for s in TABLE}
EXTERNAL = "external_rss"  # not a checkpoint field: the harness's own samples

# --signals: which deciding signals may decide, by the floor they are judged against.
CHOICES = {"all": ("os", "stats"), "os": ("os",)}


def deciding(choice="all"):
    """The deciding signals that `--signals choice` lets decide, in table order."""
    kinds = CHOICES[choice]
    return tuple(s.name for s in TABLE if s.role == "deciding" and s.floor in kinds)


def unit(name):
    """The unit of a signal's values; "B" for a name the table does not know."""
    s = BY_NAME.get(name)
    return s.unit if s else "B"


def floor_for(name, floor, stats_floor):
    """The floor a signal is judged against (units per thread)."""
    kind = BY_NAME[name].floor if name in BY_NAME else "os"
    return {"os": floor, "stats": stats_floor}.get(kind, kind)


def judged_order(decide, present):
    """Which signals to judge, in order: the deciding ones, every other known checkpoint signal,
    then unknown keys present in the checkpoints (sorted), so nothing is silently dropped."""
    known = [s.name for s in TABLE if s.name not in decide and s.name != EXTERNAL]
    unknown = sorted(k for k in present if k not in BY_NAME)
    return list(decide) + known + unknown
