"""A MoCo v2 reference pipeline built on lightly, as its MoCo example does it, for bench_train (c) and (d).

Per-image `MoCoV2Transform` (PIL) in a torch DataLoader over an ImageFolder, the same torchvision ResNet-18
backbone as ssl_kit, lightly's `MoCoProjectionHead`, a momentum copy updated with `update_momentum`, and
lightly's `NTXentLoss` with a memory bank of keys (its MoCo loss). Hyper-parameters are passed in so that the
comparison isolates the pipeline (same batch, resolution, crop scale, learning rate, queue, temperature).
lightly is a `bench` extra (`pip install -e '.[bench]'`), never a core dependency.
"""

from __future__ import annotations

import copy
import time

import torch
from torch import nn
from torchvision.datasets import ImageFolder

from ssl_kit.models import build_backbone


def train_lightly_moco(
    data_dir: str,
    seconds: float,
    image_size: int = 32,
    batch_size: int = 128,
    lr: float = 0.03,
    queue_size: int = 2048,
    temperature: float = 0.2,
    min_scale: float = 0.8,
    momentum: float = 0.99,
    workers: int = 1,
    seed: int = 0,
) -> tuple[nn.Module, int, float]:
    """Train for `seconds` of wall time; returns (backbone, images seen, seconds spent)."""
    from lightly.loss import NTXentLoss
    from lightly.models.modules import MoCoProjectionHead
    from lightly.models.utils import deactivate_requires_grad, update_momentum
    from lightly.transforms import MoCoV2Transform

    torch.manual_seed(seed)
    transform = MoCoV2Transform(input_size=image_size, min_scale=min_scale)
    dataset = ImageFolder(data_dir, transform=transform)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        persistent_workers=workers > 0,
    )
    backbone = build_backbone("resnet18", small_stem=False)
    head = MoCoProjectionHead(512, 512, 128)
    backbone_k, head_k = copy.deepcopy(backbone), copy.deepcopy(head)
    deactivate_requires_grad(backbone_k)
    deactivate_requires_grad(head_k)
    criterion = NTXentLoss(temperature=temperature, memory_bank_size=(queue_size, 128))
    params = list(backbone.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    seen, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for (x_q, x_k), _ in loader:
            update_momentum(backbone, backbone_k, m=momentum)
            update_momentum(head, head_k, m=momentum)
            q = head(backbone(x_q))
            with torch.no_grad():
                k = head_k(backbone_k(x_k))
            loss = criterion(q, k)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += x_q.shape[0]
            if time.perf_counter() - start >= seconds:
                break
    return backbone, seen, time.perf_counter() - start
