"""The one interface of every batch source: `source.batches(steps)` yields each step's `Batch`, in order.

A source is what a run trains on: images held in memory (`ImageData`), images streamed from their files
(`StreamedImages`), temporal frame pairs (`FramePairs`), tracked region pairs (`RegionPairs`), or streamed
video frames (`StreamedFrames`). The loop never asks which one it holds: it asks for the batches of steps
`start .. last - 1` (`Steps`) and applies `source.device_policy(policy)`, the part of the augmentation the
device still applies (all of it for a held source; all but the crop for a streamed one, whose workers cut
each view from the original image).

What step `t` draws is `Steps.plan(t, n)` (`ssl_kit.batches.plan.step_plan`), the same for every source, so
a run resumed at `start` continues exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch

from ssl_kit.augment.policy import AugmentPolicy
from ssl_kit.batches.plan import StepPlan, step_plan


@dataclass(frozen=True)
class Steps:
    """Steps `start .. last - 1` of a run seeded with `seed`, as process `rank` of `world_size` draws them:
    global batches of `batch_size`, `views` views of `size` px each under `policy`, delivered on `device`."""

    seed: int
    batch_size: int
    start: int
    last: int
    policy: AugmentPolicy
    size: int
    views: int
    device: torch.device
    rank: int = 0
    world_size: int = 1

    def plan(self, step: int, n: int) -> StepPlan:
        """What step `step` draws from `n` items on this process."""
        return step_plan(self.seed, step, n, self.batch_size, self.rank, self.world_size)


@dataclass
class Batch:
    """One step's batch on the device: uint8 `images` (B, 3, S, S) for the method to view, or (B, V, 3, S, S)
    views given by the source; `labels` (B,); `indices` (B,) into the source; the step's `plan`."""

    plan: StepPlan
    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor


class BatchSource:
    """Base class: `n` items, `classes`, and each step's `Batch` (see the module doc)."""

    classes: list[str]

    @property
    def n(self) -> int:
        raise NotImplementedError

    def batches(self, steps: Steps) -> Iterator[Batch]:
        raise NotImplementedError

    def device_policy(self, policy: AugmentPolicy) -> AugmentPolicy:
        """What the device applies to this source's batches: the whole policy."""
        return policy


class HeldSource(BatchSource):
    """A source held on the device: step `t`'s batch is `batch(indices, generator)`, the generator the step's
    `plan.data_generator()` (a video pair's partner frame, a region's offset)."""

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def batches(self, steps: Steps) -> Iterator[Batch]:
        for step in range(steps.start, steps.last):
            plan = steps.plan(step, self.n)
            index = plan.indices.to(steps.device)
            torch.manual_seed(
                plan.seed
            )  # as the step itself: all of step t's randomness is seeded from its plan
            images, labels = self.batch(index, plan.data_generator())
            yield Batch(plan, images, labels, index)


def planned(
    read: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], steps: Steps, n: int
) -> Iterator[Batch]:
    """A streamed source's (images, labels, indices) for steps `start, start + 1, ...`, each with its plan."""
    for step, (images, labels, index) in zip(range(steps.start, steps.last), read, strict=True):
        yield Batch(steps.plan(step, n), images, labels, index)


class StreamedSource(BatchSource):
    """A source read by `workers` processes as training goes: `step_dataset(steps)` is what each step reads (its
    views cut from the original files); the device applies the rest of the policy."""

    workers: int

    def step_dataset(self, steps: Steps) -> torch.utils.data.Dataset:
        raise NotImplementedError

    def batches(self, steps: Steps) -> Iterator[Batch]:
        """Each step's views on the device, read ahead by the workers."""
        return planned(
            step_batches(self.step_dataset(steps), self.workers, steps.seed, steps.device), steps, self.n
        )

    def device_policy(self, policy: AugmentPolicy) -> AugmentPolicy:
        """The policy without its crop (done in the workers)."""
        return dataclasses.replace(policy, crop=False)


def one_thread_worker(_: int) -> None:
    torch.set_num_threads(1)  # a worker decodes; the main process computes


def step_batches(dataset, workers: int, seed: int, device: torch.device):
    """A step dataset's items, in order, read ahead by `workers` processes (pinned memory on CUDA), moved to
    `device`: the streaming paths' one loader."""
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=2 if workers else None,
        worker_init_fn=one_thread_worker if workers else None,
        generator=torch.Generator().manual_seed(seed),  # never torch's global generator: the steps own it
    )
    return to_device(iter(loader), device)  # workers start now, before the first step


def to_device(batches, device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    for images, labels, index in batches:
        yield (
            images.to(device, non_blocking=True),
            labels.to(device, non_blocking=True),
            index.to(device, non_blocking=True),
        )
