"""The manifold probe (docs/probe.md): each measure scores ~1 on a hand-made perfect code and low on
a scrambled one, the pipeline does the same through fake encoders/decoders, and the command runs
end to end on a tiny trained model and refuses bad input in one line."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from nar_solver.cli import main
from nar_solver.probe import measures
from nar_solver.probe.images import grid_images, position_sweep, varied_images
from nar_solver.probe.run import ProbeSettings, probe_model
from nar_solver.model.images import to_ink
from nar_solver.world.board import Board, render_board
from nar_solver.world.glyphs import SHAPES

from figure_helpers import capture_figures, tick_labels, tile
from train_helpers import one_thread, train_tiny

S, G = len(SHAPES), 3


def perfect_grid() -> np.ndarray:
    """codes[s, y, x] = (x / 2, y / 2, one-hot shape): position on two axes, shape on its own."""
    s, y, x = np.indices((S, G, G))
    return np.concatenate([(x / 2)[..., None], (y / 2)[..., None], np.eye(S)[s]], axis=-1)


def shuffled(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    flat = codes.reshape(-1, codes.shape[-1])
    return flat[np.random.default_rng(seed).permutation(len(flat))].reshape(codes.shape)


def random_codes(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


# -- (a) reconstruction identity ---------------------------------------------------------------

@pytest.fixture(scope="module")
def clean_ink() -> np.ndarray:
    return to_ink(grid_images())[:, 0].numpy()


def test_identity_perfect_reconstruction_scores_one(clean_ink):
    noisy = np.clip(clean_ink + np.random.default_rng(0).normal(0, 0.05, clean_ink.shape), 0, 1)
    result = measures.reconstruction_identity(noisy, clean_ink)
    assert result.accuracy == 1.0 and result.shape_accuracy == 1.0 and result.cell_accuracy == 1.0
    assert np.array_equal(np.asarray(result.confusion), 9 * np.eye(S, dtype=int))
    assert np.allclose(result.per_cell, 1.0)


def test_identity_scrambled_and_blurred_reconstructions_score_low(clean_ink):
    result = measures.reconstruction_identity(shuffled(clean_ink), clean_ink)
    assert result.accuracy < 0.05
    # every glyph of a cell reconstructed as the same blob (the cell's mean render): the cell is
    # right, the shape is not
    blob = clean_ink.reshape(S, G * G, -1).mean(0, keepdims=True).repeat(S, 0).reshape(clean_ink.shape)
    result = measures.reconstruction_identity(blob, clean_ink)
    assert result.cell_accuracy == 1.0
    assert result.accuracy <= 2 / S
    assert np.asarray(result.confusion).sum() == S * G * G


# -- (b) axis quality --------------------------------------------------------------------------

def test_axes_of_a_perfect_code():
    codes = perfect_grid()
    dims = list(range(100, 100 + codes.shape[-1]))          # dimension names are passed through
    x, y = measures.axis_quality(codes, "x", dims), measures.axis_quality(codes, "y", dims)
    assert (x.dim, y.dim) == (100, 101)
    assert x.r2 == pytest.approx(1.0) and y.r2 == pytest.approx(1.0)
    assert x.ordered and y.ordered and x.lines_ordered == 1.0
    assert x.gaps == pytest.approx([0.5, 0.5]) and x.gap_ratio == pytest.approx(1.0)
    shares = measures.variance_shares(codes)
    names = measures.name_dimensions(shares, {"x": x, "y": y}, dims)
    assert names == {"100": "x", "101": "y", **{str(102 + k): "shape" for k in range(S)}}


@pytest.mark.parametrize("scramble", [shuffled, lambda c: random_codes(c.shape)])
def test_axes_of_a_scrambled_code(scramble):
    codes = scramble(perfect_grid())
    for factor in ("x", "y"):
        assert measures.axis_quality(codes, factor).r2 < 0.3


def test_axis_ordering_and_uneven_spacing_are_reported():
    codes = perfect_grid()
    uneven = codes.copy()
    uneven[..., 0] = np.array([0.0, 0.9, 1.0])[None, None, :]        # x cells at 0, 0.9, 1
    x = measures.axis_quality(uneven, "x")
    assert x.ordered and x.gaps == pytest.approx([0.9, 0.1]) and x.gap_ratio == pytest.approx(1 / 9)
    folded = codes.copy()
    folded[..., 0] = np.array([0.0, 1.0, 0.5])[None, None, :]        # the middle column is not between
    x = measures.axis_quality(folded, "x")
    assert not x.ordered and x.lines_ordered == 0.0


# -- (c) shift probe ---------------------------------------------------------------------------

def test_shift_probe_perfect_code_scores_one():
    result = measures.shift_probe(perfect_grid())
    assert result.score == 1.0 and set(result.per_move) == {"right", "left", "up", "down"}
    assert result.step_norm["right"] == pytest.approx(0.5)


@pytest.mark.parametrize("scramble", [shuffled, lambda c: random_codes(c.shape)])
def test_shift_probe_scrambled_code_scores_low(scramble):
    assert measures.shift_probe(scramble(perfect_grid())).score < 0.5


def test_shift_probe_folded_axis_fails_at_the_fold():
    codes = perfect_grid()
    codes[..., 0] = np.array([0.0, 1.0, 0.5])[None, None, :]
    result = measures.shift_probe(codes)
    assert result.per_move["up"] == 1.0 and result.per_move["right"] < 1.0


# -- (d) shape separation ----------------------------------------------------------------------

def varied_perfect(samples: int = 8, jitter: float = 0.05, seed: int = 0) -> np.ndarray:
    """A perfect code of renders with position jitter: (S, 3, 3, K, d)."""
    rng = np.random.default_rng(seed)
    codes = np.repeat(perfect_grid()[:, :, :, None], samples, axis=3)
    codes[..., :2] += rng.uniform(-jitter, jitter, codes[..., :2].shape)
    return codes


def test_shape_separation_perfect_code_separates_every_pair():
    result = measures.shape_separation(varied_perfect())
    assert result.score > 5.0 and result.nearest_mean == 1.0
    assert result.min_distance == pytest.approx(np.sqrt(2), abs=0.05)


def test_shape_separation_scrambled_code_scores_low():
    codes = varied_perfect()
    flat = codes.reshape(-1, codes.shape[-1])
    scrambled = flat[np.random.default_rng(1).permutation(len(flat))].reshape(codes.shape)
    assert measures.shape_separation(scrambled).score < 0.5
    assert measures.shape_separation(random_codes(codes.shape)).score < 0.5


def test_measures_refuse_malformed_codes():
    with pytest.raises(measures.NarError, match="shape"):
        measures.shift_probe(np.zeros((20, 3, 4, 5)))
    with pytest.raises(measures.NarError):
        measures.shape_separation(np.zeros((20, 3, 3, 5)))


# -- the probe's images ------------------------------------------------------------------------

def test_position_sweep_at_whole_cells_is_the_clean_render():
    sweep = position_sweep("triangle", steps=3)
    clean = np.stack([render_board(Board.of([("triangle", x, y)])) for y in range(G) for x in range(G)])
    assert np.array_equal(sweep.images, clean)
    assert sweep.x.tolist() == [0, 1, 2] * 3 and sweep.y.tolist() == [0] * 3 + [1] * 3 + [2] * 3


def test_varied_images_follow_the_seed_and_their_cells():
    a, b, c = varied_images(2, seed=1), varied_images(2, seed=1), varied_images(2, seed=2)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, c.images)
    assert len(a.images) == S * G * G * 2
    rows, cols = np.nonzero(255 - a.images[a.x == 2][0].astype(int))
    assert cols.mean() > 40                                            # in the right column
    with pytest.raises(measures.NarError, match="2..256"):
        varied_images(1)


# -- the pipeline through fake models -----------------------------------------------------------

class PerfectVAE(torch.nn.Module):
    """z = (x, y, one-hot shape) read off the image; decode renders the exact clean image.

    x, y: the ink's centre of mass, scaled so the three cells sit near 0, 0.5 and 1. Shape: the
    glyph drawing (canonical, or one of the training source's varied redraws for ``seed``) that,
    placed at that centre, is nearest in pixels (template matching)."""

    def __init__(self, seed: int = 0):
        super().__init__()
        from nar_solver.data.sources import GlyphTiles

        self.z_dim = 2 + S
        bank = GlyphTiles(variation=True, seed=seed).tiles                    # (S, V, 20, 20) grey
        self.variants = bank.shape[1]
        tiles = 1 - torch.as_tensor(bank.reshape(-1, 20, 20), dtype=torch.float32) / 255
        self.tiles = tiles                                                  # (S * V, 20, 20) ink
        r = torch.arange(20, dtype=torch.float32)
        mass = tiles.sum((1, 2))
        self.tile_centre = torch.stack([(tiles.sum(2) * r).sum(1) / mass, (tiles.sum(1) * r).sum(1) / mass], 1)

    def encode(self, ink: torch.Tensor):
        ink = ink[:, 0]
        n = len(ink)
        r = torch.arange(64, dtype=torch.float32)
        mass = ink.sum((1, 2)).clamp_min(1e-6)
        centre = torch.stack([(ink.sum(2) * r).sum(1) / mass, (ink.sum(1) * r).sum(1) / mass], 1)  # (row, col)
        # ||image - glyph placed at the centre||^2 = ||image||^2 - 2 window . glyph + ||glyph||^2, the
        # window taken once for all glyphs whose (rounded) centre of mass is at the same place
        errors = torch.empty(n, len(self.tiles))
        corner_of = self.tile_centre.round().long()
        flat = self.tiles.reshape(len(self.tiles), -1)
        for offset in torch.unique(corner_of, dim=0):
            group = (corner_of == offset).all(1)
            corner = (centre.round().long() - offset).clamp(0, 44)
            rows = corner[:, 0, None] + torch.arange(20)
            cols = corner[:, 1, None] + torch.arange(20)
            window = ink[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]].reshape(n, -1)
            errors[:, group] = (ink ** 2).sum((1, 2))[:, None] - 2 * window @ flat[group].T + (flat[group] ** 2).sum(1)
        shape = torch.nn.functional.one_hot(errors.argmin(1) // self.variants, S).float()
        xy = (centre.flip(1) - 12.0) / 40.0
        mu = torch.cat([xy, shape], 1)
        return mu, torch.zeros_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        cells = (z[:, :2] * 2).round().clamp(0, 2).long()
        shape = z[:, 2:].argmax(1)
        # the canonical glyph, its centre of mass put back where the code says (sub-pixel, as jittered
        # training objects are drawn), so glyph-varied renders come back at their own place
        from nar_solver.data.render import render_single_objects
        from nar_solver.world.glyphs import glyph_tile

        centre = z[:, :2].double() * 40.0 + 12.0                                       # (col, row) px
        glyph_centre = self.tile_centre[shape * self.variants].double().flip(1)        # (col, row) in the tile
        offset = (centre - glyph_centre - 2.0 - 20.0 * cells.double()).numpy()
        offset = np.where(np.abs(offset) < 1e-3, 0.0, offset)
        tiles = np.stack([glyph_tile(SHAPES[int(s)]) for s in shape])
        grey = render_single_objects(tiles, cells[:, 0].numpy(), cells[:, 1].numpy(), offset[:, 0], offset[:, 1])
        p = to_ink(grey).clamp(1e-6, 1 - 1e-6)
        return torch.log(p / (1 - p))


class ScrambledVAE(torch.nn.Module):
    """A code that is a hash of the image's pixels, and a decoder that draws random images."""

    z_dim = 8

    def encode(self, ink: torch.Tensor):
        seeds = [int.from_bytes(hashlib.sha256(img.numpy().tobytes()).digest()[:4], "little") for img in ink]
        mu = torch.stack([torch.rand(self.z_dim, generator=torch.Generator().manual_seed(s)) for s in seeds])
        return mu, torch.zeros_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.randn(len(z), 1, 64, 64, generator=torch.Generator().manual_seed(0)) * 3


SMALL = ProbeSettings(samples=3, sweep=5, seed=0)


def test_pipeline_on_a_perfect_model_scores_about_one():
    vae = PerfectVAE()
    with one_thread():
        report = probe_model(vae, torch.zeros(vae.z_dim), torch.ones(vae.z_dim), SMALL)
    scores = report.scores
    assert scores["reconstruction_identity"] == 1.0
    assert scores["x_r2"] > 0.95 and scores["y_r2"] > 0.95
    assert (report.axes["x"].dim, report.axes["y"].dim) == (0, 1)
    assert scores["shift_probe"] > 0.95
    assert scores["shape_separation"] > 1.0 and report.separation.nearest_mean > 0.95
    assert report.dimension_factors["0"] == "x" and report.dimension_factors["1"] == "y"
    assert report.sweep["x_r2"] > 0.95 and report.sweep["y_r2"] > 0.95
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data["scores"]) == set(measures.TARGETS) and all(data["passed"].values())


