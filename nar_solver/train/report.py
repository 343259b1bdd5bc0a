"""What a run folder says about itself: figures and a summary, for `train`, `plot` and Python users."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_solver.data import make_source
from nar_solver.data.stream import BatchStream
from nar_solver.errors import NarError
from nar_solver.figures import plot_losses, reconstruction_grid, traversal_grid
from nar_solver.model.images import ink_to_grey, to_ink
from nar_solver.run.dimension_names import dimension_factors
from nar_solver.model.losses import kl_per_dim
from nar_solver.model.traversal import sweep_values, traverse
from nar_solver.model.vae import FactorVAE
from nar_solver.run.checkpoint import load_model, load_train_state
from nar_solver.run.config import TrainConfig
from nar_solver.run.folder import RunFolder

RECON_IMAGES = 16
#: Reconstructions whose spread across images is below this share of the inputs' spread are still
#: (nearly) the mean image: the plateau that docs/training.md describes.
MEAN_IMAGE_SPREAD = 0.1
#: Images the summary reconstructs for that check.
SPREAD_IMAGES = 64


def reconstruction_spread(inputs: np.ndarray, reconstructions: np.ndarray) -> float:
    """How much the reconstructions differ from image to image, as a share of how much the inputs
    do: the per-pixel variance across images, summed over pixels, of the reconstructions over that
    of the inputs (uint8 grey (N, 64, 64) both). 1 for a perfect model, 0 when every reconstruction
    is the same image (the mean image of the plateau)."""
    x = 1.0 - np.asarray(inputs, dtype=np.float64) / 255.0
    r = 1.0 - np.asarray(reconstructions, dtype=np.float64) / 255.0
    spread_in = x.var(axis=0).sum()
    return float(r.var(axis=0).sum() / spread_in) if spread_in > 0 else 1.0


@torch.no_grad()
def run_reconstruction_spread(run_dir: str | Path, device: torch.device | str = "cpu",
                              images: int = SPREAD_IMAGES) -> float | None:
    """:func:`reconstruction_spread` of a run folder's saved model on its training images (re-drawn
    from config.json); None when the model or its data cannot be loaded here."""
    try:
        loaded = load_model(run_dir, device)
        sample = BatchStream(make_source(loaded.config), loaded.config.seed).sample(images)
    except NarError:
        return None
    mu, _ = loaded.vae.encode(to_ink(sample, device))
    return reconstruction_spread(sample, ink_to_grey(torch.sigmoid(loaded.vae.decode(mu).float())))


@torch.no_grad()
def write_figures(run_dir: str | Path, vae: FactorVAE, sample: np.ndarray, rows: list[dict[str, Any]],
                  device: torch.device | str = "cpu", out: str | Path | None = None) -> list[Path]:
    """Loss curves, a reconstruction grid of ``sample`` and a traversal of its first image (rows
    sorted by KL, dead dimensions marked, factor names from the run's probe.json when present),
    into ``out`` (default: the run's figures/ folder)."""
    run = RunFolder(run_dir)
    out = run.figures if out is None else Path(out)
    title = run.path.name
    written = [plot_losses(rows, out / "losses.png", title=title)] if rows else []
    was_training = vae.training
    vae.eval()
    images = sample[:RECON_IMAGES]
    mu, logvar = vae.encode(to_ink(images, device).contiguous(memory_format=torch.channels_last))
    recon = ink_to_grey(torch.sigmoid(vae.decode(mu).float()))
    written.append(reconstruction_grid(images, recon, out / "reconstructions.png",
                                       title=f"{title}: inputs over reconstructions (posterior means)"))
    kl = kl_per_dim(*vae.encode(to_ink(sample[:512], device))).cpu().numpy()
    values = sweep_values(-3.0, 3.0, 11)
    image_recon, sweeps, _ = traverse(vae, images[0], values)
    written.append(traversal_grid(images[0], image_recon, sweeps, values, range(vae.z_dim),
                                  out / "traversal.png", kl=kl, factors=dimension_factors(run.path),
                                  title=f"{title}: traversals (KL per dim over 512 training images)"))
    vae.train(was_training)
    return written


@torch.no_grad()
def training_kl(loaded, device: torch.device | str = "cpu", images: int = 512) -> np.ndarray | None:
    """Mean KL to the prior per latent dimension over ``images`` training images of a loaded run
    (re-drawn from its config); None when its training data cannot be drawn here (a puzzle folder
    that moved)."""
    try:
        sample = BatchStream(make_source(loaded.config), loaded.config.seed).sample(images)
    except NarError:
        return None
    was_training = loaded.vae.training
    loaded.vae.eval()
    kl = kl_per_dim(*loaded.vae.encode(to_ink(sample, device))).cpu().numpy()
    loaded.vae.train(was_training)
    return kl


def plot_run(run_dir: str | Path, device: str | torch.device = "cpu", out: str | Path | None = None) -> list[Path]:
    """Redraw every figure of a run folder from its files (the training data is re-drawn from
    config) into ``out`` (default: the run's figures/ folder)."""
    loaded = load_model(run_dir, device)
    stream = BatchStream(make_source(loaded.config), loaded.config.seed)
    rows = RunFolder(run_dir).read_losses()
    return write_figures(run_dir, loaded.vae, stream.sample(512), rows, device, out)


def summarise(run_dir: str | Path) -> dict[str, Any]:
    """Steps done, final window's losses, time and throughput of a run folder."""
    run = RunFolder(run_dir)
    if not run.config.is_file():
        raise NarError("not a training run folder (no config.json)", run.path)
    config = TrainConfig.load(run.config)
    rows = run.read_losses()
    summary: dict[str, Any] = {"run": str(run.path), "steps_planned": config.steps, "steps_done": 0,
                               "data": config.data, "tc": config.tc, "gamma": config.gamma, "beta": config.beta,
                               "last": rows[-1] if rows else None}
    if run.state.is_file():
        state = load_train_state(run.path)
        summary["steps_done"] = int(state["step"])
        summary["seconds"] = float(state.get("elapsed", 0.0))
        timing = state.get("timing", {})
        if timing.get("steps"):
            per_step = (timing["data_s"] + timing["step_s"]) / timing["steps"]
            per_image = config.batch_size * int(state.get("world_size", 1)) * (2 if config.tc == "discriminator" else 1)
            summary["ms_per_step"] = 1000 * per_step
            summary["images_per_s"] = per_image / per_step
            summary["data_share"] = timing["data_s"] / max(timing["data_s"] + timing["step_s"], 1e-12)
            summary["threads"] = int(timing.get("threads", 0))
    if run.weights.is_file():
        summary["recon_spread"] = run_reconstruction_spread(run.path)
    summary["files"] = sorted(p.relative_to(run.path).as_posix() for p in run.path.rglob("*") if p.is_file()
                              and not p.name.startswith("."))
    return summary
