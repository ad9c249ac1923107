"""The commands on a study: `world`, `sweep`, `reproduce` and `report` (their flags, and what each runs).

Kit modules are imported inside the functions (most import torch, seconds), so that `python -m ssl_kit --help`
and every other command's flags stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ssl_kit.cli.launcher_flags import launch_from_args, launcher_args
from ssl_kit.errors import ConfigError


def _world(args: argparse.Namespace) -> int:
    from ssl_kit.study.place import CLI, default_world, remember, resolve_place

    if args.card:  # measure the world in --out (default: the study's) instead of building one
        from ssl_kit.fidelity import fidelity_card, render_markdown

        world = args.out or resolve_place().world
        print(render_markdown(fidelity_card(world, args.supervised, args.card_clips, not args.quiet)))
        return 0
    if args.supervised is not None or args.card_clips != 20:
        raise ConfigError("--supervised and --card-clips go with --card (they set what the card measures)")
    from ssl_kit.common.device import choose_device
    from ssl_kit.common.writable import writable_folder
    from ssl_kit.world.build import build_world

    device = choose_device(args.device)
    preset, seed = args.preset or "quick", args.seed or 0
    out = writable_folder(Path(args.out) if args.out else default_world(preset, seed), "--out")
    folders = build_world(out, preset, seed, args.sets, device, not args.quiet, args.force)
    for name, folder in folders.items():
        print(f"{name:14s} {folder}")
    if not args.sets:  # a whole world: the one a notebook opened as committed now runs on
        remember(resolve_place(preset, seed, out, None, CLI, Path.cwd()))
    return 0


def world_args(w: argparse.ArgumentParser) -> None:
    from ssl_kit.world.presets import EXTRA_SETS, PRESETS, SETS

    w.description = "Render the world's sets (or, with --card, print a built world's fidelity card)."
    w.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="size of the world: smoke (tests, seconds), quick (a CPU study, minutes), paper (GPU-sized) "
        "(default: quick)",
    )
    w.add_argument(
        "--out",
        help="output folder (default: data/world/<preset>, or data/world/<preset>-seed<k>); "
        "with --card, the world to measure (default: the one built or reproduced last)",
    )
    w.add_argument("--seed", type=int, help="world seed (default: 0)")
    w.add_argument(
        "--sets",
        nargs="+",
        choices=list(SETS + EXTRA_SETS),
        help=f"only these sets (default: all but {', '.join(EXTRA_SETS)}, which are built only when named)",
    )
    w.add_argument(
        "--device", default="cpu", help="cpu, cuda or mps (default: cpu, whose bytes are the reference)"
    )
    w.add_argument(
        "--force",
        action="store_true",
        help="rebuild sets built with another config, or replace a folder the world did not write",
    )
    w.add_argument(
        "--card", action="store_true", help="build nothing: print the fidelity card of the world in --out"
    )
    w.add_argument(
        "--supervised",
        metavar="RUN_DIR",
        help="with --card: a run (e.g. `train --method supervised`) whose kNN top-1 on objects/val the card reports",
    )
    w.add_argument(
        "--card-clips",
        type=int,
        default=20,
        metavar="N",
        help="with --card: videos measured from their pixels (default: 20)",
    )
    w.add_argument("--quiet", action="store_true", help="no progress bars")
    w.set_defaults(fn=_world)


def study_place(scale: str | None, world: str | None):
    """The study a command runs on: `--world` and `--scale` as given, else the study `reproduce` or `world` ran
    last, else the kit's quick world (`ssl_kit.study.place`)."""
    from ssl_kit.study.place import CLI, resolve_place

    return resolve_place(scale, None, world, None, CLI, Path.cwd())


def _sweep(args: argparse.Namespace) -> int:
    from ssl_kit.common.writable import writable_folder
    from ssl_kit.study.data_folder import is_world
    from ssl_kit.study.grid import load_grid, subset
    from ssl_kit.study.sweep import check_sweep, run_sweep

    launch_from_args(args)  # the launcher's flags and environment checked before anything else
    scale = args.scale
    if scale is None and args.world and not is_world(args.world):  # real data records no scale: the grid's
        scale = load_grid(args.grid).scale
    place = study_place(scale, args.world)
    out = args.out or place.results / "sweeps"
    grid = load_grid(args.grid, place.scale, args.seeds)
    if args.variants:
        grid = subset(grid, variant=args.variants)
    print(
        f"sweep {grid.name}: {len(grid.cells)} cells at {grid.scale} scale ({grid.source}) on {place.world}, "
        f"into {out}",
        file=sys.stderr,
    )
    writable_folder(out, "--out", create=not args.dry_run)
    if args.dry_run:
        check_sweep(grid, out, place.world)  # the data, downstream folders and protocols are there
        for cell in grid.cells:
            print(cell.name)
        return 0
    launch = launch_from_args(args, grid.launcher)
    result = run_sweep(grid, out, place.world, progress=not args.quiet, launch=launch)
    print(f"table written to {result.csv}")
    for name, error in result.failed.items():
        print(f"failed: {name}: {error}", file=sys.stderr)
    if result.busy:
        print(
            f"{len(result.busy)} cell(s) were being run by another process and are not in the table yet "
            f"({', '.join(result.busy)}); run the sweep again once it is done",
            file=sys.stderr,
        )
    return 1 if result.failed else 0


