"""The one feature extractor (`ssl_kit.models.extract`): known answers, exact mode restoring, any input form."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ssl_kit.common.imagenet import IMAGENET_MEAN, IMAGENET_STD
from ssl_kit.models.extract import extract


def _normalised(images: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images.float() / 255 - mean) / std


class Mixed(nn.Module):
    """A network whose submodules are in different modes, as a partly frozen model is."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))  # not used by forward

    def forward(self, x):
        return self.drop(torch.relu(self.bn(self.conv(x))))


def test_a_model_without_parameters_runs_on_the_cpu_and_pools_known_values():
    images = torch.arange(2 * 3 * 2 * 2, dtype=torch.uint8).view(2, 3, 2, 2)
    feats = extract(nn.Identity(), images, batch_size=1)
    assert torch.allclose(feats, _normalised(images).mean(dim=(2, 3)))
    maps = extract(nn.Identity(), images, pooled=False)
    assert torch.allclose(maps, _normalised(images))


def test_every_submodules_mode_is_restored_exactly():
    torch.manual_seed(0)
    model = Mixed()
    model.train()
    model.bn.eval()  # frozen statistics
    model.head.eval()
    before = {name: m.training for name, m in model.named_modules()}
    stats = model.bn.running_mean.clone()
    images = torch.randint(0, 256, (5, 3, 6, 6), dtype=torch.uint8)
    feats = extract(model, images, batch_size=2)
    assert {name: m.training for name, m in model.named_modules()} == before
    assert torch.equal(model.bn.running_mean, stats)  # eval mode: statistics untouched
    model.eval()
    with torch.no_grad():
        direct = model(_normalised(images)).mean(dim=(2, 3))
    assert torch.allclose(feats, direct, atol=1e-6)  # dropout off: the same as a plain eval forward


def test_named_layers_and_a_loader_give_what_a_held_tensor_gives():
    torch.manual_seed(0)
    model = Mixed()
    images = torch.randint(0, 256, (7, 3, 6, 6), dtype=torch.uint8)
    held = extract(model, images, layers=["conv", "bn"], batch_size=3)
    loaded = extract(model, lambda a, b: images[a:b], count=7, layers=["conv", "bn"], batch_size=4)
    assert set(held) == {"conv", "bn"} and held["conv"].shape == (7, 4)
    for name in held:
        assert torch.allclose(held[name], loaded[name], atol=1e-6)
    assert torch.equal(
        extract(model, images, layers="bn", batch_size=3), held["bn"]
    )  # one name: a tensor back
    with pytest.raises(ValueError, match="count"):
        extract(model, lambda a, b: images[a:b])
    with pytest.raises(KeyError, match="no layer named"):
        extract(model, images, layers="layer9")
