"""Which world a folder holds: the preset, seed and version its sets' manifests record, and one hash of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ssl_kit.common.keys import digest
from ssl_kit.data.manifest import read_manifest
from ssl_kit.errors import DataError
from ssl_kit.world.presets import SETS


@dataclass(frozen=True)
class WorldInfo:
    """What a world folder's finished sets record: `preset`, `seed`, the newest `version`, and each set's
    config hash (`sets`)."""

    folder: Path
    preset: str
    seed: int
    version: int
    sets: dict[str, str]

    @property
    def identity(self) -> str:
        """One hash of every set's config hash: the same world, the same hash, wherever it lies."""
        return digest(self.sets)

    def describe(self) -> str:
        return f"the {self.preset} world (seed {self.seed}, world version {self.version})"


def world_info(folder: str | Path) -> WorldInfo | None:
    """The world in `folder` from its finished sets' manifests, or None when no set has one (nothing built yet,
    or real datasets). Sets built with different presets or seeds are a DataError naming two of them."""
    folder = Path(folder)
    found = {}
    for name in SETS:
        manifest = read_manifest(folder / name) if (folder / name).is_dir() else None
        if manifest and manifest.get("config_hash"):
            found[name] = manifest
    if not found:
        return None
    configs = {(m.get("preset"), m.get("seed")) for m in found.values()}
    if len(configs) > 1:
        (a, ma), (b, mb) = [
            next((n, m) for n, m in found.items() if (m.get("preset"), m.get("seed")) == c)
            for c in list(configs)[:2]
        ]
        raise DataError(
            folder,
            f"holds sets of two worlds ({a}: preset {ma.get('preset')} seed {ma.get('seed')}; {b}: preset "
            f"{mb.get('preset')} seed {mb.get('seed')})",
            "the sets of one world: build each world in its own folder",
        )
    preset, seed = configs.pop()
    version = max(int(m.get("world_version") or 0) for m in found.values())
    return WorldInfo(folder, str(preset), int(seed), version, {n: m["config_hash"] for n, m in found.items()})
