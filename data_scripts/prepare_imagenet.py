"""Make an ImageNet-style subset folder (`<out>/{train,val}/<wnid>/*.JPEG`) and check it with the kit's reader.

    python data_scripts/prepare_imagenet.py --imagenette --out data/real/imagenette
    python data_scripts/prepare_imagenet.py --from /data/imagenet --out data/real/imagenet100  # CMC's 100
    python data_scripts/prepare_imagenet.py --from /data/imagenet --classes my_wnids.txt --per-class 300

--imagenette downloads fast.ai's Imagenette (`imagenette2-320.tgz`, 10 easy ImageNet classes, shorter side
320 px) to `<out>/downloads/` (resumable, sha256 recorded next to it) and extracts it without its top folder
`imagenette2-320/`, so `<out>/train` and `<out>/val` are the class folders. A `.imagenette2-320.done` marker
makes a re-run skip the download and extraction.

--from links (symlinks; `--copy` copies) the chosen classes' images out of an ImageNet you already have:
`<root>/train/<wnid>/*.JPEG` and `<root>/val/<wnid>/*.JPEG`. The val images must already be sorted into
class folders: the official ILSVRC2012 val archive is flat (`ILSVRC2012_val_*.JPEG`); sort it by the devkit's
ground truth first, or pass `--splits train`. `--classes imagenet100` (the default) is the 100-class list of
CMC (Tian et al. 2019) that the paper's ImageNet-100 experiments use; otherwise give a file with one wnid per
line (`#` comments allowed). `--per-class N` keeps the first N images of each class (by file name, so a
smaller cap is a subset of a larger one) in each split. A split is built in `<out>/.<split>.partial` and
renamed when complete; a `.subset_<split>.done` marker records the options, so a re-run with the same ones
skips it and one with other ones rebuilds it.

The folder is then read with `ssl_kit.data.read_imagefolder` (use it as `folder:<out>/train`), printing the
class and image counts. Exit code 1 on any error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
import tarfile
import zlib
from pathlib import Path

from _download import DownloadError, common_top_folder, download, extract, is_done, mark_done, marker

from ssl_kit.data import read_imagefolder
from ssl_kit.data.imagefolder import is_image_file
from ssl_kit.errors import DataError

URL_BASE = "https://s3.amazonaws.com/fast-ai-imageclas"
TGZ = "imagenette2-320.tgz"
# Published sha256: none. torchvision's Imagenette pins an md5 (3df6f0d01a2c9592104656642f5e78a3); it is not a
# sha256 and is not used here. The first download's sha256 is recorded in `<tgz>.sha256` and checked later.
SHA256: dict[str, str | None] = {TGZ: None}
IMAGENETTE_STEP = "imagenette2-320"
IMAGENETTE = {
    "train": 9_469,
    "val": 3_925,
}  # images in the full Imagenette 2 (10 classes), as other loaders report
WNID = re.compile(r"^n\d{8}$")
# ImageNet-100: the 100 classes of CMC (Tian, Krishnan, Isola 2019), from
# https://github.com/HobbitLong/CMC/blob/master/imagenet100.txt, in that file's order.
IMAGENET100 = """
n02869837 n01749939 n02488291 n02107142 n13037406 n02091831 n04517823 n04589890 n03062245 n01773797
n01735189 n07831146 n07753275 n03085013 n04485082 n02105505 n01983481 n02788148 n03530642 n04435653
n02086910 n02859443 n13040303 n03594734 n02085620 n02099849 n01558993 n04493381 n02109047 n04111531
n02877765 n04429376 n02009229 n01978455 n02106550 n01820546 n01692333 n07714571 n02974003 n02114855
n03785016 n03764736 n03775546 n02087046 n07836838 n04099969 n04592741 n03891251 n02701002 n03379051
n02259212 n07715103 n03947888 n04026417 n02326432 n03637318 n01980166 n02113799 n02086240 n03903868
n02483362 n04127249 n02089973 n03017168 n02093428 n02804414 n02396427 n04418357 n02172182 n01729322
n02113978 n03787032 n02089867 n02119022 n03777754 n04238763 n02231487 n03032252 n02138441 n02104029
n03837869 n03494278 n04136333 n03794056 n03492542 n02018207 n04067472 n03930630 n03584829 n02123045
n04229816 n02100583 n03642806 n04336792 n03259280 n02116738 n02108089 n03424325 n01855672 n02090622
""".split()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--imagenette", action="store_true", help=f"download and unpack {TGZ}")
    source.add_argument(
        "--from",
        dest="source",
        metavar="ROOT",
        type=Path,
        help="ImageNet root holding train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (val sorted into class folders)",
    )
    p.add_argument(
        "--out", type=Path, help="destination (default: data/real/imagenette or data/real/imagenet100)"
    )
    p.add_argument(
        "--classes",
        default="imagenet100",
        help="--from: 'imagenet100' or a file of wnids (default: %(default)s)",
    )
    p.add_argument(
        "--per-class", type=_positive, metavar="N", help="--from: at most N images per class and split"
    )
    p.add_argument(
        "--splits",
        nargs="+",
        choices=("train", "val"),
        default=["train", "val"],
        help="--from: which splits (default: both)",
    )
    p.add_argument("--copy", action="store_true", help="--from: copy the images instead of symlinking them")
    p.add_argument("--url-base", default=URL_BASE, help=f"folder URL holding {TGZ} (default: %(default)s)")
    p.add_argument("--downloads", type=Path, help="where the tgz goes (default: <out>/downloads)")
    p.add_argument("--remove-archives", action="store_true", help="delete the tgz once it is unpacked")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.out is None:
        args.out = Path("data/real/imagenette" if args.imagenette else "data/real/imagenet100")
    return args


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def imagenette(args: argparse.Namespace) -> None:
    """Download and extract Imagenette into `args.out` (skipped when its marker exists)."""
    if is_done(args.out, IMAGENETTE_STEP):
        print(
            f"Imagenette: already unpacked in {args.out} (remove {marker(args.out, IMAGENETTE_STEP)} to redo)"
        )
        return
    archive = download(
        f"{args.url_base.rstrip('/')}/{TGZ}",
        (args.downloads or args.out / "downloads") / TGZ,
        SHA256[TGZ],
        progress=not args.quiet,
    )
    try:
        top = common_top_folder(archive)
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise DownloadError(
            archive, f"is damaged ({type(e).__name__}: {e}); delete it to download it again"
        ) from e
    n = extract(archive, args.out, strip_components=1 if top else 0, progress=not args.quiet)
    print(
        f"Imagenette: unpacked {n} files into {args.out}"
        + (f" (without the top folder {top}/)" if top else "")
    )


def read_classes(spec: str) -> list[str]:
    """The wnids named by `--classes`: the built-in ImageNet-100 list or a file with one wnid per line."""
    if spec == "imagenet100":
        return list(IMAGENET100)
    path = Path(spec)
    if not path.is_file():
        raise DataError(path, "class list file is missing", "'imagenet100' or a file with one wnid per line")
    wnids: list[str] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        word = line.split("#", 1)[0].strip()
        if not word:
            continue
        if not WNID.match(word):
            raise DataError(path, f"line {i}: {word!r} is not a WordNet id", "'n' followed by 8 digits")
        if word in wnids:
            raise DataError(path, f"line {i}: {word} is listed twice", "each wnid once")
        wnids.append(word)
    if not wnids:
        raise DataError(path, "lists no wnids", "one wnid per line")
    return wnids


def source_folders(root: Path, split: str, wnids: list[str]) -> list[Path]:
    """`<root>/<split>/<wnid>` for every wnid; clear errors for a missing, flat or incomplete split folder."""
    folder = root / split
    if not folder.is_dir():
        raise DataError(folder, "folder is missing", f"ImageNet's {split} images in <wnid>/ class folders")
    flat = sum(1 for p in folder.iterdir() if p.is_file() and is_image_file(p))
    if flat:
        raise DataError(
            folder,
            f"holds {flat} images directly, not in class folders (ImageNet's official val archive is flat: "
            f"sort it into {split}/<wnid>/ by the devkit's ground truth, or leave the split out with --splits)",
            f"{split}/<wnid>/*.JPEG",
        )
    missing = [w for w in wnids if not (folder / w).is_dir()]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise DataError(
            folder,
            f"{len(missing)} of {len(wnids)} classes are missing: {shown}",
            "one <wnid>/ folder per class",
        )
    return [folder / w for w in wnids]


def build_split(split: str, wnids: list[str], args: argparse.Namespace) -> None:
    """Link (or copy) the chosen images of one split into `<out>/<split>`, unless the same build is done."""
    step, target = f"subset_{split}", args.out / split
    key = hashlib.sha256(" ".join(wnids).encode()).hexdigest()[:12]
    info = (
        f"from={args.source.resolve()} classes={len(wnids)}:{key} per_class={args.per_class} copy={args.copy}"
    )
    done = is_done(args.out, step)
    if done and marker(args.out, step).read_text(encoding="utf-8").split(" ", 1)[-1].strip() == info:
        print(f"{split}: already built in {target} (remove {marker(args.out, step)} to redo)")
        return
    folders = source_folders(args.source, split, wnids)  # fails before anything is removed
    if done:
        print(f"{split}: built with other options before; rebuilding {target}")
        marker(args.out, step).unlink()
        shutil.rmtree(target, ignore_errors=True)
    elif target.exists():
        raise DataError(target, "exists and was not made by --from", "a new --out folder, or remove it")
    partial = args.out / f".{split}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    short = 0
    for folder in folders:
        files = sorted(p for p in folder.iterdir() if is_image_file(p) and p.is_file())
        if not files:
            raise DataError(folder, "class folder holds no images", "*.JPEG files")
        short += args.per_class is not None and len(files) < args.per_class
        (partial / folder.name).mkdir(parents=True)
        for src in files[: args.per_class]:
            if args.copy:
                shutil.copy2(src, partial / folder.name / src.name)
            else:
                os.symlink(src.resolve(), partial / folder.name / src.name)
    os.replace(partial, target)
    mark_done(args.out, step, info)
    verb = "copied" if args.copy else "linked"
    print(
        f"{split}: {verb} {len(wnids)} classes into {target}"
        + (f" ({short} with < {args.per_class} images)" if short else "")
    )


def check(root: Path, split: str, n_classes: int, n_images: int | None = None) -> None:
    """Read `root/<split>` as an ImageFolder and print its class and image counts (and a note if unexpected)."""
    index = read_imagefolder(root / split)
    counts = [int((index.labels == i).sum()) for i in range(len(index.classes))]
    print(
        f"{split}: {len(index.classes)} classes, {len(index)} images ({min(counts)}-{max(counts)} per class)"
    )
    if len(index.classes) != n_classes or n_images not in (None, len(index)):
        full = f"{n_classes} classes" + (f" and {n_images} images" if n_images else "")
        print(f"{split}: note: the full set has {full}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.imagenette:
            imagenette(args)
            for split in ("train", "val"):
                check(args.out, split, 10, IMAGENETTE[split])
            if not is_done(args.out, IMAGENETTE_STEP):
                mark_done(args.out, IMAGENETTE_STEP, TGZ)
            if args.remove_archives:
                archive = (args.downloads or args.out / "downloads") / TGZ
                for path in (archive, archive.with_name(archive.name + ".sha256")):
                    path.unlink(missing_ok=True)
        else:
            wnids = read_classes(args.classes)
            if not args.source.is_dir():
                raise DataError(args.source, "ImageNet root is missing", "a folder holding train/ and val/")
            for split in args.splits:  # every problem with the source before anything is linked
                source_folders(args.source, split, wnids)
            for split in args.splits:
                build_split(split, wnids, args)
                check(args.out, split, len(wnids))
    except (DownloadError, DataError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
