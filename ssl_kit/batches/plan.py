"""What step `t` of a run draws: its batch indices and the seeds of its random numbers.

The one plan the training loop follows and `ssl_kit.findings.positive_pairs` replays to see the trainer's own
positive pairs. The data order of epoch `e` is a permutation seeded from (seed, e); all randomness of step `t`
on rank `r` is seeded from (seed, t, r): the global torch RNG, the augmentations' generator, and the batch
source's generator (a video pair's second frame, a region). A run resumed from a checkpoint therefore takes
exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def step_seed(seed: int, step: int, rank: int = 0) -> int:
    """The seed of step `step` on rank `rank` of a run seeded with `seed`."""
    return (seed * 1_000_003 + step * 7_919 + rank * 104_729) % (2**63 - 1)


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The order (a permutation of range(n)) in which epoch `epoch` visits the `n` items."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 9_973 + epoch))


@dataclass(frozen=True)
class StepPlan:
    """Step `step` of a run on one rank: which items it trains on and how its random numbers are seeded."""

    step: int
    epoch: int
    within: int  # the step's position in its epoch
    indices: (
        torch.Tensor
    )  # (batch_size // world_size,) int64 on the CPU: this rank's share of the global batch
    seed: int  # step_seed(seed, step, rank): the global torch RNG is seeded with it

    def view_generator(self) -> torch.Generator:
        """The generator the step's augmentations draw from (both views' crops, colours, blur, flips)."""
        return torch.Generator().manual_seed(self.seed)

    def data_generator(self) -> torch.Generator:
        """The generator the batch source draws from (`data.batch(indices, generator)`)."""
        return torch.Generator().manual_seed(self.seed + 1)


def step_plan(seed: int, step: int, n: int, batch_size: int, rank: int = 0, world_size: int = 1) -> StepPlan:
    """The plan of step `step` for `n` items in global batches of `batch_size` split over `world_size` processes.

    An epoch is `n // batch_size` steps (the last partial batch is dropped); step t of the epoch takes the
    t-th `batch_size` items of the epoch's order, and rank r the r-th `batch_size // world_size` of those.
    """
    steps_per_epoch = n // batch_size
    epoch, within = divmod(step, steps_per_epoch)
    local = batch_size // world_size
    indices = epoch_order(seed, epoch, n)[within * batch_size + rank * local :][:local]
    return StepPlan(step, epoch, within, indices, step_seed(seed, step, rank))
