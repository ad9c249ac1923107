"""`python -m ssl_kit <command>`: batch entry points. Every command has `--help`."""

# The kit's modules are imported inside functions: most import torch (seconds), so each command imports what it
# runs, and its flags are built only when it is the command being run: `python -m ssl_kit --help` stays fast.

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from collections.abc import Callable, Sequence
from pathlib import Path

from ssl_kit.errors import ConfigError, SSLKitError


def _world(args: argparse.Namespace) -> int:
    from ssl_kit.study.place import CLI, default_world, remember, resolve_place

    if args.card:  # measure the world in --out (default: the study's) instead of building one
        from ssl_kit.study.fidelity import fidelity_card, render_markdown

        world = args.out or resolve_place().world
        print(render_markdown(fidelity_card(world, args.supervised, args.card_clips, not args.quiet)))
        return 0
    if args.supervised is not None or args.card_clips != 20:
        raise ConfigError("--supervised and --card-clips go with --card (they set what the card measures)")
    from ssl_kit.common.device import choose_device
    from ssl_kit.world.build import build_world

    device = choose_device(args.device)
    preset, seed = args.preset or "quick", args.seed or 0
    out = Path(args.out) if args.out else default_world(preset, seed)
    folders = build_world(out, preset, seed, args.sets, device, not args.quiet, args.force)
    for name, folder in folders.items():
        print(f"{name:14s} {folder}")
    if not args.sets:  # a whole world: the one a notebook opened as committed now runs on
        remember(resolve_place(preset, seed, out, None, CLI, Path.cwd()))
    return 0


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
    )
    print(f"wrote {summary}")
    return 0


