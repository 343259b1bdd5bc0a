"""The speed levers of the training step compute the same function as the plain step.

bench/train_speed.py times them; here each is checked against the plain path from the same state,
on the same batches and random draws.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from nar_solver.run.config import TrainConfig
from nar_solver.train.step import FactorVAETrainer

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    """bench/train_speed.py as a module (it holds the levers that were measured and not kept)."""
    spec = importlib.util.spec_from_file_location("train_speed_bench", ROOT / "bench" / "train_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _grads(module):
    return torch.cat([p.grad.flatten() for p in module.parameters()])


@pytest.mark.parametrize("steps", [1, 3])
def test_the_shared_d_pass_gives_the_plain_steps_gradients(steps):
    """The bench's SharedJointPassTrainer (not kept: slower) computes the plain step."""
    config = TrainConfig(data="objects", batch_size=16, device="cpu", d_width=96, precision="fp32",
                         gamma=20.0).resolve()
    shared = _bench().SharedJointPassTrainer(config, torch.device("cpu"))
    plain = FactorVAETrainer(config, torch.device("cpu"))
    plain.vae.load_state_dict(shared.vae.state_dict())
    plain.disc.load_state_dict(shared.disc.state_dict())
    plain.generator.set_state(shared.generator.get_state())
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x1, x2 = (torch.rand(16, 1, 64, 64, generator=gen).round() for _ in range(2))
        stats_shared, stats_plain = shared.step(x1, x2), plain.step(x1, x2)
        torch.testing.assert_close(stats_shared[:5], stats_plain[:5], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(_grads(shared.vae), _grads(plain.vae), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(_grads(shared.disc), _grads(plain.disc), rtol=1e-4, atol=1e-5)
    # Adam's first steps move every weight by ~lr whatever its gradient's size, so a near-zero
    # gradient (D's output bias: the two halves cancel) turns rounding into up to ~lr/10 of a step
    if steps == 1:
        for p, q in zip(list(shared.vae.parameters()) + list(shared.disc.parameters()),
                        list(plain.vae.parameters()) + list(plain.disc.parameters())):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("in_c,out_c,size,bias", [(32, 1, 32, True), (8, 3, 5, True), (4, 2, 7, False)])
def test_the_matrix_form_deconvolution_equals_conv_transpose2d(channels_last, in_c, out_c, size, bias):
    from nar_solver.model.gemm_deconv import GemmConvTranspose2d

    torch.manual_seed(0)
    fast = GemmConvTranspose2d(in_c, out_c, 4, 2, 1)
    if not bias:
        fast.bias = None
    plain = torch.nn.ConvTranspose2d(in_c, out_c, 4, 2, 1, bias=bias)
    plain.load_state_dict(fast.state_dict())
    x = torch.randn(3, in_c, size, size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x_fast, x_plain = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_fast, y_plain = fast(x_fast), plain(x_plain)
    assert y_fast.shape == (3, out_c, 2 * size, 2 * size)
    torch.testing.assert_close(y_fast, y_plain, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(y_plain)
    y_fast.backward(g)
    y_plain.backward(g)
    torch.testing.assert_close(x_fast.grad, x_plain.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast.weight.grad, plain.weight.grad, rtol=1e-4, atol=1e-4)
    if bias:
        torch.testing.assert_close(fast.bias.grad, plain.bias.grad, rtol=1e-4, atol=1e-4)


def test_the_matrix_form_passes_gradcheck():
    from nar_solver.model.gemm_deconv import _Col2ImDeconv

    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_Col2ImDeconv.apply, (x, w, b))


def test_the_decoders_keep_their_parameters_and_fall_back_where_the_matrix_form_does_not_apply():
    from nar_solver.model.gemm_deconv import GemmConvTranspose2d
    from nar_solver.model.vae import FactorVAE

    vae = FactorVAE(10)
    last = vae.decoder.deconvs[-1]
    assert isinstance(last, GemmConvTranspose2d) and isinstance(last, torch.nn.ConvTranspose2d)
    assert set(vae.state_dict()) == set(FactorVAE(10).state_dict())  # checkpoints load as before
    wide = GemmConvTranspose2d(4, 8, 4, 2, 1)  # more output channels than the matrix form takes
    plain = torch.nn.ConvTranspose2d(4, 8, 4, 2, 1)
    plain.load_state_dict(wide.state_dict())
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(wide(x), plain(x))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # autocast: the parent's (bf16) convolution
        assert last(torch.randn(2, 32, 32, 32)).dtype == torch.bfloat16
    with pytest.raises(ValueError):
        GemmConvTranspose2d(4, 1, 3, 1, 1)
