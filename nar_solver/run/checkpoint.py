"""Checkpoints: VAE weights in safetensors, training state as plain tensors, never pickled objects.

A run folder (:mod:`nar_solver.run.folder`) holds ``config.json`` (the TrainConfig),
``model.safetensors`` (the VAE's weights plus ``latent_low``/``latent_high``) and ``train_state.pt``
(everything needed to resume, loadable with ``torch.load(weights_only=True)``). Nothing here ever
unpickles arbitrary objects: a pickle smuggled into a run folder is refused, not executed.

``latent_low``/``latent_high`` are the 0.5th and 99.5th percentiles, per latent dimension, of the
encoder means over a fixed sample of training images (``latent_sample`` of them, default 2048),
computed at every save, so a solver can clip perturbed codes to where the data lives.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_safetensors

from nar_solver.errors import CheckpointError, NarError
from nar_solver.io import atomic_write_bytes
from nar_solver.model.vae import ARCHITECTURE, FactorVAE
from nar_solver.run.config import RESUMABLE_FIELDS, TrainConfig
from nar_solver.run.folder import CONFIG_FILE, RunFolder, check_config_file

LATENT_QUANTILES = (0.005, 0.995)
#: The layout of train_state.pt this version writes and reads.
STATE_FORMAT = 1
#: No run trains this many steps; a state claiming more is corrupt, not a very long run.
MAX_STATE_STEP = 10**9
_RANGE_KEYS = ("latent_low", "latent_high")

__all__ = ["STATE_FORMAT", "CheckpointError", "LoadedModel", "check_state_matches", "latent_range", "load_model",
           "load_train_state", "save_model", "save_train_state"]


@dataclass
class LoadedModel:
    vae: FactorVAE            # in eval mode, on the requested device
    config: TrainConfig
    latent_low: torch.Tensor  # (z_dim,) float32, per-dimension 0.5th percentile of training codes
    latent_high: torch.Tensor  # (z_dim,) float32, 99.5th percentile
    step: int = 0             # training step the weights come from
    run_dir: Path | None = None


def latent_range(means: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension (0.5th, 99.5th) percentiles of encoder means (N, z)."""
    q = torch.tensor(LATENT_QUANTILES, dtype=torch.float32, device=means.device)
    low, high = torch.quantile(means.float(), q, dim=0)
    return low.cpu(), high.cpu()


def save_model(run_dir: str | Path, vae: FactorVAE, latent_low: torch.Tensor, latent_high: torch.Tensor,
               step: int) -> Path:
    """Write model.safetensors atomically: the VAE's weights, the latent range, and metadata."""
    tensors = {name: t.detach().cpu().contiguous() for name, t in vae.state_dict().items()}
    tensors["latent_low"] = latent_low.detach().float().cpu().contiguous()
    tensors["latent_high"] = latent_high.detach().float().cpu().contiguous()
    metadata = {"architecture": vae.architecture, "z_dim": str(vae.z_dim), "step": str(int(step))}
    path = RunFolder(run_dir).weights
    atomic_write_bytes(path, save_safetensors(tensors, metadata=metadata))
    return path


