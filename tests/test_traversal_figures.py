"""Traversal figures: rows by KL, dead dimensions, factor names, one reconstruction; the GIF."""
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from nar_solver.cli import main
from nar_solver.figures import DEAD_KL, row_label, row_order, traversal_columns, traversal_gif, traversal_grid
from nar_solver.run.dimension_names import dimension_factors
from nar_solver.run.shipped import shipped_folder


def test_rows_sort_by_kl_and_dead_dimensions_are_marked():
    kl = [0.5, 3.0, 0.01, 1.2]
    assert row_order([0, 1, 2, 3], kl) == [1, 3, 0, 2]
    assert row_order([2, 0], kl) == [1, 0]                 # indices into the given dims
    assert row_order([0, 1, 2], None) == [0, 1, 2]
    assert row_label(2, kl, None) == ("z2  KL 0.01 dead", True) and kl[2] < DEAD_KL
    assert row_label(1, kl, {1: "x"}) == ("z1 x  KL 3.00", False)
    assert row_label(3, None, {3: "shape"}) == ("z3 shape", False)


@pytest.mark.parametrize("values, mode, headings, recon", [
    ([-1, 0, 1], "offset", ["input", "-1", "0 (recon)", "+1"], 2),    # offset 0 is the reconstruction
    ([-1, -0.5], "offset", ["input", "recon", "-1", "-0.5"], 1),      # no offset 0: a recon column
    ([-1, 0, 1], "absolute", ["input", "recon", "-1", "0", "1"], 1),  # absolute 0 is not the code
])
def test_the_unperturbed_reconstruction_is_drawn_once(values, mode, headings, recon):
    got, column = traversal_columns(values, mode)
    assert got == headings and column == recon
    assert sum(h in ("recon", "0 (recon)") for h in got) == 1


def test_dimension_names_come_from_probe_json_then_metrics(tmp_path):
    assert dimension_factors(tmp_path) == {}
    metrics = {"factor_names": ["shape", "x", "y"],
               "intervention": {"dimension": [4, 0, 0], "concentration": [0.9, 0.7, 0.2]}}
    (tmp_path / "metrics-objects.json").write_text(json.dumps(metrics))
    assert dimension_factors(tmp_path) == {4: "shape", 0: "x"}       # y's 0.2 concentration: not named
    (tmp_path / "probe.json").write_text(json.dumps({"dimension_factors": {"3": "x", "5": "shape"}}))
    assert dimension_factors(tmp_path) == {3: "x", 5: "shape"}
    (tmp_path / "probe.json").write_text("{broken")
    assert dimension_factors(tmp_path) == {4: "shape", 0: "x"}


def test_traversal_grid_draws_with_kl_and_names(tmp_path):
    sweeps = np.full((3, 5, 64, 64), 255, dtype=np.uint8)
    out = traversal_grid(np.full((64, 64), 255, np.uint8), np.full((64, 64), 200, np.uint8), sweeps,
                         [-1, -0.5, 0, 0.5, 1], [0, 1, 2], tmp_path / "t.png", kl=[0.0, 2.0, 1.0],
                         factors={1: "x"})
    assert out.stat().st_size > 3000


def test_traverse_gif_and_default_folder(tmp_path, monkeypatch):
    """traverse --gif writes an animated GIF that loops; without --out both go to
    runs/traverse-<model>/ under the current folder, and the model folder is left as it was."""
    model = shipped_folder("objects")
    before = sorted(p.relative_to(model) for p in model.rglob("*"))
    image = shipped_folder("objects").parent.parent / "puzzles" / "shift1-a" / "query.png"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["traverse", str(model), str(image), "--steps", "5", "--gif"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "runs" / "traverse-objects"
    assert f"wrote {folder.relative_to(tmp_path) / 'traverse_query.png'}" in result.output
    gif = Image.open(folder / "traverse_query.gif")
    assert gif.n_frames == 2 * 5 - 2 and gif.info["loop"] == 0         # there and back, forever
    assert sorted(p.relative_to(model) for p in model.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_gif_frames_show_each_value(tmp_path):
    sweeps = np.stack([np.stack([np.full((64, 64), 40 * k, np.uint8) for k in range(4)])] * 2)
    path = traversal_gif(sweeps, [-1, 0, 1, 2], ["z0", "z1"], tmp_path / "a.gif", columns=2)
    gif = Image.open(path)
    shades = []
    for k in range(gif.n_frames):
        gif.seek(k)
        shades.append(int(np.asarray(gif.convert("L"))[60, 60]))      # inside the first tile
    assert shades == [0, 40, 80, 120, 80, 40]
