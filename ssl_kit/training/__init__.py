"""The training loop, for every method, on a CPU, one GPU or many (`torchrun`), in three parts: `prepare` (the
batch source, the method, the optimizer, a resumed state), `train_step` (one step, as the paper's pseudocode
reads) and the hooks after each step (logging, kNN monitor, invariance watch, checkpoints). `ensure_run`
trains a config or reuses the finished run that config made (in the folder its run key names:
`ssl_kit.runs.keyed_out`)."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "train": "loop",
    "ensure_run": "reuse",
    "TrainingDiverged": "finite",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
