"""SmallMapConv2d computes exactly what nn.Conv2d computes, on every shape and path."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ssl_kit.models import build_backbone
from ssl_kit.models.small_map_conv import SmallMapConv2d, _takes_fast_path, use_small_map_convs


@pytest.mark.parametrize(
    "c, o, k, stride, padding, dilation, hw",
    [
        (8, 16, 3, 1, 1, 1, 1),
        (8, 16, 3, 2, 1, 1, 2),
        (8, 4, 3, 1, 1, 1, 2),
        (6, 5, 1, 2, 0, 1, 3),
        (4, 6, (3, 1), (1, 2), (1, 0), 1, 2),
        (4, 4, 3, 1, 2, 2, 2),
        (8, 8, 3, 1, 1, 1, 6),
    ],
)
def test_gradients_match_conv2d(c, o, k, stride, padding, dilation, hw):
    torch.manual_seed(0)
    ref = nn.Conv2d(c, o, k, stride, padding, dilation, bias=False)
    fast = nn.Conv2d(c, o, k, stride, padding, dilation, bias=False)
    fast.load_state_dict(ref.state_dict())
    use_small_map_convs(fast)
    x1 = torch.randn(5, c, hw, hw, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    y1, y2 = ref(x1), fast(x2)
    torch.testing.assert_close(y1, y2)
    g = torch.randn_like(y1)
    y1.backward(g)
    y2.backward(g)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ref.weight.grad, fast.weight.grad, rtol=1e-4, atol=1e-4)


def test_fast_path_only_where_it_applies():
    conv = use_small_map_convs(nn.Conv2d(4, 4, 3, padding=1, bias=False))
    assert isinstance(conv, SmallMapConv2d)
    assert _takes_fast_path(conv, torch.zeros(1, 4, 2, 2))  # a 2x2 output map
    assert not _takes_fast_path(conv, torch.zeros(1, 4, 4, 4))  # 16 output pixels: oneDNN's own kernel
    assert not _takes_fast_path(conv, torch.zeros(1, 4, 2, 2, dtype=torch.float64))
    with torch.no_grad():
        assert not _takes_fast_path(conv, torch.zeros(1, 4, 2, 2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not _takes_fast_path(conv, torch.zeros(1, 4, 2, 2))
        y = conv(torch.randn(1, 4, 2, 2))  # autocast: plain nn.Conv2d, bf16 out
    assert y.dtype == torch.bfloat16
    biased = use_small_map_convs(nn.Conv2d(4, 4, 3, padding=1))
    assert not _takes_fast_path(biased, torch.zeros(1, 4, 2, 2))


def test_backbone_keeps_names_and_trains_the_same():
    torch.manual_seed(0)
    fast = build_backbone("resnet18")
    plain = build_backbone("resnet18")
    plain.load_state_dict(fast.state_dict())
    for m in plain.modules():  # back to nn.Conv2d everywhere
        if type(m) is SmallMapConv2d:
            m.__class__ = nn.Conv2d
    assert type(fast.layer4[0].conv1) is SmallMapConv2d and list(fast.state_dict()) == list(
        plain.state_dict()
    )
    x = torch.randn(4, 3, 32, 32)  # layer3 and layer4 run on 2x2 and 1x1 maps: the fast path
    fast(x).square().sum().backward()
    plain(x).square().sum().backward()
    for (name, a), b in zip(fast.named_parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5, msg=name)
