"""Training-step speed: our trainer against a plain reference loop, in one process, interleaved.

The reference is written in the style of the popular PyTorch Factor-VAE code (same networks and
initialisation): a Dataset/DataLoader of float images returning two images per item, per-step
``.to(device)`` copies, default Adam, fp32, the second batch encoded with autograd recording, D's
weights receiving gradients in the VAE step, and a per-column ``randperm`` loop in permute_dims.
Its step order is the corrected one (VAE update, then D on detached codes), so both compute the
same objective. Our trainer is ``nar_solver.train.step.FactorVAETrainer``.

Every configuration steps in turn (A B C ... A B C ..., ``--rounds`` rounds of ``--steps`` steps),
so load from other processes hits all of them alike. Reported per configuration: the median
ms/step over rounds and its range, and the speed-up over the reference as the median [range] of
the per-round ratios. ``images/s`` counts both batches (2 x batch per step). GFLOP/s uses the
FLOPs torch's FlopCounterMode counts for one step (convolutions and matmuls, forward and
backward), shown against a matmul peak measured in the same rounds (fp32 1024^3 sgemm at the same
thread count, best of 3 per round, median over rounds).

The levers (each row switches one off, or on, against our default):
- shared D pass (measured, not kept): D's pass over z in the VAE update also serves D's own
  update (one D forward of a batch less per step, same gradients: tests/test_train_speed.py);
- fused Adam: one kernel per parameter group (against foreach and PyTorch's default for-loop);
- channels_last: the oneDNN-friendly NHWC layout for the convolutions;
- matrix-form last deconv: the decoder's 1-channel output layer as one matmul plus col2im
  (nar_solver/model/gemm_deconv.py), where oneDNN's kernel runs at a tenth of its matmul speed;
- bf16 autocast: only where the CPU has native bf16 (AVX512-BF16 or AMX), or with --bf16;
- torch.compile: with --compile (minutes of compilation on 2 cores).
"plain fp32" is our step with every lever off: the equality check's baseline.

Also measured: the share of the convolutions in each loop's step (torch.profiler, one step):
the two loops run the same convolution kernels, so reference-ms / our-conv-ms bounds any gain
from changes outside them; the fixed per-step cost (a batch-4 step); images/s at a larger batch
(--big-batch); and, with --architectures, our default step with each spatial broadcast decoder.

The equality check trains the reference and ours from the same initial weights on the same
batches, two random seeds each, and compares the last window's losses; early Factor-VAE training
is chaotic, so the spread between seeds of one loop is the noise the loops must agree within.

    python bench/train_speed.py                          # speed + equality check (~15 min on 2 loaded cores)
    python bench/train_speed.py --skip-equal --threads 2
    python bench/train_speed.py --skip-equal --no-levers --architectures broadcast16,broadcast32,broadcast64
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from nar_solver.data import ObjectsSource
from nar_solver.data.stream import BatchStream
from nar_solver.device import cpu_has_fast_bf16
from nar_solver.model.discriminator import Discriminator
from nar_solver.model.gemm_deconv import GemmConvTranspose2d
from nar_solver.model.images import to_ink
from nar_solver.model.losses import discriminator_loss, kl_divergence, permute_dims, reconstruction_loss, tc_from_logits
from nar_solver.model.vae import ARCHITECTURE, ARCHITECTURES, FactorVAE
from nar_solver.run.config import TrainConfig
from nar_solver.train.step import FactorVAETrainer

DEFAULT = "ours (default settings)"
PLAIN = "ours, plain fp32 (no lever)"
CONV_OPS = ("aten::convolution_backward", "aten::mkldnn_convolution", "aten::_convolution",
            "aten::slow_conv_transpose2d", "aten::_slow_conv2d_forward", "aten::mkldnn_convolution_transpose")
MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul")

# ------------------------------------------------------------------------------------------------
# The reference loop


class TwoImageDataset(Dataset):
    """Popular-code style: item i is (image i, a random other image), float tensors."""

    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        other = torch.randint(0, len(self.images), (1,)).item()
        return self.images[index], self.images[other]


def reference_permute_dims(z):
    B, _ = z.size()
    columns = []
    for z_j in z.split(1, 1):
        perm = torch.randperm(B).to(z.device)
        columns.append(z_j[perm])
    return torch.cat(columns, 1)


def plain_deconvs(module: torch.nn.Module) -> torch.nn.Module:
    """Put plain nn.ConvTranspose2d layers (same parameter objects) where ours use the matrix form."""
    for name, child in list(module.named_children()):
        if isinstance(child, GemmConvTranspose2d):
            plain = torch.nn.ConvTranspose2d(child.in_channels, child.out_channels, 4, 2, 1,
                                             bias=child.bias is not None, device=child.weight.device)
            plain.weight, plain.bias = child.weight, child.bias
            setattr(module, name, plain)
        else:
            plain_deconvs(child)
    return module


class ReferenceLoop:
    def __init__(self, vae_state, disc_state, images_float, batch, gamma, device, seed=0):
        torch.manual_seed(seed)
        self.vae, self.disc = plain_deconvs(FactorVAE(10)).to(device), Discriminator(10).to(device)
        self.vae.load_state_dict(vae_state)
        self.disc.load_state_dict(disc_state)
        self.opt_vae = torch.optim.Adam(self.vae.parameters(), lr=1e-4, betas=(0.9, 0.999))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=1e-4, betas=(0.5, 0.9))
        self.gamma, self.device, self.batch = gamma, device, batch
        self.ones = torch.ones(batch, dtype=torch.long, device=device)
        self.zeros = torch.zeros(batch, dtype=torch.long, device=device)
        if images_float is not None:
            self.loader = DataLoader(TwoImageDataset(images_float), batch_size=batch, shuffle=True,
                                     drop_last=True, num_workers=0)
            self.iterator = iter(self.loader)

    def next_batch(self):
        try:
            return next(self.iterator)
        except StopIteration:
            self.iterator = iter(self.loader)
            return next(self.iterator)

    def step(self, x1=None, x2=None):
        if x1 is None:
            x1, x2 = self.next_batch()
        x1 = x1.to(self.device)
        x_recon, mu, logvar, z = self.vae(x1)
        recon = F.binary_cross_entropy_with_logits(x_recon, x1, reduction="sum").div(x1.size(0))
        kld = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1).mean()
        d_z = self.disc(z)
        tc = (d_z[:, :1] - d_z[:, 1:]).mean()
        vae_loss = recon + kld + self.gamma * tc
        self.opt_vae.zero_grad()
        vae_loss.backward(retain_graph=True)
        self.opt_vae.step()

        x2 = x2.to(self.device)
        mu2, logvar2 = self.vae.encode(x2)
        z_prime = FactorVAE.reparameterize(mu2, logvar2)
        z_pperm = reference_permute_dims(z_prime).detach()
        d_loss = 0.5 * (F.cross_entropy(self.disc(z.detach()), self.zeros)
                        + F.cross_entropy(self.disc(z_pperm), self.ones))
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        return torch.stack([recon.detach(), kld.detach(), tc.detach(), d_loss.detach()])


# ------------------------------------------------------------------------------------------------
# Our trainer, with switches for the levers


class SharedJointPassTrainer(FactorVAETrainer):
    """A lever measured and not kept: D's pass over z in the VAE update also serves D's update.

    D's weights do not change between the two, so one forward of 64 codes can go: the pass runs
    with D's weights in the graph, the VAE backward is restricted to the VAE's parameters and D's
    to its own. Same gradients (tests/test_train_speed.py), but D's weights then get their gradient
    from two graphs, and adding those (memory-bound, 4M parameters) costs more than the forward
    saves. One process, fp32, discriminator TC, no warm-ups.
    """

    def step(self, x1, x2=None, step=None):
        cfg = self.config
        vae_params, disc_params = list(self.vae.parameters()), list(self.disc.parameters())
        self.vae.train()
        z2 = self.second_batch_codes(x2)  # before the update, as the plain step (docs/training.md)
        logits, mu, logvar, z = self.vae(x1, generator=self.generator)
        recon, kl = reconstruction_loss(logits, x1), kl_divergence(mu, logvar)
        d_joint = self.disc(z)  # D's weights in the graph: this pass serves D's update too
        tc = tc_from_logits(d_joint)
        loss = recon + cfg.beta * kl + cfg.gamma * tc
        self.opt_vae.zero_grad(set_to_none=True)
        loss.backward(inputs=vae_params, retain_graph=True)  # no gradient into D's weights
        self.opt_vae.step()
        d_loss, _ = discriminator_loss(d_joint, self.disc(permute_dims(z2, self.generator)))
        self.opt_disc.zero_grad(set_to_none=True)
        d_loss.backward(inputs=disc_params)  # stops at z: the VAE has already stepped
        self.opt_disc.step()
        zero = torch.zeros(())
        return torch.stack([loss.detach(), recon.detach(), kl.detach(), tc.detach(), d_loss.detach(), zero, zero])


def make_ours(vae_state, disc_state, device, batch, gamma, precision="auto", channels_last=True, adam="fused",
              shared_pass=False, gemm_deconv=True, compile=False, seed=0, architecture=ARCHITECTURE):
    config = TrainConfig(data="objects", gamma=gamma, batch_size=batch, precision=precision,
                         channels_last=channels_last, compile=compile, device=device.type, seed=seed,
                         architecture=architecture).resolve()
    trainer = (SharedJointPassTrainer if shared_pass else FactorVAETrainer)(config, device)
    if vae_state is not None:
        trainer.vae.load_state_dict(vae_state)
    trainer.disc.load_state_dict(disc_state)
    if not gemm_deconv:
        plain_deconvs(trainer.vae)
    if adam != "fused":
        kind = {"foreach": True, "for-loop": False}[adam]
        trainer.opt_vae = torch.optim.Adam(trainer.vae.parameters(), lr=config.lr, betas=config.adam_betas,
                                           foreach=kind)
        trainer.opt_disc = torch.optim.Adam(trainer.disc.parameters(), lr=config.lr_d, betas=config.adam_betas_d,
                                            foreach=kind)
    stream = BatchStream(ObjectsSource(), seed, 0, 2, device)
    state = {"step": 0}

    def step(x1=None, x2=None):
        if x1 is None:
            s = state["step"]
            x1 = to_ink(stream.batch(s, 0, batch), device)
            x2 = to_ink(stream.batch(s, 1, batch), device)
            state["step"] = s + 1
        stats = trainer.step(trainer.prepare(x1), trainer.prepare(x2))
        return stats[[1, 2, 3, 4]]

    return trainer, step


def count_flops(step_fn) -> float:
    with FlopCounterMode(display=False) as counter:
        step_fn()
    return float(counter.get_total_flops())


def time_shares(step_fn, steps: int = 3) -> dict[str, float]:
    """Fractions of the step's CPU time (torch.profiler, ``steps`` steps) in convolutions, matmuls,
    the optimisers' steps (all their ops, whatever the implementation) and everything else."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step_fn()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    conv = sum(e.self_cpu_time_total for e in events if e.key in CONV_OPS)
    matmul = sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS)  # none inside Adam
    adam = sum(e.cpu_time_total for e in events if e.key.startswith("Optimizer.step#"))
    return {"convolutions": conv / total, "matmuls": matmul / total, "Adam": adam / total,
            "other": max(0.0, total - conv - matmul - adam) / total}


