"""The decoders' last layer, a 4x4 stride-2 transposed convolution to one channel, as one matrix product.

oneDNN runs that layer (32 channels in, 1 out, 64x64 out) at ~8 GFLOP/s on an AVX2 core, a tenth
of its matmul speed: its kernels block over output channels and there is only one. The same
function is ``cols = x @ W`` (per input pixel, its 4x4 contribution to the output) followed by
adding the 16 contributions into the output at stride 2 (col2im); the backward is im2col of the
output's gradient and two matrix products. bench/train_speed.py measures the step with and without
it; tests/test_train_speed.py checks values and gradients against ``nn.ConvTranspose2d``.

Weights, bias and initialisation are those of ``nn.ConvTranspose2d`` (this is a subclass), so
checkpoints are unchanged. The matrix form is used on CPU for up to ``MAX_OUT_CHANNELS`` output
channels; anything else (CUDA, other shapes) runs the parent's convolution.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Output channels up to which the matrix form is used (wider layers suit oneDNN's blocking).
MAX_OUT_CHANNELS = 4
KERNEL, STRIDE, PADDING = 4, 2, 1


class _Col2ImDeconv(torch.autograd.Function):
    """y = conv_transpose2d(x, w, b, stride 2, padding 1) for 4x4 kernels, in matrix form."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        n, c, h, w = x.shape
        out_c = weight.shape[1]
        rows = x.permute(0, 2, 3, 1).reshape(n * h * w, c)        # no copy for channels_last input
        cols = (rows @ weight.reshape(c, out_c * 16)).view(n, h, w, out_c, KERNEL, KERNEL)
        cols = cols.permute(0, 3, 4, 5, 1, 2)                     # (n, out_c, ky, kx, h, w)
        # output pixel 2 * i + ky - 1 gets input pixel i's tap ky; one padded row/column each side
        out = x.new_zeros(n, out_c, 2 * h + 2, 2 * w + 2)
        for ky in range(KERNEL):
            for kx in range(KERNEL):
                out[:, :, ky:ky + 2 * h:STRIDE, kx:kx + 2 * w:STRIDE] += cols[:, :, ky, kx]
        out = out[:, :, PADDING:-PADDING, PADDING:-PADDING]
        if bias is not None:
            out = out + bias.view(1, out_c, 1, 1)
        ctx.save_for_backward(rows, weight)
        ctx.input_shape = (n, c, h, w)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        rows, weight = ctx.saved_tensors
        n, c, h, w = ctx.input_shape
        out_c = weight.shape[1]
        padded = F.pad(grad, (PADDING, PADDING, PADDING, PADDING))
        # im2col of the output gradient: input pixel i, tap k <- output pixel 2 * i + k - 1
        grad_cols = padded.unfold(2, KERNEL, STRIDE).unfold(3, KERNEL, STRIDE)   # (n, out_c, h, w, 4, 4)
        grad_cols = grad_cols.permute(0, 2, 3, 1, 4, 5).reshape(n * h * w, out_c * 16)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_cols @ weight.reshape(c, out_c * 16).t()).view(n, h, w, c).permute(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            grad_w = (rows.t() @ grad_cols).view_as(weight)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b


class GemmConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d(in, out, 4, 2, 1)`` whose CPU forward (and backward) is a matrix product."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = KERNEL, stride: int = STRIDE,
                 padding: int = PADDING, **kwargs):
        if (kernel_size, stride, padding) != (KERNEL, STRIDE, PADDING) or kwargs:
            raise ValueError("GemmConvTranspose2d is a 4x4, stride 2, padding 1 transposed convolution")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding)

    def forward(self, x: torch.Tensor, output_size=None) -> torch.Tensor:
        if (output_size is None and x.device.type == "cpu" and x.dim() == 4 and x.dtype == torch.float32
                and self.out_channels <= MAX_OUT_CHANNELS and not torch.is_autocast_enabled("cpu")):
            return _Col2ImDeconv.apply(x, self.weight, self.bias)
        return super().forward(x, output_size)
