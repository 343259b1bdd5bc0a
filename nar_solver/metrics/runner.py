"""Every disentanglement metric on one encoder and one factor world, or on a trained checkpoint.

One random sample of scenes is encoded once and shared: it gives the global variances the
FactorVAE score and the intervention score normalise by, MIG's, Modularity's and the unsupervised
scores' sample, and the train/test split of DCI, SAP and Explicitness. Each metric that needs
further scenes (FactorVAE, beta-VAE, SIS) draws them from its own child of the seed, so a metric's
result does not depend on which other metrics ran.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from nar_solver.data import WORLD_NAMES, make_world
from nar_solver.data.factors import FactorWorld
from nar_solver.errors import NarError
from nar_solver.metrics.betavae_score import BetaVAEResult, BetaVAESettings, betavae_score
from nar_solver.metrics.dci import DCIResult, DCISettings, dci
from nar_solver.metrics.factorvae_score import FactorVAEResult, FactorVAESettings, factorvae_score
from nar_solver.metrics.intervention import InterventionResult, InterventionSettings, intervention_score
from nar_solver.metrics.mig import MIGResult, MIGSettings, mig
from nar_solver.metrics.modularity import ModularityResult, modularity_explicitness
from nar_solver.metrics.sampling import Encoder, sample_codes
from nar_solver.metrics.sap import SAPResult, sap
from nar_solver.metrics.unsupervised import UnsupervisedResult, unsupervised_scores

if TYPE_CHECKING:  # the metrics themselves never need torch; only a checkpoint's config is typed here
    from nar_solver.run.config import TrainConfig

#: Bumped whenever a report's numbers change meaning for the same checkpoint and settings. 2: the
#: objects world renders with nuisance (docs/metrics.md, "The worlds"), and the beta-VAE score, SAP,
#: Modularity, Explicitness and the unsupervised scores joined the suite. Cached reports of another
#: version are stale (bench/disentanglement_table.py names its cache files with it).
REPORT_VERSION = 2


@dataclass(frozen=True)
class DisentanglementSettings:
    """Sample sizes of every metric. :meth:`full` is the reference protocol, :meth:`fast` a smoke test."""

    factorvae: FactorVAESettings = field(default_factory=FactorVAESettings)
    mig: MIGSettings = field(default_factory=MIGSettings)
    dci: DCISettings = field(default_factory=DCISettings)  # also SAP's and Explicitness's split
    intervention: InterventionSettings = field(default_factory=InterventionSettings)
    betavae: BetaVAESettings = field(default_factory=BetaVAESettings)
    #: The preset these sizes come from (printed in the table title and written to the report), or
    #: "custom" for :meth:`sized` without one.
    name: str = "custom"

    @classmethod
    def full(cls) -> "DisentanglementSettings":
        """The reference protocol (docs/metrics.md): 10,000 + 5,000 votes of 64 images (pairs for the
        beta-VAE score), 10,000-sample MIG, DCI on 10,000 / 5,000 with 100 trees (about three million
        images encoded in all)."""
        return cls(name="full")

    @classmethod
    def standard(cls) -> "DisentanglementSettings":
        """A tenth of the votes of :meth:`full` (1,000 + 500) and DCI with 50 trees on 5,000 / 2,500:
        about 320,000 images, affordable on a CPU; what the README table uses."""
        return cls.sized(10_000, (1_000, 500), 64, (5_000, 2_500, 50), (1_000, 32, 64), name="standard")

    @classmethod
    def fast(cls) -> "DisentanglementSettings":
        """Seconds, for smoke tests: noisy numbers, never for reporting."""
        return cls.sized(1_000, (100, 50), 32, (500, 250, 5), (100, 8, 16), name="fast")

    @classmethod
    def sized(cls, samples: int, votes: tuple[int, int], batch: int, dci: tuple[int, int, int],
              sis: tuple[int, int, int], name: str = "custom") -> "DisentanglementSettings":
        """Every metric at given sizes: ``samples`` random scenes (variances, MIG), FactorVAE and
        beta-VAE ``votes`` (train, eval) of ``batch`` images or pairs, DCI (train, test, trees; also
        SAP's and Explicitness's split), SIS (pairs, groups, group size)."""
        return cls(FactorVAESettings(variance_samples=samples, batch_size=batch, train_votes=votes[0],
                                     eval_votes=votes[1]),
                   MIGSettings(samples=samples), DCISettings(*dci), InterventionSettings(samples, *sis),
                   BetaVAESettings(batch_size=batch, train_votes=votes[0], eval_votes=votes[1]), name)

    @classmethod
    def preset(cls, name: str) -> "DisentanglementSettings":
        presets = {"full": cls.full, "standard": cls.standard, "fast": cls.fast}
        if name not in presets:
            raise NarError(f"unknown metric preset {name!r}; choose one of {', '.join(presets)}")
        return presets[name]()


@dataclass
class DisentanglementReport:
    world: str
    factor_names: list[str]
    factor_sizes: list[int]
    code_dim: int
    seed: int
    settings: dict
    factorvae: FactorVAEResult
    mig: MIGResult
    dci: DCIResult
    intervention: InterventionResult
    betavae: BetaVAEResult
    sap: SAPResult
    modularity: ModularityResult  # Modularity and Explicitness (Ridgeway & Mozer 2018)
    unsupervised: UnsupervisedResult
    seconds: float
    preset: str = "custom"
    version: int = REPORT_VERSION
    run: dict = field(default_factory=dict)  # what was measured (checkpoint path, step, config)

    def summary(self) -> dict[str, float]:
        """The headline numbers: each supervised score in [0, 1] (higher is better); the two
        unsupervised ones (``UNSUPERVISED_KEYS``) in nats, lower is better."""
        return {
            "factorvae_score": self.factorvae.score,
            "betavae_score": self.betavae.score,
            "mig": self.mig.score,
            "sap": self.sap.score,
            "dci_disentanglement": self.dci.disentanglement,
            "dci_completeness": self.dci.completeness,
            "dci_informativeness": self.dci.informativeness,
            "modularity": self.modularity.modularity,
            "explicitness": self.modularity.explicitness,
            "sis": self.intervention.score,
            "gaussian_total_correlation": self.unsupervised.gaussian_total_correlation,
            "mutual_info_score": self.unsupervised.mutual_info_score,
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-safe (NaN, for a factor a metric cannot score, becomes null)."""
        return _json_safe({"summary": self.summary(), **asdict(self)})


