"""Reader of the checkpoint lines a repro program writes on stdout (docs/DESIGN.md section 3).

    TLSLEAK/1 start scenario=control_leak tls=none threads=20000 ... pid=4242 os=linux
    TLSLEAK/1 alloc name=mimalloc version=2.0.9 owns=1 malloc_from=/usr/lib/... libc=glibc-2.36
    TLSLEAK/1 cp done=500 t_ns=1234567 rss=3932160 vsize=10817536 maps=45 ...
    TLSLEAK/1 end done=20000 status=ok

`parse_line` turns one line into a `Record` (or None: not a version-1 record, or malformed; it never
raises).  `CheckpointLog` accumulates the records of one run, fed line by line as they arrive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .signals import BOOKKEEPING

PREFIX = "TLSLEAK/"
MAJOR_VERSION = 1

# Values of these keys are names, kept as strings even when they look like numbers
# ("alloc version=2" is the version string "2", not the number 2).
STRING_KEYS = frozenset({"scenario", "tls", "os", "name", "version", "malloc_from", "libc",
                         "status"})

# Keys that are the x axis or bookkeeping, not a memory signal.
NON_SIGNAL_KEYS = BOOKKEEPING

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


def _convert(key: str, value: str):
    if key not in STRING_KEYS and _INT_RE.match(value):
        return int(value)
    return value


def parse_line(line: str) -> Record | None:
    """Parse one stdout line. Returns a Record for a well-formed `TLSLEAK/1` line, else None
    (other output, another major version, or a malformed line). Never raises.

    Malformed: no record kind, a token that is not `key=value` with a non-empty key, or a `cp`
    record without an integer `done` >= 0.
    """
    try:
        version = line_version(line)
        if version is None or _major(version) != MAJOR_VERSION:
            return None
        tokens = line.split()
        if len(tokens) < 2:
            return None
        kind = tokens[1]
        if not _KIND_RE.match(kind):
            return None
        fields: dict = {}
        for tok in tokens[2:]:
            key, sep, value = tok.partition("=")
            if not sep or not _KEY_RE.match(key):
                return None
            fields[key] = _convert(key, value)
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
      unknown: records of unknown kinds (kept, ignored).
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
            self.checkpoints.append(cp)
        elif rec.kind in ("start", "alloc", "end"):
            if getattr(self, rec.kind) is None:
                setattr(self, rec.kind, dict(rec.fields))
        else:
            self.unknown.append(rec)
        return rec

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
