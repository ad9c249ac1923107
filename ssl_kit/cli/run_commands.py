"""The commands on one run: `train`, `eval` and `measure` (their flags, and what each runs).

Kit modules are imported inside the functions (most import torch, seconds), so that `python -m ssl_kit --help`
and every other command's flags stay fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from ssl_kit.cli.study_commands import study_place
from ssl_kit.errors import ConfigError, DataError, NonFiniteFeatures


def _config_args(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field (`--batch-size 64`, `--symmetric true`), in its group, with its help and
    choices: the field's facts (`ssl_kit.runs.fields`)."""
    from ssl_kit.runs.fields import FACTS, FIELD_GROUPS, KINDS, TrainConfig

    groups = {group: parser.add_argument_group(group) for group in FIELD_GROUPS}
    for f in dataclasses.fields(TrainConfig):
        facts, base = FACTS[f.name], KINDS[f.name][0]
        group = groups[facts.group]
        flag = "--" + f.name.replace("_", "-")
        text = facts.help.replace("%", "%%")
        if f.default is not None:
            text += f" (default: {str(f.default).lower() if base is bool else f.default})"
        if base is bool:
            group.add_argument(flag, type=_bool, default=None, metavar="true|false", help=text)
        else:
            choices = list(facts.choices) if facts.choices else None
            group.add_argument(flag, type=base, default=None, choices=choices, help=text)


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
    from ssl_kit.runs.checkpoints import diverged_note, load_run
    from ssl_kit.training.untrained import untrained_twin

    method, cfg, state = load_run(args.run, trust=args.trust_checkpoint)
    train_dir = args.train or cfg.data
    val_dir = args.val or default_val_dir(train_dir)
    fix = (
        f"the run was trained at --image-size {cfg.image_size}: train it again at a smaller size to score it"
    )
    splits = LabelledSplits(train_dir, val_dir, cfg.image_size, progress=not args.quiet, fix=fix)
    try:
        scores = splits.scores(method.feature_backbone(), args.protocols)
    except NonFiniteFeatures as e:
        raise NonFiniteFeatures(f"{args.run}: {e} ({diverged_note(args.run, state, cfg)})") from None
    result = {"run": str(args.run), "method": cfg.method, **scores}
    if args.random_init:  # the same network untrained (behind the run's own frozen stem, when it has one)
        untrained, _ = untrained_twin(cfg, stem_of=method.feature_backbone())
        rand = splits.scores(untrained, args.protocols)
        result.update({f"random_init_{k}": v for k, v in rand.items()})
    print(json.dumps(result))
    return 0


def _measure(args: argparse.Namespace) -> int:
    from ssl_kit.common.cache import user_cache
    from ssl_kit.common.device import choose_device
    from ssl_kit.common.writable import writable_file, writable_folder
    from ssl_kit.invariance.protocols import PAPER_PROTOCOLS, build_protocol, protocol_root
    from ssl_kit.invariance.scoring import load_model, measure_table, write_csv

    if not args.all and not args.protocol:
        raise ConfigError("give --protocol NAME (or --all for every protocol)")
    if min(args.top_k) < 1:
        raise ConfigError(f"--top-k must be whole numbers >= 1, not {min(args.top_k)}")
    if args.size is not None and args.size < 1:
        raise ConfigError(f"--size must be a whole number >= 1 (pixels), not {args.size}")
    csv = args.csv or ("results/invariance.csv" if args.all else None)
    if csv is not None:  # where it writes, checked before the measurement
        writable_file(csv, "--csv", "invariance.csv")
    cache = None if args.no_cache else writable_folder(args.cache or user_cache("features"), "--cache")
    device = choose_device(args.device)  # an unavailable device is an error before any work
    names = list(PAPER_PROTOCOLS) if args.all else args.protocol
    data = args.data if args.data else study_place(None, None).world
    models = [load_model(c, trust=args.trust_checkpoint) for c in args.checkpoint]
    if args.random_init:
        models.append(untrained_of(args.checkpoint[0], models[0], args.trust_checkpoint))
    protocols = [build_protocol(n, protocol_root(n, data)) for n in names]
    for p in protocols:
        print(p.summary(), file=sys.stderr)
    rows = measure_table(
        models,
        protocols,
        tuple(args.top_k),
        layer=args.layer,
        size=args.size,
        cache_dir=cache,
        device=device,
        progress=not args.quiet,
    )
    for r in rows:
        print(f"{r['model']:<24} {r['metric']:<24} K={r['K']:<3} {r['value']:8.3f}")
    if csv is not None:
        print(f"table written to {write_csv(rows, csv)}")
    return 0


_TRAIN_DESCRIPTION = """\
Train one method on a labelled image folder (or a video folder, for the video methods); writes config.yaml,
metrics.jsonl and checkpoint.pt to --out. A knob left unset takes the value of --scale, then of the
method's recipe; config.yaml records every value used.

methods:
"""


def train_args(t: argparse.ArgumentParser) -> None:
    from ssl_kit.methods.registry import METHODS, REGISTRY
    from ssl_kit.runs.fields import RESUMABLE

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


def eval_args(e: argparse.ArgumentParser) -> None:
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


def measure_args(m: argparse.ArgumentParser) -> None:
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
        help="write rows (model, metric, K, value) here (default with --all: results/invariance.csv)",
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
        "--cache",
        help="feature cache folder (default: features/ in the kit's cache folder: $SSL_KIT_CACHE, else "
        "~/.cache/ssl_kit)",
    )
    m.add_argument("--no-cache", action="store_true", help="do not read or write cached features")
    m.add_argument("--device", help="cpu, cuda or mps (default: the best available)")
    _trust_arg(m)
    m.add_argument("--quiet", action="store_true", help="no progress bars")
    m.set_defaults(fn=_measure)


def untrained_of(checkpoint: str, like, trust: bool = False):
    """The untrained twin of a measured model (`like`, loaded from `checkpoint`): for a kit run its own
    (`untrained_twin`: the run's seed and whitened stem, under the key a sweep's random-init cell has), for any
    other checkpoint a fresh network of its architecture (`random_init_model`)."""
    from ssl_kit.invariance.scoring import random_init_model
    from ssl_kit.runs.config import TrainConfig, with_defaults
    from ssl_kit.runs.run_checkpoint import RunCheckpoint
    from ssl_kit.training.untrained import untrained_twin

    try:
        ckpt = RunCheckpoint.load(checkpoint, trust=trust)
    except DataError:  # torchvision, MoCo, VISSL: not a run of the kit
        return random_init_model(like)
    backbone, key = untrained_twin(TrainConfig(**with_defaults(ckpt.config)), stem_of=like.model)
    return dataclasses.replace(like, name="random init", model=backbone.eval(), key=key)
