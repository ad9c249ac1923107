"""Reach any layer by name: `LayerTap(model, ["layer3", "avgpool"])` records those outputs on each forward."""

from __future__ import annotations

import torch
from torch import nn


def layer_names(model: nn.Module) -> list[str]:
    """Names of every sub-module, in definition order (`conv1`, `layer1.0.conv1`, ..., `avgpool`)."""
    return [name for name, _ in model.named_modules() if name]


class LayerTap:
    """Forward hooks on named layers; `tap.outputs[name]` holds the last output. Use as a context manager."""

    def __init__(self, model: nn.Module, names: list[str] | str):
        names = [names] if isinstance(names, str) else list(names)
        modules = dict(model.named_modules())
        missing = [n for n in names if n not in modules]
        if missing:
            near = [n for n in modules if n and n.split(".")[0] in {m.split(".")[0] for m in missing}][:8]
            raise KeyError(
                f"no layer named {', '.join(missing)} (some that exist: {', '.join(near) or 'see layer_names()'})"
            )
        self.outputs: dict[str, torch.Tensor] = {}
        self._handles = [modules[n].register_forward_hook(self._hook(n)) for n in names]

    def _hook(self, name: str):
        def hook(_module, _inputs, output):
            self.outputs[name] = output

        return hook

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> LayerTap:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
