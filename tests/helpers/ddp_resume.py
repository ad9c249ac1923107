"""A torchrun training whose ranks other than 0 see no run folder (tests/training/test_ddp.py).

    python -m torch.distributed.run --nproc_per_node 2 tests/helpers/ddp_resume.py DATA OUT STEPS [resume]

Rank 0 trains into OUT; every other rank is given OUT + "_elsewhere" (a folder its machine does not have, as on
a second machine without a shared file system) and may not read checkpoints at all: resuming must come from
rank 0 alone.
"""

from __future__ import annotations

import os
import sys

import torch.distributed as dist

from ssl_kit.runs import rundir
from ssl_kit.runs.config import TrainConfig
from ssl_kit.training.loop import train


def _refuse(*args, **kwargs):
    raise AssertionError(f"rank {os.environ['RANK']} read a checkpoint")


def main(data: str, out: str, steps: int, resume: bool) -> None:
    if os.environ["RANK"] != "0":
        out += "_elsewhere"
        rundir.load_checkpoint = _refuse
        rundir.load_torch_file = _refuse
    cfg = TrainConfig(
        data=data, out=out, scale="smoke", batch_size=8, max_steps=steps, checkpoint_every=100, sync_bn=True
    )
    train(cfg, resume=resume, progress=False)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:] == ["resume"])
