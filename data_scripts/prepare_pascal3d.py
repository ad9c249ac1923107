"""Download and unpack Pascal3D+ release 1.1, then check its ImageNet part with the kit's reader.

    python data_scripts/prepare_pascal3d.py --out data/real/pascal3d

`PASCAL3D+_release1.1.zip` (about 7.7 GB) comes from Stanford CVGL's ftp server, the URL the paper's own
README and the dataset page give. urllib cannot resume over ftp, so an interrupted ftp download starts over;
over an http(s) mirror (`--url-base`) it resumes. The zip goes to `<out>/downloads/` with its sha256 recorded
next to it, and its top folder `PASCAL3D+_release1.1/` is stripped, so `<out>` itself holds `Images/`,
`Annotations/` (MATLAB `.mat` records) and `Image_sets/`. The ImageNet part (the one the instance and
instance+viewpoint protocols use) is then read with `ssl_kit.data.read_pascal3d` for the train and val
splits, printing images and objects per class. A `.pascal3d_release1.1.done` marker makes a re-run skip the
download and extraction. Exit code 1 on any error.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from _download import DownloadError, common_top_folder, download, extract, is_done, mark_done

from ssl_kit.data import read_pascal3d
from ssl_kit.errors import DataError

ZIP = "PASCAL3D+_release1.1.zip"
# The host the paper's README uses (`ftp://cs.stanford.edu/cs/cvgl/...`); `ftp.cs.stanford.edu` is cited too.
URL_BASE = "ftp://cs.stanford.edu/cs/cvgl"
# Published sha256: none is published by the authors, so None (the first download's sha256 is recorded in
# `<zip>.sha256` and checked on later runs). A third-party script pins an md5 for a Google Drive copy; it is
# not a sha256 and is not used here.
SHA256: dict[str, str | None] = {ZIP: None}
STEP = "pascal3d_release1.1"
N_CLASSES = 12


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("data/real/pascal3d"),
        help="destination folder (default: %(default)s)",
    )
    p.add_argument("--url-base", default=URL_BASE, help=f"folder URL holding {ZIP} (default: %(default)s)")
    p.add_argument("--downloads", type=Path, help="where the zip goes (default: <out>/downloads)")
    p.add_argument("--remove-archives", action="store_true", help="delete the zip once it is unpacked")
    p.add_argument("--no-check", action="store_true", help="skip reading the annotations afterwards")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def unpack(args: argparse.Namespace) -> None:
    """Download and extract the release into `args.out` (skipped when its marker exists)."""
    if is_done(args.out, STEP):
        print(f"Pascal3D+: already unpacked in {args.out} (remove {args.out / f'.{STEP}.done'} to redo)")
        return
    archive = download(
        f"{args.url_base.rstrip('/')}/{ZIP}",
        (args.downloads or args.out / "downloads") / ZIP,
        SHA256[ZIP],
        progress=not args.quiet,
    )
    top = common_top_folder(archive)
    n = extract(archive, args.out, strip_components=1 if top else 0, progress=not args.quiet)
    print(
        f"Pascal3D+: unpacked {n} files into {args.out}"
        + (f" (without the top folder {top}/)" if top else "")
    )


def check(root: Path) -> None:
    """Read the ImageNet train and val splits and print images/objects per class (image-set class)."""
    rows: dict[str, dict[str, tuple[int, int]]] = {}
    for split in ("train", "val"):
        objs = read_pascal3d(root, split=split, source="imagenet")
        folder_class = {id(o): o.image.parent.name.removesuffix("_imagenet") for o in objs}
        objects = Counter(folder_class.values())
        images = Counter(cls for cls, _ in {(folder_class[id(o)], o.name) for o in objs})
        for cls in objects:
            rows.setdefault(cls, {})[split] = (images[cls], objects[cls])
        flagged = sum(o.truncated or o.occluded or o.difficult for o in objs)
        other = sum(o.cls != folder_class[id(o)] for o in objs)
        print(
            f"{split}: {sum(images.values())} images, {len(objs)} objects with a viewpoint "
            f"({flagged} truncated/occluded/difficult, {other} of another class than their image set)"
        )
    print(f"{'class':<14}{'train images':>14}{'objects':>9}{'val images':>12}{'objects':>9}")
    for cls in sorted(rows):
        (ti, to), (vi, vo) = rows[cls].get("train", (0, 0)), rows[cls].get("val", (0, 0))
        print(f"{cls:<14}{ti:>14}{to:>9}{vi:>12}{vo:>9}")
    if len(rows) != N_CLASSES:
        print(f"note: found {len(rows)} classes; the release has {N_CLASSES} rigid classes")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        unpack(args)
        if not args.no_check:
            check(args.out)
        if not is_done(args.out, STEP):
            mark_done(args.out, STEP, ZIP)
        if args.remove_archives:
            archive = (args.downloads or args.out / "downloads") / ZIP
            for path in (archive, archive.with_name(archive.name + ".sha256")):
                path.unlink(missing_ok=True)
    except (DownloadError, DataError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
