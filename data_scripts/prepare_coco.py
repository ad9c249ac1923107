"""Download and unpack COCO 2017 (images and instance annotations), then check each split with the kit's reader.

    python data_scripts/prepare_coco.py --out data/real/coco                   # train2017 and val2017
    python data_scripts/prepare_coco.py --out data/real/coco --splits val2017  # only the 5,000 val images

`annotations_trainval2017.zip` (from http://images.cocodataset.org/annotations/) and `<split>.zip` (from
http://images.cocodataset.org/zips/; train2017 is about 18 GB, val2017 about 1 GB) are downloaded to
`<out>/downloads/` (resumable, sha256 recorded next to each) and extracted into `<out>`, giving the layout the
kit reads (`coco:<out>[:<split>]` and `coco_crops:<out>[:<split>]` training sets):

    <out>/train2017/*.jpg    <out>/annotations/instances_train2017.json    (same for val2017)

The annotations zip is extracted whole (captions and keypoints come along). A mirror (`--url-base`) must keep
the `zips/` and `annotations/` folders. Each split is then read with `ssl_kit.data.read_coco` (which also
checks that every listed image file is there; for train2017 that means parsing the ~450 MB JSON, as training
does), printing image, annotation and category counts. A `.coco_<step>.done` marker in `<out>` makes a re-run
skip a finished download and extraction; the check runs every time. Exit code 1 on any error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _download import DownloadError, download, extract, is_done, mark_done

from ssl_kit.data import read_coco
from ssl_kit.errors import DataError

URL_BASE = "http://images.cocodataset.org"
SPLITS = ("train2017", "val2017")
ANNOTATIONS = "annotations_trainval2017.zip"
FOLDER = {"train2017.zip": "zips", "val2017.zip": "zips", ANNOTATIONS: "annotations"}  # under the URL base
# Published sha256 of each zip. COCO publishes no checksums, so these are None: the first download's sha256 is
# recorded in `<zip>.sha256` and checked on every later run. Fill in a value to pin a file.
SHA256: dict[str, str | None] = dict.fromkeys(FOLDER)
# The full splits: images (from cocodataset.org) and the 80 object categories of the instance annotations.
FULL_IMAGES = {"train2017": 118_287, "val2017": 5_000}
N_CATEGORIES = 80


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--out", type=Path, default=Path("data/real/coco"), help="destination folder (default: %(default)s)"
    )
    p.add_argument(
        "--splits", nargs="+", choices=SPLITS, default=list(SPLITS), help="which splits (default: both)"
    )
    p.add_argument(
        "--url-base",
        default=URL_BASE,
        help="server (or mirror) holding zips/<split>.zip and annotations/<zip> (default: %(default)s)",
    )
    p.add_argument("--downloads", type=Path, help="where the zips go (default: <out>/downloads)")
    p.add_argument("--remove-archives", action="store_true", help="delete each zip once it is unpacked")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def unpack(zip_name: str, args: argparse.Namespace) -> str:
    """Download and extract one zip into `args.out` unless its marker exists; return the step name."""
    step = f"coco_{zip_name.removesuffix('.zip')}"
    if is_done(args.out, step):
        print(f"{zip_name}: already unpacked in {args.out} (remove {args.out / f'.{step}.done'} to redo)")
        return step
    archive = download(
        f"{args.url_base.rstrip('/')}/{FOLDER[zip_name]}/{zip_name}",
        (args.downloads or args.out / "downloads") / zip_name,
        SHA256.get(zip_name),
        progress=not args.quiet,
    )
    n = extract(archive, args.out, progress=not args.quiet)
    print(f"{zip_name}: unpacked {n} files into {args.out}")
    return step


def check(root: Path, split: str) -> str:
    """Read one split with the kit's reader and print its counts; return a one-line summary."""
    index = read_coco(root, split)
    anns = [a for image_anns in index.annotations.values() for a in image_anns]
    crowd = sum(a.iscrowd for a in anns)
    empty = sum(not image_anns for image_anns in index.annotations.values())
    used = len({a.category_id for a in anns})
    summary = f"{len(index.images)} images, {len(anns)} annotations, {len(index.categories)} categories"
    print(
        f"{split}: {summary} ({crowd} crowd annotations, {empty} images without annotations, "
        f"{used} categories used)"
    )
    if len(index.images) != FULL_IMAGES[split] or len(index.categories) != N_CATEGORIES:
        print(f"{split}: note: the full split has {FULL_IMAGES[split]} images and {N_CATEGORIES} categories")
    return summary


def remove_archive(zip_name: str, args: argparse.Namespace) -> None:
    archive = (args.downloads or args.out / "downloads") / zip_name
    for path in (archive, archive.with_name(archive.name + ".sha256")):
        path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        step = unpack(ANNOTATIONS, args)
        if not is_done(args.out, step):
            mark_done(args.out, step, ANNOTATIONS)
        for split in args.splits:
            step = unpack(f"{split}.zip", args)
            summary = check(args.out, split)
            if not is_done(args.out, step):
                mark_done(args.out, step, summary)
            if args.remove_archives:
                remove_archive(f"{split}.zip", args)
        if args.remove_archives:
            remove_archive(ANNOTATIONS, args)
    except (DownloadError, DataError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
