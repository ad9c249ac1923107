"""Part two of the training loop: one step, as the paper's pseudocode reads (MoCo's Algorithm 1; the other
methods differ only inside `training_step`):

    for x in loader:                           # batch.images: the step's images (or the pairs a source gives)
        x_q, x_k = aug(x), aug(x)              # `step_views`: the policy, from the step's own generator
        loss = InfoNCE(f_q(x_q), f_k(x_k), queue)   # `run.model(views, ...)`: also moves f_k and the queue
        loss.backward(); update(f_q)           # SGD at the step's learning rate (`run.schedule`)

Every random number of step `t` comes from its plan (`ssl_kit.batches.plan`): the global torch generator is
seeded with the step's seed and the views are drawn from the step's own generator, so a resumed run takes
exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

import torch

from ssl_kit.augment import step_views
from ssl_kit.batches import Batch
from ssl_kit.methods import StepOutput
from ssl_kit.training.finite import diverged
from ssl_kit.training.state import Run


def autocast(amp: str, device: torch.device):
    """bf16 autocast where `--amp` asks for it (`auto`: on CUDA only)."""
    on = amp == "bf16" or (amp == "auto" and device.type == "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=on)


def train_step(run: Run, batch: Batch) -> tuple[StepOutput, float]:
    """Step `batch.plan.step` of `run` on `batch`: the views, the method's loss, backward, SGD. Returns the
    method's output and the learning rate; a non-finite loss stops the run before any weight changes."""
    plan = batch.plan
    lr, size = run.schedule.set(plan.step)
    torch.manual_seed(plan.seed)
    run.method.train()
    with autocast(run.cfg.amp, run.device):  # the views too, as the kept bf16 runs drew them
        views = step_views(batch.images, run.policy, size, run.method.n_views, plan.view_generator())
        out = run.model(views, batch.indices, batch.labels)
    if not torch.isfinite(out.loss):
        loss = out.loss.item()
        raise diverged(run, plan.step, plan.epoch, lr, f"loss is {loss}", f"the loss became {loss}")
    run.opt.zero_grad(set_to_none=True)
    out.loss.backward()
    run.opt.step()
    return out, lr
