"""`python -m ssl_kit <command>`: batch entry points. Every command has `--help`."""

from __future__ import annotations

import argparse
import sys

from ssl_kit.errors import SSLKitError


def _world(args: argparse.Namespace) -> int:
    from ssl_kit.device import choose_device
    from ssl_kit.world.build import build_world

    device = choose_device(args.device)
    folders = build_world(args.out, args.preset, args.seed, args.sets, device, not args.quiet, args.force)
    for name, folder in folders.items():
        print(f"{name:14s} {folder}")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from ssl_kit.reproduce import reproduce

    summary = reproduce(args.scale, args.world, args.results, seed=args.seed, progress=not args.quiet)
    print(f"wrote {summary}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ssl_kit.world.presets import PRESETS, SETS

    parser = argparse.ArgumentParser(prog="python -m ssl_kit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    w = sub.add_parser(
        "world", help="build the embedded synthetic 3D world", description="Render the world's sets."
    )
    w.add_argument(
        "--preset", default="quick", choices=list(PRESETS), help="size of the world (default: quick)"
    )
    w.add_argument("--out", default="data/world", help="output folder (default: data/world)")
    w.add_argument("--seed", type=int, default=0, help="world seed (default: 0)")
    w.add_argument("--sets", nargs="+", choices=list(SETS), help="only these sets (default: all)")
    w.add_argument(
        "--device", default="cpu", help="cpu, cuda or mps (default: cpu, whose bytes are the reference)"
    )
    w.add_argument("--force", action="store_true", help="rebuild sets built with another config")
    w.add_argument("--quiet", action="store_true", help="no progress bars")
    w.set_defaults(fn=_world)

    r = sub.add_parser("reproduce", help="run every numbered notebook and write results/summary.md")
    r.add_argument("--scale", default="quick", choices=["smoke", "quick", "paper"])
    r.add_argument("--world", default="data/world", help="world folder (built by `world`)")
    r.add_argument("--results", default="results", help="output folder for executed notebooks and summary.md")
    r.add_argument("--seed", type=int, default=0, help="world and run seed (default: 0)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.set_defaults(fn=_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except SSLKitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: re-run the same command to resume", file=sys.stderr)
        return 130
