"""The file paths of a large folder, packed in one numpy array of bytes: what streaming workers index.

A list of `Path` objects costs several hundred bytes a path in every process that holds it, and a DataLoader
worker forked from the trainer copies each memory page whose objects it reads (reading a Python object writes
its reference count), so over an epoch every worker builds up its own copy of the parts it read (PyTorch issue
13246). Packed, the paths are fixed-width bytes relative to a root, a few tens of bytes a path, never written
after the fork, so the workers share one copy. `bench_input.py` measures both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np


class PackedPaths(Sequence[Path]):
    """A read-only sequence of paths under `root`, stored as one (N,) bytes array of relative paths."""

    def __init__(self, root: str | Path, relative: np.ndarray):
        if relative.ndim != 1 or relative.dtype.kind != "S":
            raise ValueError(
                f"relative paths must be a 1-d bytes array, got {relative.dtype} {relative.shape}"
            )
        self.root, self.relative = Path(root), relative
        self._root_text = os.fspath(self.root)

    @classmethod
    def pack(cls, root: str | Path, paths: Iterable[str | Path]) -> PackedPaths:
        """Pack `paths`, each under `root` (ValueError otherwise)."""
        root = Path(root)
        return cls.from_relative(root, [Path(p).relative_to(root) for p in paths])

    @classmethod
    def from_relative(cls, root: str | Path, relative: Iterable[str | Path]) -> PackedPaths:
        """Pack paths given relative to `root` (text, as an index builds them: no `Path` per file)."""
        rel = [os.fsencode(r) for r in relative]
        if any(r.endswith(b"\0") for r in rel):  # numpy's bytes arrays drop trailing NULs
            raise ValueError("a path ends with a NUL byte")
        return cls(Path(root), np.array(rel, dtype=np.bytes_) if rel else np.zeros(0, dtype="S1"))

    @classmethod
    def concat(cls, root: str | Path, parts: Sequence[PackedPaths]) -> PackedPaths:
        """One sequence of the `parts` (all under `root`), in order."""
        if any(Path(p.root) != Path(root) for p in parts):
            raise ValueError(f"every part must be under {root}")
        arrays = [p.relative for p in parts]
        return cls(root, np.concatenate(arrays) if arrays else np.zeros(0, dtype="S1"))

    def __len__(self) -> int:
        return len(self.relative)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return PackedPaths(self.root, self.relative[i])
        return self.root / os.fsdecode(self.relative[i])

    def fspath(self, i: int) -> str:
        """Path `i` as text, made without `pathlib` (which, in Python 3.11, interns every name it parses for the
        life of the process: a worker reading every file of a million-image folder would keep every name)."""
        return os.path.join(self._root_text, os.fsdecode(self.relative[i]))

    def __iter__(self) -> Iterator[Path]:
        return (self.root / os.fsdecode(r) for r in self.relative)

    @property
    def nbytes(self) -> int:
        return self.relative.nbytes
