"""A CPU workaround: the weight gradient of convolutions on tiny feature maps, as one matrix product.

At the kit's small resolutions the last ResNet stages run on 2x2 and 1x1 maps (32 px input: layer3 and
layer4). For those shapes oneDNN (PyTorch's CPU convolution library) computes the weight gradient with its
generic `gemm:jit` kernel, an order of magnitude slower than the same gradient written as `unfold` + one
matrix product (MKL). `benchmarks/bench_conv.py` measures both; docs/recipes.md gives
the figures on the project's machines.

`SmallMapConv2d` is an `nn.Conv2d` (same parameters, same state-dict names) whose backward takes that route
when the output map has at most `MAX_OUTPUT_PIXELS` pixels, the tensors are float32 on the CPU and autocast is
off; everywhere else (GPU, bf16, larger maps) it is exactly `nn.Conv2d`. The input gradient always comes from
PyTorch's own convolution backward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MAX_OUTPUT_PIXELS = 4  # 2x2 output maps or smaller; at 4x4 oneDNN's own kernels are as fast or faster


class _SmallMapConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, stride, padding, dilation):
        ctx.save_for_backward(x, weight)
        ctx.conv = (stride, padding, dilation)
        return F.conv2d(x, weight, None, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, padding, dilation = ctx.conv
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(
                grad, x, weight, None, stride, padding, dilation, False, [0, 0], 1, [True, False, False]
            )[0]
        if ctx.needs_input_grad[1]:
            out_ch = weight.shape[0]
            cols = F.unfold(x, weight.shape[2:], dilation, padding, stride)  # (B, C*kh*kw, L)
            g = grad.reshape(grad.shape[0], out_ch, -1)  # (B, O, L)
            flat_g = g.transpose(0, 1).reshape(out_ch, -1)  # (O, B*L)
            flat_cols = cols.transpose(0, 1).reshape(cols.shape[1], -1)  # (C*kh*kw, B*L)
            grad_w = (flat_g @ flat_cols.T).reshape(weight.shape)
        return grad_x, grad_w, None, None, None


def _takes_fast_path(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    if x.device.type != "cpu" or x.dtype != torch.float32 or conv.weight.dtype != torch.float32:
        return False
    if (
        conv.groups != 1
        or conv.bias is not None
        or conv.padding_mode != "zeros"
        or isinstance(conv.padding, str)
    ):
        return False
    if torch.is_autocast_enabled("cpu") or not torch.is_grad_enabled() or not conv.weight.requires_grad:
        return False
    h, w = x.shape[-2:]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    out_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return out_h * out_w <= MAX_OUTPUT_PIXELS


class SmallMapConv2d(nn.Conv2d):
    """`nn.Conv2d` whose weight gradient on tiny CPU maps is one matrix product (see the module doc)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _takes_fast_path(self, x):
            return _SmallMapConv.apply(x, self.weight, self.stride, self.padding, self.dilation)
        return super().forward(x)


def use_small_map_convs(model: nn.Module) -> nn.Module:
    """Turn every plain `nn.Conv2d` of `model` into a `SmallMapConv2d`, in place: the same module objects and
    parameters (optimizers, hooks and state-dict names are unaffected), only the class changes."""
    for module in model.modules():
        if type(module) is nn.Conv2d:
            module.__class__ = SmallMapConv2d
    return model
