"""Check a TrackingNet training folder as a video source (TrackingNet needs a form download: none here).

    python data_scripts/prepare_trackingnet.py data/real/trackingnet
    python data_scripts/prepare_trackingnet.py data/real/trackingnet --decode-ends  # also 2 frames a video

Request TrackingNet at https://tracking-net.org/ (a form, then a download script), unzip each chunk's
`zips/<video>.zip` into `frames/<video>/`, and point this script at the folder holding the chunks:

    <folder>/TRAIN_<k>/frames/<video>/<i>.jpg    frames 0, 1, 2, ... (no zero padding, no gaps)
    <folder>/TRAIN_<k>/anno/<video>.txt          one "x,y,w,h" line per frame

(one `TRAIN_<k>` folder works too). The folder is read with `ssl_kit.video.open_videos`, exactly as training
reads it: a video with a missing frame, an anno file of the wrong length or fewer than `--min-frames` frames
is skipped. The script prints the chunk, video and frame counts and every problem found. Exit code 0 when at
least one video is usable (problems are reported, and those videos are left out of training), 1 when none is.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

import _download  # noqa: F401  (makes ssl_kit importable from a checkout that is not installed)
import numpy as np
from tqdm import tqdm

from ssl_kit.errors import DataError
from ssl_kit.video import open_videos


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path, help="the folder holding TRAIN_<k>/ chunks (or one chunk)")
    p.add_argument(
        "--min-frames", type=int, default=2, help="shorter videos are skipped (default: %(default)s)"
    )
    p.add_argument(
        "--decode-ends", action="store_true", help="decode the first and last frame of every video"
    )
    p.add_argument("--max-problems", type=int, default=20, help="problems to print (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the problems are printed below
            videos = open_videos(args.folder, min_frames=args.min_frames, layout="frames")
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    problems = [f"{path}: {why}" for path, why in videos.skipped]
    if args.decode_ends:
        bad = []
        for video in tqdm(videos.videos, desc="decode", unit="video", disable=args.quiet, leave=False):
            try:
                video.read([0, len(video) - 1])
            except DataError as e:
                bad.append(video)
                problems.append(str(e))
        videos.videos = [v for v in videos.videos if v not in bad]

    per_chunk = Counter(v.source.chunk for v in videos)
    lengths = np.array([len(v) for v in videos], dtype=np.int64)
    print(
        f"{args.folder}: {len(per_chunk)} chunks, {len(videos)} usable videos, {videos.frame_count} frames, "
        f"{len(problems)} problems"
    )
    print("videos per chunk: " + ", ".join(f"{c}: {n}" for c, n in sorted(per_chunk.items())))
    if lengths.size:
        print(f"frames per video: min {lengths.min()}, median {int(np.median(lengths))}, max {lengths.max()}")
    with_tracks = sum(v.tracks is not None for v in videos)
    if with_tracks:
        print(f"{with_tracks} videos carry every-object tracks (the synthetic world's tracks/ sidecars)")
    for problem in problems[: args.max_problems]:
        print(f"problem: {problem}", file=sys.stderr)
    if len(problems) > args.max_problems:
        print(f"... and {len(problems) - args.max_problems} more problems", file=sys.stderr)
    if not len(videos):
        print("error: no usable video", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
