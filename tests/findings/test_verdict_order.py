"""The verdict words do not change when the floating-point order changes.

The same sweep (finding 3's cells, two seeds, smoke scale) is trained and scored twice: on one thread, then on
two. Two threads sum convolutions and reductions in another order, so the numbers may differ in their last
float32 bits, and a score of the paper's measure (which counts neurons above a threshold) by more; each check is
decided by its spread over seeds, so its outcome, and the finding's verdict, must not change. On one machine each
run is deterministic, so this test passes or fails every time.
"""

from __future__ import annotations

import pytest
import torch

from ssl_kit.findings import finding_3, labelled
from ssl_kit.study import load_grid, run_sweep, subset


@pytest.mark.slow
def test_verdicts_are_the_same_on_one_and_two_threads(smoke_world, tmp_path):
    grid = subset(
        load_grid("augmentation_ablations", scale="smoke", seeds=[0, 1]), policy=["mocov2", "no_crop"]
    )
    before = torch.get_num_threads()
    found = {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            sweep = run_sweep(grid, tmp_path / f"threads{threads}", smoke_world, progress=False, jobs=1)
            assert not sweep.failed
            found[threads] = finding_3(labelled(sweep.rows, "policy"))
    finally:
        torch.set_num_threads(before)
    one, two = found[1], found[2]
    assert [c.outcome for c in one.checks] == [c.outcome for c in two.checks]
    assert one.verdict == two.verdict and one.seeds == two.seeds == 2
