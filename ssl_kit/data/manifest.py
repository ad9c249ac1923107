"""Completeness markers shared by the world writer and every reader.

A set folder being written holds `.incomplete`; the writer writes `manifest.json` last (atomically) and then
removes the marker. A reader refuses a folder that holds the marker, so a half-written set never reads as
complete. Real datasets have neither file and read as complete.
"""

from __future__ import annotations

import json
from pathlib import Path

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.errors import DataError, IncompleteSetError

MANIFEST = "manifest.json"
INCOMPLETE = ".incomplete"


def write_manifest(root: str | Path, manifest: dict) -> None:
    atomic_write_text(Path(root) / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(root: str | Path) -> dict | None:
    """The manifest of a finished world set, or None for a folder without one (a real dataset)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(
            path, f"unreadable manifest ({e})", "a JSON object written by the world builder"
        ) from e


def check_complete(root: str | Path) -> None:
    """Raise IncompleteSetError if `root` (or its parent) is a world set whose build has not finished."""
    root = Path(root)
    for folder in (root, root.parent):
        if (folder / INCOMPLETE).exists():
            raise IncompleteSetError(
                folder,
                "this world set is only partly written",
                "a finished set: run `python -m ssl_kit world` again to resume and complete it",
            )
