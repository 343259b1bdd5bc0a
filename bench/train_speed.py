"""Training-step speed: our trainer against a plain reference loop, in one process, interleaved.

The reference is written in the style of the popular PyTorch Factor-VAE code (same networks and
initialisation): a Dataset/DataLoader of float images returning two images per item, per-step
``.to(device)`` copies, default Adam, fp32, the second batch encoded with autograd recording, D's
weights receiving gradients in the VAE step, and a per-column ``randperm`` loop in permute_dims.
Its step order is the corrected one (VAE update, then D on detached codes), so both compute the
same objective. Our trainer is ``nar_solver.train.step.FactorVAETrainer``.

Timing rounds alternate between configurations so that load from other processes on a shared
machine hits all of them alike; the figure reported is the median over rounds. ``images/s``
counts both batches (2 x batch per step). GFLOP/s uses the FLOPs torch's FlopCounterMode counts
for one step of each loop (convolutions and matmuls, forward and backward). The equality check
trains the reference and ours from the same initial weights on the same batches, two random seeds
each, and compares the last window's losses; early Factor-VAE training is chaotic, so the spread
between seeds of one loop is the noise the loops must agree within.

    python bench/train_speed.py                 # speed + equality check (a few minutes on 2 cores)
    python bench/train_speed.py --skip-equal    # speed only
    OMP_WAIT_POLICY=PASSIVE python bench/train_speed.py --threads 2
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
from nar_solver.model.discriminator import Discriminator
from nar_solver.model.images import to_ink
from nar_solver.model.vae import FactorVAE
from nar_solver.run.config import TrainConfig
from nar_solver.train.step import FactorVAETrainer


DEFAULT = "ours (default settings)"

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


class ReferenceLoop:
    def __init__(self, vae_state, disc_state, images_float, batch, gamma, device, seed=0):
        torch.manual_seed(seed)
        self.vae, self.disc = FactorVAE(10).to(device), Discriminator(10).to(device)
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


def make_ours(vae_state, disc_state, device, batch, gamma, precision="auto", channels_last=True, fused=True,
              compile=False, seed=0):
    config = TrainConfig(data="objects", gamma=gamma, batch_size=batch, precision=precision,
                         channels_last=channels_last, compile=compile, device=device.type, seed=seed).resolve()
    trainer = FactorVAETrainer(config, device)
    trainer.vae.load_state_dict(vae_state)
    trainer.disc.load_state_dict(disc_state)
    if not fused:
        trainer.opt_vae = torch.optim.Adam(trainer.vae.parameters(), lr=config.lr, betas=config.adam_betas,
                                           foreach=True)
        trainer.opt_disc = torch.optim.Adam(trainer.disc.parameters(), lr=config.lr_d, betas=config.adam_betas_d,
                                            foreach=True)
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


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8, help="timed steps per configuration per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--gamma", type=float, default=10.0)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    parser.add_argument("--no-levers", action="store_true", help="time only the reference and our default")
    parser.add_argument("--equal-steps", type=int, default=300)
    parser.add_argument("--skip-equal", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, cpu {torch.backends.cpu.get_cpu_capability()}, "
          f"load average {load_average()}")
    torch.manual_seed(0)
    vae_state = copy.deepcopy(FactorVAE(10).state_dict())
    disc_state = copy.deepcopy(Discriminator(10).state_dict())
    pool = ObjectsSource().draw(np.random.default_rng(0), 4096)
    pool_float = to_ink(pool)  # what the reference keeps in memory (float32 on the host)

    runners: dict[str, callable] = {}
    reference = ReferenceLoop(vae_state, disc_state, pool_float, args.batch, args.gamma, device)
    runners["reference"] = reference.step
    default_trainer, runners[DEFAULT] = make_ours(vae_state, disc_state, device, args.batch, args.gamma)
    print(f"our default precision here: {'bf16 autocast' if default_trainer.amp_dtype else 'fp32'}")
    if not args.no_levers:
        _, runners["ours - bf16 (fp32)"] = make_ours(vae_state, disc_state, device, args.batch, args.gamma, "fp32")
        _, runners["ours - channels_last"] = make_ours(vae_state, disc_state, device, args.batch, args.gamma,
                                                       channels_last=False)
        _, runners["ours - fused Adam (foreach)"] = make_ours(vae_state, disc_state, device, args.batch, args.gamma,
                                                              fused=False)
    if args.compile:
        t = time.perf_counter()
        _, fn = make_ours(vae_state, disc_state, device, args.batch, args.gamma, compile=True)
        for _ in range(3):
            fn()
        print(f"torch.compile warm-up (3 steps): {time.perf_counter() - t:.1f} s")
        runners["ours + torch.compile"] = fn

    flops = {}
    for name, fn in runners.items():
        for _ in range(args.warmup):
            fn()
        if "compile" not in name:
            flops[name] = count_flops(fn)
    # a data-only timing of our source, to show it never dominates
    stream = BatchStream(ObjectsSource(), 0, 0, 2, device)
    times: dict[str, list[float]] = {name: [] for name in runners}
    data_times = []
    for r in range(args.rounds):
        for name, fn in runners.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                out = fn()
            float(out[0])  # one sync at the end (CUDA)
            times[name].append((time.perf_counter() - start) / args.steps)
        start = time.perf_counter()
        for s in range(args.steps):
            to_ink(stream.batch(s, 0, args.batch), device), to_ink(stream.batch(s, 1, args.batch), device)
        data_times.append((time.perf_counter() - start) / args.steps)

    ref_ms = 1000 * statistics.median(times["reference"])
    print(f"\n{'configuration':32s} {'ms/step':>9s} {'images/s':>9s} {'GFLOP/step':>10s} {'GFLOP/s':>8s} {'vs ref':>7s}")
    for name, ts in times.items():
        ms = 1000 * statistics.median(ts)
        gf = flops.get(name, flops.get(DEFAULT, 0.0)) / 1e9
        print(f"{name:32s} {ms:9.1f} {2 * args.batch * 1000 / ms:9.0f} {gf:10.2f} {gf / (ms / 1000):8.1f} "
              f"{ref_ms / ms:6.2f}x")
    data_ms = 1000 * statistics.median(data_times)
    ours_ms = 1000 * statistics.median(times[DEFAULT])
    print(f"\nour data path (render 2x{args.batch} objects + to_ink): {data_ms:.2f} ms/step "
          f"= {100 * data_ms / ours_ms:.1f}% of our step (included in the step times above)")
    print(f"load average at the end: {load_average()}")

    if not args.skip_equal:
        equality_check(vae_state, disc_state, device, args)


def equality_check(vae_state, disc_state, device, args) -> None:
    """Same init, same batches: final-window losses of two reference runs and two of ours.

    The runs of one loop differ only in their random draws (reparameterisation noise and
    permutations); early Factor-VAE training is chaotic, so that spread is the noise to compare to.
    "ours fp32, seed 0" shares its random draws with "ours default, seed 0": the gap between those
    two is the effect of the precision alone.
    """
    n, window = args.equal_steps, max(10, args.equal_steps // 6)
    stream = BatchStream(ObjectsSource(), 123, 0, 2, torch.device("cpu"))
    batches = [(to_ink(stream.batch(s, 0, args.batch)), to_ink(stream.batch(s, 1, args.batch))) for s in range(n)]
    runs = {
        "reference, seed 0": lambda: ReferenceLoop(vae_state, disc_state, None, args.batch, args.gamma, device, 0).step,
        "reference, seed 1": lambda: ReferenceLoop(vae_state, disc_state, None, args.batch, args.gamma, device, 1).step,
        "ours default, seed 0": lambda: make_ours(vae_state, disc_state, device, args.batch, args.gamma, seed=0)[1],
        "ours default, seed 1": lambda: make_ours(vae_state, disc_state, device, args.batch, args.gamma, seed=1)[1],
        "ours fp32, seed 0": lambda: make_ours(vae_state, disc_state, device, args.batch, args.gamma, "fp32", seed=0)[1],
    }
    print(f"\nequality: {n} steps from the same initial weights on the same batches; "
          f"means over the last {window} steps")
    print(f"{'run':22s} {'recon':>9s} {'KL':>7s} {'TC':>7s} {'D loss':>7s} {'seconds':>8s}")
    for name, build in runs.items():
        fn = build()  # ReferenceLoop seeds the global RNG it draws from
        start, history = time.perf_counter(), []
        for x1, x2 in batches:
            history.append(fn(x1.to(device), x2.to(device)).float().cpu())
        final = torch.stack(history[-window:]).mean(0).tolist()
        print(f"{name:22s} {final[0]:9.2f} {final[1]:7.3f} {final[2]:7.3f} {final[3]:7.4f} "
              f"{time.perf_counter() - start:8.1f}", flush=True)


if __name__ == "__main__":
    main()
