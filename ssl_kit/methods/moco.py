"""MoCo v1 / v2 (He et al. 2020; Chen et al. 2020): a query encoder, a momentum key encoder and a FIFO queue
of keys as negatives, trained with InfoNCE.

Shuffling BN: under DDP the key batch is gathered from all ranks, shuffled, split across ranks for the key
encoder and unshuffled, as in the official code; on one device `split_bn > 1` emulates per-GPU batch norm
with interleaved sub-batches and the key batch is shuffled so that keys and queries meet different
sub-batch statistics.
"""

from __future__ import annotations

import copy
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ssl_kit.common import distributed as D
from ssl_kit.errors import ConfigError
from ssl_kit.methods.base import Method, StepOutput
from ssl_kit.methods.encoder import make_encoder, split_batchnorm
from ssl_kit.methods.losses import info_nce


class MoCo(Method):
    def __init__(
        self,
        arch: str = "resnet18",
        small_stem: bool = False,
        version: int = 2,
        dim: int = 128,
        queue_size: int = 4096,
        momentum: float = 0.99,
        temperature: float | None = None,
        symmetric: bool = False,
        split_bn: int = 1,
        eval_encoder: str = "query",
    ):
        super().__init__()
        if eval_encoder not in ("query", "key"):
            raise ConfigError(f"eval_encoder must be 'query' or 'key', not {eval_encoder!r}")
        self.eval_encoder = eval_encoder
        self.name = f"mocov{version}"
        self.default_policy = f"mocov{version}"
        self.temperature = temperature if temperature is not None else (0.07 if version == 1 else 0.2)
        self.momentum = momentum  # of the key encoder's moving average; a run's `Schedule` may move it
        self.symmetric = symmetric
        self.encoder_q = split_batchnorm(
            make_encoder(arch, small_stem, "linear" if version == 1 else "mlp", dim), split_bn
        )
        self.encoder_k = copy.deepcopy(self.encoder_q)
        for p in self.encoder_k.parameters():
            p.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(queue_size, dim), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def check_sizes(self, batch_size: int, dataset_size: int) -> None:
        """A queue must be a multiple of the global batch; one larger than the dataset holds stale keys."""
        k = self.queue.shape[0]
        per_step = batch_size * (2 if self.symmetric else 1)  # the symmetric loss enqueues both keys
        if k % per_step:
            raise ConfigError(
                f"queue size {k} is not a multiple of the {per_step} keys enqueued per step "
                f"(global batch {batch_size}{', symmetric' if self.symmetric else ''}); "
                f"try {max(per_step, k // per_step * per_step)}"
            )
        if k > dataset_size:
            warnings.warn(
                f"queue size {k} is larger than the dataset ({dataset_size} images): the queue holds several "
                "keys of the same image, including stale keys of the positive itself",
                stacklevel=2,
            )

    def feature_backbone(self) -> nn.Module:
        """The query encoder's backbone (the paper's), or with `eval_encoder="key"` the momentum encoder's."""
        return (self.encoder_k if self.eval_encoder == "key" else self.encoder_q).backbone

    @torch.no_grad()
    def _momentum_update(self) -> None:
        # k <- m k + (1 - m) q as one lerp over all tensors: one pass over the weights, not two per tensor
        pk = list(self.encoder_k.parameters())
        torch._foreach_lerp_(pk, [p.detach() for p in self.encoder_q.parameters()], 1 - self.momentum)

    @torch.no_grad()
    def _keys(self, x: torch.Tensor) -> torch.Tensor:
        """Key embeddings with shuffled batch norm (across ranks under DDP, within the batch otherwise)."""
        if D.is_distributed():
            x_all = D.concat_all_gather(x)
            perm = D.broadcast_(torch.randperm(x_all.shape[0], device=x.device))
            n = x.shape[0]
            mine = perm.view(D.world_size(), n)[D.rank()]
            k = F.normalize(self.encoder_k(x_all[mine]), dim=1)
            k_all = D.concat_all_gather(k)
            unshuffled = torch.empty_like(k_all)
            unshuffled[perm] = k_all
            return unshuffled.view(D.world_size(), n, -1)[D.rank()]
        perm = torch.randperm(x.shape[0], device=x.device)
        k = F.normalize(self.encoder_k(x[perm]), dim=1)
        out = torch.empty_like(k)
        out[perm] = k
        return out

    @torch.no_grad()
    def _enqueue(self, *keys: torch.Tensor) -> None:
        """Each group of keys gathered from all ranks in rank order, the groups one after the other: the queue
        a run on W processes holds is the one a process holding the global batch holds."""
        keys = torch.cat([D.concat_all_gather(k) for k in keys])
        size = self.queue.shape[0]
        ptr = int(self.queue_ptr)
        idx = (ptr + torch.arange(keys.shape[0], device=keys.device)) % size
        self.queue[idx] = keys.to(self.queue.dtype)
        self.queue_ptr.fill_((ptr + keys.shape[0]) % size)

    def training_step(self, views, index, labels) -> StepOutput:
        """Queries from the first view, keys from the second (and the other way round when symmetric)."""
        x1, x2 = views
        self._momentum_update()
        q1 = F.normalize(self.encoder_q(x1), dim=1)
        k2 = self._keys(x2)
        loss, logits = info_nce(q1, k2, self.queue.clone().detach(), self.temperature)
        keys = (k2,)
        if self.symmetric:
            q2 = F.normalize(self.encoder_q(x2), dim=1)
            k1 = self._keys(x1)
            loss2, _ = info_nce(q2, k1, self.queue.clone().detach(), self.temperature)
            loss = (loss + loss2) / 2  # the mean of the two directions
            keys = (k2, k1)  # each key enqueued once
        self._enqueue(*keys)
        with torch.no_grad():
            acc = (logits.argmax(1) == 0).float().mean().item()
        return StepOutput(loss, {"instance_acc": acc})
