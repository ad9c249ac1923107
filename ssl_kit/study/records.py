"""The records notebooks write (`results/NN_*.json`), what each was measured on, the machine that ran them, and
the reference runs kept with their records in `docs/reference/<name>/` (read back as a `Reference`).

Every record opens with its `provenance`: the scale and seed, the data's kind (world or real), its identity
(one hash of the world's sets, or a fingerprint of the real datasets' folders), the world's version and the
kit's result format. Two records belong to the same study only when their provenance agrees
(`same_study`); `reproduce` renders no record of another study into its summary.
"""

from __future__ import annotations

import json
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from ssl_kit.common.keys import RESULT_FORMAT, digest
from ssl_kit.study.data_folder import StudyData
from ssl_kit.study.place import home
from ssl_kit.world.info import world_info

STUDY_FIELDS = ("scale", "seed", "data", "data_identity", "format")  # what must agree within one study
REFERENCE = Path("docs") / "reference"  # the kept reference runs, under the repository
DEFAULT_REFERENCE = "quick"  # what the README's table and the notebooks' closing cells compare with


def data_identity_of(data: StudyData) -> tuple[str, int | None]:
    """(identity, world version) of a study's data folder: the world's hash of its sets, or for real datasets a
    fingerprint of what the study reads (each dataset folder's entries and their sizes, one level deep)."""
    if data.world:
        info = world_info(data.root)
        return (info.identity, info.version) if info else ("unbuilt", None)
    listing = {}
    for name, path in data.inventory().items():
        if path is None:
            continue
        folder = Path(path)
        entries = sorted(folder.iterdir()) if folder.is_dir() else [folder]
        listing[name] = [(e.name, e.stat().st_size if e.is_file() else -1) for e in entries if e.exists()]
    return digest(listing), None


def provenance(data: StudyData, scale: str, seed: int, notebook: str = "") -> dict:
    """What a notebook's numbers were measured on (the first entry of its record)."""
    identity, version = data_identity_of(data)
    return {
        "notebook": notebook,
        "scale": scale,
        "seed": seed,
        "data": data.kind,
        "data_identity": identity,
        "world_version": version,
        "data_dir": str(data.root),
        "format": RESULT_FORMAT,
    }


def same_study(a: dict, b: dict) -> bool:
    """Whether two provenances are of one study (scale, seed, data and format)."""
    return all(a.get(k) == b.get(k) for k in STUDY_FIELDS)


def study_of(provenance: dict) -> str:
    """A provenance in words: "quick scale, seed 0, world 3f2a... (version 6)"."""
    version = f" (version {provenance['world_version']})" if provenance.get("world_version") else ""
    return (
        f"{provenance.get('scale')} scale, seed {provenance.get('seed')}, {provenance.get('data')} "
        f"{str(provenance.get('data_identity'))[:12]}{version}"
    )


def read_record(path: Path) -> dict | None:
    """A record's JSON, or None when it is unreadable (a crash while writing, a stray file)."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def cpu_model() -> str:
    """The CPU's model name (`/proc/cpuinfo`, else the platform's processor string), and its SIMD level."""
    name = platform.processor() or platform.machine()
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        name = found.group(1).strip() if found else name
        family, model = (re.search(rf"^{k}\s*:\s*(\d+)$", text, re.M) for k in ("cpu family", "model"))
        if family and model:  # a virtual CPU's name may not say its generation; these numbers do
            name += f" (family {family.group(1)}, model {model.group(1)})"
        flags = (re.search(r"^flags\s*:\s*(.+)$", text, re.M) or [None, ""])[1]
    except OSError:
        pass
    simd = next(
        (
            s
            for s, f in (("AVX-512 BF16", "avx512_bf16"), ("AVX-512", "avx512f"), ("AVX2", "avx2"))
            if f in flags.split()
        ),
        "",
    )
    return f"{name}, {os.cpu_count()} cores" + (f", {simd}" if simd else "")


@dataclass
class Reference:
    """One kept run: its name, folder, `run.json` and records (notebook stem -> record)."""

    name: str
    folder: Path
    run: dict
    records: dict[str, dict]

    def line(self) -> str:
        """The run in one line: study, date, machine."""
        m = self.run.get("machine", {})
        machine = (
            f"{m.get('cpu', 'an unnamed CPU')}, torch {m.get('torch', '?')}, device {m.get('device', '?')}"
        )
        return f"{study_of(self.run.get('study', {}))}; run {self.run.get('date', '?')[:10]} on {machine}"


def reference_root() -> Path:
    return home() / REFERENCE


def load_reference(name: str = DEFAULT_REFERENCE, root: Path | None = None) -> Reference | None:
    """The kept run `name`, or None when there is none."""
    folder = (root or reference_root()) / name
    run = read_record(folder / "run.json")
    if run is None:
        return None
    records = {
        p.stem: r for p in sorted(folder.glob("[0-9][0-9]_*.json")) if (r := read_record(p)) is not None
    }
    return Reference(name, folder, run, records)


def references(root: Path | None = None) -> list[Reference]:
    """The kept reference runs under `root` (a hidden folder is a copy being swapped in by `report --keep`)."""
    root = root or reference_root()
    found = (
        [
            load_reference(p.name, root)
            for p in sorted(root.iterdir())
            if p.is_dir() and not p.name.startswith(".")
        ]
        if root.is_dir()
        else []
    )
    return [r for r in found if r is not None]
