"""PIRL (Misra & van der Maaten 2020): an image and its jigsaw-shuffled patches should share a representation.

f(v_I): the backbone and a linear head on an augmented image. g(v_I^t): another augmented view cut into 3x3
tiles, each tile randomly cropped to 3/4 of its side (so edges do not line up), the tiles shuffled by a
random permutation, each encoded by the same backbone and projected, the projections concatenated in the
shuffled order and projected again. A memory bank holds one vector per image, updated with momentum 0.5.
Loss: 0.5 * NCE(g(v_I^t), m_I) + 0.5 * NCE(f(v_I), m_I), negatives drawn from the bank, temperature 0.07,
with NCE's normalising constant Z estimated on the first batch as in Wu et al. (2018). `loss="infonce"`
replaces NCE by a cross entropy over the positive and negatives drawn from the bank (VISSL's
`cross_entropy` option for PIRL).

Under DDP the bank is kept equal on every process by gathering each step's (index, feature) pairs, never by
broadcasting it; the jigsaw's and the negatives' random numbers are drawn for the global batch and each process
keeps its rows, and Z is estimated over the global batch, so W processes of B/W images with one seed draw what
one process of B images draws.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ssl_kit.common import distributed as D
from ssl_kit.errors import ConfigError
from ssl_kit.methods.base import Method, StepOutput
from ssl_kit.methods.encoder import make_encoder
from ssl_kit.methods.losses import estimate_log_z, info_nce, nce_memory

GRID = 3


def jigsaw(
    x: torch.Tensor, generator: torch.Generator | None = None, crop: float = 0.75
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut (B,3,S,S) into 3x3 tiles, crop each at a random place, shuffle the tiles of each image.

    Returns tiles (B, 9, 3, t, t) in shuffled order and the permutation (B, 9): tile j of image b is the
    original tile perm[b, j] (row-major).
    """
    b, c, s, _ = x.shape
    tile = s // GRID
    x = x[:, :, : tile * GRID, : tile * GRID]
    tiles = x.reshape(b, c, GRID, tile, GRID, tile).permute(0, 2, 4, 1, 3, 5).reshape(b * 9, c, tile, tile)
    out = max(1, round(tile * crop))
    w = D.world_size()  # draws for the global batch, this rank's rows kept (`D.local_rows`)
    shift = (D.local_rows(torch.rand(w * b * 9, 2, generator=generator), b * 9) * 2 - 1) * (1 - crop)
    theta = torch.zeros(b * 9, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = crop
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta.to(x.device, x.dtype), [b * 9, c, out, out], align_corners=False)
    tiles = F.grid_sample(tiles, grid, mode="bilinear", padding_mode="border", align_corners=False)
    perm = torch.argsort(D.local_rows(torch.rand(w * b, 9, generator=generator), b), dim=1).to(x.device)
    tiles = tiles.reshape(b, 9, c, out, out)
    return tiles[torch.arange(b, device=x.device)[:, None], perm], perm


class PIRL(Method):
    name = "pirl"
    default_policy = "pirl"
    unset_nan_buffers = ("log_z",)  # NaN until NCE estimates it (never, with the InfoNCE loss)

    def __init__(
        self,
        dataset_size: int,
        arch: str = "resnet18",
        small_stem: bool = False,
        dim: int = 128,
        temperature: float = 0.07,
        num_negatives: int = 4096,
        bank_momentum: float = 0.5,
        lam: float = 0.5,
        loss: str = "nce",
    ):
        super().__init__()
        if loss not in ("nce", "infonce"):
            raise ConfigError(f"PIRL loss must be 'nce' (the paper's) or 'infonce', not {loss!r}")
        self.loss_type = loss
        self.temperature, self.bank_momentum, self.lam = temperature, bank_momentum, lam
        self.num_negatives = min(num_negatives, dataset_size - 1)
        self.dataset_size = dataset_size
        self.encoder = make_encoder(arch, small_stem, "linear", dim)
        d = self.encoder.backbone.feature_dim
        self.tile_head = nn.Linear(d, dim)
        self.jigsaw_head = nn.Linear(9 * dim, dim)
        self.register_buffer("memory", F.normalize(torch.randn(dataset_size, dim), dim=1))
        # NCE's normalising constant, estimated on the first step and then fixed (saved in checkpoints)
        self.register_buffer("log_z", torch.tensor(float("nan")))

    def feature_backbone(self) -> nn.Module:
        return self.encoder.backbone

    def _g(self, x: torch.Tensor) -> torch.Tensor:
        tiles, _ = jigsaw(x)
        b = tiles.shape[0]
        feats = self.tile_head(self.encoder.backbone(tiles.flatten(0, 1)))  # (B*9, dim)
        return self.jigsaw_head(feats.reshape(b, -1))

    @torch.no_grad()
    def _update_memory(self, index: torch.Tensor, f: torch.Tensor) -> None:
        index, f = D.concat_all_gather(index), D.concat_all_gather(f)
        m = self.bank_momentum
        self.memory[index] = F.normalize(m * self.memory[index] + (1 - m) * f.to(self.memory.dtype), dim=1)

    def training_step(self, views, index, labels) -> StepOutput:
        x1, x2 = views  # f on the first view, g on the jigsaw of the second
        f = F.normalize(self.encoder(x1), dim=1)
        g = F.normalize(self._g(x2), dim=1)
        pos = self.memory[index].clone()
        if self.loss_type == "infonce":  # cross entropy over the positive and negatives shared by the batch
            bank = self.memory[
                torch.randint(0, self.dataset_size, (self.num_negatives,)).to(index.device)
            ].clone()
            loss = self.lam * info_nce(g, pos, bank, self.temperature)[0]
            loss = loss + (1 - self.lam) * info_nce(f, pos, bank, self.temperature)[0]
            self._update_memory(index, f.detach())
            return StepOutput(loss)
        b, w = index.shape[0], D.world_size()
        neg_idx = D.local_rows(torch.randint(0, self.dataset_size, (w * b, self.num_negatives)), b)
        neg = self.memory[neg_idx.to(index.device)].clone()
        n = self.dataset_size
        if torch.isnan(self.log_z):
            with torch.no_grad():
                # each rank's estimate is over b x M pairs: the global one is their log-mean-exp
                local = estimate_log_z(f, neg, self.temperature, n).reshape(1)
                self.log_z.copy_(torch.logsumexp(D.concat_all_gather(local), 0) - math.log(w))
        z = self.log_z.detach()
        loss = self.lam * nce_memory(g, pos, neg, self.temperature, n, z)
        loss = loss + (1 - self.lam) * nce_memory(f, pos, neg, self.temperature, n, z)
        self._update_memory(index, f.detach())
        return StepOutput(loss)
