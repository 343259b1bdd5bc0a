"""Why the discriminator TC inflated the KL on dSprites: the two batches of the D step, measured.

    .venv/bin/python bench/tc_diagnosis.py                        # 3000 steps per variant, gamma 35
    .venv/bin/python bench/tc_diagnosis.py --steps 1500 --variants same-encoder,encoder-after

Each variant trains a Factor-VAE on procedural dSprites from the same initial weights and the same
batches, and prints every --every steps: reconstruction, KL, D's TC estimate, the batch Gaussian TC
(the discriminator-free measure of how correlated the codes are), D's accuracy, and the *honest* D
accuracy: D asked about codes of x1 and permuted codes of x2 that both come from the encoder as it is
now. Variants:

- ``same-encoder`` (ours): x2 is encoded before the VAE update, by the encoder that coded x1;
- ``encoder-after``: x2 is encoded after the VAE update (the order of the best-known PyTorch code and
  of this project before the fix): D is trained on joint codes of step t and permuted ones of t+1;
- ``vae``: gamma 0, the discriminator still trained (same-encoder) to monitor TC.

A D that separates its training pairs (d_acc) well above its honest accuracy has learned the
encoder's last move, not the dependence between dimensions. Add ``--init reference`` to start from
the paper's N(0, 0.02) initialisation. Threads: --threads (default 1). See docs/training.md,
"The discriminator's two batches".
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from nar_solver.data import make_source
from nar_solver.data.stream import BatchStream
from nar_solver.device import configure_backend, cpu_has_fast_bf16
from nar_solver.model.images import to_ink
from nar_solver.model.losses import permute_dims
from nar_solver.run.config import TrainConfig
from nar_solver.train.step import STAT_NAMES, FactorVAETrainer

VARIANTS = ("same-encoder", "encoder-after", "vae")


def encoder_after_step(trainer: FactorVAETrainer, x1, x2, step: int) -> torch.Tensor:
    """The old order: VAE update first, then x2 encoded by the *updated* encoder for D."""
    stats, z1 = trainer.vae_update(x1, step)
    z2 = trainer.second_batch_codes(x2)
    stats[4:6] = trainer.disc_update(z1, z2)
    return stats


@torch.no_grad()
def honest_d_accuracy(trainer: FactorVAETrainer, x1, x2) -> float:
    """D's accuracy on joint codes of x1 and permuted codes of x2, both from the current encoder."""
    z1 = trainer.second_batch_codes(x1)
    z2 = permute_dims(trainer.second_batch_codes(x2), trainer.generator)
    logits = torch.cat([trainer.disc(z1), trainer.disc(z2)]).float()
    right = torch.cat([logits[: len(z1)].argmax(1) == 0, logits[len(z1):].argmax(1) == 1])
    return right.float().mean().item()


def run_variant(name: str, args) -> list[dict]:
    config = TrainConfig(data="dsprites", gamma=0.0 if name == "vae" else args.gamma, tc_warmup=args.tc_warmup,
                         lr=args.lr, init=args.init, seed=args.seed, steps=args.steps, threads=args.threads)
    trainer = FactorVAETrainer(config, torch.device("cpu"))
    stream = BatchStream(make_source(config), config.seed, 0, 2, torch.device("cpu"))
    rows, window = [], []
    start = time.perf_counter()
    for step in range(args.steps):
        x1 = trainer.prepare(to_ink(stream.batch(step, 0, config.batch_size)))
        x2 = trainer.prepare(to_ink(stream.batch(step, 1, config.batch_size)))
        if name == "encoder-after":
            stats = encoder_after_step(trainer, x1, x2, step)
        else:
            stats = trainer.step(x1, x2, step)
        window.append(stats)
        if (step + 1) % args.every == 0:
            mean = torch.stack(window).mean(0).tolist()
            window.clear()
            row = dict(zip(STAT_NAMES, mean), step=step + 1, honest_d_acc=honest_d_accuracy(trainer, x1, x2),
                       seconds=time.perf_counter() - start)
            rows.append(row)
            print(f"{name:14s} {row['step']:6d} {row['recon']:8.1f} {row['kl']:7.2f} {row['tc']:7.3f} "
                  f"{row['tc_gaussian']:7.3f} {row['d_acc']:6.3f} {row['honest_d_acc']:8.3f} "
                  f"{row['seconds']:7.0f}", flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--gamma", type=float, default=35.0)
    parser.add_argument("--tc-warmup", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--init", default="default", choices=("default", "reference"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(sorted(unknown))}; choose from {', '.join(VARIANTS)}")
    configure_backend(torch.device("cpu"), args.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, native bf16 {cpu_has_fast_bf16()}, "
          f"threads {args.threads}; dSprites, batch 64, lr {args.lr}, gamma {args.gamma}, tc_warmup {args.tc_warmup}, "
          f"init {args.init}, seed {args.seed}")
    print(f"{'variant':14s} {'step':>6s} {'recon':>8s} {'KL':>7s} {'TC(D)':>7s} {'TC(gau)':>7s} {'d_acc':>6s} "
          f"{'honest':>8s} {'seconds':>7s}")
    for name in variants:
        run_variant(name, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
