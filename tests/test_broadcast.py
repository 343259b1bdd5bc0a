"""The spatial broadcast decoder: its shape, its exact first layer, training, and the weights' check."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from nar_solver.cli import main
from nar_solver.errors import CheckpointError, NarError
from nar_solver.model.broadcast import LAYERS, SpatialBroadcastDecoder, coordinate_channels
from nar_solver.run.checkpoint import load_model
from nar_solver.model.vae import ARCHITECTURES, FactorVAE
from nar_solver.run.config import TrainConfig

from train_helpers import train_tiny

BROADCAST = [name for name in ARCHITECTURES if name.startswith("broadcast")]


@pytest.mark.parametrize("architecture", BROADCAST)
def test_every_broadcast_variant_decodes_64x64_logits(architecture):
    vae = FactorVAE(z_dim=5, architecture=architecture)
    logits, mu, _, _ = vae(torch.rand(2, 1, 64, 64))
    assert logits.shape == (2, 1, 64, 64) and mu.shape == (2, 5)
    grid = ARCHITECTURES[architecture][0]
    convs = [m for m in vae.decoder.convs if isinstance(m, nn.Conv2d)]
    assert all(c.stride == (1, 1) and c.padding == (0, 0) and c.kernel_size == (3, 3) for c in convs)
    assert vae.decoder.coords.shape[-1] == grid + 2 * LAYERS


def test_coordinate_channels_span_minus_one_to_one_along_x_then_y():
    xy = coordinate_channels(5)
    assert xy.shape == (1, 2, 5, 5)
    assert torch.equal(xy[0, 0, 2], torch.linspace(-1, 1, 5)) and torch.equal(xy[0, 1, :, 2], torch.linspace(-1, 1, 5))


def test_first_layer_equals_a_convolution_of_the_tiled_code_and_coordinates():
    """The decoder's split first layer is the paper's 'tile z, append x/y, convolve', exactly."""
    torch.manual_seed(0)
    dec = SpatialBroadcastDecoder(z_dim=3, grid=16, channels=8)
    z = torch.randn(4, 3)
    size = dec.coords.shape[-1]
    conv = nn.Conv2d(3 + 2, 8, 3)
    with torch.no_grad():
        # the z part of the kernel: A = kernel summed over its window, spread evenly over it
        conv.weight[:, :3] = dec.from_z.weight[:, :, None, None] / 9.0
        conv.weight[:, 3:] = dec.from_coords.weight
        conv.bias.copy_(dec.from_coords.bias)
        tiled = torch.cat([z[:, :, None, None].expand(4, 3, size, size), dec.coords.expand(4, 2, size, size)], 1)
        expected = torch.relu(conv(tiled))
        got = torch.relu(dec.from_z(z)[:, :, None, None] + dec.from_coords(dec.coords))
    assert torch.allclose(got, expected, atol=1e-5)


def test_a_broadcast_run_trains_saves_and_loads_as_its_own_architecture(tmp_path):
    run = train_tiny(tmp_path / "run", architecture="broadcast32", steps=3, batch_size=8, save_every=3,
                     latent_sample=32)
    config = json.loads((run / "config.json").read_text())
    assert config["architecture"] == "broadcast32"
    model = load_model(run)
    assert isinstance(model.vae.decoder, SpatialBroadcastDecoder) and model.vae.architecture == "broadcast32"
    # weights of one architecture under a config of the other are refused with one line
    config["architecture"] = "factorvae-conv64"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="weights of architecture 'broadcast32', expected 'factorvae-conv64'"):
        load_model(run)


def test_unknown_architecture_and_bad_hold_out_are_refused():
    with pytest.raises(NarError, match="architecture must be one of"):
        TrainConfig(architecture="resnet18").validate()
    with pytest.raises(NarError, match="hold_out"):
        TrainConfig(hold_out="k,nope").validate()
    spaced = TrainConfig(data="objects", hold_out="k, u")
    assert spaced.held_out_shapes == ("k", "u") and len(spaced.training_shapes) == 18
    assert "k" not in spaced.training_shapes
    result = CliRunner().invoke(main, ["train", "--architecture", "resnet18", "--steps", "1", "--out", "x"])
    assert result.exit_code == 2 and "architecture must be one of" in result.output


def test_held_out_shapes_never_reach_the_training_images():
    from nar_solver.data import make_source
    import numpy as np

    config = TrainConfig(data="objects", hold_out="k,u,psi,w", jitter=0.0).resolve()
    source = make_source(config)
    assert set(source.glyphs.shapes) == set(config.training_shapes) and "k" not in source.glyphs.shapes
    assert len(source.glyphs.shapes) == 16
    assert source.draw(np.random.default_rng(0), 4).shape == (4, 64, 64)