def load_model(run_dir: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """The trained VAE of a run folder, in eval mode, with its config and latent range.

    Raises CheckpointError (one line, with the path) for a missing folder, missing or corrupt
    weights, a config of another architecture or z_dim, or unknown config keys.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError("checkpoint folder does not exist", run_dir)
    config_path, weights_path = RunFolder(run_dir).config, RunFolder(run_dir).weights
    if not config_path.exists() and not config_path.is_symlink():
        raise CheckpointError("no config.json in this checkpoint folder", run_dir)
    try:
        check_config_file(config_path)  # a FIFO or a link to a device is named, not "missing"
    except NarError as err:
        raise CheckpointError(str(err).removeprefix(f"{config_path}: "), config_path) from None
    try:
        config = TrainConfig.load(config_path)
    except CheckpointError:
        raise
    except NarError as err:
        raise CheckpointError(str(err).removeprefix(f"{config_path}: "), config_path) from None
    if not weights_path.is_file():
        raise CheckpointError("no model.safetensors in this checkpoint folder (train it first)", run_dir)
    try:
        with safe_open(weights_path, framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"corrupt or unreadable weights ({err.__class__.__name__})", weights_path) from None
    if metadata.get("architecture", ARCHITECTURE) != config.architecture:
        raise CheckpointError(f"weights of architecture {metadata.get('architecture')!r}, "
                              f"expected {config.architecture!r}", weights_path)
    missing = [k for k in _RANGE_KEYS if k not in tensors]
    if missing:
        raise CheckpointError(f"weights lack {', '.join(missing)}", weights_path)
    step = _metadata_step(metadata, weights_path)
    _check_dtypes(tensors, weights_path)
    low, high = tensors.pop("latent_low"), tensors.pop("latent_high")
    _check_finite(tensors, weights_path)
    vae = FactorVAE(config.z_dim, architecture=config.architecture)
    try:
        vae.load_state_dict(tensors, strict=True)
    except RuntimeError:
        found = tensors.get("encoder.fc.3.weight")
        detail = (f"weights have z_dim {found.shape[0] // 2}, config.json says {config.z_dim}"
                  if found is not None and found.dim() == 2 and found.shape[0] != 2 * config.z_dim
                  else f"weights do not match the {config.architecture} architecture")
        raise CheckpointError(detail, weights_path) from None
    if low.shape != (config.z_dim,) or high.shape != (config.z_dim,):
        raise CheckpointError(f"latent range has shape {tuple(low.shape)}, expected ({config.z_dim},)",
                              weights_path)
    _check_latent_range(low, high, weights_path)
    device = torch.device(device)
    vae.to(device).eval()
    return LoadedModel(vae=vae, config=config, latent_low=low.to(device), latent_high=high.to(device),
                       step=step, run_dir=run_dir)


def _check_dtypes(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Every tensor of a VAE's weights is floating point; integer tensors (int64 weights) would be
    truncated to whole numbers when loaded into the float model, a silently different network."""
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            raise CheckpointError(f"weights hold {str(tensor.dtype).removeprefix('torch.')} values in {name}; "
                                  "expected floating point", path)


def _check_finite(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Refuse weights holding NaN or inf: every code they give would be NaN, and the solver would
    score every option equal (or a metric would fail deep inside scikit-learn)."""
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"weights hold NaN or infinite values (in {name})", path)


def _metadata_step(metadata: dict[str, str], path: Path) -> int:
    """The training step recorded in the weights' metadata (0 when absent); anything but a
    whole number >= 0 is refused, not read as 0."""
    text = metadata.get("step", "0")
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise CheckpointError(f"metadata step {text[:40]!r} is not a whole number of steps", path)
    return int(text)


def _check_latent_range(low: torch.Tensor, high: torch.Tensor, path: Path) -> None:
    """The latent range clips perturbed codes; an inverted or non-finite range would clip every
    code to the same point and give every option the same score, so it is refused."""
    if not (bool(torch.isfinite(low).all()) and bool(torch.isfinite(high).all())):
        raise CheckpointError("latent range (latent_low/latent_high) holds NaN or infinite values", path)
    inverted = (low > high).nonzero().flatten().tolist()
    if inverted:
        raise CheckpointError(f"latent range is inverted (latent_low > latent_high) in dimension(s) "
                              f"{', '.join(map(str, inverted[:5]))}", path)


def save_train_state(run_dir: str | Path, state: dict[str, Any]) -> Path:
    """torch.save to memory, then an atomic write: a crash never leaves half a state file."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = RunFolder(run_dir).state
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_train_state(run_dir: str | Path) -> dict[str, Any]:
    """Load train_state.pt with ``weights_only=True``: plain tensors and containers, nothing executable."""
    path = RunFolder(run_dir).state
    if not path.is_file():
        raise CheckpointError("no train_state.pt to resume from", Path(run_dir))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a refused checkpoint
        reason = ("contains objects other than plain tensors and containers (refused, not executed)"
                  if "unsupported global" in str(err).lower()
                  else f"corrupt or unreadable ({err.__class__.__name__})")
        raise CheckpointError(f"train state {reason}", path) from None
    if not isinstance(state, dict) or "step" not in state or "trainer" not in state:
        raise CheckpointError("train state is not a nar-solver training state", path)
    fmt = state.get("format", STATE_FORMAT)
    if fmt != STATE_FORMAT:
        raise CheckpointError(f"train state of format {str(fmt)[:20]}; this version reads format {STATE_FORMAT}",
                              path)
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        shown = step.item() if isinstance(step, torch.Tensor) and step.numel() == 1 else step
        raise CheckpointError(f"train state step must be a whole number >= 0, got {str(shown)[:40]!r}", path)
    planned = state.get("config", {}).get("steps") if isinstance(state.get("config"), dict) else None
    limit = planned if isinstance(planned, int) and not isinstance(planned, bool) else MAX_STATE_STEP
    if step > min(limit, MAX_STATE_STEP):
        raise CheckpointError(f"train state step {step} is past the run's {min(limit, MAX_STATE_STEP)} planned steps "
                              "(corrupt or edited)", path)
    return state


def check_state_matches(state: dict[str, Any], config: TrainConfig, path: Path) -> None:
    """Refuse a config.json changed since ``state`` (train_state.pt at ``path``) was saved in a
    setting that changes the model or its data (anything outside RESUMABLE_FIELDS): resuming would
    silently train another model than the one saved (issue 21: an edited gamma)."""
    saved = state.get("config")
    if not isinstance(saved, dict):
        return  # a state without its config (older runs): nothing to compare
    current = config.to_json()
    changed = sorted(k for k in current if k not in RESUMABLE_FIELDS and k in saved and saved[k] != current[k])
    if changed:
        shown = ", ".join(f"{k} {str(saved[k])[:30]} -> {str(current[k])[:30]}" for k in changed[:4])
        raise CheckpointError(f"config.json differs from the saved training state in {shown}; these cannot change "
                              "on resume (put config.json back, or start a new run with --init-from)",
                              path.parent / CONFIG_FILE)
