"""Every training-config field with its facts, in one table: `TrainConfig`, each field declared by `knob`.

A field's facts are what the rest of the kit derives from it; adding a knob is one `knob(...)` line here:

- `help`, `group`: its `train --help` line and group (groups in the order they first appear: `FIELD_GROUPS`);
- `at_least`/`above` and `at_most`, or `choices`: the values `check` accepts (and `train --FLAG` offers);
- `resumable`: it may change on `train --resume --override FIELD=VALUE` (`RESUMABLE`): when the run stops, how
  often it writes and monitors, where it runs and caches, whether undecodable files are skipped; none changes
  what a step computes;
- `key`, how the run key (`ssl_kit.runs.run_keys`) takes it: KEYED; NOT_KEYED (where a run is written, on
  which device, where it caches: not what it is); WHEN_SET (keyed only when set off `before`: fields added
  after the result format last changed, so a run trained before them keeps its key); BY_DATA (a folder, keyed
  by the identity of what it holds, wherever it lies);
- `before`: how a run saved before the field existed trained (its default unless said: `with_defaults`).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from ssl_kit.augment import list_policies
from ssl_kit.methods.registry import METHODS
from ssl_kit.models.backbones import ARCHS
from ssl_kit.video.tracking import METHODS as TRACKERS

KEYED, NOT_KEYED, WHEN_SET, BY_DATA = "keyed", "not keyed", "keyed when set", "keyed by its data"
SCALES = ("smoke", "quick", "paper")
INPUTS = ("auto", "memory", "stream")
_DEFAULT = object()  # `before` not given: the field's default


@dataclass(frozen=True)
class Facts:
    """What the kit knows of one config field (the module docstring says what each fact drives)."""

    help: str
    group: str
    low: float | None = None  # the lowest value accepted; None: unbounded
    high: float | None = None  # the highest value accepted; None: unbounded
    open_low: bool = False  # `low` itself excluded
    choices: tuple | None = None
    resumable: bool = False
    key: str = KEYED
    before: object = None


def knob(default, group: str, *, help: str, at_least=None, above=None, at_most=None, choices=None,
         resumable=False, key=KEYED, before=_DEFAULT):  # fmt: skip
    """A config field with its facts (`Facts`) in its metadata: `above` is a lowest value itself excluded."""
    assert key in (KEYED, NOT_KEYED, WHEN_SET, BY_DATA), key
    low = above if above is not None else at_least
    choices = tuple(choices) if choices is not None else None
    before = default if before is _DEFAULT else before
    facts = Facts(help, group, low, at_most, above is not None, choices, resumable, key, before)
    return field(default=default, metadata={"facts": facts})


_SCALE = "(default: from --scale)"
_RECIPE = "(default: the method's recipe at --scale)"
_NET, _OPT, _METHOD, _VIDEO, _RUN = "data and network", "optimisation", "method knobs", "video", "run-time"


@dataclass
class TrainConfig:
    # fmt: off
    method: str = knob("mocov2", _NET, choices=METHODS, help="the method to train (each is described above)")
    data: str = knob("data/world/quick/objects/train", _NET, key=BY_DATA, help=
        "training data: a labelled image folder (one folder per class), or for fti, region_tracker and "
        "mocov2 on frames a video folder (TRAIN_<k>/frames, GOT-10k list.txt, or .mp4/.avi files)")
    out: str = knob("runs/mocov2", _NET, key=NOT_KEYED, help=
        "run folder: config.yaml, metrics.jsonl and checkpoint.pt are written here")
    scale: str = knob("quick", _NET, choices=SCALES, help=
        "the defaults of every knob left unset: smoke (checks that a run works), quick (a small network on "
        "small images, for a CPU), paper (the paper's ResNet-50 recipe, for a GPU)")
    arch: str | None = knob(None, _NET, choices=ARCHS, help=f"backbone network {_SCALE}")
    small_stem: bool | None = knob(None, _NET, help=
        f"a 3x3/1 first convolution and no max-pool instead of the 7x7/2 stem {_SCALE}")
    image_size: int | None = knob(None, _NET, at_least=1, help=
        f"images are held in memory at this size, in pixels (uint8) {_SCALE}")
    crop_size: int | None = knob(None, _NET, at_least=1, help=
        f"size of the augmented views, in pixels {_SCALE}")
    whiten_stem: bool | None = knob(None, _NET, key=WHEN_SET, before=False, help=
        "a frozen first convolution that whitens the training images' patches (its filters the leading "
        "eigenvectors of their second moments, each with its negative: airbench's patch whitening) "
        f"instead of a learned one: on at quick scale, off at paper scale {_SCALE}")
    progressive_from: int | None = knob(None, _NET, at_least=4, key=WHEN_SET, help=
        "progressive resolution: the views start at this size in pixels and grow in steps of 4 to "
        "--crop-size over the first half of the run (memory input only); unset: --crop-size throughout")
    batch_size: int | None = knob(None, _OPT, at_least=1, help=
        f"global batch size, over all processes {_SCALE}")
    epochs: int | None = knob(None, _OPT, at_least=1, help=f"passes over the training data {_RECIPE}")
    steps: int | None = knob(None, _OPT, at_least=1, help=
        "total optimizer steps, replacing --epochs: an equal budget across data of other sizes "
        "(default: --epochs decides)")
    lr: float | None = knob(None, _OPT, above=0, help=f"base learning rate (SGD, cosine schedule) {_RECIPE}")
    warmup_epochs: float = knob(0.0, _OPT, at_least=0, help=
        "epochs of linear learning-rate warm-up before the cosine decay")
    weight_decay: float | None = knob(None, _OPT, at_least=0, help=f"SGD weight decay {_RECIPE}")
    sgd_momentum: float = knob(0.9, _OPT, at_least=0, at_most=1, help="SGD momentum")
    bn_lr_scale: float = knob(1.0, _OPT, above=0, at_most=1000, key=WHEN_SET, help=
        "learning rate of the batch-norm weights and biases, as a multiple of the schedule's")
    policy: str | None = knob(None, _METHOD, choices=list_policies(), help=f"augmentation policy {_RECIPE}")
    augment: str | None = knob(None, _METHOD, key=WHEN_SET, help=
        "changes to the augmentation policy's fields, e.g. 'crop_scale=0.5,1; jitter_p=0' (the fields of "
        "ssl_kit.augment.AugmentPolicy; a range is low,high)")
    queue_size: int | None = knob(None, _METHOD, at_least=1, help=
        f"MoCo: negatives held in the queue {_RECIPE}")
    moco_momentum: float | None = knob(None, _METHOD, at_least=0, at_most=1, help=
        f"MoCo: momentum of the key encoder's moving average {_RECIPE}")
    moco_momentum_end: float | None = knob(None, _METHOD, at_least=0, at_most=1, help=
        "MoCo: raise the key encoder's momentum from --moco-momentum to this value along a half cosine over "
        "the run (BYOL's schedule; 1.0: the key encoder freezes at the end); unset: constant")
    temperature: float | None = knob(None, _METHOD, above=0, help=
        f"softmax temperature of the contrastive loss {_RECIPE}")
    eval_encoder: str = knob("query", _METHOD, choices=("query", "key"), key=WHEN_SET, help=
        "MoCo: the encoder a run hands to evaluation (kNN, probes, invariances): query (the paper's) or key "
        "(the momentum encoder, as BYOL and DINO evaluate)")
    symmetric: bool = knob(False, _METHOD, help=
        "MoCo: symmetric loss (each view is the query once and the key once)")
    split_bn: int | None = knob(None, _METHOD, at_least=1, help=
        "MoCo: emulate per-GPU batch norm with this many sub-batches on one device (default: 1, none)")
    sync_bn: bool = knob(False, _METHOD, help=
        "under DDP (torchrun), batch norm over the global batch of all processes instead of each process's "
        "share (torch's SyncBatchNorm on CUDA, the kit's GlobalBatchNorm2d elsewhere)")
    num_negatives: int | None = knob(None, _METHOD, at_least=1, help=
        f"PIRL: negatives drawn from the memory bank {_RECIPE}")
    pirl_loss: str | None = knob(None, _METHOD, choices=("nce", "infonce"), help=
        f"PIRL: nce (the paper's) or infonce {_RECIPE}")
    # video methods (fti, region_tracker; mocov2 on a video folder trains on its frames as images)
    delta_min: int = knob(1, _VIDEO, at_least=0, help=
        "video methods: frames between the members of a temporal pair are drawn uniformly in "
        "[--delta-min, --delta-max]; 0 = the same frame")
    delta_max: int = knob(8, _VIDEO, at_least=0, help=
        "video methods: the most frames between the members of a temporal pair")
    frame_size: int | None = knob(None, _VIDEO, at_least=1, help=
        "video: frames are held at this size, in pixels; region crops are resized to --image-size "
        "(default: region_tracker 3 x --image-size, else --image-size)")
    region_fraction: float = knob(1.0, _VIDEO, at_least=0, at_most=1, help=
        "region_tracker: share of the pairs that are tracked regions (the rest: full-frame pairs)")
    proposals: int = knob(10, _VIDEO, at_least=1, help="region_tracker: region proposals per keyframe")
    keyframe_every: int = knob(4, _VIDEO, at_least=1, help=
        "region_tracker: propose regions on every n-th frame")
    tracker: str = knob("flow", _VIDEO, choices=(*TRACKERS, "annotation"), help=
        "region_tracker: flow (optical-flow box propagation), csrt or kcf (OpenCV trackers), or annotation: "
        "the source's own object boxes instead of proposals and a tracker (an oracle, for analysis: the "
        "world, TrackingNet, GOT-10k)")
    min_track_confidence: float = knob(0.5, _VIDEO, at_least=0, at_most=1, help=
        "region_tracker: a tracked box counts only where the tracker's confidence is at least this")
    region_cache: str | None = knob(None, _VIDEO, resumable=True, key=NOT_KEYED, help=
        "proposals and tracks, computed once per video (default: regions/ in $SSL_KIT_CACHE, else "
        "~/.cache/ssl_kit)")
    max_videos: int | None = knob(None, _VIDEO, at_least=0, before=0, help=
        f"video: train on the first this many videos of the source; 0 = all {_SCALE}")
    max_video_frames: int | None = knob(None, _VIDEO, at_least=0, before=0, help=
        f"video: use the first this many frames of each video; 0 = all {_SCALE}")
    seed: int = knob(0, _RUN, at_least=0, at_most=2**32 - 1, help=  # numpy's global seed takes 32 bits
        "seed of the initial weights, the data order and the augmentations")
    device: str | None = knob(None, _RUN, resumable=True, key=NOT_KEYED, help=
        "cpu, cuda, cuda:N or mps (default: the best available: cuda, then mps, then cpu)")
    amp: str = knob("auto", _RUN, choices=("auto", "bf16", "off"), help=
        "mixed precision: auto (bf16 on CUDA, off elsewhere), bf16, or off")
    input: str = knob("auto", _RUN, choices=INPUTS, help=
        "memory (decode the set once at --image-size and crop on the device), stream (read the files or "
        "frames of each step in worker processes and crop each view from the original image or frame), or "
        "auto: memory when the set fits --memory-budget-gb (region_tracker holds its video in memory)")
    memory_budget_gb: float | None = knob(None, _RUN, above=0, resumable=True, help=
        "with --input auto: the most a training set may hold in memory (default: a quarter of this "
        "machine's)")
    workers: int | None = knob(None, _RUN, at_least=0, resumable=True, help=
        "with --input stream: processes that read and crop the files (default: half the CPUs, at most 8)")
    checkpoint_every: int = knob(500, _RUN, at_least=1, resumable=True, help=
        "write checkpoint.pt every this many steps (and at the end)")
    log_every: int = knob(10, _RUN, at_least=1, resumable=True, help=
        "append to metrics.jsonl every this many steps (and at the end)")
    knn_every: int = knob(0, _RUN, at_least=0, resumable=True, help=
        "run the kNN monitor every this many epochs; 0 = only at the end")
    knn_data: str | None = knob(None, _RUN, resumable=True, key=BY_DATA, help=
        "labelled folder for the kNN monitor (default: the 'val' folder beside --data)")
    invariance_every: int = knob(0, _RUN, at_least=0, resumable=True, help=
        "measure the six invariances on a fixed subset of each protocol every this many steps, and at the "
        "start and the end (logged to metrics.jsonl as inv_<protocol>); 0 = off")
    invariance_images: int = knob(256, _RUN, at_least=6, resumable=True, help=
        "images per protocol the invariance monitor measures on")
    invariance_data: str | None = knob(None, _RUN, resumable=True, key=BY_DATA, help=
        "folder of the protocols' datasets for the invariance monitor (default: the world holding --data)")
    max_steps: int | None = knob(None, _OPT, at_least=1, resumable=True, help=
        "stop after this many steps; the schedule still spans the whole run (default: no early stop)")
    skip_corrupt: bool = knob(False, _RUN, resumable=True, help=
        "skip (with a warning) image files that cannot be decoded instead of stopping")
    # fmt: on


FACTS: dict[str, Facts] = {f.name: f.metadata["facts"] for f in dataclasses.fields(TrainConfig)}


def _kind(hint) -> tuple[type, bool]:
    """A field's type (bool, int, float or str) and whether it may be None, from its annotation."""
    args = typing.get_args(hint)
    return next((a for a in args if a is not type(None)), hint), type(None) in args


KINDS: dict[str, tuple[type, bool]] = {n: _kind(h) for n, h in typing.get_type_hints(TrainConfig).items()}
# the fields in their `train --help` groups, in the order of `train --help`
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(n for n, f in FACTS.items() if f.group == group)
    for group in {f.group: 0 for f in FACTS.values()}
}


def named(**facts) -> tuple[str, ...]:
    """The fields whose facts have these values, in `train --help` order: `named(key=BY_DATA)`."""
    order = [name for names in FIELD_GROUPS.values() for name in names]
    return tuple(n for n in order if all(getattr(FACTS[n], k) == v for k, v in facts.items()))


RESUMABLE = named(resumable=True)