#: Summary keys that are unbounded and lower-is-better (nats), unlike the rest.
UNSUPERVISED_KEYS = ("gaussian_total_correlation", "mutual_info_score")


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def evaluate_disentanglement(
    encode: Encoder,
    world: FactorWorld,
    seed: int = 0,
    settings: DisentanglementSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> DisentanglementReport:
    """Every metric of the suite (docs/metrics.md) of ``encode`` on ``world``."""
    settings = settings or DisentanglementSettings.full()
    say = progress or (lambda message: None)
    started = time.perf_counter()
    # spawn(4)[:3] equals spawn(3): adding the beta-VAE stream left the older metrics' draws unchanged.
    pool_rng, fvae_rng, sis_rng, betavae_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))

    n_global = max(settings.factorvae.variance_samples, settings.mig.samples, settings.dci.train_samples,
                   settings.intervention.variance_samples)
    say(f"encoding {n_global + settings.dci.test_samples} random scenes")
    factors, codes = sample_codes(encode, world, pool_rng, n_global + settings.dci.test_samples)
    train_factors, train_codes = factors[:n_global], codes[:n_global]

    say("FactorVAE score")
    fvae = factorvae_score(encode, world, fvae_rng, settings.factorvae,
                           global_codes=train_codes[: settings.factorvae.variance_samples])
    say("beta-VAE score")
    betavae = betavae_score(encode, world, betavae_rng, settings.betavae)
    say("MIG")
    mig_codes, mig_factors = train_codes[: settings.mig.samples], train_factors[: settings.mig.samples]
    mig_result = mig(mig_codes, mig_factors, settings.mig.bins)
    say("DCI")
    n_train = settings.dci.train_samples
    split = (train_codes[:n_train], train_factors[:n_train], codes[n_global:], factors[n_global:])
    dci_result = dci(*split, settings.dci, seed=seed)
    say("SAP")
    sap_result = sap(*split, categorical=tuple(world.categorical))
    say("Modularity and Explicitness")
    # Modularity from MIG's mutual-information matrix (same sample, same 20 bins); Explicitness on DCI's split.
    modularity = modularity_explicitness(*split, np.asarray(mig_result.mutual_information))
    say("unsupervised scores")
    unsupervised = unsupervised_scores(mig_codes, settings.mig.bins)
    say("Sobol intervention score")
    sis = intervention_score(encode, world, sis_rng, settings.intervention,
                             global_codes=train_codes[: settings.intervention.variance_samples])
    return DisentanglementReport(
        world=world.name,
        factor_names=list(world.factor_names),
        factor_sizes=list(world.factor_sizes),
        code_dim=int(codes.shape[1]),
        seed=seed,
        settings=asdict(settings),
        factorvae=fvae,
        mig=mig_result,
        dci=dci_result,
        intervention=sis,
        betavae=betavae,
        sap=sap_result,
        modularity=modularity,
        unsupervised=unsupervised,
        seconds=time.perf_counter() - started,
        preset=settings.name,
    )


# ----------------------------------------------------------------------------------------------
# Trained checkpoints


def model_encoder(vae, device, batch_size: int = 1024) -> Encoder:
    """The posterior means of a VAE as an :data:`Encoder` (uint8 images -> numpy (N, z_dim))."""
    import torch

    from nar_solver.model.images import to_ink

    vae.eval()

    def encode(images: np.ndarray) -> np.ndarray:
        parts = []
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                mu, _ = vae.encode(to_ink(images[start : start + batch_size], device))
                parts.append(mu.float().cpu().numpy())
        return np.concatenate(parts, axis=0)

    return encode


def default_world_for(config: TrainConfig) -> str:
    """The world a checkpoint is measured on by default: the one it was trained on, else objects."""
    return config.data if config.data in WORLD_NAMES else "objects"


def evaluate_checkpoint(
    run_dir: str | Path,
    data: str | None = None,
    seed: int = 0,
    settings: DisentanglementSettings | None = None,
    device: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> DisentanglementReport:
    """Load a run folder's VAE and measure it on ``data`` (default: its training world)."""
    from nar_solver.device import resolve_device
    from nar_solver.run.checkpoint import load_model
    from nar_solver.seeding import seed_everything

    seed_everything(seed)
    torch_device = resolve_device(device)
    loaded = load_model(run_dir, device=torch_device)
    world_name = data or default_world_for(loaded.config)
    world = make_world(world_name)
    report = evaluate_disentanglement(model_encoder(loaded.vae, torch_device), world, seed, settings, progress)
    config = loaded.config
    report.run = {"run_dir": str(Path(run_dir)), "step": loaded.step, "trained_on": config.data, "tc": config.tc,
                  "gamma": config.gamma, "beta": config.beta, "z_dim": config.z_dim, "device": str(torch_device)}
    return report
