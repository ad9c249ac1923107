"""Turn any folder of video files into a video source: check every file and write `videos.json` in it.

    python data_scripts/index_videos.py data/real/my_videos              # probes new or changed files only
    python data_scripts/index_videos.py data/real/my_videos --force      # probes every file again

Every `.mp4`, `.avi`, `.mov` and `.mkv` under the folder (recursively; hidden files are ignored) is opened
with OpenCV, the way training reads it (`ssl_kit.video.probe_file`): its fps and resolution are read, and its
real frame count is found by decoding the last frame the container announces (for a truncated file, a binary
search finds the last frame that decodes). The results go to `<folder>/videos.json` (written atomically):

    {"version": 1, "videos": [{"path": "sub/a.mp4", "key": str, "size": bytes, "mtime_ns": int, "frames": int,
                               "fps": float or null, "width": int, "height": int,
                               "status": "ok" | "truncated" | "unreadable", "reason": str}, ...]}

`ssl_kit.video.open_videos(<folder>)` reuses an entry while the file's size and mtime match, so a set of
thousands of files is probed once; a changed or new file is probed again (here and there). Exit code 0 when
at least one file is usable, 1 when the folder is missing or holds no usable video.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import _download  # noqa: F401  (makes ssl_kit importable from a checkout that is not installed)

from ssl_kit.video.file_index import INDEX_NAME, index_files, write_index


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path, help="a folder of video files (searched recursively)")
    p.add_argument("--force", action="store_true", help=f"ignore an existing {INDEX_NAME}: probe every file")
    p.add_argument(
        "--min-frames", type=int, default=2, help="fewer frames is not usable (default: %(default)s)"
    )
    p.add_argument("--max-problems", type=int, default=20, help="problems to print (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.folder
    if not root.is_dir():
        print(f"error: {root}: folder is missing (expected a folder of video files)", file=sys.stderr)
        return 1
    entries = index_files(root, use_index=not args.force, progress=not args.quiet)
    if not entries:
        print(f"error: {root}: holds no .mp4/.avi/.mov/.mkv files", file=sys.stderr)
        return 1
    path = write_index(root, entries)

    status = Counter(e["status"] for e in entries)
    usable = [e for e in entries if e["status"] != "unreadable" and e["frames"] >= args.min_frames]
    sizes = Counter(f"{e['width']}x{e['height']}" for e in usable)
    rates = Counter(e["fps"] for e in usable)
    print(
        f"{root}: {len(entries)} files, {len(usable)} usable ({sum(e['frames'] for e in usable)} frames); "
        f"ok {status['ok']}, truncated {status['truncated']}, unreadable {status['unreadable']}"
    )
    if usable:
        print("resolutions: " + ", ".join(f"{s} ({n})" for s, n in sizes.most_common(5)))
        print(
            "fps: " + ", ".join(f"{r if r is not None else 'unknown'} ({n})" for r, n in rates.most_common(5))
        )
    print(f"wrote {path}")
    problems = [f"{e['path']}: {e['status']}: {e['reason']}" for e in entries if e["status"] != "ok"]
    problems += [
        f"{e['path']}: {e['frames']} frame(s), fewer than --min-frames {args.min_frames}"
        for e in entries
        if e["status"] != "unreadable" and e["frames"] < args.min_frames
    ]
    for problem in problems[: args.max_problems]:
        print(f"problem: {problem}", file=sys.stderr)
    if len(problems) > args.max_problems:
        print(f"... and {len(problems) - args.max_problems} more problems", file=sys.stderr)
    if not usable:
        print("error: no usable video", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
