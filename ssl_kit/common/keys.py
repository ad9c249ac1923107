"""Keys of cached results: what a result was computed from, as one short hash.

A cached result (a sweep cell, a run trained for a notebook, a file of features) is reused only when its key
is the key of what is asked for now: the resolved training config, the data's identity
(`ssl_kit.data.identity`), the evaluation settings and `RESULT_FORMAT`. A change to any of them is another
key, so a result is never read for a run that did not make it.
"""

from __future__ import annotations

import hashlib
import json

# The version of the kit's result files (runs, sweep cells, feature caches, records): raise it when the kit
# starts to compute any of them differently, so that results of the older code are recomputed.
RESULT_FORMAT = 1
KEY_CHARS = 12  # hex digits of a key in a file or folder name


def digest(fields: object, chars: int = KEY_CHARS) -> str:
    """The first `chars` hex digits of the SHA-256 of `fields` as canonical JSON (sorted keys; values JSON
    cannot hold written as text)."""
    text = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:chars]


def result_key(**fields: object) -> str:
    """The key of a result computed from `fields`, with the kit's `RESULT_FORMAT`."""
    return digest({"format": RESULT_FORMAT, **fields})