def test_pipeline_on_a_scrambled_model_scores_low():
    vae = ScrambledVAE()
    with one_thread():
        report = probe_model(vae, torch.zeros(vae.z_dim), torch.ones(vae.z_dim), SMALL)
    scores = report.scores
    assert scores["reconstruction_identity"] < 0.05
    assert scores["x_r2"] < 0.3 and scores["y_r2"] < 0.3
    assert scores["shift_probe"] < 0.5 and scores["shape_separation"] < 0.5
    assert report.dimension_factors == {}


@pytest.mark.parametrize("architecture", ["factorvae-conv64", "broadcast16"])
def test_pipeline_runs_on_every_architecture(architecture):
    """Only encode/decode are used: an untrained net of each architecture is probed, and scores low."""
    from nar_solver.model.vae import FactorVAE

    torch.manual_seed(0)
    vae = FactorVAE(4, architecture=architecture)
    with one_thread():
        report = probe_model(vae, -torch.ones(4), torch.ones(4), ProbeSettings(samples=2, sweep=2))
    assert report.scores["reconstruction_identity"] < 0.2 and report.shift.score < 0.9
    assert len(report.arrays["reconstructions"]) == S * G * G


# -- the command -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("probe-run")
    return train_tiny(root / "tiny", z_dim=4, steps=2, batch_size=8, latent_sample=32, log_every=1, save_every=2)


