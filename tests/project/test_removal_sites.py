"""Every delete in the kit goes through `ssl_kit.common.removal.remove_inside`, which refuses a path outside the
folder its caller owns; this file pins each call site with that folder, and the guard itself.

A new delete is a new row of SITES: name the folder the step owns there, and the test that makes it delete."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import ssl_kit
from ssl_kit.common.atomic import replace_folder
from ssl_kit.common.removal import RemovalRefused, inside, remove_inside

PACKAGE = Path(ssl_kit.__file__).resolve().parent
DELETERS = {
    "rmtree",
    "unlink",
    "rmdir",
    "removedirs",
}  # what may only be called in removal.py (and os.remove)
# module -> the (path, folder) of each of its deletes, and what the folder is; the test that exercises it
SITES = {
    "common/atomic.py": [("tmp", "path.parent"),  # the temporary file beside the target (test_atomic)
                         ("old", "out.parent")],  # the folder swapped out (tests/pages/test_report_paths.py)
    "common/lock.py": [("path", "path.parent")] * 2,  # the lock file, stale or released (tests/common/test_lock*)
    "pages/report.py": [("new", "base")],  # the half-written reference copy (test_report_paths.py)
    "runs/resume.py": [("path", "folder")],  # a killed writer's temporary file in the run folder (test_run_integrity)
    "study/launch/cell_task.py": [("spec", "folder.parent")],  # the torchrun task file (test_launch_local.py)
    "study/reproduce.py": [("stale", "place.results")],  # a notebook's stale record (test_notebooks.py)
    "study/train_sets.py": [("stale", "out.parent")],  # an interrupted training set in the sets cache (test_locks)
    "training/loop.py": [("out", "out.parent")],  # the run folder it made, still empty (test_paths_and_disks)
    "world/build.py": [("probe", "root"),  # the write probe
                       ("root", "out"),  # a partial or other build of a set, in the world folder (test_build.py)
                       ("work", "root"), ("root / INCOMPLETE", "root")],  # the set's work folder and marker
}  # fmt: skip

# every rename in the kit is an os.replace of a file or folder onto a name beside it, in the same folder: pinned
# here (source, target) as the deletes are; os.rename and shutil.move are not used
REPLACES = {
    "common/atomic.py": [("tmp", "path"),  # a temporary file made in path.parent (mkstemp(dir=path.parent))
                         ("out", "old / out.name"),  # the old folder into a hidden folder beside it
                         ("new", "out"), ("new", "out")],  # the new folder, checked to be beside out
    "study/train_sets.py": [("work", "out")],  # work = out.with_name(...): beside it (test_locks)
}  # fmt: skip


def _calls(tree: ast.AST, names: set[str]) -> list[ast.Call]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if name in names:
                out.append(node)
    return sorted(out, key=lambda c: (c.lineno, c.col_offset))  # in the order of the source


def test_every_delete_goes_through_the_guard_with_its_folder():
    found, raw = {}, []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text())
        if rel != "common/removal.py":
            raw += [f"{rel}:{c.lineno}" for c in _calls(tree, DELETERS)]
            raw += [
                f"{rel}:{c.lineno}" for c in _calls(tree, {"remove"}) if ast.unparse(c.func) == "os.remove"
            ]
        calls = _calls(tree, {"remove_inside"})
        if calls and rel != "common/removal.py":
            found[rel] = [(ast.unparse(c.args[0]), ast.unparse(c.args[1])) for c in calls]
    assert not raw, f"deletes outside ssl_kit/common/removal.py: {raw}"
    assert found == SITES


@pytest.mark.parametrize("name", ["../victim", "/tmp/victim", ".", "..", "a/../../victim"])
def test_the_guard_refuses_a_path_outside_its_folder(tmp_path, name):
    owner, victim = tmp_path / "owner", tmp_path / "victim"
    owner.mkdir()
    victim.mkdir(exist_ok=True)
    (victim / "precious").write_text("x")
    with pytest.raises(RemovalRefused, match="is not inside"):
        remove_inside(owner / name if not name.startswith("/") else Path(name), owner)
    with pytest.raises(RemovalRefused):
        remove_inside(owner, owner)  # the folder itself is not inside it
    assert (victim / "precious").read_text() == "x"


def test_the_guard_removes_files_folders_and_links_as_links(tmp_path):
    owner, outside = tmp_path / "owner", tmp_path / "outside"
    (owner / "sub").mkdir(parents=True)
    outside.mkdir()
    (owner / "sub" / "f").write_text("x")
    (owner / "file").write_text("x")
    os.symlink(outside, owner / "link")  # a link to a folder outside: removed as a link, its target kept
    remove_inside(owner / "file", owner)
    remove_inside(owner / "sub", owner)
    remove_inside(owner / "link", owner)
    remove_inside(owner / "gone", owner)  # missing: nothing to do
    assert sorted(p.name for p in owner.iterdir()) == [] and outside.is_dir()
    with pytest.raises(FileNotFoundError):
        remove_inside(owner / "gone", owner, missing_ok=False)
    assert inside(owner / "a" / "b", owner) and not inside(tmp_path, owner)


def test_every_rename_is_a_pinned_replace_within_one_folder():
    found, other = {}, []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text())
        other += [
            f"{rel}:{c.lineno}"
            for c in _calls(tree, {"rename", "move", "replace"})
            if ast.unparse(c.func) in ("os.rename", "shutil.move", "os.renames")
        ]
        calls = [c for c in _calls(tree, {"replace"}) if ast.unparse(c.func) == "os.replace"]
        if calls:
            found[rel] = [(ast.unparse(c.args[0]), ast.unparse(c.args[1])) for c in calls]
    assert not other, f"renames other than os.replace: {other}"
    assert found == REPLACES


def test_a_folder_is_swapped_only_with_one_beside_it(tmp_path):
    (tmp_path / "a" / "new").mkdir(parents=True)
    (tmp_path / "b" / "out").mkdir(parents=True)
    with pytest.raises(ValueError, match="within one parent folder"):
        replace_folder(tmp_path / "a" / "new", tmp_path / "b" / "out")
    assert (tmp_path / "a" / "new").is_dir() and (tmp_path / "b" / "out").is_dir()
    replace_folder(tmp_path / "a" / "new", tmp_path / "a" / "out")
    assert (tmp_path / "a" / "out").is_dir() and not (tmp_path / "a" / "new").exists()
