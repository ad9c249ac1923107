"""Check a GOT-10k training folder for the occlusion protocol (GOT-10k needs registration: no download here).

    python data_scripts/check_got10k.py data/real/got10k/train

Download the training split yourself from http://got-10k.aitestunion.com/ (free registration) and unpack it;
then point this script at the `train/` folder (the one holding `list.txt`; its parent works too). Every
sequence named in `list.txt` is read with `ssl_kit.data.got10k.read_got_sequence` (frames, groundtruth.txt,
cover.label, absence.label, meta_info.ini). The script reports how many sequences there are, how many pass
the paper's occlusion filter (cover level span max - min >= 4 over the frames), and every problem found.
Exit code 0 when the folder is usable, 1 when it is not (no list.txt, a sequence that cannot be read, or no
sequence passing the filter).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import _download  # noqa: F401  (makes ssl_kit importable from a checkout that is not installed)
from tqdm import tqdm

from ssl_kit.data.got10k import read_got_sequence, read_lines
from ssl_kit.errors import DataError

MIN_SPAN = 4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path, help="the GOT-10k train/ folder (holding list.txt), or its parent")
    p.add_argument("--min-span", type=int, default=MIN_SPAN, help="cover span to pass (default: %(default)s)")
    p.add_argument("--max-problems", type=int, default=20, help="problems to print (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def train_folder(folder: Path) -> Path:
    """`folder` if it holds list.txt, else `folder/train` if that does, else `folder` (to report on)."""
    if not (folder / "list.txt").is_file() and (folder / "train" / "list.txt").is_file():
        return folder / "train"
    return folder


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = train_folder(args.folder)
    if not root.is_dir():
        print(f"error: {root}: folder is missing (expected the GOT-10k train/ folder)", file=sys.stderr)
        return 1
    try:
        names = read_lines(root / "list.txt", "one sequence folder name per line")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not names:
        print(f"error: {root / 'list.txt'}: lists no sequences", file=sys.stderr)
        return 1

    problems: list[str] = []
    passing: Counter[str] = Counter()
    spans: Counter[int] = Counter()
    n_ok = n_frames = 0
    for name in tqdm(names, desc="sequences", unit="seq", disable=args.quiet, leave=False):
        try:
            seq = read_got_sequence(root / name)
        except DataError as e:
            problems.append(str(e))
            continue
        n_ok += 1
        n_frames += len(seq)
        span = int(seq.cover.max() - seq.cover.min())
        spans[span] += 1
        if span >= args.min_span:
            passing[seq.object_class] += 1
    listed = set(names)
    unlisted = sorted(p.name for p in root.glob("GOT-10k_Train_*") if p.is_dir() and p.name not in listed)

    print(f"{root}: {len(names)} sequences listed, {n_ok} read ({n_frames} frames), {len(problems)} problems")
    n_pass = sum(passing.values())
    print(
        f"occlusion filter (cover span >= {args.min_span}): {n_pass} of {n_ok} sequences pass, "
        f"{len(passing)} object classes"
    )
    print("cover span histogram: " + ", ".join(f"{s}: {spans[s]}" for s in sorted(spans)))
    if unlisted:
        print(f"note: {len(unlisted)} sequence folders are not in list.txt (e.g. {unlisted[0]}); ignored")
    for problem in problems[: args.max_problems]:
        print(f"problem: {problem}", file=sys.stderr)
    if len(problems) > args.max_problems:
        print(f"... and {len(problems) - args.max_problems} more problems", file=sys.stderr)
    if problems:
        return 1
    if n_pass == 0:
        print("error: no sequence passes the occlusion filter; the protocol has no targets", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
