"""The what/where decoder and the weighted / multi-scale reconstruction term (issue 19)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nar_solver.errors import CheckpointError, NarError
from nar_solver.probe.measures import varied_identity
from nar_solver.model.losses import reconstruction_extra, reconstruction_loss
from nar_solver.model.vae import FactorVAE
from nar_solver.model.whatwhere import WhatWhereDecoder, translation_grid
from nar_solver.run.checkpoint import load_model
from nar_solver.run.config import TrainConfig

from train_helpers import train_tiny


def test_decodes_64x64_logits_and_reads_where_from_the_first_two_dims():
    torch.manual_seed(0)
    vae = FactorVAE(z_dim=6, architecture="whatwhere32")
    assert isinstance(vae.decoder, WhatWhereDecoder)
    logits, mu, _, _ = vae(torch.rand(3, 1, 64, 64))
    assert logits.shape == (3, 1, 64, 64) and mu.shape == (3, 6)
    # far from the tile, every pixel is the background logit
    z = torch.zeros(1, 6)
    out = vae.decode(z)[0, 0]
    bg = vae.decoder.background.item()
    assert torch.allclose(out[:8, :8], torch.full((8, 8), bg), atol=1e-5)
    assert not torch.allclose(out[24:40, 24:40], torch.full((16, 16), bg), atol=1e-3)


def test_a_step_along_where_moves_the_drawn_tile_by_whole_pixels():
    """z[0] = 8/32 moves the tile 8 px right (the image spans [-1, 1] over 64 px), z[1] moves it down;
    the "what" part, and so the glyph, is unchanged."""
    torch.manual_seed(1)
    vae = FactorVAE(z_dim=5, architecture="whatwhere32").eval()
    z = torch.randn(1, 5)
    z[:, :2] = 0.0
    base = vae.decode(z)[0, 0]
    right = z.clone()
    right[0, 0] = 8 / 32
    down = z.clone()
    down[0, 1] = -8 / 32
    moved_right = vae.decode(right)[0, 0]
    moved_up = vae.decode(down)[0, 0]
    assert torch.allclose(moved_right[:, 8 + 8:56], base[:, 8:56 - 8], atol=1e-4)
    assert torch.allclose(moved_up[8:56 - 8], base[8 + 8:56], atol=1e-4)


def test_translation_grid_is_the_identity_for_a_full_size_tile_at_the_centre():
    grid = translation_grid(torch.zeros(2, 2), tile=64)
    image = torch.rand(2, 1, 64, 64)
    assert torch.allclose(F.grid_sample(image, grid, align_corners=False), image, atol=1e-5)


def test_the_reconstruction_gradient_reaches_the_where_dims():
    torch.manual_seed(2)
    dec = WhatWhereDecoder(z_dim=4)
    z = torch.randn(4, 4, requires_grad=True)
    target = (torch.rand(4, 1, 64, 64) > 0.9).float()
    reconstruction_loss(dec(z), target).backward()
    assert z.grad[:, :2].abs().sum() > 0 and z.grad[:, 2:].abs().sum() > 0


def test_reconstruction_extra_is_zero_by_default_and_weights_ink_by_hand():
    torch.manual_seed(3)
    logits = torch.randn(2, 1, 64, 64)
    target = (torch.rand(2, 1, 64, 64) > 0.8).float()
    assert reconstruction_extra(logits, target).item() == 0.0
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    by_hand = 2.0 * (bce * target).sum() / 2
    assert torch.allclose(reconstruction_extra(logits, target, ink_weight=3.0), by_hand, rtol=1e-5)
    # plain + extra with weight w == per-pixel weights (1 + (w - 1) * target)
    weighted = (bce * (1 + 2.0 * target)).sum() / 2
    total = reconstruction_loss(logits, target) + reconstruction_extra(logits, target, ink_weight=3.0)
    assert torch.allclose(total, weighted, rtol=1e-5)


def test_multi_scale_term_scores_pooled_images_and_sees_a_near_miss():
    """A glyph drawn 2 px off its target scores better at 4x pooling than one drawn 20 px off; at full
    resolution alone both miss every ink pixel. A perfect reconstruction has the lowest extra."""
    target = torch.zeros(1, 1, 64, 64)
    target[..., 20:26, 20:26] = 1.0

    def drawn_at(dy):
        image = torch.zeros_like(target)
        image[..., 20 + dy:26 + dy, 20:26] = 1.0
        return torch.logit(image.clamp(0.01, 0.99))

    near, far, exact = (reconstruction_extra(drawn_at(d), target, scales=3) for d in (3, 20, 0))
    assert exact < near < far
    with pytest.raises(NarError, match="recon_scales"):
        TrainConfig(recon_scales=9).validate()
    with pytest.raises(NarError, match="ink_weight"):
        TrainConfig(ink_weight=0.5).validate()


def test_a_whatwhere_run_with_both_terms_trains_saves_and_refuses_another_architecture(tmp_path):
    run = train_tiny(tmp_path / "run", architecture="whatwhere32", ink_weight=4.0, recon_scales=3, steps=3, log_every=1,
                     save_every=3, latent_sample=32)
    config = json.loads((run / "config.json").read_text())
    assert config["architecture"] == "whatwhere32" and config["ink_weight"] == 4.0 and config["recon_scales"] == 3
    rows = [json.loads(line) for line in (run / "losses.jsonl").read_text().splitlines()]
    assert rows and all(np.isfinite(r["loss"]) and r["loss"] > r["recon"] for r in rows)
    model = load_model(run)
    assert isinstance(model.vae.decoder, WhatWhereDecoder)
    config["architecture"] = "broadcast32"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="weights of architecture 'whatwhere32', expected 'broadcast32'"):
        load_model(run)


def test_whatwhere_needs_more_than_the_two_where_dims():
    with pytest.raises(ValueError, match="z_dim > 2"):
        FactorVAE(z_dim=2, architecture="whatwhere32")


def test_varied_identity_matches_against_every_shape_drawn_at_the_same_place():
    rng = np.random.default_rng(0)
    clean = rng.random((2 * 9, 16))
    shape = np.array([0, 1, 1])
    x, y = np.array([2, 0, 1]), np.array([0, 1, 2])
    own = shape * 9 + y * 3 + x
    candidates = rng.random((3, 2, 16))            # each render's two shapes, drawn where it stands
    recon = candidates[np.arange(3), shape] + 0.01
    result = varied_identity(recon, candidates, clean, shape, x, y)
    assert result.accuracy == 1.0 and result.per_shape == [1.0, 1.0]
    # nearest to the other shape at its place: wrong, whatever the clean grid says
    wrong = candidates[np.arange(3), 1 - shape]
    assert varied_identity(wrong, candidates, clean, shape, x, y).accuracy == 0.0
    # the grid measure: right (shape, cell), wrong shape right cell, right shape wrong cell
    grid = varied_identity(clean[[own[0], 0 * 9 + 3, 1 * 9 + 0]], candidates, clean, shape, x, y)
    assert grid.grid_accuracy == pytest.approx(1 / 3) and grid.grid_shape_accuracy == pytest.approx(2 / 3)
    with pytest.raises(NarError, match="varied identity"):
        varied_identity(recon[:2], candidates, clean, shape, x, y)


def test_the_where_head_starts_at_the_ink_centre_in_the_decoders_coordinates():
    """Untrained, the means of z[:, :2] are already the object's position: a glyph in cell (x, y) gives
    the centre of its tile, so the decoder's tile overlaps the object from the first step."""
    from nar_solver.probe.images import grid_images
    from nar_solver.model.images import to_ink
    from nar_solver.model.whatwhere import pixel_coordinates

    torch.manual_seed(4)
    vae = FactorVAE(z_dim=5, architecture="whatwhere32")
    square = to_ink(grid_images()[9:18])          # the square in the 9 cells, ordered (y, x)
    mu, _ = vae.encode(square)
    ink = square[:, 0]
    coords = pixel_coordinates()
    centre_x = (ink.sum(1) * coords).sum(1) / ink.sum((1, 2))
    centre_y = (ink.sum(2) * coords).sum(1) / ink.sum((1, 2))
    assert torch.allclose(mu[:, 0], centre_x, atol=0.02) and torch.allclose(mu[:, 1], centre_y, atol=0.02)
    assert (mu[:, 0].view(3, 3).diff(dim=1) > 0.5).all() and (mu[:, 1].view(3, 3).diff(dim=0) > 0.5).all()
    # the reference init re-initialises every layer but the where head
    assert torch.allclose(FactorVAE(5, init="reference", architecture="whatwhere32").encode(square)[0][:, :2],
                          mu[:, :2], atol=1e-5)
