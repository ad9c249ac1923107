"""Part two of the training loop: one step, as the paper's pseudocode reads (MoCo's Algorithm 1; the other
methods differ only inside `method`):

    for x in loader:                           # batch.images: images, or views or pairs given by the source
        x_q, x_k = aug(x), aug(x)              # `view`: the policy, drawn from the step's own generator
        loss = InfoNCE(f_q(x_q), f_k(x_k), queue)   # `method(...)`, which also moves f_k and updates the queue
        loss.backward(); update(f_q)           # SGD at the step's learning rate

Every random number of step `t` comes from its plan (`ssl_kit.batches.plan`): the global torch generator is
seeded with the step's seed and the views are drawn from the step's own generator, so a resumed run takes
exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

import torch

from ssl_kit.augment import augment
from ssl_kit.batches import Batch
from ssl_kit.methods import StepOutput
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training.finite import diverged
from ssl_kit.training.prepare import crop_size_at, learning_rate
from ssl_kit.training.state import Run


def autocast(cfg: TrainConfig, device: torch.device):
    """bf16 autocast where `--amp` asks for it (`auto`: on CUDA only)."""
    on = cfg.amp == "bf16" or (cfg.amp == "auto" and device.type == "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=on)


def train_step(run: Run, batch: Batch) -> tuple[StepOutput, float]:
    """Step `batch.plan.step` of `run` on `batch`: the method's loss, backward, SGD. Returns the method's output
    and the learning rate; a non-finite loss stops the run before any weight changes (`finite.diverged`)."""
    cfg, plan = run.cfg, batch.plan
    lr = learning_rate(cfg, plan.step, run.total, run.steps_per_epoch)
    for group in run.opt.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    size = crop_size_at(cfg, plan.step, run.total)
    torch.manual_seed(plan.seed)
    generator = plan.view_generator()

    def view(x: torch.Tensor) -> torch.Tensor:  # one augmented, normalised view of each image
        v = augment(x, run.policy, size, generator=generator)
        return v.contiguous(memory_format=torch.channels_last)

    run.method.on_step(plan.step, run.total)  # e.g. MoCo's key-momentum schedule
    run.method.train()
    with autocast(cfg, run.device):
        out = run.model(batch.images, batch.indices, batch.labels, view)
    if not torch.isfinite(out.loss):
        loss = out.loss.item()
        raise diverged(run, plan.step, plan.epoch, lr, f"loss is {loss}", f"the loss became {loss}")
    run.opt.zero_grad(set_to_none=True)
    out.loss.backward()
    run.opt.step()
    return out, lr
