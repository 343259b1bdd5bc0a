"""Traversal figures: rows by KL, dead dimensions, factor names, one reconstruction; the GIF."""
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from nar_solver.cli import main
from nar_solver.figures import DEAD_KL, row_label, row_order, traversal_columns, traversal_gif, traversal_grid
from nar_solver.run.dimension_names import read_dimension_names
from nar_solver.run.shipped import shipped_folder
from figure_helpers import capture_figures, tick_labels, tile


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
    assert read_dimension_names(tmp_path) == {}
    metrics = {"factor_names": ["shape", "x", "y"],
               "intervention": {"dimension": [4, 0, 0], "concentration": [0.9, 0.7, 0.2]}}
    (tmp_path / "metrics-objects.json").write_text(json.dumps(metrics))
    assert read_dimension_names(tmp_path) == {4: "shape", 0: "x"}       # y's 0.2 concentration: not named
    (tmp_path / "probe.json").write_text(json.dumps({"dimension_factors": {"3": "x", "5": "shape"}}))
    assert read_dimension_names(tmp_path) == {3: "x", 5: "shape"}
    (tmp_path / "probe.json").write_text("{broken")
    assert read_dimension_names(tmp_path) == {4: "shape", 0: "x"}


def test_traversal_grid_draws_with_kl_and_names(tmp_path, monkeypatch):
    drawn = capture_figures(monkeypatch)
    # tile (dimension i, value j) is a flat grey 30 j + 10 i: every tile can be told apart
    sweeps = np.stack([np.stack([np.full((64, 64), 30 * j + 10 * i, np.uint8) for j in range(5)])
                       for i in range(3)])
    out = traversal_grid(np.full((64, 64), 255, np.uint8), np.full((64, 64), 200, np.uint8), sweeps,
                         [-1, -0.5, 0, 0.5, 1], [0, 1, 2], tmp_path / "t.png", kl=[0.0, 2.0, 1.0],
                         factors={1: "x"})
    assert out.is_file()
    fig = drawn["t.png"]
    (ax,) = fig.panels
    assert tick_labels(ax, "x") == ["input", "-1", "-0.5", "0 (recon)", "+0.5", "+1"]
    assert tick_labels(ax, "y") == ["z1 x  KL 2.00", "z2  KL 1.00", "z0  KL 0.00 dead"]  # by KL, named
    assert [t.get_color() for t in ax.get_yticklabels()][2] == "#999999"                 # the dead row greyed
    picture = fig.picture()
    assert picture.shape == (2 + 3 * 66, 2 + 6 * 66)                                    # 3 rows, 6 columns
    for row, dim in enumerate((1, 2)):
        assert tile(picture, row, 0).mean() == 255                                        # the input
        assert [int(tile(picture, row, 1 + j).mean()) for j in range(5)] == [30 * j + 10 * dim for j in range(5)]
    assert [int(tile(picture, 2, 1 + j).mean()) for j in range(5)] == [int(0.35 * 30 * j + 130) for j in range(5)]
    frame = [p for p in ax.patches if p.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]
    assert len(frame) == 1 and frame[0].get_x() == 1 + 66 * 3                           # around "0 (recon)"


def test_traverse_gif_and_default_folder(tmp_path, monkeypatch):
    """traverse --gif writes an animated GIF that loops; without --figure both go to
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


def test_gif_keeps_the_value_and_the_labels_apart(tmp_path):
    """The swept value is drawn in a header band of its own, above a rule; each label sits in its
    row's band above the tile, and nothing is drawn over another (issue 20: "value -3" was drawn
    over the first dimension's label)."""
    from nar_solver.figures import GIF_HEADER_H, GIF_LABEL_H, GIF_SCALE

    sweeps = np.full((2, 3, 64, 64), 255, np.uint8)
    path = traversal_gif(sweeps, [-3, 0, 3], ["z0 x  KL 1.20", "z1 y  KL 0.80"], tmp_path / "g.gif", columns=2)
    gif = Image.open(path)
    headers, labels = [], []
    for k in range(gif.n_frames):
        gif.seek(k)
        frame = np.asarray(gif.convert("L"))
        assert frame.shape == (GIF_HEADER_H + GIF_LABEL_H + 64 * GIF_SCALE, 2 * 64 * GIF_SCALE)
        ink_rows = np.flatnonzero((frame[:GIF_HEADER_H + GIF_LABEL_H] < 128).any(axis=1))
        header = ink_rows[ink_rows < GIF_HEADER_H - 3]          # the value's text, above the rule
        label = ink_rows[ink_rows >= GIF_HEADER_H]              # the labels' text
        assert header.size and label.size and header.max() + 3 < GIF_HEADER_H - 2 < label.min()
        assert label.max() < GIF_HEADER_H + GIF_LABEL_H          # the label ends above its tile
        headers.append(frame[:GIF_HEADER_H - 3].tobytes())
        labels.append(frame[GIF_HEADER_H:GIF_HEADER_H + GIF_LABEL_H].tobytes())
    assert len(set(headers)) == 3 and len(set(labels)) == 1     # the value changes, the labels stay


def test_gif_frames_show_each_value(tmp_path):
    sweeps = np.stack([np.stack([np.full((64, 64), 40 * k, np.uint8) for k in range(4)])] * 2)
    path = traversal_gif(sweeps, [-1, 0, 1, 2], ["z0", "z1"], tmp_path / "a.gif", columns=2)
    gif = Image.open(path)
    shades = []
    for k in range(gif.n_frames):
        gif.seek(k)
        shades.append(int(np.asarray(gif.convert("L"))[60, 60]))      # inside the first tile
    assert shades == [0, 40, 80, 120, 80, 40]
