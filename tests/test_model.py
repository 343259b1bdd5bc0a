"""The Factor-VAE networks and loss pieces, checked against values computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nar_solver.errors import NarError
from nar_solver.model.discriminator import JOINT, PERMUTED, Discriminator
from nar_solver.model.images import ink_to_grey, to_ink
from nar_solver.model.losses import (
    discriminator_loss,
    gaussian_prior_kl,
    gaussian_tc,
    kl_divergence,
    kl_per_dim,
    permute_dims,
    reconstruction_loss,
    tc_from_logits,
)
from nar_solver.model.vae import FactorVAE
from nar_solver.train.step import FactorVAETrainer
from train_helpers import tiny_config


def test_shapes_and_documented_architecture():
    vae = FactorVAE(z_dim=7)
    x = torch.rand(3, 1, 64, 64)
    logits, mu, logvar, z = vae(x)
    assert logits.shape == (3, 1, 64, 64) and mu.shape == logvar.shape == z.shape == (3, 7)
    assert vae.decode(z).shape == (3, 1, 64, 64)
    convs = [m for m in vae.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 32, 64, 64]
    assert all(c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    deconvs = [m for m in vae.decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in deconvs] == [64, 32, 32, 1]
    linears = [m for m in Discriminator(7).modules() if isinstance(m, torch.nn.Linear)]
    assert [l.out_features for l in linears] == [1000] * 5 + [2] and linears[0].in_features == 7


def test_reference_init_is_normal_002_with_zero_bias():
    torch.manual_seed(0)
    weights = torch.cat([m.weight.flatten() for m in Discriminator(10).modules() if isinstance(m, torch.nn.Linear)])
    assert abs(weights.std().item() - 0.02) < 0.001 and abs(weights.mean().item()) < 0.001
    reference = FactorVAE(init="reference")
    assert all((m.bias == 0).all() for m in reference.modules() if isinstance(m, torch.nn.Conv2d))
    conv_weights = torch.cat([m.weight.flatten() for m in reference.modules() if isinstance(m, torch.nn.Conv2d)])
    assert abs(conv_weights.std().item() - 0.02) < 0.002


def test_default_init_starts_with_a_narrow_posterior():
    vae = FactorVAE(z_dim=4)
    _, logvar = vae.encode(torch.rand(2, 1, 64, 64))
    assert (logvar - (-6.0)).abs().max() < 1.0


def test_ink_conversion_round_trip():
    grey = np.array([[[0, 255], [128, 51]]], dtype=np.uint8).repeat(32, 1).repeat(32, 2)
    ink = to_ink(grey)
    assert ink.shape == (1, 1, 64, 64) and ink.dtype == torch.float32
    assert ink[0, 0, 0, 0] == 1.0 and ink[0, 0, 0, 40] == 0.0
    assert ink[0, 0, 40, 0].item() == pytest.approx(1 - 128 / 255)
    assert np.array_equal(ink_to_grey(ink), grey)
    assert np.array_equal(ink_to_grey(to_ink(torch.from_numpy(grey)[:, None])), grey)
    with pytest.raises(NarError):
        to_ink(np.zeros((2, 32, 32), dtype=np.uint8))
    with pytest.raises(NarError):
        to_ink(np.zeros((2, 64, 64), dtype=np.float32))


def test_reconstruction_loss_by_hand():
    logits = torch.tensor([[0.0, 2.0], [-1.0, 3.0]])
    target = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
    first = softplus(0.0) - 0.0 + softplus(2.0)              # -log sigmoid(0) - log(1 - sigmoid(2))
    second = softplus(-1.0) + softplus(3.0) - 3.0            # -log(1 - sigmoid(-1)) - log sigmoid(3)
    assert reconstruction_loss(logits, target).item() == pytest.approx((first + second) / 2, rel=1e-6)
    blank = torch.zeros(2, 1, 64, 64)
    assert reconstruction_loss(blank, blank).item() == pytest.approx(4096 * math.log(2), rel=1e-6)


def test_kl_by_hand():
    mu = torch.tensor([[1.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(2.0)]])
    expected = [0.5 * (1 + 1 - 0 - 1), 0.5 * (0 + 2 - math.log(2) - 1)]
    assert kl_per_dim(mu, logvar).tolist() == pytest.approx(expected)
    assert kl_divergence(mu, logvar).item() == pytest.approx(sum(expected))
    # averaged over the batch, summed over dimensions
    assert kl_divergence(torch.cat([mu, torch.zeros(1, 2)]), torch.zeros(2, 2)).item() == pytest.approx(0.25)


def test_tc_estimate_and_discriminator_loss_by_hand():
    assert tc_from_logits(torch.tensor([[2.0, 1.0], [0.0, 3.0]])).item() == pytest.approx(-1.0)
    joint = torch.tensor([[1.0, 0.0], [0.0, 0.0]])       # second sample: a tie, argmax picks index 0 (joint)
    permuted = torch.tensor([[0.0, math.log(3.0)], [2.0, 0.0]])
    ce_joint = (math.log1p(math.exp(-1.0)) + math.log(2.0)) / 2
    ce_perm = (math.log(4.0 / 3.0) + math.log1p(math.exp(2.0))) / 2
    loss, accuracy = discriminator_loss(joint, permuted)
    assert loss.item() == pytest.approx(0.5 * (ce_joint + ce_perm), rel=1e-6)
    assert accuracy.item() == pytest.approx(3 / 4)  # the second permuted code is classified joint
    assert (JOINT, PERMUTED) == (0, 1)


def test_permute_dims_keeps_each_column_and_breaks_pairing():
    g = torch.Generator().manual_seed(0)
    z = torch.arange(64 * 5, dtype=torch.float32).view(64, 5)
    out = permute_dims(z, g)
    for j in range(5):
        assert torch.equal(out[:, j].sort().values, z[:, j])  # every column keeps exactly its values
    # independent permutations per column: the row pairing is broken, columns differ in order
    orders = [tuple((out[:, j] - j).div(5).long().tolist()) for j in range(5)]
    assert len(set(orders)) == 5
    assert not torch.equal(out, z)
    # and it is reproducible from the generator
    assert torch.equal(permute_dims(z, torch.Generator().manual_seed(0)), out)
    with pytest.raises(ValueError):
        permute_dims(torch.zeros(4), g)


def test_gaussian_tc_and_prior_kl_by_hand():
    independent = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])  # sample cov = 4/3 I
    assert gaussian_tc(independent, eps=0.0).item() == pytest.approx(0.0, abs=1e-6)
    assert gaussian_prior_kl(independent, eps=0.0).item() == pytest.approx(0.5 * (8 / 3 - 2 - 2 * math.log(4 / 3)))
    rng = np.random.default_rng(0)
    z = rng.normal(size=(50, 3)) @ np.array([[1.0, 0.8, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.0]])
    cov = np.cov(z.T)
    expected = 0.5 * (np.log(np.diag(cov)).sum() - np.log(np.linalg.det(cov)))
    assert gaussian_tc(torch.tensor(z, dtype=torch.float32), eps=0.0).item() == pytest.approx(expected, rel=1e-4)
    mean = z.mean(0)
    expected_prior = 0.5 * (np.trace(cov) + mean @ mean - 3 - np.log(np.linalg.det(cov)))
    assert gaussian_prior_kl(torch.tensor(z, dtype=torch.float32), eps=0.0).item() == pytest.approx(expected_prior,
                                                                                                    rel=1e-4)


def _small_trainer(**overrides) -> FactorVAETrainer:
    return FactorVAETrainer(tiny_config(**overrides), torch.device("cpu"))


def test_discriminator_update_leaves_the_vae_untouched():
    """The D step must not write gradients into the encoder nor change VAE weights; the VAE step
    must not leave gradients in D."""
    trainer = _small_trainer(gamma=10.0)
    x1, x2 = torch.rand(8, 1, 64, 64).round(), torch.rand(8, 1, 64, 64).round()
    seen = {}
    vae_step, disc_step = trainer.opt_vae.step, trainer.opt_disc.step

    def after_vae(*a, **k):
        out = vae_step(*a, **k)
        seen["enc_grads"] = [p.grad.clone() for p in trainer.vae.encoder.parameters()]
        seen["vae_weights"] = [p.detach().clone() for p in trainer.vae.parameters()]
        seen["disc_grads_in_vae_step"] = [p.grad for p in trainer.disc.parameters()]
        seen["disc_weights"] = [p.detach().clone() for p in trainer.disc.parameters()]
        return out

    def before_disc(*a, **k):
        # every weight matrix is trained by the D loss (an output bias may get an exactly balanced zero)
        seen["disc_has_grads"] = all(p.grad is not None and p.grad.abs().sum() > 0
                                     for name, p in trainer.disc.named_parameters() if name.endswith("weight"))
        return disc_step(*a, **k)

    trainer.opt_vae.step, trainer.opt_disc.step = after_vae, before_disc
    trainer.step(x1, x2)
    assert all(g is None for g in seen["disc_grads_in_vae_step"])
    assert all(g.abs().sum() > 0 for g in seen["enc_grads"])  # the VAE step did train the encoder, TC included
    for before, param in zip(seen["enc_grads"], trainer.vae.encoder.parameters()):
        assert torch.equal(before, param.grad)  # D's backward added nothing to the encoder's gradients
    for before, param in zip(seen["vae_weights"], trainer.vae.parameters()):
        assert torch.equal(before, param)
    assert seen["disc_has_grads"]
    assert any(not torch.equal(b, p) for b, p in zip(seen["disc_weights"], trainer.disc.parameters()))


def test_tc_term_reaches_the_encoder_only_through_the_codes():
    """gamma changes the VAE update (TC gradient flows through z), and plain VAE (gamma 0) differs."""
    x1, x2 = torch.rand(8, 1, 64, 64).round(), torch.rand(8, 1, 64, 64).round()
    grads = {}
    for gamma in (0.0, 50.0):
        trainer = _small_trainer(gamma=gamma)
        trainer.step(x1, x2)
        grads[gamma] = torch.cat([p.grad.flatten() for p in trainer.vae.encoder.parameters()])
    assert not torch.allclose(grads[0.0], grads[50.0])


@pytest.mark.parametrize("tc", ["gaussian", "gaussian-prior", "none"])
def test_discriminator_free_penalties_train(tc):
    trainer = _small_trainer(tc=tc, batch_size=16)
    assert trainer.disc is None and not trainer.uses_second_batch
    stats = trainer.step(torch.rand(16, 1, 64, 64).round())
    assert torch.isfinite(stats).all()
    assert (stats[3] == 0) == (tc == "none")


def test_discriminator_compares_codes_of_one_encoder(monkeypatch):
    """D's "joint" and "permuted" codes come from the same encoder weights: the second batch is coded
    before the VAE update. (Coded after it, D learns the encoder's last move instead of the dependence
    between dimensions, and the TC term then pushes the KL up: docs/training.md.)"""
    import copy

    monkeypatch.setattr(FactorVAE, "reparameterize", staticmethod(lambda mu, logvar, generator=None: mu))
    trainer = _small_trainer(gamma=10.0, lr=1e-2, precision="fp32", channels_last=False)
    before = copy.deepcopy(trainer.vae)
    x1, x2 = torch.rand(8, 1, 64, 64).round(), torch.rand(8, 1, 64, 64).round()
    seen = {}

    def keep_d_inputs(module, args, out):
        seen["codes"] = args[0].detach()  # the D update is the only call of disc_train

    trainer.disc_train.register_forward_hook(keep_d_inputs)
    trainer.step(x1, x2)
    with torch.no_grad():
        old_codes, new_codes = before.encode(x2)[0], trainer.vae.encode(x2)[0]
    permuted = seen["codes"][8:]
    assert not torch.allclose(old_codes.sort(0).values, new_codes.sort(0).values, atol=1e-3)  # the update moved them
    assert torch.allclose(permuted.sort(0).values, old_codes.sort(0).values, atol=1e-5)
    assert torch.allclose(seen["codes"][:8], before.encode(x1)[0].detach(), atol=1e-5)


def test_step_equals_a_textbook_factor_vae_step(monkeypatch):
    """With the random draws fixed, one trainer step = the paper's algorithm written out plainly."""
    import copy

    import torch.nn.functional as F

    import nar_solver.train.step as step_module

    torch.manual_seed(3)
    x1, x2 = torch.rand(8, 1, 64, 64).round(), torch.rand(8, 1, 64, 64).round()
    eps = [torch.randn(8, 10), torch.randn(8, 10)]
    order = torch.stack([torch.randperm(8) for _ in range(10)], dim=1)
    draws = {"n": 0}

    def fixed_reparameterize(mu, logvar, generator=None):
        e = eps[draws["n"] % 2]
        draws["n"] += 1
        return mu + e * torch.exp(0.5 * logvar)

    monkeypatch.setattr(FactorVAE, "reparameterize", staticmethod(fixed_reparameterize))
    monkeypatch.setattr(step_module, "permute_dims", lambda z, generator=None: torch.gather(z, 0, order))
    trainer = _small_trainer(gamma=6.4, beta=2.0, precision="fp32", channels_last=False)
    vae, disc = copy.deepcopy(trainer.vae), copy.deepcopy(trainer.disc)
    opt_vae = torch.optim.Adam(vae.parameters(), lr=1e-4, betas=(0.9, 0.999))
    opt_disc = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.5, 0.9))

    stats = trainer.step(x1, x2)

    draws["n"] = 0
    with torch.no_grad():  # the second batch is coded first, by the encoder that codes x1 (not the updated one)
        mu2, logvar2 = vae.encode(x2)
        z2 = mu2 + eps[0] * torch.exp(0.5 * logvar2)
    mu, logvar = vae.encode(x1)
    z = mu + eps[1] * torch.exp(0.5 * logvar)
    draws["n"] = 2
    recon = F.binary_cross_entropy_with_logits(vae.decode(z), x1, reduction="sum") / 8
    kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(1).mean()
    d_z = disc(z)
    tc = (d_z[:, 0] - d_z[:, 1]).mean()
    opt_vae.zero_grad()
    (recon + 2.0 * kl + 6.4 * tc).backward()
    opt_vae.step()
    z_perm = torch.gather(z2, 0, order)
    d_loss = 0.5 * (F.cross_entropy(disc(z.detach()), torch.zeros(8, dtype=torch.long))
                    + F.cross_entropy(disc(z_perm), torch.ones(8, dtype=torch.long)))
    opt_disc.zero_grad()
    d_loss.backward()
    opt_disc.step()

    assert stats[1:5].tolist() == pytest.approx([recon.item(), kl.item(), tc.item(), d_loss.item()], rel=1e-5)
    # gradients agree (compared before Adam, whose first step maps any nonzero gradient to +-lr)
    for mine, theirs in [*zip(trainer.vae.parameters(), vae.parameters()),
                         *zip(trainer.disc.parameters(), disc.parameters())]:
        assert torch.allclose(mine.grad, theirs.grad, rtol=1e-4, atol=1e-6)
        assert torch.allclose(mine, theirs, atol=2.5e-4)