def matmul_gflops(n: int = 1024, repeats: int = 3) -> float:
    """Best of ``repeats`` fp32 n x n x n matmuls, in GFLOP per CPU-second of this process."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        a @ b
        best = min(best, time.process_time() - start)
    return 2 * n ** 3 / max(best, 1e-9) / 1e9


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def interleaved(runners: dict, rounds: int, steps: int, peak: list | None = None):
    """(CPU seconds, wall seconds) per step of each runner, per round; every round runs each runner
    ``steps`` times in turn. CPU time is this process's (all its threads)."""
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    wall: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, fn in runners.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                out = fn()
            float(out[0])  # one sync at the end (CUDA)
            cpu[name].append((time.process_time() - start_cpu) / steps)
            wall[name].append((time.perf_counter() - start) / steps)
        if peak is not None:
            peak.append(matmul_gflops())
    return cpu, wall


def ratio_text(ref: list[float], ts: list[float]) -> str:
    ratios = [r / t for r, t in zip(ref, ts)]
    return f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"


def span(ts: list[float]) -> str:
    return f"{1000 * statistics.median(ts):.1f} [{1000 * min(ts):.0f}-{1000 * max(ts):.0f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1, help="timed steps per configuration per round")
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    parser.add_argument("--gamma", type=float, default=10.0)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    parser.add_argument("--bf16", action="store_true", help="also time bf16 autocast on a CPU without native bf16")
    parser.add_argument("--no-levers", action="store_true", help="time only the reference and our default")
    parser.add_argument("--architectures", default="",
                        help=f"comma-separated decoders to time with our default step ({', '.join(ARCHITECTURES)})")
    parser.add_argument("--small-batch", type=int, default=4, help="batch of the fixed-cost measurement (0 = skip)")
    parser.add_argument("--big-batch", type=int, default=0, help="also time our default step at this batch")
    parser.add_argument("--equal-steps", type=int, default=300)
    parser.add_argument("--skip-equal", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, cpu {torch.backends.cpu.get_cpu_capability()}, "
          f"native bf16 {cpu_has_fast_bf16()}, {os.cpu_count()} CPUs, load average {load_average()}")
    torch.manual_seed(0)
    vae_state = copy.deepcopy(FactorVAE(10).state_dict())
    disc_state = copy.deepcopy(Discriminator(10).state_dict())
    pool = ObjectsSource().draw(np.random.default_rng(0), 4096)
    pool_float = to_ink(pool)  # what the reference keeps in memory (float32 on the host)

    def ours(**kw):
        return make_ours(vae_state, disc_state, device, kw.pop("batch", args.batch), args.gamma, **kw)

    runners: dict[str, callable] = {}
    reference = ReferenceLoop(vae_state, disc_state, pool_float, args.batch, args.gamma, device)
    runners["reference"] = reference.step
    default_trainer, runners[DEFAULT] = ours()
    print(f"our default here: {'bf16 autocast' if default_trainer.amp_dtype else 'fp32'}, "
          f"channels_last {default_trainer.config.channels_last}, fused Adam, matrix-form last deconv")
    if not args.no_levers:
        runners["ours + shared D pass (not kept)"] = ours(shared_pass=True)[1]
        runners["ours - fused Adam (foreach)"] = ours(adam="foreach")[1]
        runners["ours - fused Adam (for-loop)"] = ours(adam="for-loop")[1]
        runners["ours - channels_last"] = ours(channels_last=False)[1]
        runners["ours - matrix-form last deconv"] = ours(gemm_deconv=False)[1]
        runners[PLAIN] = ours(precision="fp32", channels_last=False, adam="for-loop", gemm_deconv=False)[1]
        if cpu_has_fast_bf16() or args.bf16 or device.type == "cuda":
            runners["ours + bf16 autocast"] = ours(precision="bf16")[1]
    for name in [a for a in args.architectures.split(",") if a]:
        if name not in ARCHITECTURES:
            raise SystemExit(f"--architectures: unknown {name!r}; choose from {', '.join(ARCHITECTURES)}")
        runners[f"ours, decoder {name}"] = make_ours(None, disc_state, device, args.batch, args.gamma,
                                                     architecture=name)[1]
    if args.big_batch:
        runners[f"ours, batch {args.big_batch}"] = ours(batch=args.big_batch)[1]
    if args.compile:
        start = time.perf_counter()
        _, fn = ours(compile=True)
        for _ in range(3):
            fn()
        print(f"torch.compile warm-up (3 steps): {time.perf_counter() - start:.1f} s")
        runners["ours + torch.compile"] = fn

    flops, shares = {}, {}
    for name, fn in runners.items():
        for _ in range(args.warmup):
            fn()
        if "compile" not in name:
            flops[name] = count_flops(fn)
    for name in ("reference", DEFAULT):
        shares[name] = time_shares(runners[name])
    stream = BatchStream(ObjectsSource(), 0, 0, 2, device)  # a data-only timing of our source
    peak: list[float] = []
    times, walls = interleaved(runners, args.rounds, args.steps, peak)
    start = time.process_time()
    for s in range(10):
        to_ink(stream.batch(s, 0, args.batch), device), to_ink(stream.batch(s, 1, args.batch), device)
    data_ms = 1000 * (time.process_time() - start) / 10

    peak_gf = statistics.median(peak)
    ref, ref_wall = times["reference"], walls["reference"]
    print(f"\nmatmul peak (fp32 1024^3, {torch.get_num_threads()} thread(s)): {peak_gf:.1f} GFLOP per CPU-second "
          f"(median of {len(peak)} rounds, range {min(peak):.1f}-{max(peak):.1f})")
    print(f"{args.rounds} rounds x {args.steps} step(s), interleaved. CPU ms = this process's CPU time per step "
          f"(what load from other processes changes least); wall ms includes waiting for a core. "
          f"median [range over rounds]; 'vs reference' = median [range] of the per-round ratios")
    print(f"\n{'configuration':32s} {'CPU ms/step':>18s} {'wall ms/step':>19s} {'images/CPU-s':>12s} "
          f"{'GFLOP/step':>10s} {'GFLOP/CPU-s':>11s} {'% peak':>6s}  {'vs reference, CPU':>22s}  {'vs ref, wall':>22s}")
    for name, ts in times.items():
        ms = 1000 * statistics.median(ts)
        batch = args.big_batch if name.startswith("ours, batch") else args.batch
        gf = flops.get(name, flops.get(DEFAULT, 0.0)) / 1e9
        print(f"{name:32s} {span(ts):>18s} {span(walls[name]):>19s} {2 * batch * 1000 / ms:12.0f} {gf:10.2f} "
              f"{gf / (ms / 1000):11.1f} {100 * gf / (ms / 1000) / peak_gf:5.0f}%  {ratio_text(ref, ts):>22s}  "
              f"{ratio_text(ref_wall, walls[name]):>22s}")
    ours_ms = 1000 * statistics.median(times[DEFAULT])
    print(f"\nour data path (render 2x{args.batch} objects + to_ink): {data_ms:.2f} CPU ms/step "
          f"= {100 * data_ms / ours_ms:.1f}% of our step (included in the step times above)")
    for name, parts in shares.items():
        print(f"where a {name} step's CPU time goes (torch.profiler, 3 steps): "
              + ", ".join(f"{k} {100 * v:.0f}%" for k, v in parts.items()))
    ref_ms = 1000 * statistics.median(ref)
    conv_ms = shares[DEFAULT]["convolutions"] * ours_ms
    floor_ms = flops[DEFAULT] / 1e9 / peak_gf * 1000
    print(f"bounds on the speed-up: our convolutions alone take ~{conv_ms:.0f} CPU ms, so with everything else "
          f"free the step would be {ref_ms / conv_ms:.2f}x the reference at most; all {flops[DEFAULT] / 1e9:.1f} "
          f"GFLOP at the matmul peak would take {floor_ms:.0f} ms ({ref_ms / floor_ms:.2f}x)")
    if args.small_batch:
        fixed_cost(vae_state, disc_state, device, args)
    print(f"load average at the end: {load_average()}")

    if not args.skip_equal:
        equality_check(vae_state, disc_state, device, args)