def sweep_args(s: argparse.ArgumentParser) -> None:
    from ssl_kit.study.grid import GRIDS, grid_summary

    s.description = (
        "Run a grid file (YAML/JSON, or the name of a grid in ssl_kit/study/grids) as one\nresumable "
        "sweep: each cell a run folder, every score in <out>/<name>/results.csv.\n\nbuilt-in grids:\n"
    )
    names = sorted(p.stem for p in GRIDS.glob("*.yaml"))
    width = max(map(len, names)) + 2
    s.description += "\n".join(f"  {n:<{width}}{grid_summary(n)}" for n in names)
    s.formatter_class = argparse.RawDescriptionHelpFormatter  # one grid a line
    s.add_argument("--grid", required=True, help="grid file, or a built-in grid's name (listed above)")
    s.add_argument(
        "--out",
        help="sweeps folder (default: the study's results folder's sweeps/, e.g. results/quick/sweeps)",
    )
    s.add_argument(
        "--world",
        help="the world, or a folder of real datasets (default: the world built or reproduced "
        "last, else data/world/quick)",
    )
    s.add_argument(
        "--scale",
        choices=["smoke", "quick", "paper"],
        help="the recipes' scale (default: the world's own; for real data, the grid's)",
    )
    s.add_argument("--seeds", nargs="+", type=int, help="override the grid's seeds")
    s.add_argument(
        "--variants",
        nargs="+",
        metavar="NAME",
        help="only these of the grid's variants (e.g. --variants mocov2_x1 mocov2_x4; default: all)",
    )
    s.add_argument(
        "--dry-run", action="store_true", help="check the grid and its data and list its cells; train nothing"
    )
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    launcher_args(s, "default: $SSL_KIT_SWEEP_JOBS, else 1")
    s.set_defaults(fn=_sweep)


