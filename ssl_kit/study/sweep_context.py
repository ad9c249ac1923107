"""What a sweep resolves once: each cell's training data (`ssl_kit.study.data_entry`; an image set written once as
an ImageFolder), its config in its run folder, the downstream splits and protocols every network is scored on,
and the key of each cell's result. A run folder, `<out>/runs/<method>-s<seed>-<run key>`, belongs to the training
and not to a grid: every grid swept into one folder that trains the same config on the same data (notebook 01's
MoCo v2 cells and notebook 02's) shares one run, trained once. The run key is that of the resolved config and the
training data's identity (`ssl_kit.runs.run_keys.run_key`); a cell's key adds the evaluation (the downstream and
protocol data's identities, the probes, K) and the kit's result format, so a result is reused only for the same
training on the same data scored the same way."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ssl_kit.common.keys import digest, result_key
from ssl_kit.data.identity import data_identity
from ssl_kit.errors import ConfigError
from ssl_kit.evaluate.splits import LabelledSplits
from ssl_kit.findings.checks import RANDOM_INIT
from ssl_kit.invariance.protocols import build_protocol, protocol_root
from ssl_kit.methods import VIDEO_METHODS
from ssl_kit.runs.config import resolve
from ssl_kit.runs.run_keys import run_key
from ssl_kit.study.data_entry import parse_entry
from ssl_kit.study.data_folder import StudyData
from ssl_kit.study.grid import Cell, Grid, cell_config
from ssl_kit.study.train_sets import TrainSet, check_train_set, materialize, set_size
from ssl_kit.video.sources import is_video_source


class SweepContext:
    """What a sweep resolves once: training folders, downstream splits and protocols (loaded lazily)."""

    def __init__(self, grid: Grid, out: str | Path, world: str | Path | None, progress: bool = False):
        """The context of `grid` swept into `out` (its folder `<out>/<grid name>`) on the data folder `world`."""
        # absolute: a run folder's config names its data by path, and a finished run is reused only for the same
        # config, so `results/quick/sweeps` and its absolute spelling must be one folder
        self.grid, self.folder, self.progress = grid, Path(out).resolve() / grid.name, progress
        self.world = Path(world).resolve() if world else None
        self._entries: dict[str, TrainSet | Path] = {}
        self._data: dict[str, str] = {}
        self._splits: dict[int, object] = {}
        self._protocols: dict[str, object] | None = None
        self._eval_key: str | None = None
        self._keys: dict[str, str] = {}

    def check(self) -> None:
        """Every training set, downstream folder and protocol is there; video methods get videos."""
        for name in sorted({c.data for c in self.grid.cells}):
            found = self.entry(name)
            if isinstance(found, TrainSet):
                check_train_set(found)
            elif not is_video_source(found):
                raise ConfigError(f"training set {name!r}: {found} is not a video folder")
        for c in self.grid.cells:
            if c.method in VIDEO_METHODS and isinstance(self.entry(c.data), TrainSet):
                raise ConfigError(
                    f"cell {c.name}: {c.method} trains on videos, and {c.data!r} is an image set"
                )
        for split in self.downstream():
            if not split.is_dir():
                raise ConfigError(f"evaluate.downstream: {split} is not a folder")
        self.protocols()

    def entry(self, name: str) -> TrainSet | Path:
        """What a cell's training set entry names: an image set, or a video folder (`parse_entry`)."""
        if name not in self._entries:
            self._entries[name] = parse_entry(name, self.world, self.progress)
        return self._entries[name]

    def downstream(self) -> tuple[Path, Path] | tuple[()]:
        down = self.grid.evaluate.downstream
        if not down:
            return ()
        if isinstance(down, dict):
            base = self.world or Path(".")
            return base / down["train"], base / down["val"]
        if down == "objects":
            if self.world is None:
                raise ConfigError("evaluate.downstream 'objects' is a world set; give the world folder")
            data = StudyData.open(self.world, build=False)  # the world's objects, or ImageNet-100
            return data.objects("train"), data.objects("val")
        root = Path(down)
        return root / "train", root / "val"

    def protocols(self) -> dict:
        if self._protocols is None:
            names = self.grid.evaluate.protocols
            if names and self.world is None:
                raise ConfigError("invariance protocols need a data folder (the world, or real datasets)")
            self._protocols = {n: build_protocol(n, protocol_root(n, self.world)) for n in names}
        return self._protocols

    def data(self, name: str) -> str:
        """The folder a cell trains on: a video folder as is, an image set written once as an ImageFolder."""
        if name not in self._data:
            found, n = self.entry(name), None
            if isinstance(found, Path):
                self._data[name] = str(found)
                return self._data[name]
            if self.grid.equal_size:  # every image set cut to the size of the smallest
                images = {self.entry(c.data) for c in self.grid.cells}
                n = min(set_size(ts) for ts in images if isinstance(ts, TrainSet))
            self._data[name] = str(materialize(found, self.folder.parent / "sets", n=n, seed=0))
        return self._data[name]

    def eval_key(self) -> str:
        """What scoring a cell depends on besides its network: the downstream and protocol data's identities,
        the probes, the K values and whether the cosine measure is taken."""
        if self._eval_key is None:
            ev = self.grid.evaluate
            down = [data_identity(p) for p in self.downstream()]
            protocols = {n: data_identity(protocol_root(n, self.world)) for n in ev.protocols}
            facts = {"downstream": down, "linear": ev.linear, "protocols": protocols, "top_k": list(ev.top_k)}
            if ev.cosine:  # keyed only when on: results scored before it existed keep their keys
                facts["cosine"] = True
            self._eval_key = digest(facts)
        return self._eval_key

    def config(self, cell: Cell):
        """The resolved TrainConfig of `cell`, in its keyed run folder (`<out>/runs/<method>-s<seed>-<run key>`,
        shared by every grid swept into `out`)."""
        cfg = resolve(
            cell_config(self.grid, cell, self.data(cell.data), "-", self.folder.parent / "cache" / "regions")
        )
        name = f"{cfg.method}-s{cfg.seed}-{run_key(cfg)}"
        return dataclasses.replace(cfg, out=str(self.folder.parent / "runs" / name))

    def key(self, cell: Cell) -> str:
        """The key of `cell`'s result: its training (run key) or random-init network, and the evaluation."""
        if cell.name not in self._keys:
            if cell.method == RANDOM_INIT:
                cfg = self.random_config()
                network = {"random_init": [cfg.arch, cfg.small_stem, cell.seed, cfg.image_size]}
                if cfg.whiten_stem:  # the grid's networks' frozen stem, from their training images
                    network["whitened_stem"] = data_identity(cfg.data)
            else:
                network = {"run": Path(self.config(cell).out).name}
            self._keys[cell.name] = result_key(network=network, evaluation=self.eval_key())
        return self._keys[cell.name]

    def cell_path(self, cell: Cell) -> Path:
        return self.folder / "cells" / f"{cell.name}-{self.key(cell)}.json"

    def random_config(self):
        """The config whose architecture, stem and image size every random-init cell takes: the first cell's."""
        first = self.grid.cells[0]
        return resolve(cell_config(self.grid, first, self.data(first.data), "-", "-"))

    def splits(self, size: int):
        if size not in self._splits:
            train, val = self.downstream()
            self._splits[size] = LabelledSplits(train, val, size)
        return self._splits[size]
