"""Small helpers shared by the widgets: arrays to PNG bytes and image widgets, figures to PNG, error display.

Pictures are `ipywidgets.Image` widgets holding PNG bytes, so a widget shows the same thing in JupyterLab,
in a notebook run headless by papermill, and in a test that reads `.value`. Figures are drawn on a bare
`matplotlib.figure.Figure` with the Agg canvas (no pyplot state, no open-figure warnings).
"""

from __future__ import annotations

import functools
import html
import io
import traceback

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


def to_hwc_uint8(image) -> np.ndarray:
    """(3, H, W) or (H, W, 3) uint8, or float in [0, 1] (tensor or array) -> (H, W, 3) uint8 numpy."""
    a = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(1, 2, 0)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3):
        raise ValueError(f"expected one image (3, H, W) or (H, W, 3), got shape {a.shape}")
    if a.dtype != np.uint8:
        a = (np.clip(a.astype(np.float64), 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(a, 3, axis=2) if a.shape[-1] == 1 else np.ascontiguousarray(a)


def as_nchw_uint8(images) -> torch.Tensor:
    """A uint8 (N, 3, H, W) tensor from a tensor or array, channels first or last (the kit's loaders give both)."""
    t = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    if t.ndim == 4 and t.shape[1] != 3 and t.shape[-1] == 3:
        t = t.permute(0, 3, 1, 2)
    if t.dtype != torch.uint8 or t.ndim != 4 or t.shape[1] != 3 or len(t) == 0:
        raise ValueError(f"images must be uint8 (N, 3, H, W) or (N, H, W, 3), got {t.dtype} {tuple(t.shape)}")
    return t.contiguous()


def png_bytes(image, size: int | None = None) -> bytes:
    """PNG bytes of one image, optionally scaled to `size` px on its longer side (nearest: pixels stay crisp)."""
    img = Image.fromarray(to_hwc_uint8(image))
    if size is not None and max(img.size) != size:
        scale = size / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def image_widget(image=None, size: int = 96) -> widgets.Image:
    """An `ipywidgets.Image` showing `image` (or empty) at `size` px."""
    w = widgets.Image(format="png", width=size, height=size)
    if image is not None:
        w.value = png_bytes(image, size)
    return w


def figure(width: float, height: float) -> Figure:
    """A matplotlib figure that is not registered with pyplot (nothing to close, nothing leaks)."""
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def caption(text: str, color: str | None = None) -> widgets.HTML:
    style = f"color:{color};" if color else ""
    return widgets.HTML(f"<div style='font-size:11px;line-height:1.2;{style}'>{text}</div>")


def error_html(error: BaseException) -> str:
    return (
        "<pre style='color:#b00;white-space:pre-wrap'>"
        f"{html.escape(type(error).__name__)}: {html.escape(str(error))}</pre>"
    )


def guarded(method):
    """Wrap a widget callback: an error is shown in the widget's `status` and kept in `.error`.

    Inside a live front end an exception raised by an `observe` callback would only reach the kernel log,
    so the widget shows it instead; tests read `.error`. A successful update clears both.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            out = method(self, *args, **kwargs)
        except Exception as e:  # noqa: BLE001 - shown to the user, kept for inspection
            self.error = e
            self.status.value = error_html(e)
            self.error_traceback = traceback.format_exc()
            return None
        self.error = None
        self.status.value = ""
        return out

    return wrapper
