"""What every numbered notebook does first and last, in one place.

First: `setup = study_notebook("02_augmentation_ablations", scale, world_dir, results_dir, seed)` takes the
`parameters` cell's values, resolves the folders (relative paths from the repository root, wherever Jupyter
was started; absolute ones as they are), makes `results/figures`, opens the study's data (building the world
when needed, or reading a folder of real datasets: `ssl_kit.study.data_folder`) and, at `scale="smoke"`, prints
a banner saying that the numbers are not meaningful.

Last: `setup.save_record(record)` writes `results/<notebook>.json`, the machine-readable record that
`ssl_kit.study.reproduce` renders into `results/summary.md` (its `findings` list at the top).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.study.data_folder import StudyData

ROOT = Path(__file__).resolve().parents[2]  # the repository root
SMOKE_BANNER = "smoke scale: a few images and steps to test the code; the numbers below mean nothing"


@dataclass
class StudyNotebook:
    """One notebook's folders and data: `root` (the repository), `world` (the world or real-data folder),
    `results`, `figures` (`results/figures`), `runs` (`results/runs/<scale>`) and `data` (`StudyData`)."""

    name: str
    scale: str
    seed: int
    root: Path
    world: Path
    results: Path
    data: StudyData

    @property
    def figures(self) -> Path:
        return self.results / "figures"

    @property
    def runs(self) -> Path:
        """Where the notebook's own training runs go (the sweeps' runs are under `results/sweeps`)."""
        return self.results / "runs" / self.scale

    @property
    def record_path(self) -> Path:
        return self.results / f"{self.name}.json"

    def save_record(self, record: dict) -> Path:
        """Write `record` to `results/<name>.json` (atomically; values JSON cannot hold are written as text)."""
        atomic_write_text(self.record_path, json.dumps(record, indent=2, default=str) + "\n")
        return self.record_path


def smoke_banner(scale: str) -> str:
    """The banner printed at smoke scale ("" at any other scale)."""
    if scale != "smoke":
        return ""
    rule = "=" * len(SMOKE_BANNER)
    return f"{rule}\n{SMOKE_BANNER}\n{rule}"


def study_notebook(
    name: str,
    scale: str = "quick",
    world_dir: str | Path = "data/world",
    results_dir: str | Path = "results",
    seed: int = 0,
    build: bool = True,
) -> StudyNotebook:
    """Set up notebook `name` (its file's stem, e.g. "01_measuring_invariances") from its parameters.

    `build=False` opens the data folder without building the world (notebook 00 builds it in view)."""
    root = ROOT
    world, results = root / world_dir, root / results_dir  # an absolute path stays as it is
    (results / "figures").mkdir(parents=True, exist_ok=True)
    banner = smoke_banner(scale)
    if banner:
        print(banner)
    data = StudyData.open(world, scale, seed, build=build)
    return StudyNotebook(name, scale, seed, root, world, results, data)
