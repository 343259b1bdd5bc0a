"""Procedural dSprites: grid, ordering, and fidelity of the analytic renderer."""
import numpy as np
import pytest

from nar_solver.data import dsprites as ds
from nar_solver.errors import NarError
from nar_solver.data.sources import DSpritesSource

G = ds.DEFAULT_GEOMETRY


def ink(images):
    return images == ds.INK


def centre_of_mass(mask):
    rows, cols = np.nonzero(mask)
    return cols.mean() + 0.5, rows.mean() + 0.5  # (x, y) in pixel-centre coordinates


def test_published_factor_grid():
    assert ds.FACTOR_NAMES == ("shape", "scale", "orientation", "posX", "posY")
    assert ds.FACTOR_SIZES == (3, 6, 40, 32, 32) and ds.NUM_IMAGES == 737_280
    assert ds.SCALES[0] == 0.5 and ds.SCALES[-1] == 1.0 and np.allclose(np.diff(ds.SCALES), 0.1)
    assert ds.ORIENTATIONS[0] == 0 and ds.ORIENTATIONS[-1] == pytest.approx(2 * np.pi)
    assert ds.POSITIONS[0] == 0 and ds.POSITIONS[-1] == 1 and len(ds.POSITIONS) == 32


def test_factor_order_is_the_published_files():
    """FACTOR_SIZES lists the factors in the published file's order (posY fastest, shape slowest), so
    np.unravel_index(i, FACTOR_SIZES) is image i of that file."""
    to_factors = lambda i: np.stack(np.unravel_index(np.atleast_1d(i), ds.FACTOR_SIZES), axis=1).tolist()  # noqa: E731
    assert to_factors(1) == [[0, 0, 0, 0, 1]]
    assert to_factors(32) == [[0, 0, 0, 1, 0]]
    assert to_factors(ds.NUM_IMAGES - 1) == [[2, 5, 39, 31, 31]]
    assert ds.NUM_IMAGES == int(np.prod(ds.FACTOR_SIZES))


def test_images_are_binary_in_our_convention():
    images = DSpritesSource().draw(np.random.default_rng(0), 256)
    assert images.dtype == np.uint8 and images.shape == (256, 64, 64)
    assert set(np.unique(images).tolist()) == {0, 255}
    assert (ink(images).sum(axis=(1, 2)) > 10).all()  # every sprite is visible
    # background dominates: small sprites on a white frame
    assert ink(images).mean() < 0.1


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_sprite_is_centred_at_its_position(shape):
    for px, py in [(0.0, 0.0), (1.0, 0.3), (0.5, 0.5), (0.2, 1.0)]:
        for angle in (0.0, 1.1, 4.0):
            mask = ink(ds.render_values(shape, 0.8, angle, px, py))[0]
            x, y = centre_of_mass(mask)
            assert x == pytest.approx(G.centre_pixels(px), abs=0.6)
            assert y == pytest.approx(G.centre_pixels(py), abs=0.6)  # posY 0 is the top row
    assert G.centre_pixels(0.0) == 8 and G.centre_pixels(1.0) == 56


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_area_grows_with_scale(shape):
    factors = np.array([[shape, s, 3, 16, 16] for s in range(6)])
    areas = ink(ds.render(factors)).sum(axis=(1, 2))
    assert (np.diff(areas) > 0).all()
    # area goes with scale squared
    assert areas[-1] / areas[0] == pytest.approx(4.0, rel=0.2)


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_orientation_rotates_the_shape_counter_clockwise(shape):
    for angle in (0.0, 0.3, 1.0):
        base = ds.render_values(shape, 1.0, angle, 0.5, 0.5)[0]  # centre 32: the frame's centre
        turned = ds.render_values(shape, 1.0, angle + np.pi / 2, 0.5, 0.5)[0]
        # a quarter turn of the sprite equals a quarter turn (counter-clockwise) of the image
        assert (np.rot90(base) != turned).sum() <= 2
    grid = ds.render(np.array([[shape, 5, 0, 9, 20], [shape, 5, 39, 9, 20]]))
    assert (grid[0] == grid[1]).all()  # orientation 0 and 2*pi coincide, as published


def test_ellipse_long_axis_follows_orientation():
    for angle in np.linspace(0, np.pi, 7)[:-1]:
        mask = ink(ds.render_values(1, 1.0, angle, 0.5, 0.5))[0]
        rows, cols = np.nonzero(mask)
        x, y_up = cols - cols.mean(), -(rows - rows.mean())
        cov = np.cov(np.stack([x, y_up]))
        major = np.linalg.eigh(cov)[1][:, -1]
        measured = np.arctan2(major[1], major[0]) % np.pi
        error = min(abs(measured - angle), np.pi - abs(measured - angle))
        assert error < 0.1


def test_heart_matches_an_independent_polygon_test():
    from matplotlib.path import Path

    x, y = G.heart_outline()
    outline = Path(np.stack([x, y], axis=1))
    image = ds.render_values(2, 1.0, 0.0, 0.5, 0.5)[0]
    centres = np.arange(64) + 0.5
    u = (centres[None, :] - 32.0) / G.unit
    v = (32.0 - centres[:, None]) / G.unit
    expected = outline.contains_points(np.stack(np.broadcast_arrays(u, v), axis=-1).reshape(-1, 2)).reshape(64, 64)
    assert (ink(image) != expected).sum() <= 2
    # upright heart: the point is at the bottom, the two lobes on top
    rows = np.nonzero(ink(image))[0]
    assert ink(image)[rows.max()].sum() <= 2 and ink(image)[rows.min()].sum() >= 2


def test_sizes_at_scale_one():
    square = ink(ds.render_values(0, 1.0, 0.0, 0.5, 0.5))[0]
    assert square.sum(axis=1).max() == pytest.approx(2 * G.square_half_side * G.unit, abs=1.0)
    heart = ink(ds.render_values(2, 1.0, 0.0, 0.5, 0.5))[0]
    assert heart.any(axis=0).sum() == pytest.approx(G.unit, abs=1.0)


def test_bad_factors_raise_nar_error():
    with pytest.raises(NarError):
        ds.render(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(NarError):
        ds.render(np.zeros((2, 4), dtype=int))
    with pytest.raises(NarError):
        ds.render(np.zeros((2, 5)))  # floats are not grid indices


def test_world_and_training_batches_are_seeded():
    world = DSpritesSource()
    a = world.render(world.sample_factors(np.random.default_rng(5), 16))
    b = world.render(world.sample_factors(np.random.default_rng(5), 16))
    assert (a == b).all()
    assert not (a == world.render(world.sample_factors(np.random.default_rng(6), 16))).all()
    # a training batch is the world's rendering of uniformly sampled factors
    factors = ds.sample_factors(np.random.default_rng(1), 8)
    assert (world.draw(np.random.default_rng(1), 8) == ds.render(factors)).all()
