"""SimCLR (Chen et al. 2020): two views, an MLP head, NT-Xent over the whole (global) batch.

Under DDP every process computes the loss of the global batch from all processes' embeddings, with the gradient
flowing back only into its own; DDP then averages the processes' gradients, which would apply 1 / world_size of
the global loss's gradient (the sum of the processes' parts). The loss is therefore scaled by the world size for
the backward pass (its value is unchanged), so W processes of B/W images step as one process of B images does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ssl_kit.common import distributed as D
from ssl_kit.methods.base import Method, StepOutput
from ssl_kit.methods.encoder import make_encoder
from ssl_kit.methods.losses import nt_xent


def _gather_with_grad(z: torch.Tensor) -> torch.Tensor:
    """All ranks' z, with the gradient flowing back to this rank's part."""
    if not D.is_distributed():
        return z
    parts = list(D.concat_all_gather(z).chunk(D.world_size()))
    parts[D.rank()] = z
    return torch.cat(parts)


class SimCLR(Method):
    name = "simclr"
    default_policy = "simclr"

    def __init__(
        self, arch: str = "resnet18", small_stem: bool = False, dim: int = 128, temperature: float = 0.2
    ):
        super().__init__()
        self.temperature = temperature
        self.encoder = make_encoder(arch, small_stem, "mlp", dim)

    def feature_backbone(self) -> nn.Module:
        return self.encoder.backbone

    def training_step(self, views, index, labels) -> StepOutput:
        x1, x2 = views
        z1 = F.normalize(self.encoder(x1), dim=1)
        z2 = F.normalize(self.encoder(x2), dim=1)
        loss = nt_xent(_gather_with_grad(z1), _gather_with_grad(z2), self.temperature)
        w = D.world_size()
        if w > 1:  # the value stays the global loss; its gradient is w times, undoing DDP's average
            loss = loss * w - loss.detach() * (w - 1)
        return StepOutput(loss)