def _config_args(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, its help from the field (`--batch-size 64`, `--symmetric true`), in the
    groups of `FIELD_GROUPS`."""
    from ssl_kit.augment import list_policies
    from ssl_kit.methods.registry import METHODS
    from ssl_kit.models.backbones import ARCHS
    from ssl_kit.runs.config import FIELD_GROUPS, SCALES, TrainConfig
    from ssl_kit.video.tracking import METHODS as TRACKING_METHODS

    choices = {
        "method": list(METHODS),
        "policy": list_policies(),
        "scale": list(SCALES),
        "arch": list(ARCHS),
        "tracker": [*TRACKING_METHODS, "annotation"],
        "pirl_loss": ["nce", "infonce"],
        "amp": ["auto", "bf16", "off"],
    }
    hints = typing.get_type_hints(TrainConfig)
    group_of = {name: group for group, names in FIELD_GROUPS.items() for name in names}
    groups = {group: parser.add_argument_group(group) for group in FIELD_GROUPS}
    for f in dataclasses.fields(TrainConfig):
        group = groups[group_of[f.name]]
        kind = hints[f.name]
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        flag = "--" + f.name.replace("_", "-")
        text = f.metadata["help"].replace("%", "%%")
        if f.default is not None:
            text += f" (default: {str(f.default).lower() if base is bool else f.default})"
        if base is bool:
            group.add_argument(flag, type=_bool, default=None, metavar="true|false", help=text)
        else:
            group.add_argument(flag, type=base, default=None, choices=choices.get(f.name), help=text)


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def _train(args: argparse.Namespace) -> int:
    from ssl_kit.common.device import choose_device
    from ssl_kit.evaluate.splits import default_val_dir
    from ssl_kit.invariance.watch import watch_for
    from ssl_kit.runs.config import TrainConfig, resolve
    from ssl_kit.runs.resume import parse_overrides, resume_config
    from ssl_kit.training.knn_monitor import knn_monitor
    from ssl_kit.training.loop import train

    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name) is not None
    }
    if args.resume:  # the run's recorded config; flags that would change it are refused
        out = given.get("out", TrainConfig.out)
        cfg = resolve(resume_config(out, given, parse_overrides(args.override)))
    elif args.override:
        raise ConfigError(
            "--override changes a recorded value of a run on --resume; for a new run pass the "
            "flag itself (e.g. --max-steps 10)"
        )
    else:
        cfg = resolve(TrainConfig(**given))
    device = choose_device(cfg.device)  # an unavailable device is the one error, before any note or work
    monitor = None
    if not args.no_knn:
        val = Path(cfg.knn_data) if cfg.knn_data else default_val_dir(cfg.data)
        if val.is_dir():
            monitor = knn_monitor(cfg, device)
        else:
            print(f"note: no kNN monitor ({val} does not exist; pass --knn-data FOLDER)", file=sys.stderr)
    watch = watch_for(cfg, device)  # the invariance monitor, with --invariance-every
    out = train(cfg, resume=args.resume, progress=not args.quiet, monitor=monitor, watch=watch)
    print(f"run written to {out}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from ssl_kit.evaluate.splits import LabelledSplits, default_val_dir
    from ssl_kit.models.whitening import with_stem_of
    from ssl_kit.runs.checkpoints import load_run, random_backbone

    method, cfg, _ = load_run(args.run, trust=args.trust_checkpoint)
    train_dir = args.train or cfg.data
    val_dir = args.val or default_val_dir(train_dir)
    splits = LabelledSplits(train_dir, val_dir, cfg.image_size, progress=not args.quiet)
    result = {
        "run": str(args.run),
        "method": cfg.method,
        **splits.scores(method.feature_backbone(), args.protocols),
    }
    if args.random_init:  # the same network untrained (behind the run's own frozen stem, when it has one)
        untrained = random_backbone(cfg)
        if cfg.whiten_stem:
            with_stem_of(untrained, method.feature_backbone())
        rand = splits.scores(untrained, args.protocols)
        result.update({f"random_init_{k}": v for k, v in rand.items()})
    print(json.dumps(result))
    return 0


def _measure(args: argparse.Namespace) -> int:
    from ssl_kit.common.device import choose_device
    from ssl_kit.invariance.protocols import PAPER_PROTOCOLS, build_protocol, protocol_root
    from ssl_kit.invariance.scoring import load_model, measure_table, random_init_model, write_csv

    if not args.all and not args.protocol:
        raise ConfigError("give --protocol NAME (or --all for every protocol)")
    if min(args.top_k) < 1:
        raise ConfigError(f"--top-k must be whole numbers >= 1, not {min(args.top_k)}")
    if args.size is not None and args.size < 1:
        raise ConfigError(f"--size must be a whole number >= 1 (pixels), not {args.size}")
    device = choose_device(args.device)  # an unavailable device is an error before any work
    names = list(PAPER_PROTOCOLS) if args.all else args.protocol
    data = args.data if args.data else _study_place(None, None).world
    models = [load_model(c, trust=args.trust_checkpoint) for c in args.checkpoint]
    if args.random_init:
        models.append(random_init_model(models[0]))
    protocols = [build_protocol(n, protocol_root(n, data)) for n in names]
    for p in protocols:
        print(p.summary(), file=sys.stderr)
    rows = measure_table(
        models,
        protocols,
        tuple(args.top_k),
        layer=args.layer,
        size=args.size,
        cache_dir=None if args.no_cache else args.cache,
        device=device,
        progress=not args.quiet,
    )
    for r in rows:
        print(f"{r['model']:<24} {r['invariance']:<24} K={r['K']:<3} {r['score']:8.3f}")
    if args.all or args.csv:
        print(f"table written to {write_csv(rows, args.csv or 'results/invariance.csv')}")
    return 0


def _study_place(scale: str | None, world: str | None):
    """The study a command runs on: `--world` and `--scale` as given, else the study `reproduce` or `world` ran
    last, else the kit's quick world (`ssl_kit.study.place`)."""
    from ssl_kit.study.place import CLI, resolve_place

    return resolve_place(scale, None, world, None, CLI, Path.cwd())


def _sweep(args: argparse.Namespace) -> int:
    from ssl_kit.study.data_folder import is_world
    from ssl_kit.study.grid import load_grid, subset
    from ssl_kit.study.sweep import check_sweep, run_sweep

    scale = args.scale
    if scale is None and args.world and not is_world(args.world):  # real data records no scale: the grid's
        scale = load_grid(args.grid).scale
    place = _study_place(scale, args.world)
    out = args.out or place.results / "sweeps"
    grid = load_grid(args.grid, place.scale, args.seeds)
    if args.variants:
        grid = subset(grid, variant=args.variants)
    print(
        f"sweep {grid.name}: {len(grid.cells)} cells at {grid.scale} scale ({grid.source}) on {place.world}, "
        f"into {out}",
        file=sys.stderr,
    )
    if args.dry_run:
        check_sweep(grid, out, place.world)  # the data, downstream folders and protocols are there
        for cell in grid.cells:
            print(cell.name)
        return 0
    result = run_sweep(grid, out, place.world, progress=not args.quiet, jobs=args.jobs)
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


def _world_args(w: argparse.ArgumentParser) -> None:
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


_TRAIN_DESCRIPTION = """\
Train one method on a labelled image folder (or a video folder, for the video methods); writes config.yaml,
metrics.jsonl and checkpoint.pt to --out. A knob left unset takes the value of --scale, then of the
method's recipe; config.yaml records every value used.

methods:
"""


def _train_args(t: argparse.ArgumentParser) -> None:
    from ssl_kit.methods.registry import METHODS, REGISTRY
    from ssl_kit.runs.resume import RESUMABLE

    width = max(map(len, METHODS)) + 2
    t.description = _TRAIN_DESCRIPTION + "\n".join(f"  {m:<{width}}{REGISTRY[m].summary}" for m in METHODS)
    t.formatter_class = argparse.RawDescriptionHelpFormatter  # one method a line
    t.usage = "%(prog)s [--method NAME] [--data FOLDER] [--out FOLDER] [--scale NAME] [option ...]"
    _config_args(t)
    t.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its checkpoint, with the config it recorded (other flags "
        "may repeat a recorded value, not change it)",
    )
    t.add_argument(
        "--override",
        action="append",
        metavar="FIELD=VALUE",
        help=f"with --resume: change one of {', '.join(RESUMABLE)} (e.g. max_steps=2000); repeatable",
    )
    t.add_argument("--no-knn", action="store_true", help="no weighted-kNN monitor on the validation folder")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(fn=_train)


def _trust_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--trust-checkpoint",
        action="store_true",
        help="also load checkpoint files that hold more than weights (pickled Python objects, whose "
        "loading runs their code): only files from a source you trust",
    )


