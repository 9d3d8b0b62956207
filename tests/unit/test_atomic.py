"""Files written whole or not at all (atomic.py)."""
import json
import os

import pytest

from tlsleak import atomic

pytestmark = pytest.mark.unit


def test_a_file_is_written_with_its_mode_and_no_temporary_left(tmp_path):
    path = atomic.write_bytes(tmp_path / "a" / "f.bin", b"data", mode=0o600)
    assert path.read_bytes() == b"data" and (path.stat().st_mode & 0o777) == 0o600
    assert os.listdir(path.parent) == ["f.bin"]


def test_json_keeps_key_order_and_refuses_nan(tmp_path):
    path = atomic.write_json(tmp_path / "d.json", {"b": 1, "a": "é"})
    assert path.read_text(encoding="utf-8") == '{\n  "b": 1,\n  "a": "é"\n}\n'
    with pytest.raises(ValueError):
        atomic.write_json(path, {"x": float("nan")})
    assert json.loads(path.read_text()) == {"b": 1, "a": "é"}  # the old file stays
    assert os.listdir(tmp_path) == ["d.json"]


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = atomic.write_text(tmp_path / "f", "old")

    def interrupted(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text(path, "new")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["f"]


def test_a_link_is_replaced_by_the_newest_target_relative(tmp_path):
    link = tmp_path / "latest"
    for name in ("run1", "run2"):
        (tmp_path / name).mkdir()
        atomic.symlink(tmp_path / name, link)
        assert link.resolve() == (tmp_path / name).resolve()
    assert not link.readlink().is_absolute()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