def fixed_cost(vae_state, disc_state, device, args) -> None:
    """The per-step cost that does not shrink with the batch: batch-4 steps against full ones."""
    torch.manual_seed(1)
    small = args.small_batch
    pool = to_ink(ObjectsSource().draw(np.random.default_rng(1), 512))
    runners = {
        f"reference, batch {small}": ReferenceLoop(vae_state, disc_state, pool, small, args.gamma, device).step,
        f"ours, batch {small}": make_ours(vae_state, disc_state, device, small, args.gamma)[1],
        f"ours, batch {args.batch}": make_ours(vae_state, disc_state, device, args.batch, args.gamma)[1],
    }
    for fn in runners.values():
        for _ in range(args.warmup):
            fn()
    times, _ = interleaved(runners, args.rounds, args.steps)
    full = statistics.median(times[f"ours, batch {args.batch}"])
    print("\nfixed per-step cost (CPU ms/step):")
    for name, ts in times.items():
        print(f"  {name:24s} {1000 * statistics.median(ts):6.1f} "
              f"({100 * statistics.median(ts) / full:.0f}% of our batch-{args.batch} step)")


def equality_check(vae_state, disc_state, device, args) -> None:
    """Same init, same batches: final-window losses of two reference runs, two of ours, one plain.

    The runs of one loop differ only in their random draws (reparameterisation noise and
    permutations); early Factor-VAE training is chaotic, so that spread is the noise to compare to.
    "ours plain fp32, seed 0" shares its random draws with "ours default, seed 0": the gap between
    those two is the effect of the levers alone.
    """
    n, window = args.equal_steps, max(10, args.equal_steps // 6)
    stream = BatchStream(ObjectsSource(), 123, 0, 2, torch.device("cpu"))
    batches = [(to_ink(stream.batch(s, 0, args.batch)), to_ink(stream.batch(s, 1, args.batch))) for s in range(n)]

    def ours(seed, **kw):
        return lambda: make_ours(vae_state, disc_state, device, args.batch, args.gamma, seed=seed, **kw)[1]

    runs = {
        "reference, seed 0": lambda: ReferenceLoop(vae_state, disc_state, None, args.batch, args.gamma, device, 0).step,
        "reference, seed 1": lambda: ReferenceLoop(vae_state, disc_state, None, args.batch, args.gamma, device, 1).step,
        "ours default, seed 0": ours(0),
        "ours default, seed 1": ours(1),
        "ours plain fp32, seed 0": ours(0, precision="fp32", channels_last=False, adam="for-loop",
                                        gemm_deconv=False),
    }
    print(f"\nequality: {n} steps from the same initial weights on the same batches; "
          f"means over the last {window} steps")
    print(f"{'run':24s} {'recon':>9s} {'KL':>7s} {'TC':>7s} {'D loss':>7s} {'seconds':>8s}")
    finals = {}
    for name, build in runs.items():
        fn = build()  # ReferenceLoop seeds the global RNG it draws from
        start, history = time.perf_counter(), []
        for x1, x2 in batches:
            history.append(fn(x1.to(device), x2.to(device)).float().cpu())
        finals[name] = torch.stack(history[-window:]).mean(0)
        final = finals[name].tolist()
        print(f"{name:24s} {final[0]:9.2f} {final[1]:7.3f} {final[2]:7.3f} {final[3]:7.4f} "
              f"{time.perf_counter() - start:8.1f}", flush=True)
    noise = torch.maximum((finals["reference, seed 0"] - finals["reference, seed 1"]).abs(),
                          (finals["ours default, seed 0"] - finals["ours default, seed 1"]).abs())
    gaps = {"ours default vs plain fp32 (seed 0)": finals["ours default, seed 0"] - finals["ours plain fp32, seed 0"],
            "ours default vs reference (seed means)":
                (finals["ours default, seed 0"] + finals["ours default, seed 1"]
                 - finals["reference, seed 0"] - finals["reference, seed 1"]) / 2}
    print(f"{'seed spread (noise)':24s} " + " ".join(f"{v:9.3f}" for v in noise.tolist()))
    for name, gap in gaps.items():
        within = bool((gap.abs() <= noise).all())
        print(f"{name}: |gap| " + " ".join(f"{v:.3f}" for v in gap.abs().tolist())
              + f" -> {'within' if within else 'OUTSIDE'} the seed spread")


if __name__ == "__main__":
    main()
