"""Outputs are never half-written: temporary siblings renamed into place, old outputs kept when writing fails."""

from __future__ import annotations

import pytest

from moodreader_hf.atomic import atomic_folder, atomic_path, write_json


def test_failed_file_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.json"
    write_json(target, {"accuracy": 0.5})
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("{half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == '{\n  "accuracy": 0.5\n}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.json"]


def test_failed_folder_write_leaves_the_old_folder_and_a_finished_one_replaces_it(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "config.json").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(target) as stage:
        (stage / "config.json").write_text("new, half")
        raise RuntimeError("killed mid-write")
    assert (target / "config.json").read_text() == "old"
    with atomic_folder(target) as stage:
        (stage / "config.json").write_text("new")
        assert (target / "config.json").read_text() == "old"
    assert (target / "config.json").read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]
