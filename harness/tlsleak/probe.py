"""Reader of the probe's shared file (docs/DESIGN.md section 5; the C side is probe/probe.h).

libtlsleak_probe.so, preloaded into an unmodified program, counts the threads it starts and
finishes in one page of native-endian 64-bit words, at the path in TLSLEAK_PROBE_FILE:

    word 0 magic "TLSPROBE"   4 started    8 t_ns (CLOCK_MONOTONIC of the last change)
         1 version (1)        5 finished   9 unwrapped
         2 pid (0 = unclaimed) 6 returned 10 refused
         3 flags              7 detached

`create` makes a fresh file before the program starts; `environment` is what to add to its
environment; `Reader` reads the counts while it runs (each word on its own, `finished` before
`started`, so a reading never shows more threads finished than started); `read_file` reads them
once, after it ended. `decode` is the pure part, for tests.
"""
from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from tlsleak import atomic

ENV = "TLSLEAK_PROBE_FILE"
MAGIC = b"TLSPROBE"
VERSION = 1
SIZE = 4096
WORDS = ("magic", "version", "pid", "flags", "started", "finished", "returned", "detached",
         "t_ns", "unwrapped", "refused")
_INDEX = {name: i for i, name in enumerate(WORDS)}
_FORMAT = "=" + "Q" * len(WORDS)  # native byte order, as the probe writes it

FLAG_TEARDOWN = 1  # `finished` counts at the thread's last TLS destructor round


@dataclass(frozen=True)
class Counts:
    """One reading of the shared file."""

    pid: int        # the process that publishes (0: no process has claimed the file yet)
    flags: int
    started: int    # threads whose start routine began
    finished: int   # threads whose teardown is over (at the last destructor round, or body end)
    returned: int   # threads whose body ended (returned or called pthread_exit)
    detached: int   # threads created detached or detached later
    t_ns: int       # CLOCK_MONOTONIC (time.monotonic_ns) of the last change of a count
    unwrapped: int  # threads that ran uncounted (the probe's hand-over table was full)
    refused: int    # other processes (forked children) that found the file taken

    @property
    def claimed(self) -> bool:
        """A process loaded the probe and publishes here."""
        return self.pid != 0

    @property
    def teardown(self) -> bool:
        """`finished` is counted after the thread's TLS destructors (else when its body ends)."""
        return bool(self.flags & FLAG_TEARDOWN)

    @property
    def alive(self) -> int:
        """Threads started and not finished: running, or in their teardown."""
        return self.started - self.finished

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in WORDS[2:]}


def encode(**values: int) -> bytes:
    """A page with the magic, the version and the given words (zero otherwise)."""
    words = {"magic": struct.unpack("=Q", MAGIC)[0], "version": VERSION, **values}
    unknown = set(words) - set(WORDS)
    if unknown:
        raise ValueError(f"unknown probe words: {', '.join(sorted(unknown))}")
    data = struct.pack(_FORMAT, *(words.get(name, 0) for name in WORDS))
    return data + bytes(SIZE - len(data))


def decode(data: bytes) -> Counts | None:
    """The counts in a page, or None when it is not a probe file of this version (too short,
    another magic or version, or not set up yet)."""
    if len(data) < struct.calcsize(_FORMAT):
        return None
    words = dict(zip(WORDS, struct.unpack_from(_FORMAT, data)))
    if struct.pack("=Q", words["magic"]) != MAGIC or words["version"] != VERSION:
        return None
    return Counts(**{name: words[name] for name in WORDS[2:]})


def create(path: str | os.PathLike) -> Path:
    """Write a fresh, unclaimed probe file at `path` (replacing one left there), mode 0600."""
    # never a half-written page under the name the program opens
    return atomic.write_bytes(path, encode(), mode=0o600)


def read_file(path: str | os.PathLike) -> Counts | None:
    """The counts in the file at `path` (None when it is missing or not a probe file). For a
    program that has ended; while it runs, use Reader."""
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


class Reader:
    """Reads the counts of a running program from its probe file, mapped read-only once.

        with probe.Reader(path) as r:
            counts = r.read()   # None until the file exists and is set up
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._map: mmap.mmap | None = None
        self._words: memoryview | None = None

    def _open(self) -> bool:
        try:
            with open(self.path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size < SIZE:
                    return False
                self._map = mmap.mmap(fh.fileno(), SIZE, prot=mmap.PROT_READ)
        except (OSError, ValueError):
            return False
        self._words = memoryview(self._map).cast("Q")
        return True

    def read(self) -> Counts | None:
        """The counts now, or None (no file yet, or not a probe file of this version). Each
        word is one aligned 8-byte load; `finished` is read before `started`."""
        if self._words is None and not self._open():
            return None
        w = self._words
        magic, version = w[_INDEX["magic"]], w[_INDEX["version"]]
        if struct.pack("=Q", magic) != MAGIC or version != VERSION:
            return None
        finished = w[_INDEX["finished"]]
        values = {name: w[_INDEX[name]] for name in WORDS[2:] if name != "finished"}
        return Counts(**{**values, "finished": finished})

    def close(self) -> None:
        if self._words is not None:
            self._words.release()
            self._words = None
        if self._map is not None:
            self._map.close()
            self._map = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
