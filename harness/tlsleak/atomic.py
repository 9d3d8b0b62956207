"""Files written whole or not at all: a temporary file in the same folder, flushed to disk,
then renamed over the name. A reader never sees half a file, and a write that fails (a full
disk, an interrupt) leaves the old file and no temporary behind. One home for every file the
harness writes that someone else reads: results, JUnit, baselines, the probe's page, the build
cache's records."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_bytes(path, data: bytes, mode: int = 0o644) -> Path:
    """Write `data` to `path` atomically, with permissions `mode`; the folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_text(path, text: str, mode: int = 0o644) -> Path:
    """write_bytes of `text` in UTF-8."""
    return write_bytes(path, text.encode("utf-8"), mode)


def write_json(path, data, mode: int = 0o644) -> Path:
    """`data` as JSON, indented by 2, keys in their order, ending in a newline; a float that is
    not finite is an error (ValueError), never written as NaN."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    return write_text(path, text + "\n", mode)


def symlink(target, link) -> None:
    """`link` -> `target`, replaced atomically: a new link beside it, then a rename over the
    old one. Relative, so that the tree can move."""
    link = Path(link)
    tmp = link.with_name(".%s.%d.tmp" % (link.name, os.getpid()))
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)
