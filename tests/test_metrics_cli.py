"""`nar-solver metrics RUN`, the checkpoint path and the factor worlds the metrics run on."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from nar_solver.cli import main
from nar_solver.metrics.runner import (
    REPORT_VERSION,
    UNSUPERVISED_KEYS,
    DisentanglementSettings,
    evaluate_disentanglement,
    model_encoder,
)
from nar_solver.data import DSpritesSource, ObjectsSource, make_world
from nar_solver.metrics.sampling import CodedWorld
from nar_solver.errors import NarError
from nar_solver.io import atomic_write_json
from nar_solver.run.checkpoint import save_model
from nar_solver.model.vae import FactorVAE
from nar_solver.run.config import TrainConfig


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """An untrained z=4 VAE whose encoder weights are scaled up so its codes are not collapsed."""
    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    vae = FactorVAE(4)
    with torch.no_grad():
        for parameter in vae.encoder.parameters():
            parameter.mul_(5)
    atomic_write_json(run / "config.json", TrainConfig(data="objects", z_dim=4).to_json())
    save_model(run, vae, torch.zeros(4), torch.ones(4), step=7)
    return run


def test_nar_object_world_renders_each_factor_tuple():
    world = make_world("objects")
    assert world.factor_names == ("shape", "x", "y") and world.factor_sizes == (20, 3, 3)
    from nar_solver.world.board import render_object
    from nar_solver.world.glyphs import SHAPES

    factors = np.array([[0, 0, 0], [19, 2, 1], [5, 1, 2]])
    images = world.render(factors)
    assert images.dtype == np.uint8 and images.shape == (3, 64, 64)
    for image, (s, x, y) in zip(images, factors):
        assert (image == render_object(SHAPES[s], int(x), int(y))).all()
    # the object sits in its cell: ink only inside that tile
    rows, cols = np.nonzero(images[1] < 128)
    assert cols.min() >= 42 and rows.min() >= 22 and rows.max() < 42
    with pytest.raises(NarError):
        world.render(np.array([[20, 0, 0]]))


def test_objects_world_renders_nuisance_from_the_generator():
    """The metrics' objects world: with a generator every image is new (so DCI's test images are not
    training images), equal generators give equal nuisance, and the object stays on its cell."""
    world = make_world("objects")
    factors = world.sample_factors(np.random.default_rng(0), 3000)
    images = world.render(factors, np.random.default_rng(1))
    assert len(np.unique(images.reshape(len(images), -1), axis=0)) == len(images)  # 180 tuples, 3000 images
    assert (world.render(factors, np.random.default_rng(1)) == images).all()  # deterministic under the seed
    assert not (world.render(factors, np.random.default_rng(2)) == images).all()
    # Nuisance draws do not depend on the factors: the same scenes one column to the right, rendered
    # from an equal generator, are these images moved by exactly one cell (20 px).
    left = factors[factors[:, 1] < 2][:200]
    right = left.copy()
    right[:, 1] += 1
    moved = world.render(right, np.random.default_rng(3))
    assert (np.roll(world.render(left, np.random.default_rng(3)), 20, axis=2) == moved).all()
    # the object stays in its cell, within the 1 px jitter
    for image, (_, x, y) in zip(images[:200], factors[:200]):
        rows, cols = np.nonzero(image < 128)
        assert cols.min() >= 2 + 20 * x - 1 and cols.max() < 22 + 20 * x + 1
        assert rows.min() >= 2 + 20 * y - 1 and rows.max() < 22 + 20 * y + 1
    assert world.categorical == (True, False, False)


def test_make_world_names():
    assert make_world("dsprites").factor_sizes == (3, 6, 40, 32, 32)
    assert make_world("objects").name == "objects"
    # one world type: the metrics measure on the very classes training draws from
    assert isinstance(make_world("objects"), ObjectsSource) and isinstance(make_world("dsprites"), DSpritesSource)
    with pytest.raises(NarError):
        make_world("shapes3d")


def test_model_encoder_returns_posterior_means_in_any_chunking():
    torch.manual_seed(0)
    vae = FactorVAE(3)
    images = ObjectsSource().render(np.array([[s, s % 3, (s // 3) % 3] for s in range(20)]))
    from nar_solver.model.images import to_ink

    with torch.no_grad():
        expected = vae.encode(to_ink(images))[0].numpy()
    assert np.allclose(model_encoder(vae, "cpu", batch_size=7)(images), expected, atol=1e-6)


def test_report_is_reproducible_and_json_safe():
    world = CodedWorld((3, 4))
    settings = DisentanglementSettings.fast()
    perfect = lambda images: world.decode(images).astype(float)  # noqa: E731
    first = evaluate_disentanglement(perfect, world, seed=4, settings=settings)
    second = evaluate_disentanglement(perfect, world, seed=4, settings=settings)
    a, b = first.to_json(), second.to_json()
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    assert set(a["summary"]) == {"factorvae_score", "betavae_score", "mig", "sap", "dci_disentanglement",
                                 "dci_completeness", "dci_informativeness", "modularity", "explicitness", "sis",
                                 *UNSUPERVISED_KEYS}
    assert a["preset"] == "fast" and a["version"] == REPORT_VERSION
    supervised = {k: v for k, v in a["summary"].items() if k not in UNSUPERVISED_KEYS and k != "explicitness"}
    assert min(supervised.values()) > 0.9  # a perfect code scores high on every disentanglement metric
    # Explicitness asks for linearly separable values; a middle value of an ordered axis is not.
    assert 0.6 < a["summary"]["explicitness"] < 1.0
    assert all(a["summary"][k] < 0.1 for k in UNSUPERVISED_KEYS)  # independent dimensions
    json.dumps(a, allow_nan=False)


def test_metrics_command_writes_a_report(tiny_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tiny_run.iterdir())
    result = CliRunner().invoke(main, ["metrics", str(tiny_run), "--preset", "fast", "--device", "cpu", "--seed", "1"])
    assert result.exit_code == 0, result.output
    for name in ("FactorVAE score", "beta-VAE score", "MIG", "SAP", "DCI", "Modularity", "Explicitness", "SIS",
                 "Gaussian total correlation", "Mutual information score"):
        assert name in result.output
    assert "fast preset" in result.output  # the preset is in the table title
    # default: the run's training world, in runs/metrics-<run name>/ under the current folder, never the run
    out = tmp_path / "runs" / f"metrics-{tiny_run.name}" / "metrics-objects-fast.json"
    assert sorted(p.name for p in tiny_run.iterdir()) == before
    assert str(Path("runs") / f"metrics-{tiny_run.name}" / "metrics-objects-fast.json") in result.output.replace("\n", "")
    report = json.loads(out.read_text())
    assert report["world"] == "objects" and report["seed"] == 1
    assert report["run"]["step"] == 7 and report["run"]["preset"] == "fast" and report["preset"] == "fast"
    assert report["factor_names"] == ["shape", "x", "y"]
    assert all(0.0 <= v <= 1.0 for k, v in report["summary"].items() if k not in UNSUPERVISED_KEYS)
    assert all(report["summary"][k] >= 0.0 for k in UNSUPERVISED_KEYS)


def test_metrics_command_bad_run_is_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["metrics", str(tmp_path / "missing"), "--preset", "fast"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(main, ["metrics", str(tmp_path), "--preset", "fastest"])
    assert result.exit_code == 2


def _bench_table():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "disentanglement_table.py"
    spec = importlib.util.spec_from_file_location("disentanglement_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_cache_ignores_reports_of_another_version(tmp_path, monkeypatch):
    """bench/disentanglement_table.py reuses a run's cached report only if the same report version
    wrote it: a report cached before the objects world changed is measured again."""
    bench = _bench_table()
    stale = {"summary": {"mig": 0.5}, "seconds": 1.0}
    atomic_write_json(tmp_path / "metrics-objects-standard.json", stale)  # what version 1 wrote
    measured = []

    class FakeReport:
        run, seconds = {}, 2.0

        def to_json(self):
            return {"summary": {"mig": 0.25}, "seconds": 2.0, "version": REPORT_VERSION}

        def summary(self):
            return {"mig": 0.25}

    def fake_evaluate(run, **kwargs):
        measured.append(run)
        return FakeReport()

    monkeypatch.setattr(bench, "evaluate_checkpoint", fake_evaluate)
    first = bench.measure_run(tmp_path, "objects", 0, "standard", lambda message: None)
    assert first["summary"]["mig"] == 0.25 and len(measured) == 1
    assert bench.metrics_path(tmp_path, "objects", "standard").name == f"metrics-objects-standard-v{REPORT_VERSION}.json"
    again = bench.measure_run(tmp_path, "objects", 0, "standard", lambda message: None)
    assert again == first and len(measured) == 1  # the current version's cache is reused
