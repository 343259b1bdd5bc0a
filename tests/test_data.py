"""Training data: the vectorised renderers match the world's reference renderers pixel for pixel,
streams are seeded per (seed, rank, step), folders are read whole."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nar_solver.data import BoardsSource, DSpritesSource, FolderSource, ObjectsSource, make_source
from nar_solver.data.stream import BatchStream
from nar_solver.errors import NarError
from nar_solver.run.config import TrainConfig
from nar_solver.world.board import Board, Obj, render_board, render_object
from nar_solver.world.formats import save_grey_png
from nar_solver.world.glyphs import SHAPES


def test_objects_match_render_object_exactly():
    source = ObjectsSource(jitter=2.0, jitter_fraction=0.5)
    rng = np.random.default_rng(1)
    factors = source.placements(rng, 120)
    images = source.place(rng, factors)
    reference = np.stack([
        render_object(SHAPES[s], int(x), int(y), float(dx), float(dy))
        for s, x, y, dx, dy in zip(factors["shape"], factors["x"], factors["y"], factors["dx"], factors["dy"])
    ])
    assert np.array_equal(images, reference)
    still = (factors["dx"] == 0) & (factors["dy"] == 0)
    assert 0.35 < still.mean() < 0.65            # about half sit exactly on their cell
    assert np.abs(factors["dx"]).max() <= 2.0 and np.abs(factors["dx"][~still]).max() > 1.0


def test_objects_without_jitter_are_single_object_boards():
    source = ObjectsSource(jitter=0.0)
    rng = np.random.default_rng(2)
    factors = source.placements(rng, 40)
    images = source.place(rng, factors)
    for image, s, x, y in zip(images, factors["shape"], factors["x"], factors["y"]):
        assert np.array_equal(image, render_board(Board((Obj(SHAPES[s], int(x), int(y)),))))


def test_boards_match_render_board_exactly():
    source = BoardsSource(1, 3)
    rng = np.random.default_rng(3)
    layout = source.layout(rng, 150)
    images = source.place(rng, layout)
    assert set(np.unique(layout["count"])) == {1, 2, 3}
    for i, image in enumerate(images):
        objects = tuple(Obj(SHAPES[layout["shape"][i, k]], int(layout["x"][i, k]), int(layout["y"][i, k]))
                        for k in range(layout["count"][i]))
        assert np.array_equal(image, render_board(Board(objects)))


def test_jittered_boards_keep_every_object():
    source = BoardsSource(3, 3, jitter=2.0, jitter_fraction=1.0)
    images = source.draw(np.random.default_rng(4), 16)
    assert images.shape == (16, 64, 64) and images.dtype == np.uint8
    ink = (255 - images.astype(int)).sum(axis=(1, 2)) / 255
    assert (ink > 3 * 10).all()  # three glyphs' worth of ink (the faintest glyph has ~15 px of ink)


def test_variation_keeps_canonical_tiles_and_adds_variants():
    plain = ObjectsSource(variation=False).glyphs.tiles
    varied = ObjectsSource(variation=True, seed=5).glyphs.tiles
    assert plain.shape[1] == 1 and varied.shape[1] > 1
    assert np.array_equal(varied[:, 0], plain[:, 0])
    assert not np.array_equal(varied[:, 1], varied[:, 0])


def test_stream_is_a_function_of_seed_rank_step_which():
    stream = BatchStream(ObjectsSource(), seed=7, rank=0)
    again = BatchStream(ObjectsSource(), seed=7, rank=0)
    other_rank = BatchStream(ObjectsSource(), seed=7, rank=1)
    a = stream.batch(5, 0, 8)
    assert a.dtype == torch.uint8 and a.shape == (8, 64, 64)
    assert torch.equal(a, again.batch(5, 0, 8))
    assert not torch.equal(a, stream.batch(5, 1, 8))      # the D batch differs from the VAE batch
    assert not torch.equal(a, stream.batch(6, 0, 8))
    assert not torch.equal(a, other_rank.batch(5, 0, 8))  # each rank its own stream
    assert np.array_equal(stream.sample(4), other_rank.sample(4))  # the fixed sample is shared


def test_dsprites_source_draws_binary_images():
    images = DSpritesSource().draw(np.random.default_rng(0), 6)
    assert images.shape == (6, 64, 64) and set(np.unique(images)) <= {0, 255}


def test_folder_source_reads_every_png_and_samples_epochs(tmp_path):
    rng = np.random.default_rng(0)
    images = BoardsSource().draw(rng, 10)
    for i, image in enumerate(images):
        folder = tmp_path / f"puzzle_{i % 3}"
        folder.mkdir(exist_ok=True)
        save_grey_png(image, folder / f"img_{i}.png")
    source = FolderSource(tmp_path)
    assert len(source) == 10
    assert {img.tobytes() for img in source.images} == {img.tobytes() for img in images}
    stream = BatchStream(source, seed=1, batches_per_step=2)
    # one epoch = 10 images = 5 batches of 2 (steps 0-1 and the first batch of step 2): all distinct
    seen = [stream.batch(step, which, 2).numpy() for step in range(3) for which in range(2)][:5]
    assert len({img.tobytes() for batch in seen for img in batch}) == 10


def test_folder_errors_are_one_line(tmp_path):
    with pytest.raises(NarError, match="no such folder"):
        FolderSource(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NarError, match="no PNG"):
        FolderSource(tmp_path / "empty")


def test_make_source_follows_the_config():
    assert isinstance(make_source(TrainConfig(data="objects").resolve()), ObjectsSource)
    boards = make_source(TrainConfig(data="boards", min_objects=2, max_objects=2).resolve())
    assert isinstance(boards, BoardsSource) and boards.min_objects == 2
    assert isinstance(make_source(TrainConfig(data="dsprites")), DSpritesSource)
    assert TrainConfig(data="objects").resolve().jitter == 2.0
    assert TrainConfig(data="boards").resolve().jitter == 0.0
