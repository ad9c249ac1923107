"""The invariance inspector's two pictures, as pure functions of arrays: activation bars at one image, and a
neurons x images heatmap across a target whose current column is framed without redrawing the figure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssl_kit.viz.widgets.common import figure, figure_png, png_bytes

MODES = ("fired", "up / down", "activation", "activation - up")
_COLOURS = {"fired": dict(cmap="Greens", vmin=0, vmax=1), "up / down": dict(cmap="PiYG", vmin=-1, vmax=1),
            "activation": dict(cmap="viridis")}  # fmt: skip


def bars_png(neurons, activations, up, down, fired, title: str) -> bytes:
    """One bar per neuron (green where it fires), its `up` threshold in black and `down` in orange."""
    k = len(neurons)
    fig = figure(max(4.0, 0.3 * k + 1.5), 2.6)
    ax = fig.add_subplot()
    x = np.arange(k)
    ax.bar(
        x,
        activations,
        color=np.where(fired, "tab:green", "tab:gray"),
        width=0.7,
        label="activation (green: fires)",
    )
    ax.scatter(x, up, marker="_", s=180, color="black", zorder=3, label="threshold up")
    ax.scatter(x, down, marker="_", s=180, color="tab:orange", zorder=3, label="threshold down")
    ax.set_xticks(x, [str(n) for n in neurons], rotation=90, fontsize=7)
    ax.set_xlabel("neuron (most invariant first)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure_png(fig)


@dataclass
class Heatmap:
    """A drawn heatmap: its RGB pixels and where each column is (pixel edges) inside them."""

    pixels: np.ndarray  # (H, W, 3) uint8
    left: np.ndarray  # (m,) left pixel edge of each column
    right: np.ndarray  # (m,)
    top: int
    bottom: int

    def framed(self, column: int, colour=(220, 0, 0)) -> bytes:
        """PNG bytes of the heatmap with `column` framed (2 px sides, 1 px top and bottom)."""
        out = self.pixels.copy()
        x0, x1 = int(np.floor(self.left[column])), int(np.ceil(self.right[column]))
        out[self.top : self.bottom + 1, [x0, x0 + 1, x1 - 1, x1]] = colour
        out[[self.top, self.bottom], x0 : x1 + 1] = colour
        return png_bytes(out)


def draw_heatmap(values: np.ndarray, mode: str, neurons, column_labels: list[str], title: str) -> Heatmap:
    """Draw (neurons x images) `values` in `mode`'s colours, with neuron ids and some column labels."""
    k, m = values.shape
    fig = figure(min(12.0, max(4.0, 0.12 * m + 2)), max(2.0, 0.18 * k + 1))
    ax = fig.add_subplot()
    lim = float(np.abs(values).max()) or 1.0
    im = ax.imshow(
        values,
        aspect="auto",
        interpolation="nearest",
        **_COLOURS.get(mode, dict(cmap="RdBu_r", vmin=-lim, vmax=lim)),
    )
    fig.colorbar(im, ax=ax, fraction=0.03)
    ax.set_yticks(range(k), [str(n) for n in neurons], fontsize=6)
    step = max(1, m // 12)
    ax.set_xticks(range(0, m, step), column_labels[::step], rotation=45, ha="right", fontsize=6)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    h, w = pixels.shape[:2]
    edges = ax.transData.transform(np.c_[np.arange(m + 1) - 0.5, np.zeros(m + 1)])[:, 0]
    box = ax.get_window_extent()
    top, bottom = int(max(0, h - box.y1)), int(min(h - 1, h - box.y0))
    return Heatmap(pixels, np.clip(edges[:-1], 0, w - 3), np.clip(edges[1:], 2, w - 1), top, bottom)
