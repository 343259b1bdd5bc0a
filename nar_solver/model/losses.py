"""The pieces of the Factor-VAE objective, each a small pure function of tensors.

Conventions (docs/training.md): reconstruction is Bernoulli cross-entropy summed over pixels and
averaged over the batch; KL to N(0, I) is summed over latent dimensions and averaged over the
batch; the discriminator's TC estimate is the batch mean of (logit_joint - logit_permuted).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from nar_solver.model.discriminator import JOINT, PERMUTED


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) of a Bernoulli decoder: BCE-with-logits summed per image, averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="sum") / target.shape[0]


def reconstruction_extra(logits: torch.Tensor, target: torch.Tensor, ink_weight: float = 1.0,
                         scales: int = 1) -> torch.Tensor:
    """What a weighted or multi-scale reconstruction term adds to :func:`reconstruction_loss`.

    - ``ink_weight`` w: ink counts w times, as (w - 1) * sum(target * BCE) per image: a small glyph's
      few ink pixels weigh more against the many background ones;
    - ``scales`` k > 1: for each factor f = 2, 4, ... 2^(k-1), the Bernoulli cross-entropy between the
      f x f average-pooled ink probabilities and the pooled target, times f^2 (each coarse pixel
      stands for f^2 pixels), so a glyph drawn slightly off still gets a gradient towards its place.
    Zero for the defaults (w = 1, k = 1). Summed per image, averaged over the batch.
    """
    logits, target = logits.float(), target.float()
    batch = target.shape[0]
    extra = torch.zeros((), device=logits.device)
    if ink_weight != 1.0:
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        extra = extra + (ink_weight - 1.0) * (target * bce).sum() / batch
    if scales > 1:
        probs = torch.sigmoid(logits)
        for level in range(1, scales):
            f = 2 ** level
            p = F.avg_pool2d(probs, f).clamp(1e-6, 1 - 1e-6)
            t = F.avg_pool2d(target, f)
            extra = extra + f * f * F.binary_cross_entropy(p, t, reduction="sum") / batch
    return extra


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z_j|x) || N(0,1)) per latent dimension, averaged over the batch: shape (z_dim,)."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).mean(dim=0)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) summed over dimensions, averaged over the batch."""
    return kl_per_dim(mu, logvar).sum()


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shuffle each latent column with its own random permutation of the batch.

    The result samples prod_j q(z_j): every column keeps exactly its values, but the pairing
    between columns is broken. (One permutation for all columns would change nothing; shuffling
    inside a row would mix dimensions: both are known bugs.)
    """
    if z.dim() != 2:
        raise ValueError(f"permute_dims expects (batch, z_dim), got shape {tuple(z.shape)}")
    keys = torch.rand(z.shape, device=z.device, generator=generator)
    order = keys.argsort(dim=0)  # an independent uniform permutation per column
    return torch.gather(z, 0, order)


def tc_from_logits(logits_joint: torch.Tensor) -> torch.Tensor:
    """Density-ratio estimate of TC: mean(logit_joint - logit_permuted) on codes of real images.

    May be negative: it is an estimate, and D is imperfect.
    """
    logits_joint = logits_joint.float()
    return (logits_joint[:, JOINT] - logits_joint[:, PERMUTED]).mean()


def discriminator_loss(logits_joint: torch.Tensor, logits_permuted: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """0.5 * [CE(D(z), joint) + CE(D(permute_dims(z')), permuted)] and D's accuracy over both halves."""
    logits_joint, logits_permuted = logits_joint.float(), logits_permuted.float()
    joint_target = torch.full((logits_joint.shape[0],), JOINT, dtype=torch.long, device=logits_joint.device)
    perm_target = torch.full((logits_permuted.shape[0],), PERMUTED, dtype=torch.long, device=logits_permuted.device)
    loss = 0.5 * (F.cross_entropy(logits_joint, joint_target) + F.cross_entropy(logits_permuted, perm_target))
    with torch.no_grad():
        correct = (logits_joint.argmax(1) == JOINT).sum() + (logits_permuted.argmax(1) == PERMUTED).sum()
        accuracy = correct.float() / (logits_joint.shape[0] + logits_permuted.shape[0])
    return loss, accuracy


def _batch_gaussian(z: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (unbiased) covariance of a batch of codes, in float64, with eps on the diagonal."""
    z = z.double()
    if z.shape[0] < 2:
        raise ValueError("a Gaussian fit needs at least 2 codes in the batch")
    mean = z.mean(dim=0)
    centred = z - mean
    cov = centred.T @ centred / (z.shape[0] - 1)
    cov = cov + eps * torch.eye(z.shape[1], dtype=cov.dtype, device=cov.device)
    return mean, cov


def gaussian_tc(z: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """TC of the Gaussian fitted to the batch: KL(N(m, S) || N(m, diag S)) = 0.5 (sum log S_jj - log det S).

    Zero iff the fitted covariance is diagonal; no discriminator needed (``--tc gaussian``, docs/training.md).
    """
    _, cov = _batch_gaussian(z, eps)
    tc = 0.5 * (torch.log(torch.diagonal(cov)).sum() - torch.linalg.slogdet(cov)[1])
    return tc.to(torch.float32)


def gaussian_prior_kl(z: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """KL(N(m, S) || N(0, I)) of the Gaussian fitted to the batch: TC plus each marginal's distance to N(0,1)."""
    mean, cov = _batch_gaussian(z, eps)
    d = z.shape[1]
    kl = 0.5 * (torch.trace(cov) + mean @ mean - d - torch.linalg.slogdet(cov)[1])
    return kl.to(torch.float32)