def test_probe_command_end_to_end(tiny_run, tmp_path, monkeypatch):
    before = sorted(p.relative_to(tiny_run) for p in tiny_run.rglob("*"))
    monkeypatch.chdir(tmp_path)
    drawn = capture_figures(monkeypatch)
    result = CliRunner().invoke(main, ["probe", str(tiny_run), "--samples", "2", "--sweep", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    out = Path("runs") / "probe-tiny"
    assert f"to {out}" in result.output and "shift probe" in result.output
    data = json.loads((out / "probe.json").read_text())
    assert set(data["scores"]) == {"reconstruction_identity", "varied_identity", "x_r2", "y_r2", "shift_probe", "shape_separation"}
    assert all(0.0 <= data["scores"][k] <= 1.0 for k in ("reconstruction_identity", "x_r2", "y_r2", "shift_probe"))
    assert set(data["dimension_factors"].values()) <= {"x", "y", "shape"}
    assert data["settings"] == {"samples": 2, "sweep": 3, "sweep_shape": "square", "seed": 1, "normalisation": "range"}
    probe = drawn["probe.png"]
    assert probe.path == out / "probe.png" and probe.path.is_file()
    titles = [ax.get_title() for ax in probe.panels]
    assert len(titles) == 4 and titles[0].startswith("(a) reconstruction identity") and titles[1].startswith(
        "(a) identity per cell") and "coloured by true x" in titles[2] and "coloured by true y" in titles[3]
    confusion = probe.picture(0)
    assert confusion.shape == (len(SHAPES), len(SHAPES)) and np.allclose(confusion.sum(1), 1.0)  # rows: shares
    assert len(probe.panels[2].collections[0].get_offsets()) == 3 * 3                   # the 3 x 3 sweep
    recon = drawn["probe_reconstructions.png"]
    assert recon.path.is_file() and tick_labels(recon.panels[0]) == list(SHAPES)
    clean = grid_images()
    assert np.allclose(tile(recon.picture(), 0, 0), clean[0] / 255.0, atol=1e-6)          # circle in cell (0,0)
    assert np.allclose(tile(recon.picture(), 1, 2 * 4), clean[9 + 4] / 255.0, atol=1e-6)  # square, middle cell
    assert sorted(p.relative_to(tiny_run) for p in tiny_run.rglob("*")) == before   # the run folder is untouched
    other = tmp_path / "elsewhere"
    result = CliRunner().invoke(main, ["probe", str(tiny_run), "--out", str(other), "--samples", "2", "--sweep", "2"])
    assert result.exit_code == 0, result.output
    assert (other / "probe.json").is_file()


@pytest.mark.parametrize("args, message", [
    (["probe", "{tmp}/missing"], "checkpoint folder does not exist"),
    (["probe", "{tmp}"], "no config.json"),
    (["probe", "{run}", "--out", "{tmp}/afile"], "is a file"),
])
def test_probe_command_bad_input_is_one_line(tiny_run, tmp_path, args, message):
    (tmp_path / "afile").write_text("x")
    args = [a.format(tmp=tmp_path, run=tiny_run) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


@pytest.mark.parametrize("option", [["--samples", "1"], ["--samples", "100000"], ["--sweep", "1000"],
                                    ["--sweep-shape", "hexagon"]])
def test_probe_command_bounds_its_sizes(tiny_run, option):
    result = CliRunner().invoke(main, ["probe", str(tiny_run), *option])
    assert result.exit_code == 2 and "Invalid value" in result.output
