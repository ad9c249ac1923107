"""Fixtures shared across test files: the smoke world (built once per session) and a one-step kit run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.real_layout import real_layout

from ssl_kit.world.build import build_world


@pytest.fixture(scope="session", autouse=True)
def kit_cache(tmp_path_factory) -> Path:
    """The kit's cache folder (`ssl_kit.common.cache`) for this session: a temporary one, never the user's."""
    folder = tmp_path_factory.mktemp("kit_cache")
    os.environ["SSL_KIT_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def smoke_world(tmp_path_factory) -> Path:
    world = tmp_path_factory.mktemp("world")
    build_world(world, preset="smoke", seed=0, progress=False)
    return world


@pytest.fixture(scope="session")
def smoke_real_data(smoke_world, tmp_path_factory) -> Path:
    """A real-data folder (ImageNet-100, COCO, TrackingNet, ALOI, GOT-10k, Pascal3D+ layouts) made of links to
    the smoke world's sets: what `SCALE=paper` reads, at smoke size."""
    return real_layout(smoke_world, tmp_path_factory.mktemp("real_data"))


@pytest.fixture(scope="session")
def smoke_run(smoke_world, tmp_path_factory) -> Path:
    """A MoCo v2 run of two steps on the smoke world's objects (a real checkpoint, not a trained model)."""
    from ssl_kit.runs.config import TrainConfig
    from ssl_kit.training.loop import train

    out = tmp_path_factory.mktemp("runs") / "mocov2"
    cfg = TrainConfig(
        method="mocov2",
        scale="smoke",
        data=str(smoke_world / "objects" / "train"),
        out=str(out),
        batch_size=8,
        queue_size=16,
        max_steps=2,
    )
    return train(cfg, progress=False)
