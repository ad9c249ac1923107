"""`report --keep RESULTS --as NAME` and `report --keep-sweep FOLDER` write only inside docs/reference/: NAME and
the sweep's name are plain names, a folder that is not a kept reference is never replaced, and a reference is
replaced by swapping a finished copy in, so an interrupted `report` loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ssl_kit.pages.report as report
from ssl_kit.cli import main
from ssl_kit.common.tidy import write_rows
from ssl_kit.errors import ConfigError
from ssl_kit.pages.kept_sweeps import KEPT, keep_sweep
from ssl_kit.pages.report import keep_reference
from ssl_kit.study.sweep import FIELDS


def _results(tmp_path: Path, tag: str = "new") -> Path:
    results = tmp_path / "results" / "quick"
    results.mkdir(parents=True, exist_ok=True)
    study = {"scale": "quick", "seed": 0, "data": "world", "data_identity": "abc", "format": 1}
    run = {"study": study, "date": "2026-01-01", "machine": {"cpu": "a CPU"}, "notebooks": []}
    (results / "run.json").write_text(json.dumps(run))
    (results / "summary.md").write_text(f"# {tag}\n")
    return results


@pytest.mark.parametrize("name", ["../../victim", "/tmp/victim", ".", "..", "a/b", "", "x" * 101, "-x"])
def test_keep_as_takes_a_plain_name_only(tmp_path, name, capsys):
    root = tmp_path / "reference"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="--as must be a plain name"):
        keep_reference(_results(tmp_path), name, root)
    assert (victim / "precious.txt").read_text() == "keep me" and not root.exists()


def test_the_command_says_it_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--keep", str(_results(tmp_path)), "--as", "../../victim"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--as must be a plain name" in err[0] and "Traceback" not in err[0]


def test_a_folder_that_is_not_a_kept_reference_is_never_replaced(tmp_path):
    root = tmp_path / "reference"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "mine.txt").write_text("mine")
    with pytest.raises(ConfigError, match="is not a kept reference run"):
        keep_reference(_results(tmp_path), "notes", root)
    assert (root / "notes" / "mine.txt").read_text() == "mine"


def test_a_reference_is_replaced_by_swapping_and_an_interrupted_copy_loses_nothing(tmp_path, monkeypatch):
    root = tmp_path / "reference"
    keep_reference(_results(tmp_path, "old"), "quick", root)
    assert (root / "quick" / "summary.md").read_text() == "# old\n"

    def interrupted(results, run, out):
        (out / "run.json").write_text("{")
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "_copy_reference", interrupted)
    with pytest.raises(KeyboardInterrupt):
        keep_reference(_results(tmp_path, "new"), "quick", root)
    assert (root / "quick" / "summary.md").read_text() == "# old\n"  # the old reference is whole
    assert sorted(p.name for p in root.iterdir()) == ["quick"]  # and the half copy is gone
    monkeypatch.undo()
    keep_reference(_results(tmp_path, "new"), "quick", root)
    assert (root / "quick" / "summary.md").read_text() == "# new\n"
    assert sorted(p.name for p in root.iterdir()) == ["quick"]  # nothing left beside it


def _sweep(folder: Path, name: str, columns=FIELDS) -> Path:
    folder.mkdir(parents=True)
    row = {"sweep": name, "cell": "a-s0", "variant": "a", "data": "objects", "method": "mocov2", "policy": "p",
           "seed": 0, "status": "ok", "metric": "knn_acc", "K": "", "value": 0.5, "error": ""}  # fmt: skip
    write_rows([{k: row[k] for k in columns}], folder / "results.csv", list(columns))
    return folder


def test_keep_sweep_names_its_files_by_a_plain_sweep_name(tmp_path):
    victim = tmp_path / "victim3.csv"
    victim.write_text("precious")
    folder = _sweep(tmp_path / "sweeps" / "evil", "../../../victim3")
    with pytest.raises(ConfigError, match="the `sweep` column must be a plain name"):
        keep_sweep(folder, tmp_path / "repo")
    assert victim.read_text() == "precious" and not (tmp_path / "victim3.json").exists()
    keep_sweep(_sweep(tmp_path / "sweeps" / "fine", "fine"), tmp_path / "repo")
    assert (tmp_path / "repo" / KEPT / "fine.csv").is_file() and (
        tmp_path / "repo" / KEPT / "fine.json"
    ).is_file()


def test_keep_sweep_of_a_table_that_is_not_a_sweeps_is_one_line(tmp_path):
    folder = _sweep(tmp_path / "other", "x", columns=("sweep", "cell", "metric", "value"))
    with pytest.raises(ConfigError, match="lacks the columns K, seed, status: not the table of a sweep"):
        keep_sweep(folder, tmp_path / "repo")


def test_a_checkout_that_cannot_be_written_is_one_line(monkeypatch, capsys):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "write_text", refuse)
    monkeypatch.setattr(report, "write_figure", lambda root: None)
    monkeypatch.setattr(report, "render_pages", lambda root=None: {Path("/nowhere/README.md"): "x"})
    assert main(["report"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and "/nowhere/README.md" in err[0]
        and "cannot be written (Read-only file system)" in err[0]
    )
