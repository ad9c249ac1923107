"""Contrastive losses as pure functions of L2-normalised embeddings.

- `info_nce`: MoCo's loss: each query against its key (the positive) and a queue of negatives.
- `nt_xent`: SimCLR's loss: 2B views, each against its partner and the other 2B - 2 views.
- `nce_memory`: PIRL's NCE loss against negatives drawn from a memory bank (Wu et al. 2018; Misra & van der
  Maaten 2020): h(u, v) = exp(u.v / T) / (exp(u.v / T) + m / n) with m negatives out of n images.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def info_nce(
    q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean InfoNCE loss and the logits (B, 1 + K): column 0 is the positive.

    q, k: (B, D) normalised queries and keys; queue: (K, D) normalised negatives.
    """
    pos = (q * k).sum(1, keepdim=True)
    neg = q @ queue.t()
    logits = torch.cat([pos, neg], dim=1) / temperature
    labels = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits.float(), labels), logits


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's normalised-temperature cross entropy over the 2B views (z1[i] and z2[i] are positives)."""
    z = torch.cat([z1, z2], dim=0).float()
    n = z1.shape[0]
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))  # a view is not its own negative
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, targets)


def nce_memory(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negatives: torch.Tensor,
    temperature: float,
    dataset_size: int,
    log_z: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """PIRL's NCE loss: -log h(anchor, positive) - sum_j log(1 - h(anchor, negative_j)), averaged over the batch.

    anchor, positive: (B, D) normalised; negatives: (B, M, D) normalised, drawn from the memory bank.
    h(u, v) = P(u, v) / (P(u, v) + m / n) with P = exp(u.v / T) / Z: `log_z` is log Z, the normalising
    constant that Wu et al. (2018) estimate once from the first batch (`estimate_log_z`).
    """
    m = negatives.shape[1]
    log_noise = math.log(m / dataset_size)
    s_pos = (anchor * positive).sum(1).float() / temperature - log_z  # (B,)  log P
    s_neg = torch.einsum("bd,bmd->bm", anchor.float(), negatives.float()) / temperature - log_z  # (B, M)
    # log h = log P - log(P + m/n);  log(1 - h) = log(m/n) - log(P + m/n)
    log_h_pos = s_pos - torch.logaddexp(s_pos, torch.full_like(s_pos, log_noise))
    log_1mh_neg = log_noise - torch.logaddexp(s_neg, torch.full_like(s_neg, log_noise))
    return -(log_h_pos + log_1mh_neg.sum(1)).mean()


def estimate_log_z(
    anchor: torch.Tensor, negatives: torch.Tensor, temperature: float, dataset_size: int
) -> torch.Tensor:
    """log Z = log(n * mean exp(u.v / T)) over a batch's anchor/negative pairs (Wu et al. 2018)."""
    s = torch.einsum("bd,bmd->bm", anchor.float(), negatives.float()) / temperature
    return torch.logsumexp(s.flatten(), 0) - math.log(s.numel()) + math.log(dataset_size)
