"""The models a widget can pick from: a dict name -> spec, resolved lazily, each once.

A spec is a run folder or checkpoint file (anything `ssl_kit.invariance.scoring.load_model` reads: kit runs,
torchvision, MoCo, VISSL), a `MeasuredModel` (e.g. `random_init_model(...)`), a bare `nn.Module` (features
at the images' own size, never cached on disk), or a zero-argument callable returning one of those (built
only when first picked). Paths are checked when the bank is made, so a run folder without a checkpoint is
reported at once, not when its entry is first picked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from torch import nn

from ssl_kit.errors import ConfigError, DataError
from ssl_kit.invariance.scoring import MeasuredModel, load_model
from ssl_kit.models.layers import layer_names
from ssl_kit.runs import rundir

DEFAULT_LAYER = "avgpool"
ModelSpec = str | Path | MeasuredModel | nn.Module | Callable[[], object]


def check_path(path: Path) -> None:
    """A clear error for a path that cannot hold a model."""
    if not path.exists():
        raise DataError(
            path, "model path is missing", "a run folder holding checkpoint.pt, or a checkpoint file"
        )
    if path.is_dir() and not (path / rundir.CHECKPOINT).is_file():
        found = ", ".join(sorted(p.name for p in path.iterdir())[:6]) or "nothing"
        raise DataError(
            path,
            f"run folder holds no {rundir.CHECKPOINT} (it holds: {found}); is its training finished?",
            f"a run folder written by `ssl_kit train` (config.yaml, metrics.jsonl, {rundir.CHECKPOINT})",
        )


def resolve(name: str, spec) -> MeasuredModel:
    """The `MeasuredModel` of one spec (see the module docstring)."""
    if isinstance(spec, MeasuredModel):
        return spec
    if isinstance(spec, nn.Module):
        return MeasuredModel(name, spec.eval(), key="")  # no key: never cached on disk
    if isinstance(spec, str | Path):
        check_path(Path(spec))
        return load_model(spec, name=name)
    if callable(spec):
        built = spec()
        if callable(built) and not isinstance(built, nn.Module | MeasuredModel):
            raise ConfigError(f"model {name!r}: its callable returned another callable, not a model")
        return resolve(name, built)
    raise ConfigError(
        f"model {name!r}: expected a run folder, a checkpoint file, a MeasuredModel, an nn.Module or a "
        f"callable returning one, got {type(spec).__name__}"
    )


class ModelBank:
    """name -> spec, resolved to `MeasuredModel`s on first use and kept."""

    def __init__(self, models: Mapping[str, ModelSpec] | ModelSpec):
        if not isinstance(models, Mapping):
            models = {_default_name(models): models}
        if not models:
            raise ConfigError("no models given: expected a dict name -> run folder / checkpoint / model")
        self.specs = dict(models)
        for spec in self.specs.values():
            if isinstance(spec, str | Path):
                check_path(Path(spec))
        self._loaded: dict[str, MeasuredModel] = {}

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def __getitem__(self, name: str) -> MeasuredModel:
        if name not in self.specs:
            raise KeyError(f"no model named {name!r}; models: {', '.join(self.specs)}")
        if name not in self._loaded:
            self._loaded[name] = resolve(name, self.specs[name])
        return self._loaded[name]


def _default_name(spec) -> str:
    if isinstance(spec, MeasuredModel):
        return spec.name
    if isinstance(spec, str | Path):
        return Path(spec).name
    return "model"


def choosable_layers(model: nn.Module, depth: int = 2) -> list[str]:
    """Layer names (`layer_names`) at most `depth` levels deep (`layer3`, `layer3.1`), in definition order."""
    return [n for n in layer_names(model) if n.count(".") < depth]


def default_layer(names: list[str]) -> str:
    return DEFAULT_LAYER if DEFAULT_LAYER in names else names[-1]
