"""Why an object model's decoded glyphs lose their identity (issue 19): a few numbers per checkpoint.

    PYTHONPATH=. python bench/identity_diagnosis.py checkpoints/objects-broadcast [RUN ...]

For the 180 clean (shape, cell) renders of the probe (docs/probe.md) it prints:
- the ink of each glyph (summed ink, in pixels) and how many ink pixels tell two shapes apart in
  one cell against how many a one-cell move changes (what the reconstruction term can see);
- per dimension, the mean KL of q(z|x) to N(0, 1) over the renders (the capacity the code uses);
- per shape, the Bernoulli reconstruction loss (nats) of its renders and the probe's identity.
"""
from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F

from nar_solver.probe.measures import reconstruction_identity
from nar_solver.probe.images import grid_images
from nar_solver.model.images import to_ink
from nar_solver.model.losses import kl_per_dim
from nar_solver.run.checkpoint import load_model
from nar_solver.world.glyphs import SHAPES


def glyph_numbers() -> None:
    ink = to_ink(grid_images())[:, 0].numpy().reshape(len(SHAPES), 9, -1)
    per_shape = ink[:, 4].sum(1)
    centre = ink[:, 4]
    pair = np.abs(centre[:, None] - centre[None]).sum(-1)
    off = pair[~np.eye(len(SHAPES), dtype=bool)]
    letters = [i for i, s in enumerate(SHAPES) if len(s) == 1]
    lp = pair[np.ix_(letters, letters)][~np.eye(len(letters), dtype=bool)]
    move = np.abs(ink[:, 4] - ink[:, 5]).sum(1)
    print("ink per glyph (pixels): " + ", ".join(f"{s} {v:.0f}" for s, v in zip(SHAPES, per_shape)))
    print(f"share of the 64x64 image that is ink: {per_shape.mean() / 4096:.2%} (mean glyph)")
    print(f"pixels (|ink difference|) between two shapes in one cell: median {np.median(off):.0f}, "
          f"min {off.min():.0f}; between two letters: median {np.median(lp):.0f}, min {lp.min():.0f}")
    print(f"pixels a one-cell move changes: median {np.median(move):.0f}")


@torch.inference_mode()
def model_numbers(run: str) -> None:
    loaded = load_model(run, device="cpu")
    vae = loaded.vae
    clean = to_ink(grid_images())
    mu, logvar = vae.encode(clean)
    kl = kl_per_dim(mu, logvar)
    logits = vae.decode(mu).float()
    bce = F.binary_cross_entropy_with_logits(logits, clean, reduction="none").sum((1, 2, 3)).view(len(SHAPES), 9)
    ident = reconstruction_identity(torch.sigmoid(logits)[:, 0].numpy(), clean[:, 0].numpy())
    print(f"\n{run} (step {loaded.step}, {loaded.config.architecture}, z {vae.z_dim})")
    print("KL per dim (nats, clean renders): " + " ".join(f"z{i} {v:.2f}" for i, v in enumerate(kl.tolist())))
    print(f"KL total {kl.sum():.2f} nats; dims above 0.1 nats: {int((kl > 0.1).sum())}; "
          f"log(20 shapes * 9 cells) = {np.log(180):.2f} nats")
    print(f"reconstruction loss of the clean renders: mean {bce.mean():.1f} nats; identity {ident.accuracy:.1%}")
    print("per shape (recon nats / identity over 9 cells): " + ", ".join(
        f"{s} {b:.0f}/{a:.0%}" for s, b, a in zip(SHAPES, bce.mean(1).tolist(), ident.per_shape)))


if __name__ == "__main__":
    torch.set_num_threads(1)
    glyph_numbers()
    for run in sys.argv[1:]:
        model_numbers(run)
