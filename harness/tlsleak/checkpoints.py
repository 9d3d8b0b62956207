"""Reader of the checkpoint lines a repro program writes on stdout (docs/DESIGN.md "Checkpoint line format").

    TLSLEAK/1 start scenario=control_leak tls=none threads=20000 ... pid=4242 os=linux
    TLSLEAK/1 alloc name=mimalloc version=2.0.9 owns=1 malloc_from=/usr/lib/... libc=glibc-2.36
    TLSLEAK/1 cp done=500 t_ns=1234567 rss=3932160 vsize=10817536 maps=45 ...
    TLSLEAK/1 end done=20000 status=ok

`parse_line` turns one line into a `Record` (or None: not a version-1 record, or malformed; it never
raises).  `CheckpointLog` accumulates the records of one run, fed line by line as they arrive.

Bounded whatever a program prints: a line longer than MAX_LINE bytes, more than MAX_FIELDS
tokens, an integer outside the signed 64-bit range, a non-finite number (`nan`, `inf`, `1e309`)
or a figure of a `cp` record (FIGURES) that is negative or not an integer make the line malformed (counted, never fatal); the stored
checkpoints are thinned evenly to at most 2 x BUDGET (the first and the latest always kept), and
unknown records are counted with only the first KEEP_UNKNOWN kept.
"""

from __future__ import annotations

import math
import re
from urllib.parse import unquote
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .families import observed
from .signals import BOOKKEEPING

PREFIX = "TLSLEAK/"
MAJOR_VERSION = 1

# Values of these keys are names, kept as strings even when they look like numbers
# ("alloc version=2" is the version string "2", not the number 2).
STRING_KEYS = frozenset({"scenario", "tls", "os", "name", "version", "malloc_from", "libc",
                         "status", "owns_by"})

# Keys that are the x axis or bookkeeping, not a memory signal.
NON_SIGNAL_KEYS = BOOKKEEPING

MAX_LINE = 4096  # bytes; real checkpoint lines are a few hundred
MAX_FIELDS = 64
BUDGET = 1000  # checkpoints kept per run, as many as a trend uses (verdict.MAX_POINTS)
KEEP_UNKNOWN = 16
# The figures of a `cp` record (docs/DESIGN.md "Checkpoint line format"): counts and sizes, never negative.
FIGURES = frozenset({"done", "t_ns", "rss", "vsize", "maps", "os_threads", "commit",
                     "heap_inuse", "heap_mapped", "alloc_meta", "alloc_tcache",
                     "alloc_threads"})
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

_VERSION_RE = re.compile(r"^TLSLEAK/(\d+)(?:\.(\d+))?$")
_INT_RE = re.compile(r"^-?[0-9]+$")
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Record:
    """One parsed checkpoint line: its kind ("start", "alloc", "cp", "end", or an unknown kind)
    and its fields (int where the value is an integer, str otherwise; unknown keys kept)."""

    kind: str
    fields: dict = field(default_factory=dict)


def line_version(line: str) -> str | None:
    """The version token of a `TLSLEAK/<v>` line ("1", "2", "1.1"), or None for any other line."""
    if not isinstance(line, str):
        return None
    text = line.strip()
    if not text.startswith(PREFIX):
        return None
    head = text.split(None, 1)[0]
    m = _VERSION_RE.match(head)
    if not m:
        return None
    return head[len(PREFIX):]


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])


def _convert(key: str, value: str, kind: str = ""):
    """The value as an int where it is one, else the string; ValueError for a value no figure
    can take: an integer outside int64, a non-finite number, a negative figure of a `cp`."""
    figure = kind == "cp" and key in FIGURES
    if key in STRING_KEYS:  # written with %XX for a space, a control byte or '%'
        return unquote(value, errors="replace")
    if _INT_RE.match(value):
        number = int(value) if len(value) <= 20 else INT64_MAX + 1
        if not INT64_MIN <= number <= INT64_MAX or (figure and number < 0):
            raise ValueError(f"{key}={value[:32]} is out of range")
        return number
    if figure:  # a figure is an integer
        raise ValueError(f"{key}={value[:32]} is not an integer")
    try:
        real = float(value)
    except ValueError:
        return value
    if not math.isfinite(real):
        raise ValueError(f"{key}={value[:32]} is not finite")
    return value


def parse_line(line: str) -> Record | None:
    """Parse one stdout line. Returns a Record for a well-formed `TLSLEAK/1` line, else None
    (other output, another major version, or a malformed line). Never raises.

    Malformed: no record kind, a token that is not `key=value` with a non-empty key, or a `cp`
    record without an integer `done` >= 0.
    """
    try:
        if len(line) > MAX_LINE:
            return None
        version = line_version(line)
        if version is None or _major(version) != MAJOR_VERSION:
            return None
        tokens = line.split()
        if len(tokens) < 2 or len(tokens) > MAX_FIELDS + 2:
            return None
        kind = tokens[1]
        if not _KIND_RE.match(kind):
            return None
        fields: dict = {}
        for tok in tokens[2:]:
            key, sep, value = tok.partition("=")
            if not sep or not _KEY_RE.match(key):
                return None
            fields[key] = _convert(key, value, kind)
        if kind == "cp":
            done = fields.get("done")
            if not isinstance(done, int) or done < 0:
                return None
        return Record(kind, fields)
    except Exception:  # a reader of untrusted output must not die on it
        return None


