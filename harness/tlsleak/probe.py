"""The probe's shared file (docs/DESIGN.md "The probe"; the C side is probe/probe.h).

libtlsleak_probe.so, preloaded into every dynamically linked process a command starts, counts
the threads each process starts and finishes in its own slot of one file at the path in
TLSLEAK_PROBE_FILE: a header of 16 native-endian 64-bit words, then slots of 16 words.

    header  0 magic "TLSPROBE"  1 version (2)  2 slots  3 slot_words  4 claimed  5 overflow
            6 gate  7 attached
    slot    0 pid  1 start  2 flags  3 started  4 finished  5 returned  6 detached  7 t_ns
            8 unwrapped  9 images  10 parent

`create` makes a fresh file before the command starts; `environment` is what to add to its
environment; `read_file` reads every slot once (the sampler, probe/sampler.c, reads them while
the command runs); `decode` and `encode` are the pure parts, for tests.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from tlsleak import atomic

ENV = "TLSLEAK_PROBE_FILE"
MAGIC = b"TLSPROBE"
VERSION = 2
SIZE = 65536
HEADER_WORDS = 16
SLOT_WORDS = 16
SLOTS = (SIZE // 8 - HEADER_WORDS) // SLOT_WORDS
HEADER = ("magic", "version", "slots", "slot_words", "claimed", "overflow", "gate",
          "attached")
SLOT = ("pid", "start", "flags", "started", "finished", "returned", "detached", "t_ns",
        "unwrapped", "images", "parent")
_WORD = struct.Struct("=Q")  # native byte order, as the probe writes it

FLAG_TEARDOWN = 1  # `finished` counts at the thread's last TLS destructor round


@dataclass(frozen=True)
class Counts:
    """One process's slot."""

    pid: int        # the process publishing here
    start: int      # its start time (clock ticks after boot): tells an exec from a reused pid
    flags: int
    started: int    # threads whose start routine began
    finished: int   # threads whose teardown is over (at the last destructor round, or body end)
    returned: int   # threads whose body ended (returned or called pthread_exit)
    detached: int   # threads created detached or detached later
    t_ns: int       # CLOCK_MONOTONIC (time.monotonic_ns) of the last change of a count
    unwrapped: int  # threads that ran uncounted (the probe's hand-over table was full)
    images: int     # program images that published here: 1, plus one per exec
    parent: int     # its parent's pid when it claimed the slot

    @property
    def teardown(self) -> bool:
        """`finished` is counted after the thread's TLS destructors (else when its body ends)."""
        return bool(self.flags & FLAG_TEARDOWN)

    @property
    def alive(self) -> int:
        """Threads started and not finished: running, or in their teardown."""
        return self.started - self.finished

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in SLOT if name != "start"}


@dataclass(frozen=True)
class File:
    """One reading of the whole file: every slot claimed, and the processes left without one."""

    claimed: int      # slots handed out (more than len(slots) when some process found none)
    overflow: int     # processes that found the table full: their threads were not counted
    slots: tuple = ()  # Counts of each slot that is ready, in claim order

    def of(self, pid: int) -> Counts | None:
        """The slot of process `pid` (its latest, should the pid have been reused)."""
        found = [c for c in self.slots if c.pid == pid]
        return found[-1] if found else None

    @property
    def finished(self) -> int:
        """Threads finished by every process of the command."""
        return sum(c.finished for c in self.slots)


def encode(slots=(), **header: int) -> bytes:
    """A file with the magic, the version, the table's shape, `header` words and the given
    slots (dicts of SLOT words; zero otherwise)."""
    words = {"magic": _WORD.unpack(MAGIC)[0], "version": VERSION, "slots": SLOTS,
             "slot_words": SLOT_WORDS, "claimed": len(slots), **header}
    unknown = set(words) - set(HEADER) | {k for s in slots for k in s} - set(SLOT)
    if unknown:
        raise ValueError(f"unknown probe words: {', '.join(sorted(unknown))}")
    data = bytearray(SIZE)
    for i, name in enumerate(HEADER):
        _WORD.pack_into(data, 8 * i, words.get(name, 0))
    for n, slot in enumerate(slots):
        base = 8 * (HEADER_WORDS + n * SLOT_WORDS)
        for i, name in enumerate(SLOT):
            _WORD.pack_into(data, base + 8 * i, slot.get(name, 0))
    return bytes(data)


def decode(data: bytes) -> File | None:
    """The file's slots, or None when it is not a probe file of this layout (too short,
    another magic, version or shape)."""
    if len(data) < SIZE:
        return None
    head = dict(zip(HEADER, struct.unpack_from("=%dQ" % len(HEADER), data)))
    if _WORD.pack(head["magic"]) != MAGIC or head["version"] != VERSION \
            or head["slots"] != SLOTS or head["slot_words"] != SLOT_WORDS:
        return None
    slots = []
    for n in range(min(head["claimed"], SLOTS)):
        values = struct.unpack_from("=%dQ" % len(SLOT), data, 8 * (HEADER_WORDS + n * SLOT_WORDS))
        if values[0]:  # pid 0: being claimed, not ready
            slots.append(Counts(**dict(zip(SLOT, values))))
    return File(claimed=head["claimed"], overflow=head["overflow"], slots=tuple(slots))


def create(path: str | os.PathLike, gate: bool = False) -> Path:
    """Write a fresh probe file, no slot claimed, at `path` (replacing one left there), mode
    0600. `gate`: the command's processes wait in the probe until the sampler has sampled them
    (it sets `attached`; `open_gate` where no sampler runs)."""
    # never a half-written header under the name the program opens
    return atomic.write_bytes(path, encode(gate=int(gate)), mode=0o600)


def open_gate(path: str | os.PathLike) -> None:
    """Let the processes waiting at the gate go on (no sampler will)."""
    with open(path, "r+b") as fh:
        fh.seek(8 * HEADER.index("attached"))
        fh.write(_WORD.pack(1))


def read_file(path: str | os.PathLike) -> File | None:
    """The slots in the file at `path` (None when it is missing or not a probe file)."""
    try:
        with open(path, "rb") as fh:
            return decode(fh.read(SIZE))
    except OSError:
        return None


def preload_list(library: str, preload: str = "") -> str:
    """The LD_PRELOAD value: the configuration's preload (an override allocator) first, then
    the probe. Either order works (the probe defines no allocator symbol); one order keeps
    results comparable."""
    return " ".join(p for p in (preload, library) if p)


def environment(path: str | os.PathLike, library: str, preload: str = "") -> dict:
    """What to add to the program's environment to count its threads into `path`."""
    var = "DYLD_INSERT_LIBRARIES" if os.uname().sysname == "Darwin" else "LD_PRELOAD"
    return {ENV: str(path), var: preload_list(library, preload)}