def _eval_args(e: argparse.ArgumentParser) -> None:
    e.description = "Score a run's backbone on labelled train/val folders (prints one JSON line)."
    e.add_argument("--run", required=True, help="run folder (or checkpoint.pt)")
    e.add_argument("--train", help="labelled train folder (default: the run's --data)")
    e.add_argument("--val", help="labelled test folder (default: the sibling 'val' folder)")
    e.add_argument(
        "--protocols",
        nargs="+",
        default=["knn", "linear"],
        choices=["knn", "linear"],
        help="knn: weighted k-nearest-neighbour accuracy (k = 200, cosine) on frozen features; linear: a "
        "logistic-regression probe trained on the frozen train features (default: both)",
    )
    e.add_argument(
        "--random-init", action="store_true", help="also score a random-init network of the same architecture"
    )
    _trust_arg(e)
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(fn=_eval)


def _measure_args(m: argparse.ArgumentParser) -> None:
    m.description = "Invariance of pool5 (or --layer) features under each protocol."
    m.add_argument(
        "--checkpoint",
        nargs="+",
        required=True,
        help="kit run folders or checkpoint files, torchvision / MoCo / VISSL weight files",
    )
    m.add_argument(
        "--protocol",
        nargs="+",
        help="occlusion, viewpoint, illumination_direction, illumination_color, "
        "instance, instance_viewpoint, synthetic_occlusion",
    )
    m.add_argument("--all", action="store_true", help="the paper's six protocols; writes a tidy CSV")
    m.add_argument(
        "--data",
        help="the protocol's dataset folder, or a folder holding the world's sets (default: "
        "the world built or reproduced last, else data/world/quick)",
    )
    m.add_argument(
        "--csv",
        help="write rows (model, invariance, K, score) here (default with --all: results/invariance.csv)",
    )
    m.add_argument("--top-k", nargs="+", type=int, default=[10, 25], help="K values (default: 10 25)")
    m.add_argument("--layer", default="avgpool", help="layer to measure (default: avgpool = pool5)")
    m.add_argument(
        "--size", type=int, help="input size (default: a kit run's training size, else the paper's)"
    )
    m.add_argument(
        "--random-init", action="store_true", help="also measure a random-init network (same arch)"
    )
    m.add_argument(
        "--cache", default=".cache/features", help="feature cache folder (default: .cache/features)"
    )
    m.add_argument("--no-cache", action="store_true", help="do not read or write cached features")
    m.add_argument("--device", help="cpu, cuda or mps (default: the best available)")
    _trust_arg(m)
    m.add_argument("--quiet", action="store_true", help="no progress bars")
    m.set_defaults(fn=_measure)


