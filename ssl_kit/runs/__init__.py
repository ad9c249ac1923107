"""A run, as it is written and read back: its config (`TrainConfig`: every knob with its facts, per-scale
defaults), its key (`run_key`: how sweeps and notebooks find it again), its folder (config.yaml, metrics.jsonl,
checkpoint.pt), resuming it, loading its trained network, and importing foreign checkpoints (torchvision, MoCo,
VISSL). It knows nothing of the training loop."""

from ssl_kit.common.lazy import lazy_exports

EXPORTS = {
    "TrainConfig": "fields",
    "resolve": "config",
    "method_from_config": "config",
    "run_key": "run_keys",
    "keyed_out": "run_keys",
    "read_metrics": "rundir",
    "load_config": "rundir",
    "load_checkpoint": "rundir",
    "load_run": "checkpoints",
    "method_from_state": "checkpoints",
    "import_backbone": "importers",
}
__all__ = sorted(EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
