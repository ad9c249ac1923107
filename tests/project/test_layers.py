"""The package's layers (DESIGN.md): a module imports only from its own layer or below, and no import circles.

Every import is read with `ast`, the ones inside functions too, so a deferred import cannot hide an upward
edge. Imports inside functions are allowed only where they defer a heavy or optional dependency, or keep
`python -m ssl_kit --help` fast: each is listed in DEFERRED with its reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import ssl_kit

PACKAGE = Path(ssl_kit.__file__).resolve().parent
# lowest first; a module may import from its own layer or a lower one
LAYERS = {
    "errors": 0, "common": 0,
    "data": 1,
    "world": 2, "video": 2,
    "augment": 3, "models": 3, "evaluate": 3,
    "methods": 4, "batches": 4,
    "runs": 5,
    "training": 6, "invariance": 6,
    "study": 7, "findings": 7, "fidelity": 7,
    "viz": 8, "pages": 8,
    "cli": 9, "__main__": 9,
}  # fmt: skip
# third-party modules that may be imported inside a function anywhere (heavy, or only some paths need them)
HEAVY = ("papermill", "scipy", "cv2", "matplotlib.pyplot", "playwright", "submitit", "ray")
# kit modules imported inside a function, and why
DEFERRED = {
    ("ssl_kit.cli", "*"): "each command imports what it runs, so `python -m ssl_kit --help` loads no torch",
    ("ssl_kit.cli.run_commands", "*"): "the same, for train, eval and measure",
    ("ssl_kit.cli.study_commands", "*"): "the same, for world, sweep, reproduce and report",
    ("ssl_kit.cli.launcher_flags", "*"): "the same, for the launcher flags of sweep, what-if and reproduce",
}


@dataclass(frozen=True)
class Edge:
    src: str  # importing module
    dst: str  # imported module (the deepest kit module the statement names)
    line: int
    deferred: bool  # inside a function

    def where(self, modules: dict[str, Path]) -> str:
        return f"{modules[self.src]}:{self.line} imports {self.dst} ({modules.get(self.dst, self.dst)})"


def module_files(root: Path, package: str) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(root: Path, package: str) -> tuple[dict[str, Path], list[Edge], list[tuple[str, str, int]]]:
    """(modules, edges between kit modules, third-party imports inside functions as (module, name, line))."""
    modules = module_files(root, package)
    edges, deferred_other = [], []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        base = name if path.name == "__init__.py" else name.rpartition(".")[0]
        inside = {
            id(sub)
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for sub in ast.walk(node)
            if sub is not node
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    parts = base.split(".")
                    mod = ".".join(parts[: len(parts) - node.level + 1] + ([mod] if mod else []))
                # `from pkg import submodule` names the submodule
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
            else:
                continue
            for target in dict.fromkeys(targets):
                if target == package or target.startswith(package + "."):
                    edges.append(Edge(name, target, node.lineno, id(node) in inside))
                elif id(node) in inside:
                    deferred_other.append((name, target, node.lineno))
    return modules, edges, deferred_other


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "errors"  # the package itself is the lowest
    if top not in LAYERS:
        raise AssertionError(
            f"{module}: its top-level name {top!r} has no layer in tests/project/test_layers.py"
        )
    return LAYERS[top]


def upward(edges: list[Edge]) -> list[Edge]:
    return [e for e in edges if layer(e.dst) > layer(e.src)]


def circles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each in a stable order."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if e.src != e.dst:
            graph.setdefault(e.src, set()).add(e.dst)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def circle_edge(component: list[str], edges: list[Edge]) -> Edge:
    """One edge inside a circle, to name its two files."""
    members = set(component)
    return next(e for e in edges if e.src in members and e.dst in members and e.src != e.dst)


def test_no_module_imports_from_a_layer_above():
    modules, edges, _ = imports(PACKAGE, "ssl_kit")
    bad = upward(edges)
    assert not bad, "upward import: " + bad[0].where(modules) + f" ({len(bad)} in all)"


def test_no_import_circles():
    modules, edges, _ = imports(PACKAGE, "ssl_kit")
    found = circles(edges)
    assert not found, f"import circle of {found[0]}: " + circle_edge(found[0], edges).where(modules)


# packages of one layer that must not import each other: the measure reads a run's checkpoint (`runs`), never the
# training loop, and the loop takes the invariance monitor as a callback; a method takes a batch, whatever its
# source; the fidelity card measures the world, not the study's runs or findings; the figures and the docs pages
# each draw records on their own
INDEPENDENT = (("training", "invariance"), ("methods", "batches"), ("study", "fidelity"), ("findings", "fidelity"),
               ("viz", "pages"))  # fmt: skip


def test_independent_packages_import_nothing_of_each_other():
    modules, edges, _ = imports(PACKAGE, "ssl_kit")
    top = lambda m: m.split(".")[1] if "." in m else ""  # noqa: E731
    pairs = {frozenset(p) for p in INDEPENDENT}
    bad = [e for e in edges if top(e.src) != top(e.dst) and frozenset((top(e.src), top(e.dst))) in pairs]
    assert not bad, "import between independent packages: " + bad[0].where(modules)


def test_imports_inside_functions_are_only_the_justified_ones():
    modules, edges, others = imports(PACKAGE, "ssl_kit")
    kit = [e for e in edges if e.deferred]
    bad = [e for e in kit if (e.src, "*") not in DEFERRED and (e.src, e.dst) not in DEFERRED]
    assert not bad, "import inside a function, not in DEFERRED: " + bad[0].where(modules)
    heavy = [(m, t, n) for m, t, n in others if not t.startswith(HEAVY)]
    assert not heavy, f"{modules[heavy[0][0]]}:{heavy[0][2]} imports {heavy[0][1]} inside a function"


@pytest.fixture
def toy(tmp_path) -> Path:
    """A package laid out like the kit: common <- data <- training."""
    root = tmp_path / "toy"
    for folder in ("common", "data", "training"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "common" / "atomic.py").write_text("import os\n")
    (root / "data" / "reader.py").write_text("from toy.common.atomic import os\n")
    (root / "training" / "loop.py").write_text("from toy.data import reader\n")
    return root


def _edges(root: Path) -> tuple[dict[str, Path], list[Edge]]:
    modules, edges, _ = imports(root, "toy")
    return modules, [
        Edge(e.src.replace("toy", "ssl_kit", 1), e.dst.replace("toy", "ssl_kit", 1), e.line, e.deferred)
        for e in edges
    ]


def test_checker_passes_a_clean_tree_and_names_an_upward_import(toy):
    _, edges = _edges(toy)
    assert {(e.src, e.dst) for e in edges} == {
        ("ssl_kit.data.reader", "ssl_kit.common.atomic"),
        ("ssl_kit.training.loop", "ssl_kit.data.reader"),
    }
    assert not upward(edges) and not circles(edges)
    (toy / "data" / "reader.py").write_text("def f():\n    from toy.training.loop import x\n")  # deferred
    _, edges = _edges(toy)
    (bad,) = upward(edges)
    assert (bad.src, bad.dst, bad.line, bad.deferred) == (
        "ssl_kit.data.reader",
        "ssl_kit.training.loop",
        2,
        True,
    )


def test_checker_finds_a_circle_within_one_layer(toy):
    (toy / "data" / "other.py").write_text("from . import reader\n")
    (toy / "data" / "reader.py").write_text("from toy.data.other import y\n")
    _, edges = _edges(toy)
    (component,) = circles(edges)
    assert component == ["ssl_kit.data.other", "ssl_kit.data.reader"]
    assert {circle_edge(component, edges).src, circle_edge(component, edges).dst} == set(component)
