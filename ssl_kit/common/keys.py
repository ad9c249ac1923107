"""Keys of cached results: what a result was computed from, as one short hash.

A cached result is reused only when its key is the key of what is asked for now, so it is never read for
inputs that did not make it. Every key is made here:

- `cache_key(kind, version=..., **fields)`: an entry of a cache (features, a video's regions, a probed video
  file). `version` is the cache's own version, kept beside its code and raised when that code computes entries
  differently; `fields` are every input that changes the entry. Another value of any of them is another key.
- `result_key(**fields)`: a run or a sweep cell, from its config, its data's identity (`ssl_kit.data.identity`)
  and the kit's `RESULT_FORMAT`.
- `content_hash(...)` (`ContentHash` to add parts one by one): the hash of content, for a field that stands for
  data: text, bytes, arrays, tensors, or a file read in blocks.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

# The version of the kit's result files (runs, sweep cells, records): raise it when the kit starts to compute
# any of them differently, so that results of the older code are recomputed.
RESULT_FORMAT = 1
KEY_CHARS = 12  # hex digits of a key in a file or folder name


class ContentHash:
    """One SHA-256 of every part given, in order: text (UTF-8), bytes, a file (a `Path`, read in blocks), or
    an array or tensor (its values' bytes, row-major; an array of Python objects as text)."""

    def __init__(self, *parts: object):
        self._h = hashlib.sha256()
        self.update(*parts)

    def update(self, *parts: object) -> None:
        for part in parts:
            if isinstance(part, Path):
                with open(part, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        self._h.update(block)
            elif isinstance(part, str | bytes | bytearray):
                self._h.update(part.encode() if isinstance(part, str) else part)
            else:  # an array, or a torch tensor (not imported here: torch stays out of `--help`)
                array = np.asarray(part.detach().cpu() if hasattr(part, "detach") else part)
                self._h.update((array.astype(str) if array.dtype.kind == "O" else array).tobytes())

    def hexdigest(self, chars: int = KEY_CHARS) -> str:
        return self._h.hexdigest()[:chars]


def content_hash(*parts: object, chars: int = KEY_CHARS) -> str:
    """The first `chars` hex digits of the SHA-256 of `parts` (see `ContentHash`)."""
    return ContentHash(*parts).hexdigest(chars)


def digest(fields: object, chars: int = KEY_CHARS) -> str:
    """The first `chars` hex digits of the SHA-256 of `fields` as canonical JSON (sorted keys; values JSON
    cannot hold written as text)."""
    return content_hash(json.dumps(fields, sort_keys=True, default=str, separators=(",", ":")), chars=chars)


def cache_key(kind: str, *, version: int, **fields: object) -> str:
    """The key of an entry of the cache `kind` at `version`, computed from `fields` (in any order)."""
    return digest({"kind": kind, "version": version, "fields": fields})


def result_key(**fields: object) -> str:
    """The key of a result computed from `fields`, with the kit's `RESULT_FORMAT`."""
    return digest({"format": RESULT_FORMAT, **fields})
