"""Signs on every door: what each package holds, what it exports, and what may reach into it.

Every package says in its `__init__` what it holds and every name it exports resolves; no module imports
another module's private name; no two modules share a file name; a notebook imports from packages, never from
their modules, and from a handful of them; `train --help` groups every config field."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

import ssl_kit
from ssl_kit.runs.fields import FIELD_GROUPS, TrainConfig

PACKAGE = Path(ssl_kit.__file__).resolve().parent
NOTEBOOKS = sorted((PACKAGE.parent / "notebooks").glob("*.ipynb"))
PACKAGES = sorted(
    p.parent.relative_to(PACKAGE.parent).as_posix().replace("/", ".") for p in PACKAGE.rglob("__init__.py")
)
# a notebook imports from at most this many (01: what it trains and measures, the study, and its finding)
MOST_PACKAGES = 7


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_holds_and_its_exports_resolve(package):
    module = importlib.import_module(package)
    assert (module.__doc__ or "").strip(), f"{package}/__init__.py has no docstring saying what it holds"
    exports = getattr(module, "EXPORTS", None) or getattr(module, "__all__", [])
    for name in exports:
        assert getattr(module, name) is not None, f"{package} exports {name}, which does not resolve"
    # a name that is also a submodule's would become the module once that module is imported
    folder = PACKAGE.parent / package.replace(".", "/")
    submodules = {p.stem for p in folder.glob("*.py")} | {p.name for p in folder.iterdir() if p.is_dir()}
    assert not submodules & set(exports), (
        f"{package} exports the names of its modules: {submodules & set(exports)}"
    )


def private_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ssl_kit"):
                found += [
                    f"{path}:{node.lineno} {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    return found


def test_no_module_imports_another_modules_private_name(tmp_path):
    assert not private_imports(PACKAGE), private_imports(PACKAGE)[:3]
    (tmp_path / "a.py").write_text("from ssl_kit.world.render import _rays\n")  # the check finds one
    assert len(private_imports(tmp_path)) == 1


def test_no_two_modules_share_a_file_name():
    names = Counter(p.name for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")
    assert not [n for n, k in names.items() if k > 1], [n for n, k in names.items() if k > 1]


def notebook_imports(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return re.findall(r"^\s*(?:from|import) (ssl_kit[\w.]*)", code, re.MULTILINE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_imports_from_a_handful_of_packages(path):
    modules = notebook_imports(path)
    deep = [m for m in modules if m not in PACKAGES]
    assert not deep, f"{path.name} imports from modules, not their package: {deep}"
    assert len(set(modules)) <= MOST_PACKAGES, sorted(set(modules))


def test_train_help_groups_every_config_field_once():
    grouped = Counter(name for names in FIELD_GROUPS.values() for name in names)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(grouped) == fields and max(grouped.values()) == 1, (
        set(grouped) ^ fields,
        grouped.most_common(1),
    )
