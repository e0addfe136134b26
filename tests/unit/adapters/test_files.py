"""Atomic user files: the usual mode, the old file kept on failure, clear errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from xiaowei.adapters.files import write_atomically
from xiaowei.core.errors import InvalidInput


def test_written_whole_with_the_usual_mode(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "report.html"
    write_atomically(out, lambda tmp: tmp.write_text("<p>新</p>", encoding="utf-8"))
    assert out.read_text(encoding="utf-8") == "<p>新</p>"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary left


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    out.write_text("old", encoding="utf-8")

    def half(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomically(out, half)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_a_folder_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(InvalidInput, match="cannot write"):
        write_atomically(tmp_path / "taken", lambda tmp: tmp.write_text("x", encoding="utf-8"))
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot write"):
        write_atomically(blocker / "inside.csv", lambda tmp: tmp.write_text("x", encoding="utf-8"))
