"""Import ResNet trunk weights from the checkpoints of other codebases (and of this kit) into `build_backbone`.

`import_backbone(checkpoint)` detects the layout, keeps the trunk, drops the heads (listed in `dropped`),
infers the architecture and stem from the weights, and loads strictly: a missing or unexpected trunk key is
an error. Layouts, and where their key names were checked (public sources, read, not copied):

- `torchvision`: a ResNet state dict (`conv1.weight`, `bn1.running_mean`, `layer1.0.conv1.weight`, ...,
  `fc.weight`), possibly prefixed by `module.` (DataParallel) or wrapped as `{"state_dict": ...}`.
- `moco`: facebookresearch/moco `main_moco.py` checkpoints `{"epoch", "arch", "state_dict", "optimizer"}`.
  `moco/builder.py`: `encoder_q`/`encoder_k` are torchvision ResNets whose `fc` is the head (v1: a Linear,
  v2 `--mlp`: `fc.0`, ReLU, `fc.2`) plus buffers `queue` and `queue_ptr`; `main_lincls.py` keeps the keys under
  `module.encoder_q.` except `module.encoder_q.fc`, as done here.
- `vissl` (PIRL and the rest of the VISSL model zoo): `vissl/utils/checkpoint.py` stores the model as
  `classy_state_dict.base_model.model.{trunk, heads}` and adds `trunk.`/`heads.` (and, for feature-extractor
  trunks, `base_model.`) when flattening; `vissl/models/trunks/resnext.py` wraps the torchvision layers in
  `_feature_blocks` (`conv1`, `bn1`, `layer1`..`layer4`, no `fc`); `extra_scripts/convert_vissl_to_torchvision.py`
  also reads `{"model_state_dict": trunk}` and strips `_feature_blocks.`.
- `ssl_kit`: a run folder or `checkpoint.pt` written by `ssl_kit train`, loaded with `ssl_kit.runs.checkpoints.load_run`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ssl_kit.errors import ConfigError, DataError
from ssl_kit.models.backbones import build_backbone
from ssl_kit.runs.checkpoints import load_run, method_from_state
from ssl_kit.runs.rundir import load_torch_file

LAYOUTS = {
    "torchvision": "a ResNet state dict: conv1.weight, layer1.0.conv1.weight, ..., fc.* (or module.-prefixed)",
    "moco": "a facebookresearch/moco checkpoint: {'state_dict': {'module.encoder_q.*', 'module.encoder_k.*', "
    "'module.queue', ...}}",
    "vissl": "a VISSL checkpoint: classy_state_dict.base_model.model.trunk with _feature_blocks.* keys "
    "(or model_state_dict, {'trunk': ...}, or flat trunk._feature_blocks.* keys)",
    "ssl_kit": "a run folder or checkpoint.pt written by `ssl_kit train` ('config', 'model', ...)",
}
# (blocks per stage, bottleneck blocks) -> architecture
_ARCH_BY_BLOCKS = {
    ((2, 2, 2, 2), False): "resnet18",
    ((3, 4, 6, 3), False): "resnet34",
    ((3, 4, 6, 3), True): "resnet50",
}


@dataclass
class ImportedBackbone:
    model: nn.Module  # build_backbone(arch, small_stem) with the imported weights, in eval mode
    layout: str  # one of LAYOUTS
    arch: str
    source: str  # the file or folder read, or "<in-memory checkpoint>"
    dropped: list[str] = field(default_factory=list)  # keys discarded on purpose (heads, key encoder, queue)
    input_size: int | None = None  # the image size a kit run was trained at (None: unknown, e.g. ImageNet)
    # a kit run whose first layer was frozen (`whiten_stem`): its untrained twin keeps that layer
    frozen_stem: bool = False


def import_backbone(
    checkpoint: str | Path | Mapping,
    arch: str | None = None,
    small_stem: bool | None = None,
    trust: bool = False,
) -> ImportedBackbone:
    """The ResNet trunk of `checkpoint` (a path, a run folder or a loaded dict) in the kit's backbone.

    `arch` and `small_stem` default to what the weights show; given explicitly, they must agree with them.
    Files are loaded as weights only: one holding pickled objects is refused unless `trust=True`
    (`--trust-checkpoint`), which runs their code (`ssl_kit.runs.rundir.load_torch_file`).
    """
    if isinstance(checkpoint, Mapping):
        source, ckpt = "<in-memory checkpoint>", checkpoint
    else:
        run = Path(checkpoint)
        source = str(run)
        if run.is_dir():
            return _from_run(run, source, arch, small_stem, trust)
        ckpt = _load(run, trust)
    if isinstance(ckpt.get("config"), Mapping) and isinstance(ckpt.get("model"), Mapping):
        return _from_run(ckpt, source, arch, small_stem)  # the kit's own run checkpoint
    layout, trunk, dropped = _split(ckpt, source)
    found_arch, found_stem, seen = _infer(trunk)
    arch = _agree("arch", arch, found_arch, seen, source)
    small_stem = _agree("small_stem", small_stem, found_stem, seen, source)
    model = build_backbone(arch, small_stem)
    _load_strict(model, trunk, f"a {arch} trunk ({layout} layout)", source)
    bad = [n for n, t in model.state_dict().items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise DataError(
            source, f"holds non-finite weights (NaN or infinite) in {_few(bad, 5)}", "finite weights"
        )
    return ImportedBackbone(model.eval(), layout, arch, source, dropped)


def _load(path: Path, trust: bool = False) -> Mapping:
    if not path.is_file():
        raise DataError(path, "checkpoint is missing", "a file saved with torch.save, or a run folder")
    ckpt = load_torch_file(path, "cpu", trust, "a file saved with torch.save")
    if not isinstance(ckpt, Mapping):
        raise DataError(path, f"holds a {type(ckpt).__name__}", "a dict of weights (a checkpoint)")
    return ckpt


def _split(ckpt: Mapping, source: str) -> tuple[str, dict, list[str]]:
    """(layout, trunk weights under torchvision names, dropped keys) of a foreign checkpoint."""
    inner = ckpt["state_dict"] if isinstance(ckpt.get("state_dict"), Mapping) else ckpt
    named = [k for k in inner if not isinstance(k, str)]
    if named:
        raise DataError(
            source,
            f"holds keys that are not names ({_few([repr(k) for k in named], 3)})",
            "a dict of weights by name",
        )
    keys = list(inner)
    for prefix in ("module.encoder_q.", "encoder_q."):
        if any(k.startswith(prefix) for k in keys):
            return ("moco", *_take(inner, prefix))
    vissl = _vissl(ckpt)
    if vissl is not None:
        return ("vissl", *vissl)
    prefix = "module." if keys and all(k.startswith("module.") for k in keys) else ""
    if f"{prefix}conv1.weight" in inner and any(k.startswith(f"{prefix}layer1.") for k in keys):
        return ("torchvision", *_take(inner, prefix))
    found = [str(k) for k in ckpt]
    raise DataError(
        source,
        f"its {len(found)} top-level keys ({_few(found)}) match no known layout",
        "one of: " + "; ".join(f"{name}: {text}" for name, text in LAYOUTS.items()),
    )


def _take(weights: Mapping, prefix: str) -> tuple[dict, list[str]]:
    """The keys under `prefix` (stripped), without the `fc` head; everything else is dropped."""
    trunk, dropped = {}, []
    for key, value in weights.items():
        name = key[len(prefix) :] if key.startswith(prefix) else None
        if name is None or name.startswith("fc."):
            dropped.append(key)
        else:
            trunk[name] = value
    return trunk, dropped


def _vissl(ckpt: Mapping) -> tuple[dict, list[str]] | None:
    """(trunk, dropped) if `ckpt` holds a VISSL trunk (keys `[base_model.]_feature_blocks.*`), else None."""
    model = ckpt
    if isinstance(ckpt.get("classy_state_dict"), Mapping):
        model = _mapping(_mapping(ckpt["classy_state_dict"].get("base_model")).get("model"))
    elif isinstance(ckpt.get("model_state_dict"), Mapping):
        model = ckpt["model_state_dict"]
    model = {k: v for k, v in model.items() if isinstance(k, str)}  # a key that is no name is no weight
    if isinstance(model.get("trunk"), Mapping):
        heads = model.get("heads") or {}
        trunk = {k: v for k, v in model["trunk"].items() if isinstance(k, str)}
        names = (
            list(heads)
            if isinstance(heads, Mapping)
            else range(len(heads))
            if isinstance(heads, list | tuple)
            else [0]
        )
        dropped = [f"heads.{k}" for k in names]
    elif any(k.startswith("trunk.") for k in model):
        trunk = {k[len("trunk.") :]: v for k, v in model.items() if k.startswith("trunk.")}
        dropped = [k for k in model if not k.startswith("trunk.")]
    else:
        trunk, dropped = dict(model), []
    trunk = {(k[len("base_model.") :] if k.startswith("base_model.") else k): v for k, v in trunk.items()}
    if not any(str(k).startswith("_feature_blocks.") for k in trunk):
        return None
    # keys outside _feature_blocks stay as they are, so that the strict load reports them as unexpected
    prefix = "_feature_blocks."
    return {(k[len(prefix) :] if k.startswith(prefix) else k): v for k, v in trunk.items()}, dropped


def _mapping(value) -> Mapping:
    """`value` when it is a mapping, else an empty one (a malformed checkpoint's part reads as nothing)."""
    return value if isinstance(value, Mapping) else {}


def _infer(trunk: Mapping) -> tuple[str | None, bool | None, str]:
    """(arch, small_stem, what was seen) from the trunk's keys and the shape of `conv1.weight`."""
    blocks = []
    for stage in range(1, 5):
        ids = {k.split(".")[1] for k in trunk if k.startswith(f"layer{stage}.")}
        blocks.append(max((int(i) for i in ids if i.isdigit()), default=-1) + 1)
    bottleneck = any(k.startswith("layer1.0.conv3.") for k in trunk)
    conv1 = trunk.get("conv1.weight")
    kernel = int(conv1.shape[-1]) if isinstance(conv1, torch.Tensor) and conv1.ndim == 4 else None
    seen = (
        f"{'bottleneck' if bottleneck else 'basic'} blocks per stage {tuple(blocks)}, conv1 kernel {kernel}"
    )
    arch = _ARCH_BY_BLOCKS.get((tuple(blocks), bottleneck))
    if arch == "resnet18" and isinstance(conv1, torch.Tensor) and conv1.shape[0] == 32:
        arch = "resnet18_w32"  # the kit's narrow ResNet-18
    return arch, {3: True, 7: False}.get(kernel), seen


def _agree(name: str, asked, found, seen: str, source: str):
    """The explicit value if given (and consistent with the weights), else the inferred one."""
    if asked is not None and found is not None and asked != found:
        raise ConfigError(
            f"{name}={asked!r} was asked but the weights in {source} are {name}={found!r} ({seen})"
        )
    if asked is None and found is None:
        raise DataError(
            source,
            f"cannot infer {name} from the weights ({seen})",
            f"a resnet18/34/50 trunk, or pass {name}=",
        )
    return asked if asked is not None else found


def _load_strict(model: nn.Module, trunk: Mapping, what: str, source: str) -> None:
    try:
        result = model.load_state_dict(trunk, strict=False)
    except RuntimeError as e:  # shape mismatches
        raise DataError(source, f"weights do not fit {what}: {e}", "the trunk of a torchvision ResNet") from e
    problems = []
    if result.missing_keys:
        problems.append(f"missing trunk keys {_few(result.missing_keys)}")
    if result.unexpected_keys:
        problems.append(f"unexpected trunk keys {_few(result.unexpected_keys)}")
    if problems:
        raise DataError(source, "; ".join(problems), f"exactly the keys of {what}")


def _few(keys: list[str], n: int = 10) -> str:
    """The first `n` keys, and how many there are in all."""
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} in all)" if len(keys) > n else "")


def _from_run(
    run: Path | Mapping, source: str, arch: str | None, small_stem: bool | None, trust: bool = False
) -> ImportedBackbone:
    """The feature backbone of a kit run (folder, checkpoint file or loaded checkpoint dict)."""
    method, cfg = (
        method_from_state(run, source) if isinstance(run, Mapping) else load_run(run, trust=trust)[:2]
    )
    _agree("arch", arch, cfg.arch, f"the run's config: arch={cfg.arch}", source)
    _agree("small_stem", small_stem, cfg.small_stem, f"the run's config: small_stem={cfg.small_stem}", source)
    backbone = method.feature_backbone()
    name = next(n for n, m in method.named_modules() if m is backbone)
    model = build_backbone(cfg.arch, cfg.small_stem)
    _load_strict(model, backbone.state_dict(), f"a {cfg.arch} trunk (ssl_kit {cfg.method} run)", source)
    dropped = [k for k in method.state_dict() if not k.startswith(f"{name}.")]
    return ImportedBackbone(
        model.eval(),
        "ssl_kit",
        cfg.arch,
        source,
        dropped,
        input_size=cfg.crop_size,
        frozen_stem=bool(cfg.whiten_stem),
    )
