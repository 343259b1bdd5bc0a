"""One Factor-VAE training step, done in the order that avoids the two classic bugs.

1. VAE update: encode batch x1, sample z, decode; loss = recon + beta * KL + gamma * TC, where TC is
   the discriminator's density-ratio estimate on z (D's weights are *detached* for this term, so the
   VAE step neither needs nor leaves gradients in D), or the Gaussian fit of the batch's codes.
2. D update: train D to tell ``z.detach()`` (joint) from the per-dimension permuted codes of a
   second independent batch x2. Detaching means the D loss cannot reach the encoder, and nothing is
   modified in place that a later backward needs.

x2 is encoded *before* the VAE update, by the same encoder weights that coded x1. Encoding it after
the update (as the best-known PyTorch code does) hands D a signal that has nothing to do with
dependence between dimensions: "joint" codes come from the encoder of step t, "permuted" ones from
step t+1. D learns the direction the encoder just moved in, the TC term then pushes the codes further
along it, and the loop feeds itself: the KL grows with no gain in reconstruction (docs/training.md,
"The discriminator's two batches").

With ``tc="none"`` (or gaussian TCs) there is no discriminator and no second batch.
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from torch.func import functional_call

from nar_solver.device import cpu_has_fast_bf16
from nar_solver.model.discriminator import Discriminator
from nar_solver.model.losses import (
    discriminator_loss,
    gaussian_prior_kl,
    gaussian_tc,
    kl_divergence,
    permute_dims,
    reconstruction_extra,
    reconstruction_loss,
    tc_from_logits,
)
from nar_solver.model.vae import FactorVAE
from nar_solver.run.config import TrainConfig

#: What one step reports, in this order (a single device tensor, so logging costs no host sync).
STAT_NAMES = ("loss", "recon", "kl", "tc", "d_loss", "d_acc", "tc_gaussian")


def derived_seed(*key: int) -> int:
    """A 63-bit seed from a tuple of ints (independent streams for ranks and purposes)."""
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for plain fp32.

    auto = bf16 autocast on CUDA, and on CPUs with native bf16 dot products (AVX512-BF16 or AMX),
    where bench/train_speed.py measured it ~1.6x faster with losses equal to fp32 within seed noise;
    fp32 elsewhere (emulated bf16 is slower than fp32). Weights and optimiser state stay fp32.
    """
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp32":
        return None
    if device.type == "cuda":
        return torch.bfloat16
    return torch.bfloat16 if device.type == "cpu" and cpu_has_fast_bf16() else None


def linear_ramp(weight: float, warmup: int, step: int) -> float:
    """``weight`` scaled by (step + 1) / warmup up to 1; the full weight when ``warmup`` is 0."""
    return weight if warmup <= 0 else weight * min(1.0, (step + 1) / warmup)


