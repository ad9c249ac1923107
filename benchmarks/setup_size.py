"""What `make setup` downloads and installs on a fresh machine. Prints one JSON object.

pip resolves the kit with its `dev` extra for this Python and platform as on a fresh machine (`pip install
--isolated --dry-run --ignore-installed --report` against the package index, which reads the packages' metadata
and downloads none of them); each
package's download is the size of the file pip chose, from the package index's JSON API (PEP 691). Where the
kit's environment is installed (`--venv`, default `.venv`), its size on disk is measured too, and the ratio of
download to installed size is the baseline the download is compared with. Needs the package index (network).

    python benchmarks/setup_size.py [--venv .venv] [--index https://pypi.org/simple]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def resolved(python: str, index: str) -> list[dict]:
    """The packages a fresh `pip install -e .[dev]` would download from `index`: name, version, file, url. pip runs
    `--isolated` (no configuration file or environment of this machine: its local wheel folders and mirrors)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [python, "-m", "pip", "install", "--isolated", "--quiet", "--dry-run", "--ignore-installed",
             "--index-url", index, "--report", str(report), "-e", f"{ROOT}[dev]"],
            check=True,
        )  # fmt: skip
        items = json.loads(report.read_text())["install"]
    out = []
    for item in items:
        url = item.get("download_info", {}).get("url", "")
        if url.startswith("file:"):
            continue  # the kit itself (the only local entry of an isolated resolve)
        meta = item["metadata"]
        out.append(
            {"name": meta["name"], "version": meta["version"], "file": url.rsplit("/", 1)[-1], "url": url}
        )
    return out


def file_size(index: str, name: str, filename: str) -> int | None:
    """The size of `filename` as the index's JSON API (PEP 691) gives it."""
    request = urllib.request.Request(
        f"{index.rstrip('/')}/{name.lower().replace('_', '-')}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    return next((f.get("size") for f in files if f["filename"] == filename), None)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", default=".venv")
    ap.add_argument("--index", default="https://pypi.org/simple")
    args = ap.parse_args()
    packages = resolved(sys.executable, args.index)
    for p in packages:
        p["bytes"] = file_size(args.index, p["name"], p["file"])
    download = sum(p["bytes"] or 0 for p in packages)
    venv = Path(args.venv)
    installed = folder_bytes(venv) if venv.is_dir() else None
    largest = sorted(packages, key=lambda p: p["bytes"] or 0, reverse=True)[:8]
    print(
        json.dumps(
            {
                "benchmark": "setup_size",
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                },
                "packages": len(packages),
                "unknown_size": [p["name"] for p in packages if p["bytes"] is None],
                "download_bytes": download,
                "download_gb": round(download / 1e9, 2),
                "installed_gb": round(installed / 1e9, 2) if installed else None,
                "download_over_installed": round(download / installed, 3) if installed else None,
                "largest": [
                    {"name": p["name"], "version": p["version"], "mb": round((p["bytes"] or 0) / 1e6)}
                    for p in largest
                ],
                "baseline": "the installed environment's size on disk (--venv), measured in the same run",
            }
        )
    )


if __name__ == "__main__":
    main()
