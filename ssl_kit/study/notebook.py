"""What every numbered notebook does first and last, in one place.

First: `setup = study_notebook("02_augmentation_ablations", scale, world_dir, results_dir, seed)` takes the
`parameters` cell's values and decides the study's folders (`ssl_kit.study.place`: every value None, as the
notebooks are committed, means the study `make reproduce` ran last, on the world that is there, at its scale),
prints them, makes `results/figures`, opens the data (building the world when needed, or reading a folder of
real datasets: `ssl_kit.study.data_folder`) and, at `scale="smoke"`, prints a banner saying that the numbers are
not meaningful.

Last: `setup.save_record(record)` writes `results/<notebook>.json`, the machine-readable record that
`ssl_kit.study.reproduce` renders into `summary.md`, with its provenance (scale, seed, the data's identity) so
that it is never read as a record of another world or scale; the closing cell shows `findings_markdown(name,
record)`: what this run found, next to what the kept reference run found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ssl_kit.common.atomic import atomic_write_text
from ssl_kit.findings.tables import findings_table
from ssl_kit.study.data_folder import StudyData
from ssl_kit.study.place import NOTEBOOK, Place, home, resolve_place
from ssl_kit.study.records import (
    DEFAULT_REFERENCE,
    load_reference,
    provenance,
    read_record,
    same_study,
    study_of,
)
from ssl_kit.study.summary import SMOKE_BANNER, render_record

ROOT = Path(__file__).resolve().parents[2]  # the repository root
# per notebook: the record entries its "what the run found" shows (besides its findings), in order
HEADLINES = {
    "00_quickstart": ["sets", "total_images"],
    "01_measuring_invariances": ["summary", "cosine", "measures_agree"],
    "02_augmentation_ablations": ["summary", "checks"],
    "03_dataset_biases": ["summary", "checks"],
    "04_video_training": ["summary", "comparisons"],
    "05_explorer": ["neighbour_label_agreement_k5", "viewpoint_target_readout"],
    "06_budget_curve": ["summary", "verdicts_by_budget"],
    "07_invariance_over_training": ["firing_rate"],
    "08_what_if": ["what_if", "what_if_said", "world_what_if", "world_what_if_said"],
}
FIGURE_KEYS = re.compile(r"(^|_)figure$")


@dataclass
class StudyNotebook:
    """One notebook's folders and data: `world` (the world or real-data folder), `results`, `figures`
    (`results/figures`), `runs` (`results/runs`), `data` (`StudyData`) and `place` (how they were chosen)."""

    name: str
    place: Place
    data: StudyData

    @property
    def scale(self) -> str:
        return self.place.scale

    @property
    def seed(self) -> int:
        return self.place.seed

    @property
    def world(self) -> Path:
        return self.place.world

    @property
    def results(self) -> Path:
        return self.place.results

    @property
    def root(self) -> Path:
        return home()

    @property
    def figures(self) -> Path:
        return self.results / "figures"

    @property
    def runs(self) -> Path:
        """Where the notebook's own training runs go, each in a folder named by its key (the sweeps' runs are
        under `results/sweeps`)."""
        return self.results / "runs"

    @property
    def record_path(self) -> Path:
        return self.results / f"{self.name}.json"

    def provenance(self) -> dict:
        """What this notebook's numbers were measured on: scale, seed, the data's kind and identity."""
        return provenance(self.data, self.scale, self.seed, self.name)

    def saved_record(self) -> dict:
        """The record `save_record` wrote (with its provenance), or {} before it is written."""
        return read_record(self.record_path) or {}

    def save_record(self, record: dict) -> Path:
        """Write `record` to `results/<name>.json` (atomically; values JSON cannot hold are written as text),
        with its `provenance` first."""
        full = {"provenance": self.provenance(), **record}
        atomic_write_text(self.record_path, json.dumps(full, indent=2, default=str) + "\n")
        return self.record_path


def smoke_banner(scale: str) -> str:
    """The banner printed at smoke scale ("" at any other scale)."""
    if scale != "smoke":
        return ""
    rule = "=" * len(SMOKE_BANNER)
    return f"{rule}\n{SMOKE_BANNER}\n{rule}"


def study_notebook(
    name: str,
    scale: str | None = None,
    world_dir: str | Path | None = None,
    results_dir: str | Path | None = None,
    seed: int | None = None,
    build: bool = True,
) -> StudyNotebook:
    """Set up notebook `name` (its file's stem, e.g. "01_measuring_invariances") from its parameters; relative
    paths are taken from the repository root, wherever Jupyter was started.

    `build=False` opens the data folder without building the world (notebook 00 builds it in view)."""
    place = resolve_place(scale, seed, world_dir, results_dir, NOTEBOOK)
    print(f"{name}: {place.describe()}")
    (place.results / "figures").mkdir(parents=True, exist_ok=True)
    banner = smoke_banner(place.scale)
    if banner:
        print(banner)
    data = StudyData.open(place.world, place.scale, place.seed, build=build)
    return StudyNotebook(name, place, data)


def headlines(name: str, record: dict, figures: Path | None = None, prefix: str = "") -> list[str]:
    """Markdown lines of the record entries notebook `name` shows besides its findings (`HEADLINES`), and its
    figures (inline when under `figures`, linked as `prefix` + their path)."""
    keys = HEADLINES.get(name, [])
    chosen = {k: record[k] for k in keys if k in record}
    chosen.update({k: v for k, v in record.items() if FIGURE_KEYS.search(k) and isinstance(v, str)})
    return render_record(chosen, figures, prefix)


def findings_markdown(name: str, record: dict, reference: str = DEFAULT_REFERENCE) -> str:
    """A notebook's closing cell: what this run found (its record), then what the kept reference run found
    (when there is one and it is not this run), each with its study; every number from a record."""
    out = ["### What this run found", "", f"*{study_of(record.get('provenance', {}))}*", ""]
    if record.get("provenance", {}).get("scale") == "smoke":
        out += [f"**{SMOKE_BANNER}.**", ""]
    out += _section(name, record)
    ref = load_reference(reference)
    theirs = ref.records.get(name) if ref else None
    if theirs and not same_study(theirs.get("provenance", {}), record.get("provenance", {})):
        out += ["", f"### What the reference {ref.name} run found", "", f"*{ref.line()}*", ""]
        out += _section(name, theirs)
    elif ref is None:
        out += ["", "*No reference run is kept in docs/reference/ to compare with.*"]
    return "\n".join(out)


def _section(name: str, record: dict) -> list[str]:
    return [*findings_table([record], heading=""), *headlines(name, record)]
