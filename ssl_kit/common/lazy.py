"""A package's public names, imported from their modules on first use (PEP 562).

A package `__init__` lists what it exports as a table {name: module} and binds
`__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)`: `from ssl_kit.study import run_sweep` then imports
`ssl_kit.study.sweep` only, so importing one module of a package never loads the rest (the command line's
`--help` stays free of torch) and the table is the package's sign on the door.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list]]:
    """(`__getattr__`, `__dir__`) for `package` whose `exports` map each public name to its module's name."""

    def __getattr__(name: str) -> object:
        if name in exports:
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