def _level(text: str):
    """A level as given on the command line: a number, true/false, or a word (`dorsal`, `instance`)."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text)
    except ValueError:
        return text


def _what_if(args: argparse.Namespace) -> int:
    from ssl_kit.common.tidy import write_rows
    from ssl_kit.study.what_if_sweep import FIELDS, what_if

    place = study_place(args.scale, args.world)
    answer = what_if(
        args.factor,
        [_level(v) for v in args.levels] if args.levels else None,
        args.network,
        seeds=args.seeds,
        n_seeds=args.n_seeds,
        seed=place.seed,
        scale=place.scale,
        world=place.world,
        out=args.out or place.results / "sweeps",
        progress=not args.quiet,
        jobs=args.jobs,
        launch=launch_from_args(args),
    )
    summary = answer.summary(args.measure)
    columns = list(dict.fromkeys(c for entry in summary.values() for c in entry))
    print("\t".join(["", *columns]))
    for label, entry in summary.items():
        print("\t".join([label, *(str(entry.get(c, "")) for c in columns)]))
    for said in answer.sentences(args.measure).values():
        print(f"\n{said}")
    if args.csv:
        print(f"\ntable written to {write_rows(answer.rows, args.csv, FIELDS)}")
    return 0


def what_if_args(w: argparse.ArgumentParser) -> None:
    from ssl_kit.study.factors import FACTORS
    from ssl_kit.study.what_if_sweep import NETWORKS

    w.description = (
        "Train a network once per level of one factor (an augmentation knob, or a property of the world's\n"
        "objects) beside its baseline with the same seeds, score every network, and print each level's change\n"
        "from the baseline (paired by seed, with its spread). Cells are cached: asking again is instant.\n\n"
        "factors:\n"
    )
    width = max(map(len, FACTORS)) + 2
    w.description += "\n".join(
        f"  {f.name:<{width}}{f.kind}: {', '.join(map(str, f.levels))}" for f in FACTORS.values()
    )
    w.formatter_class = argparse.RawDescriptionHelpFormatter
    w.add_argument(
        "--factor", required=True, choices=list(FACTORS), metavar="FACTOR", help="the factor (above)"
    )
    w.add_argument("--levels", nargs="+", help="its levels (default: the factor's own, listed above)")
    w.add_argument(
        "--network", default="mocov2", choices=list(NETWORKS), help="the network (default: mocov2)"
    )
    w.add_argument(
        "--seeds", nargs="+", type=int, help="the seeds (default: --n-seeds from the world's seed)"
    )
    w.add_argument("--n-seeds", type=int, default=3, help="seeds when --seeds is not given (default: 3)")
    w.add_argument(
        "--world", help="the world (default: the world built or reproduced last, else data/world/quick)"
    )
    w.add_argument(
        "--scale", choices=["smoke", "quick", "paper"], help="the recipes' scale (default: the world's)"
    )
    w.add_argument("--out", help="sweeps folder (default: the study's results folder's sweeps/)")
    w.add_argument("--measure", default="top-25", choices=["top-10", "top-25", "cosine"],
                   help="the invariance measure printed (default: top-25; the CSV holds all three)")  # fmt: skip
    w.add_argument("--csv", help="also write the whole tidy table here")
    w.add_argument("--quiet", action="store_true", help="no progress bars")
    launcher_args(w, "default: 2 on a CPU with 2 or more cores, 1 at smoke scale")
    w.set_defaults(fn=_what_if)


def _reproduce(args: argparse.Namespace) -> int:
    from ssl_kit.study.place import CLI
    from ssl_kit.study.reproduce import reproduce

    params = {}
    for item in args.param or []:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ConfigError(
                f"--param {item!r}: expected NAME=VALUE (VALUE in JSON, e.g. n_seeds=3 or policies=null)"
            )
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"--param {item!r}: the value is not JSON ({e}); quote strings: name='\"text\"'"
            ) from e
    summary = reproduce(
        args.scale,
        args.world,
        args.results,
        seed=args.seed,
        spell=CLI,
        progress=not args.quiet,
        params=params,
        all_notebooks=args.all_notebooks,
        jobs=args.jobs,
        launch=launch_from_args(args),
    )
    print(f"wrote {summary}")
    return 0


def reproduce_args(r: argparse.ArgumentParser) -> None:
    r.description = (
        "Build the world (when missing), run every numbered notebook headless into the results folder, "
        "and write summary.md there; the study is remembered as the one a notebook opened as "
        "committed runs on."
    )
    r.add_argument(
        "--scale",
        choices=["smoke", "quick", "paper"],
        help="smoke: a few images and steps (a minute; tests the code, the numbers mean nothing); quick: "
        "the study on a laptop CPU (minutes); paper: the paper's recipes, for a GPU (default: the world's "
        "own when --world is given, else quick)",
    )
    r.add_argument(
        "--world",
        help="the world (built there when missing), or a folder of real datasets prepared by "
        "data_scripts/ (default: data/world/<scale>, or data/world/<scale>-seed<k>)",
    )
    r.add_argument(
        "--results",
        help="output folder for executed notebooks, records and summary.md (default: "
        "results/<scale>, or results/<scale>-seed<k>)",
    )
    r.add_argument(
        "--seed", type=int, help="world and run seed (default: the world's own when --world is given, else 0)"
    )
    r.add_argument(
        "--param",
        action="append",
        metavar="NAME=JSON",
        help="a notebook parameter for every notebook that declares it, e.g. n_seeds=3 or "
        "policies=null (all of a grid); repeatable",
    )
    r.add_argument(
        "--all-notebooks",
        action="store_true",
        help="also the notebooks only the whole study runs (06_budget_curve: hours at quick scale; 07 and 08 "
        "train networks of their own; `make study` passes it)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    launcher_args(r, "default: 2 on a CPU-only machine with 2 or more cores, else 1; 1 at smoke scale")
    r.set_defaults(fn=_reproduce)


def _report(args: argparse.Namespace) -> int:
    from ssl_kit.pages import check_pages, keep_reference, keep_sweep, write_pages
    from ssl_kit.study.place import home

    if (args.keep is None) != (args.name is None):
        raise ConfigError("--keep RESULTS and --as NAME go together (e.g. --keep results/quick --as quick)")
    if args.keep is not None:
        print(f"kept {args.keep} as {keep_reference(args.keep, args.name)}")
    for folder in args.keep_sweep or []:
        print(f"kept {folder} as {keep_sweep(folder, home())}")
    if args.check:
        stale = check_pages()
        for path in stale:
            print(f"differs from what docs/reference/ renders: {path}", file=sys.stderr)
        if stale:
            print("run `python -m ssl_kit report` to render them", file=sys.stderr)
        return 1 if stale else 0
    for path in write_pages():
        print(f"wrote {path}")
    return 0


def report_args(r: argparse.ArgumentParser) -> None:
    r.description = (
        "Render docs/results.md, the README's findings table and the world page's fidelity card from the "
        "reference runs kept in docs/reference/ (every number there comes from a run's records)."
    )
    r.add_argument(
        "--check",
        action="store_true",
        help="write nothing: exit 1 if a page differs from what the references render",
    )
    r.add_argument(
        "--keep",
        metavar="RESULTS",
        help="first keep a finished `reproduce` results folder (e.g. "
        "results/quick) as a reference run, then render",
    )
    r.add_argument(
        "--as", dest="name", metavar="NAME", help="with --keep: the reference's name (docs/reference/NAME)"
    )
    r.add_argument(
        "--keep-sweep",
        nargs="+",
        metavar="FOLDER",
        help="first keep finished sweeps (e.g. results/quick/sweeps/bf16) in docs/reference/sweeps/, whose "
        "tables docs/recipes.md renders",
    )
    r.set_defaults(fn=_report)
