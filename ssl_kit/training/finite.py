"""Is a training state fit to be the "last good checkpoint"? Every floating tensor of the model (weights and
buffers: batch-norm running statistics, MoCo's queue, PIRL's memory bank) and of the optimizer must be finite.

The check runs before each checkpoint write, as one fused pass (the largest absolute value of every tensor by
`torch._foreach_norm(..., inf)`, NaN and inf propagating) and one device sync: cheap next to the write itself.
`diverged` is the guard for both the loss and the state; `diverged_advice` says what to try, from what the
config and the step tell about the cause.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import torch

from ssl_kit.common import distributed as D
from ssl_kit.errors import SSLKitError
from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig, resolve
from ssl_kit.training.state import Run

_SHOWN = 3  # non-finite tensors named in a message


def state_tensors(model: Mapping[str, object], optimizer: Mapping | None = None) -> dict[str, torch.Tensor]:
    """The tensors of a model state dict and of an optimizer state dict's `state`, by name."""
    out = {k: v for k, v in model.items() if isinstance(v, torch.Tensor)}
    for index, slots in ((optimizer or {}).get("state") or {}).items():
        for slot, value in slots.items():
            if isinstance(value, torch.Tensor):
                out[f"optimizer.state.{index}.{slot}"] = value
    return out


def nonfinite(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """The names of the floating-point tensors that hold a NaN or an infinity (one fused pass, one sync)."""
    items = [(k, t) for k, t in tensors.items() if t.is_floating_point() and t.numel()]
    if not items:
        return []
    values = [t.detach() for _, t in items]
    try:
        peaks = torch._foreach_norm(values, math.inf)
    except (AttributeError, RuntimeError, TypeError):  # a torch or a device without the fused kernel
        peaks = [torch.linalg.vector_norm(t, math.inf) for t in values]
    device = values[0].device
    finite = torch.stack([p.float().to(device) for p in peaks]).isfinite()
    if bool(finite.all()):
        return []
    return [k for (k, _), ok in zip(items, finite.tolist(), strict=True) if not ok]


def nonfinite_state(method: torch.nn.Module, opt: torch.optim.Optimizer | None = None) -> list[str]:
    """`nonfinite` of a method's state (parameters and buffers, but its `unset_nan_buffers`: NaN on purpose)
    and its optimizer's."""
    skip = set(getattr(method, "unset_nan_buffers", ()))
    model = {k: v for k, v in method.state_dict().items() if k not in skip}
    return nonfinite(state_tensors(model, opt.state_dict() if opt is not None else None))


def named(names: list[str]) -> str:
    """`a, b, c and 4 more`"""
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def diverged_advice(cfg: TrainConfig, step: int) -> str:
    """What to try after the loss or the state became non-finite at `step` (0: before any update)."""
    recipe = resolve(dataclasses.replace(cfg, temperature=None)).temperature
    usual = f"; the method's recipe uses {recipe:g}" if recipe is not None else ""
    if cfg.temperature is not None and cfg.temperature <= 0:
        return f"--temperature must be > 0 (it is {cfg.temperature:g}{usual})"
    if step == 0:
        text = "Nothing had been updated yet, so the learning rate is not the cause: check the data"
        if cfg.temperature is not None:
            text += f" and --temperature (now {cfg.temperature:g}{usual})"
        return text
    if cfg.temperature is not None and cfg.temperature < 0.01:
        larger = f" (the method's recipe uses {recipe:g})" if recipe is not None else ""
        return (
            f"--temperature {cfg.temperature:g} turns the similarities into huge logits: try a larger one{larger}, "
            "or a lower --lr"
        )
    if cfg.bn_lr_scale > 1:  # changed from its default: the batch norm's step is the likelier cause
        return (
            f"--bn-lr-scale {cfg.bn_lr_scale:g} gives the batch-norm parameters {cfg.bn_lr_scale:g} times the "
            f"learning rate (--lr {cfg.lr:g}): try a smaller one (the default is 1)"
        )
    text = f"Try a lower --lr (now {cfg.lr:g}; e.g. {cfg.lr / 10:g})"
    if not cfg.warmup_epochs:
        text += " or a learning-rate warm-up (--warmup-epochs 1)"
    return text


class TrainingDiverged(SSLKitError):
    """The loss or the model state became NaN or infinite."""


def _kept(out: Path, good_step: int | None) -> str:
    if good_step is None:
        return f"no checkpoint was written before it, so {out} holds nothing to resume from"
    return f"the last good checkpoint (step {good_step}) is kept in {out}"


def diverged(run: Run, step: int, epoch: int, lr: float, error: str, what: str) -> TrainingDiverged:
    """The divergence guard, for the loss and for the state alike: logs `error` at `step` in the run's metrics
    (main process) and returns the error to raise, saying `what` became non-finite, which checkpoint is kept
    and what to try (`diverged_advice`)."""
    if D.is_main():
        rundir.append_metrics(run.out, step=step, epoch=epoch, error=error)
    kept, advice = _kept(run.out, run.good_step), diverged_advice(run.cfg, step)
    return TrainingDiverged(f"at step {step} (epoch {epoch}, lr {lr:.4g}) {what}; {kept}. {advice}.")