class CheckpointLog:
    """The records of one run, fed line by line.

    Attributes:
      start, alloc, end: the fields (dict) of the first record of that kind, or None.
      checkpoints: one dict per `cp` record in arrival order: its fields plus 't_recv'.
      other_lines: lines that are not TLSLEAK records at all (program output).
      malformed: TLSLEAK/1 lines that could not be parsed.
      received: `cp` records received (checkpoints holds them thinned to at most 2 x BUDGET).
      unknown: the first KEEP_UNKNOWN records of unknown kinds (kept, ignored); unknown_count
        counts them all.
      version_mismatch: the first other-major version seen ("2"), else None; such lines are
        not parsed.
    """

    def __init__(self) -> None:
        self.start: dict | None = None
        self.alloc: dict | None = None
        self.end: dict | None = None
        self.checkpoints: list[dict] = []
        self.other_lines = 0
        self.malformed = 0
        self.unknown: list[Record] = []
        self.unknown_count = 0
        self.received = 0
        self._index: list[int] = []  # arrival number of each stored checkpoint
        self._stride = 1  # keep every _stride-th checkpoint received (and the latest)
        self._tail_extra = False  # the last stored checkpoint is only kept as the latest
        self.version_mismatch: str | None = None
        self.mismatched_lines = 0

    @classmethod
    def from_lines(cls, lines: Iterable[str], t_recv: float | None = None) -> "CheckpointLog":
        """A log fed with every line, all with the same receive time (for tests and files)."""
        log = cls()
        for line in lines:
            log.feed(line, t_recv)
        return log

    def feed(self, line: str, t_recv: float | None) -> Record | None:
        """Take one line received at `t_recv` (the harness's clock, seconds). Returns the record
        it held, or None."""
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        if len(line) > MAX_LINE:  # never split or parse a line that long
            if line.lstrip().startswith(PREFIX):
                self.malformed += 1
            else:
                self.other_lines += 1
            return None
        version = line_version(line)
        if version is None:
            if line.lstrip().startswith(PREFIX):
                self.malformed += 1  # "TLSLEAK/x" with an unreadable version token
            else:
                self.other_lines += 1
            return None
        try:
            major = _major(version)
        except ValueError:
            self.malformed += 1
            return None
        if major != MAJOR_VERSION:
            if self.version_mismatch is None:
                self.version_mismatch = version
            self.mismatched_lines += 1
            return None
        rec = parse_line(line)
        if rec is None:
            self.malformed += 1
            return None
        if rec.kind == "cp":
            cp = dict(rec.fields)
            cp["t_recv"] = t_recv
            self._store(cp)
        elif rec.kind in ("start", "alloc", "end"):
            if getattr(self, rec.kind) is None:
                # The allocator's version as its family decodes what the program printed.
                fields = observed(rec.fields) if rec.kind == "alloc" else rec.fields
                setattr(self, rec.kind, dict(fields))
        else:
            self.unknown_count += 1
            if len(self.unknown) < KEEP_UNKNOWN:
                self.unknown.append(rec)
        return rec

    def _store(self, cp: dict) -> None:
        """Keep every _stride-th checkpoint and the latest; past 2 x BUDGET, halve evenly."""
        index = self.received
        self.received += 1
        cps, idx = self.checkpoints, self._index
        if self._tail_extra:
            cps.pop()
            idx.pop()
        cps.append(cp)
        idx.append(index)
        self._tail_extra = index % self._stride != 0
        if len(cps) > 2 * BUDGET:
            self._stride *= 2
            keep = [i for i, n in enumerate(idx) if n % self._stride == 0]
            if keep[-1] != len(idx) - 1:
                keep.append(len(idx) - 1)
            cps[:] = [cps[i] for i in keep]
            idx[:] = [idx[i] for i in keep]
            self._tail_extra = idx[-1] % self._stride != 0

    @property
    def done(self) -> int | None:
        """Threads done at the last checkpoint (or the `end` record), else None."""
        if self.end is not None and isinstance(self.end.get("done"), int):
            return self.end["done"]
        if self.checkpoints:
            return max(cp["done"] for cp in self.checkpoints)
        return None

    def fields(self) -> list[str]:
        """Integer-valued checkpoint fields that are memory signals, in first-seen order."""
        return signal_fields(self.checkpoints)

    def series(self, name: str) -> tuple[list[int], list[int]]:
        """(x, y): x = threads done, y = field `name`, skipping checkpoints that lack it."""
        return series(self.checkpoints, name)

    def timeline(self) -> list[tuple[float, int]]:
        """[(t_recv, done)] of the checkpoints that have a receive time."""
        return timeline(self.checkpoints)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def series(checkpoints: Sequence[dict], name: str) -> tuple[list[int], list[int]]:
    """(x, y) over checkpoint dicts: x = 'done', y = field `name`; checkpoints where either is
    missing or not an integer are skipped."""
    xs: list[int] = []
    ys: list[int] = []
    for cp in checkpoints:
        x = cp.get("done")
        y = cp.get(name)
        if _is_int(x) and _is_int(y):
            xs.append(x)
            ys.append(y)
    return xs, ys


def signal_fields(checkpoints: Sequence[dict]) -> list[str]:
    """Integer-valued fields of the checkpoints other than done/t_ns/os_threads."""
    seen: dict[str, None] = {}
    for cp in checkpoints:
        for k, v in cp.items():
            if k not in NON_SIGNAL_KEYS and _is_int(v):
                seen.setdefault(k, None)
    return list(seen)


def timeline(checkpoints: Sequence[dict]) -> list[tuple[float, int]]:
    """[(t_recv, done)] for checkpoints with a numeric receive time."""
    out = []
    for cp in checkpoints:
        t = cp.get("t_recv")
        if isinstance(t, (int, float)) and not isinstance(t, bool) and _is_int(cp.get("done")):
            out.append((float(t), cp["done"]))
    return out
