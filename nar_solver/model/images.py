"""Conversions between puzzle-world grey images and "ink", the one home of the image conventions.

The world draws dark strokes on white (uint8 (64, 64), 255 = background; the size is
:data:`nar_solver.world.board.IMAGE_SIZE`). The model's Bernoulli decoder models ink, so its input
is ``1 - grey / 255``: background 0, strokes near 1. :func:`to_ink` makes the model's input tensors,
:func:`ink_of` the numpy ink that perception and pixel distances work on, and :func:`ink_to_grey`
turns ink (a decoder's probabilities, or a pixel prediction) back into grey images.
"""
from __future__ import annotations

import numpy as np
import torch

from nar_solver.errors import NarError
from nar_solver.world.board import IMAGE_SIZE


def to_ink(images, device: torch.device | str | None = None) -> torch.Tensor:
    """uint8 grey images (N,64,64) or (N,1,64,64), numpy or torch -> float32 ink (N,1,64,64)."""
    tensor = torch.as_tensor(images) if not isinstance(images, torch.Tensor) else images
    if tensor.dtype != torch.uint8:
        raise NarError(f"to_ink expects uint8 grey images, got dtype {tensor.dtype}")
    if tensor.dim() == 3:
        tensor = tensor.unsqueeze(1)
    if tensor.dim() != 4 or tensor.shape[1:] != (1, IMAGE_SIZE, IMAGE_SIZE):
        raise NarError(f"to_ink expects images of shape (N,64,64) or (N,1,64,64), got {tuple(tensor.shape)}")
    if device is not None:
        tensor = tensor.to(device, non_blocking=True)
    # 1 - g/255 computed as (255 - g) / 255 keeps white exactly 0 and black exactly 1.
    return (255 - tensor).float().div_(255.0)


def ink_of(board) -> np.ndarray:
    """float32 numpy ink (0 = white background, 1 = black) of uint8 grey images of any shape.

    Computed as ``1 - grey / 255`` in float32, the numbers perception's thresholds were set on
    (:func:`to_ink` computes ``(255 - grey) / 255``, which can differ from it in the last bit).
    """
    return 1.0 - np.asarray(board, dtype=np.float32) / 255.0


def ink_to_grey(ink: torch.Tensor | np.ndarray) -> np.ndarray:
    """Ink or Bernoulli probabilities in [0, 1], (N,1,64,64) or (N,64,64), torch or numpy -> uint8
    grey numpy (N,64,64)."""
    ink = torch.as_tensor(ink).detach().float()
    if ink.dim() == 4:
        if ink.shape[1] != 1:
            raise NarError(f"ink_to_grey expects one channel, got shape {tuple(ink.shape)}")
        ink = ink[:, 0]
    if ink.dim() != 3:
        raise NarError(f"ink_to_grey expects (N,1,64,64) or (N,64,64), got {tuple(ink.shape)}")
    grey = torch.round((1.0 - ink.clamp(0.0, 1.0)) * 255.0).to(torch.uint8)
    return grey.cpu().numpy()
