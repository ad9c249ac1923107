"""`python -m ssl_kit <command>`: batch entry points. Every command has `--help`.

Each command's flags and function live in `run_commands.py` (train, eval, measure) or `study_commands.py`
(world, sweep, what-if, reproduce, report). The kit's modules are imported inside functions: most import torch
(seconds), so each command imports what it runs, and its flags are built only when it is the command being run:
`python -m ssl_kit --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ssl_kit.cli.run_commands import eval_args, measure_args, train_args
from ssl_kit.cli.study_commands import report_args, reproduce_args, sweep_args, what_if_args, world_args
from ssl_kit.errors import SSLKitError

# command -> (its line in `python -m ssl_kit --help`, the function that adds its flags)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "world": ("build the embedded synthetic 3D world", world_args),
    "train": ("train a method on an image or video folder (`train --help` lists the methods)", train_args),
    "eval": ("kNN and linear-probe accuracy of a trained run", eval_args),
    "measure": ("the paper's invariance scores of one or more checkpoints", measure_args),
    "sweep": ("train and score a grid of runs (policies x sets x methods x seeds)", sweep_args),
    "what-if": (
        "change one augmentation knob or one property of the world, see which invariance moves",
        what_if_args,
    ),
    "reproduce": ("run every numbered notebook and write results/<scale>/summary.md", reproduce_args),
    "report": ("render the docs pages and README table from the kept reference runs", report_args),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given `argv`, only its command gets its flags (the others, a help line).

    Flags need kit modules (train's: the method registry, hence torch), so `python -m ssl_kit --help` builds
    none of them and stays fast."""
    parser = argparse.ArgumentParser(prog="python -m ssl_kit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    command = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, (line, add_args) in COMMANDS.items():
        p = sub.add_parser(name, help=line, description=line[0].upper() + line[1:] + ".")
        if command is None or command == name:
            add_args(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        return args.fn(args)
    except SSLKitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: {_after_interrupt(args)}", file=sys.stderr)
        return 130


def _after_interrupt(args: argparse.Namespace) -> str:
    """What to do after Ctrl-C: `INTERRUPTED`'s advice for the command; for `train`, from what its --out holds."""
    if args.command == "train":
        from ssl_kit.runs import rundir
        from ssl_kit.runs.config import TrainConfig

        out = Path(args.out or TrainConfig.out)
        if not (out / rundir.CHECKPOINT).is_file():
            return (
                f"no checkpoint had been written yet (the first is written after --checkpoint-every steps), so "
                f"{out} holds nothing to continue from: re-run the same command to start again from step 0"
            )
    return INTERRUPTED.get(args.command, "re-run the same command")


# what to do after Ctrl-C, by command: what each keeps, and how it continues
INTERRUPTED = {
    "train": "re-run the same command with --resume to continue from the last checkpoint (kept in --out)",
    "sweep": "re-run the same command: finished cells are kept and an unfinished run resumes from its "
    "checkpoint",
    "what-if": "re-run the same command: finished cells are kept and an unfinished run resumes from its "
    "checkpoint",
    "reproduce": "re-run the same command: the world and finished runs are reused and unfinished runs resume "
    "from their checkpoints (each notebook runs again from its start)",
    "world": "re-run the same command: the chunks already written are kept",
    "eval": "nothing was written; re-run the same command",
    "measure": "re-run the same command (features already cached are reused)",
    "report": "re-run the same command (pages are written whole)",
}