def _sweep_args(s: argparse.ArgumentParser) -> None:
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
    s.add_argument(
        "--jobs",
        type=int,
        help="cells trained side by side, sharing the CPU's threads (default: $SSL_KIT_SWEEP_JOBS, else 1)",
    )
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(fn=_sweep)


def _reproduce_args(r: argparse.ArgumentParser) -> None:
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
        help="also the notebooks only the whole study runs (06_budget_curve: hours at quick scale; "
        "`make study` passes it)",
    )
    r.add_argument(
        "--jobs",
        type=int,
        help="sweep cells trained side by side (default: 2 on a CPU-only machine "
        "with 2 or more cores, else 1; 1 at smoke scale)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.set_defaults(fn=_reproduce)


def _report(args: argparse.Namespace) -> int:
    from ssl_kit.study.kept_sweeps import keep_sweep
    from ssl_kit.study.place import home
    from ssl_kit.study.report import check_pages, keep_reference, write_pages

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


def _report_args(r: argparse.ArgumentParser) -> None:
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


# command -> (its line in `python -m ssl_kit --help`, the function that adds its flags)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "world": ("build the embedded synthetic 3D world", _world_args),
    "train": ("train a method on an image or video folder (`train --help` lists the methods)", _train_args),
    "eval": ("kNN and linear-probe accuracy of a trained run", _eval_args),
    "measure": ("the paper's invariance scores of one or more checkpoints", _measure_args),
    "sweep": ("train and score a grid of runs (policies x sets x methods x seeds)", _sweep_args),
    "reproduce": ("run every numbered notebook and write results/<scale>/summary.md", _reproduce_args),
    "report": ("render the docs pages and README table from the kept reference runs", _report_args),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given `argv`, only its command gets its flags (the others, a help line).

    Flags need kit modules (train's: the method registry, hence torch), so `python -m ssl_kit --help` builds
    none of them and stays fast."""
    parser = argparse.ArgumentParser(prog="python -m ssl_kit", description=__doc__)
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
        print(f"interrupted: {INTERRUPTED.get(args.command, 're-run the same command')}", file=sys.stderr)
        return 130


# what to do after Ctrl-C, by command: what each keeps, and how it continues
INTERRUPTED = {
    "train": "re-run the same command with --resume to continue from the last checkpoint (kept in --out)",
    "sweep": "re-run the same command: finished cells are kept and an unfinished run resumes from its "
    "checkpoint",
    "reproduce": "re-run the same command: the world and finished runs are reused and unfinished runs resume "
    "from their checkpoints (each notebook runs again from its start)",
    "world": "re-run the same command: the chunks already written are kept",
    "eval": "nothing was written; re-run the same command",
    "measure": "re-run the same command (features already cached are reused)",
    "report": "re-run the same command (pages are written whole)",
}
