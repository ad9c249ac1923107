"""Every loss against a computation written out by hand with `math`."""

from __future__ import annotations

import math

import pytest
import torch

from ssl_kit.methods.losses import estimate_log_z, info_nce, nce_memory, nt_xent


def test_info_nce_by_hand():
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    k = torch.tensor([[0.6, 0.8], [0.0, 1.0]])
    queue = torch.tensor([[0.0, 1.0], [-1.0, 0.0], [0.8, -0.6]])
    t = 0.5
    # query 0: positive 0.6; negatives 0, -1, 0.8.  query 1: positive 1; negatives 1, 0, -0.6
    l0 = -math.log(math.exp(1.2) / (math.exp(1.2) + math.exp(0) + math.exp(-2) + math.exp(1.6)))
    l1 = -math.log(math.exp(2) / (math.exp(2) + math.exp(2) + math.exp(0) + math.exp(-1.2)))
    loss, logits = info_nce(q, k, queue, t)
    assert loss.item() == pytest.approx((l0 + l1) / 2, rel=1e-6)
    assert logits.shape == (2, 4) and logits[0, 0].item() == pytest.approx(1.2)


def test_nt_xent_by_hand():
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = torch.tensor([[0.6, 0.8], [0.8, 0.6]])
    t = 0.5
    z = [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6]]
    partner = {0: 2, 1: 3, 2: 0, 3: 1}
    total = 0.0
    for i in range(4):
        sims = {j: (z[i][0] * z[j][0] + z[i][1] * z[j][1]) / t for j in range(4) if j != i}
        total += -math.log(math.exp(sims[partner[i]]) / sum(math.exp(s) for s in sims.values()))
    assert nt_xent(z1, z2, t).item() == pytest.approx(total / 4, rel=1e-6)


def test_nce_memory_by_hand():
    anchor = torch.tensor([[1.0, 0.0]])
    positive = torch.tensor([[0.6, 0.8]])
    negatives = torch.tensor([[[0.0, 1.0], [-1.0, 0.0]]])
    t, n = 0.1, 10  # 2 negatives out of 10 images: noise ratio m / n = 0.2

    def h(s):
        return math.exp(s / t) / (math.exp(s / t) + 2 / n)

    expected = -math.log(h(0.6)) - math.log(1 - h(0.0)) - math.log(1 - h(-1.0))
    assert nce_memory(anchor, positive, negatives, t, n).item() == pytest.approx(expected, rel=1e-5)


def test_nce_memory_with_a_normalising_constant_by_hand():
    anchor = torch.tensor([[1.0, 0.0]])
    positive = torch.tensor([[0.6, 0.8]])
    negatives = torch.tensor([[[0.0, 1.0], [-1.0, 0.0]]])
    t, n = 0.1, 10
    log_z = estimate_log_z(anchor, negatives, t, n).item()
    z = n * (math.exp(0.0 / t) + math.exp(-1.0 / t)) / 2  # n times the mean exp(s / T) over the negatives
    assert log_z == pytest.approx(math.log(z), rel=1e-6)

    def h(s):
        p = math.exp(s / t) / z
        return p / (p + 2 / n)

    expected = -math.log(h(0.6)) - math.log(1 - h(0.0)) - math.log(1 - h(-1.0))
    assert nce_memory(anchor, positive, negatives, t, n, log_z).item() == pytest.approx(expected, rel=1e-5)


def test_losses_fall_as_the_positive_gets_closer():
    queue = torch.nn.functional.normalize(torch.randn(16, 8), dim=1)
    q = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    far = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    assert info_nce(q, q, queue, 0.2)[0] < info_nce(q, far, queue, 0.2)[0]
    assert nt_xent(q, q, 0.2) < nt_xent(q, far, 0.2)
