"""Download and unpack the ALOI sets the invariance protocols use, then check them with the kit's reader.

    python data_scripts/prepare_aloi.py --out data/real/aloi             # view, col and ill, half resolution
    python data_scripts/prepare_aloi.py --out data/real/aloi --sets view # only the viewpoint set

Each set `aloi_red<r>_<kind>.tar` (from http://aloi.science.uva.nl/tars/, the URLs the paper's own README
uses) is downloaded to `<out>/downloads/` (resumable, sha256 recorded next to it), extracted to
`<out>/aloi_red<r>_<kind>/` (the tar holds `png<r>/<obj>/...`), and read with `ssl_kit.data.read_aloi`,
which prints the object and image counts. A `.aloi_red<r>_<kind>.done` marker in `<out>` makes a re-run skip
the download and extraction; the check runs every time. Exit code 1 on any error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _download import DownloadError, download, extract, is_done, mark_done

from ssl_kit.data import read_aloi
from ssl_kit.errors import DataError

URL_BASE = "http://aloi.science.uva.nl/tars"
KINDS = ("view", "col", "ill")
# Images per object in the full sets (ALOI: 72 viewing angles, 12 illumination colours, 8 lights x 3 cameras).
PER_OBJECT = {"view": 72, "col": 12, "ill": 24}
N_OBJECTS = 1000
# Published sha256 of each tar. The ALOI site publishes no checksums, so these are None: the first download's
# sha256 is recorded in `<tar>.sha256` and checked on every later run. (dm_nevis lists md5 sums, for the red4
# tars only; they are not used here.) Fill in a value to pin a file.
SHA256: dict[str, str | None] = {f"aloi_red{r}_{kind}.tar": None for r in (2, 4) for kind in KINDS}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--out", type=Path, default=Path("data/real/aloi"), help="destination folder (default: %(default)s)"
    )
    p.add_argument("--sets", nargs="+", choices=KINDS, default=list(KINDS), help="which sets (default: all)")
    p.add_argument(
        "--reduction", type=int, choices=(2, 4), default=2, help="2 = half resolution (paper), 4 = quarter"
    )
    p.add_argument("--url-base", default=URL_BASE, help="mirror holding the tars (default: %(default)s)")
    p.add_argument("--downloads", type=Path, help="where the tars go (default: <out>/downloads)")
    p.add_argument("--remove-archives", action="store_true", help="delete each tar once it is unpacked")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def prepare_set(kind: str, args: argparse.Namespace) -> None:
    """Download, extract (unless done) and check one set; print its counts."""
    name = f"aloi_red{args.reduction}_{kind}"
    target = args.out / name
    if is_done(args.out, name):
        print(f"{name}: already unpacked in {target} (remove {args.out / f'.{name}.done'} to redo)")
    else:
        tar_name = f"{name}.tar"
        archive = download(
            f"{args.url_base.rstrip('/')}/{tar_name}",
            (args.downloads or args.out / "downloads") / tar_name,
            SHA256.get(tar_name),
            progress=not args.quiet,
        )
        n = extract(archive, target, progress=not args.quiet)
        print(f"{name}: unpacked {n} files into {target}")
    index = read_aloi(target, kind)
    n_obj = len(set(index.objects.tolist()))
    print(f"{name}: {n_obj} objects, {len(index)} images ({len(index) / max(n_obj, 1):.0f} per object)")
    if n_obj != N_OBJECTS or len(index) != N_OBJECTS * PER_OBJECT[kind]:
        print(f"{name}: note: the full set has {N_OBJECTS} objects x {PER_OBJECT[kind]} images")
    if not is_done(args.out, name):
        mark_done(args.out, name, f"{n_obj} objects, {len(index)} images")
    if args.remove_archives:
        archive = (args.downloads or args.out / "downloads") / f"{name}.tar"
        for path in (archive, archive.with_name(archive.name + ".sha256")):
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        for kind in args.sets:
            prepare_set(kind, args)
    except (DownloadError, DataError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