class FactorVAETrainer:
    """Models, optimisers and the random generator of one process; ``step(x1, x2)`` trains once."""

    def __init__(self, config: TrainConfig, device: torch.device, rank: int = 0, world_size: int = 1):
        self.config, self.device = config, device
        self.rank, self.world_size = rank, world_size
        # identical initial weights on every rank (DDP also broadcasts rank 0's)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derived_seed(config.seed, 0x1A17))
            self.vae = FactorVAE(config.z_dim, init=config.init, architecture=config.architecture)
            self.disc = (Discriminator(config.z_dim, config.d_width, config.d_hidden_layers)
                         if config.tc == "discriminator" else None)
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        self.vae.to(device=device, memory_format=self.memory_format)
        fused = {"fused": True} if device.type in ("cpu", "cuda") else {}
        self.opt_vae = torch.optim.Adam(self.vae.parameters(), lr=config.lr, betas=config.adam_betas, **fused)
        self.opt_disc = None
        if self.disc is not None:
            self.disc.to(device)
            self.opt_disc = torch.optim.Adam(self.disc.parameters(), lr=config.lr_d, betas=config.adam_betas_d,
                                             **fused)
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(derived_seed(config.seed, rank, 0x6E7))
        self.amp_dtype = resolve_precision(config.precision, device)
        # the modules the training passes go through: DDP wrappers when distributed, compiled if asked
        self.vae_train: torch.nn.Module = self.vae
        self.disc_train: torch.nn.Module | None = self.disc
        if world_size > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [device.index] if device.type == "cuda" else None
            self.vae_train = DDP(self.vae, device_ids=ids)
            if self.disc is not None:
                self.disc_train = DDP(self.disc, device_ids=ids)
        if config.compile:
            self.vae_train = torch.compile(self.vae_train)
            if self.disc_train is not None:
                self.disc_train = torch.compile(self.disc_train)

    @property
    def uses_second_batch(self) -> bool:
        return self.disc is not None

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def prepare(self, ink: torch.Tensor) -> torch.Tensor:
        return ink.contiguous(memory_format=self.memory_format)

    def kl_weight(self, step: int) -> float:
        """beta, ramped linearly from 0 over the first ``kl_warmup`` steps (a cure for posterior collapse)."""
        return linear_ramp(self.config.beta, self.config.kl_warmup, step)

    def tc_weight(self, step: int) -> float:
        """gamma, ramped linearly from 0 over the first ``tc_warmup`` steps.

        Sparse images (one small object on a blank board) start on a plateau where the decoder draws
        the mean image; a strong TC penalty from the first step keeps the codes moving and the run on
        it (measured on dSprites: gamma 35 at lr 4e-4 still there after 3000 steps, gamma 0 leaves it
        near step 650). The ramp lets the VAE find the object before the penalty shapes the code.
        """
        return linear_ramp(self.config.gamma, self.config.tc_warmup, step)

    def step(self, x1: torch.Tensor, x2: torch.Tensor | None = None, step: int | None = None) -> torch.Tensor:
        """One VAE update then one D update; returns the detached stats (see STAT_NAMES).

        ``step`` (0-based) only matters with a KL or TC warm-up; None means "after the warm-ups".
        """
        z2 = None
        if self.disc is not None:
            if x2 is None:
                raise ValueError("the discriminator step needs a second batch x2")
            z2 = self.second_batch_codes(x2)  # before the update: the same encoder as x1's codes
        stats, z1 = self.vae_update(x1, step)
        if z2 is not None:
            stats[4:6] = self.disc_update(z1, z2)
        return stats

    def vae_update(self, x1: torch.Tensor, step: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The VAE half of a step: (stats with d_loss and d_acc 0, the detached fp32 codes of x1)."""
        cfg = self.config
        beta = cfg.beta if step is None else self.kl_weight(step)
        gamma = cfg.gamma if step is None else self.tc_weight(step)
        self.vae.train()
        with self.autocast():
            logits, mu, logvar, z = self.vae_train(x1, generator=self.generator)
            recon = reconstruction_loss(logits, x1)
            extra = (reconstruction_extra(logits, x1, cfg.ink_weight, cfg.recon_scales)
                     if cfg.ink_weight != 1.0 or cfg.recon_scales > 1 else None)
            kl = kl_divergence(mu, logvar)
            z32 = z.float()
            if self.disc is not None:
                frozen = {name: p.detach() for name, p in self.disc.named_parameters()}
                tc = tc_from_logits(functional_call(self.disc, frozen, (z,)))
            elif cfg.tc == "gaussian":
                tc = gaussian_tc(z32)
            elif cfg.tc == "gaussian-prior":
                tc = gaussian_prior_kl(z32)
            else:
                tc = torch.zeros((), device=self.device)
        loss = recon + beta * kl + gamma * tc
        if extra is not None:  # "recon" stays the plain Bernoulli term, comparable between runs
            loss = loss + extra
        self.opt_vae.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_vae.step()

        z1 = z32.detach()
        with torch.no_grad():
            tc_gauss = gaussian_tc(z1) if z1.shape[0] > 1 else torch.zeros((), device=self.device)
        zero = torch.zeros((), device=self.device)  # d_loss, d_acc: null in losses.jsonl without a D
        stats = torch.stack([loss.detach(), recon.detach(), kl.detach(), tc.detach(), zero, zero, tc_gauss])
        return stats.float(), z1

    def disc_update(self, z_joint: torch.Tensor, z_other: torch.Tensor) -> torch.Tensor:
        """The D half of a step: train D to tell ``z_joint`` from ``z_other`` permuted per dimension.

        Both must be codes of the same encoder weights (see the module's docstring). Returns
        (d_loss, d_acc).
        """
        codes = torch.cat([z_joint, permute_dims(z_other, self.generator)])
        with self.autocast():
            d_logits = self.disc_train(codes)
        d_loss, d_acc = discriminator_loss(d_logits[: z_joint.shape[0]], d_logits[z_joint.shape[0]:])
        self.opt_disc.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_disc.step()
        return torch.stack([d_loss.detach(), d_acc.detach()]).float()

    @torch.no_grad()
    def second_batch_codes(self, x2: torch.Tensor) -> torch.Tensor:
        """Sampled codes (fp32) of the discriminator's second batch, by the encoder as it is now."""
        with self.autocast():
            mu2, logvar2 = self.vae.encode(x2)
        return FactorVAE.reparameterize(mu2.float(), logvar2.float(), self.generator)

    # -- latent range ---------------------------------------------------------------------------

    @torch.no_grad()
    def latent_means(self, ink: torch.Tensor, chunk: int = 512) -> torch.Tensor:
        """Encoder means (fp32) of a set of ink images, in chunks."""
        self.vae.eval()
        out = []
        for start in range(0, ink.shape[0], chunk):
            mu, _ = self.vae.encode(self.prepare(ink[start:start + chunk].to(self.device)))
            out.append(mu.float())
        self.vae.train()
        return torch.cat(out)

    # -- state ------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors and containers only (loads with ``torch.load(weights_only=True)``)."""
        return {
            "vae": self.vae.state_dict(),
            "disc": self.disc.state_dict() if self.disc is not None else {},
            "opt_vae": self.opt_vae.state_dict(),
            "opt_disc": self.opt_disc.state_dict() if self.opt_disc is not None else {},
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any], generator_state: torch.Tensor | None = None) -> None:
        self.vae.load_state_dict(state["vae"])
        if self.disc is not None:
            self.disc.load_state_dict(state["disc"])
            self.opt_disc.load_state_dict(state["opt_disc"])
        self.opt_vae.load_state_dict(state["opt_vae"])
        self.generator.set_state(generator_state if generator_state is not None else state["generator"])
