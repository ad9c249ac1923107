"""Text made safe as one file or folder name: the names of sweep cells, training-set caches and class folders.

These names are part of what is on disk (a sweep finds a finished cell, a training set its cached copy, by
name), so `safe_name` must give the same name for the same text in every version of the kit.
"""

from __future__ import annotations

import re

from ssl_kit.common.keys import content_hash
from ssl_kit.errors import ConfigError

SAFE_PUNCTUATION = "-_."  # kept as they are, with letters and digits; anything else becomes "_"
HASH_CHARS = 8  # hex digits of the SHA-256 that end a shortened name
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # one folder or file name, never a path


def quoted(value: object, limit: int = 60) -> str:
    """`repr(value)`, cut to `limit` characters: what an error message quotes of a value a user gave."""
    text = repr(value) if not isinstance(value, str) or len(value) <= limit else repr(value[:limit])
    return text if len(text) <= limit + 2 else text[:limit] + "..."


def plain_name(name: object, what: str) -> str:
    """`name` when it is a plain name (letters, digits, '.', '_', '-'; not '..'; at most 100 characters), which
    can only name an entry inside the folder it is joined to; else a `ConfigError` naming `what`."""
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"{what} must be a plain name (letters, digits, '.', '_', '-'; no '/' or '..'), not {quoted(name)}"
        )
    return name


def safe_name(text: object, max_len: int | None = None) -> str:
    """`str(text)` with every character but letters, digits, "-", "_" and "." replaced by "_" ("_" if empty).

    With `max_len`, a longer result keeps its last `max_len - 12` characters, then "-" and the first 8 hex
    digits of the SHA-256 of the text, so two long texts with the same end still get different names.
    """
    text = str(text)
    out = "".join(c if c.isalnum() or c in SAFE_PUNCTUATION else "_" for c in text) or "_"
    if max_len is not None and len(out) > max_len:
        out = out[-(max_len - 12) :] + "-" + content_hash(text, chars=HASH_CHARS)
    return out
