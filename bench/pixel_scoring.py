"""Where the time of decoded-image scoring goes, and what each lever buys (issue 19, item 2).

    .venv/bin/python bench/pixel_scoring.py --n 5 --threads 1

1. Profile (cProfile) of the GA with ``--distance pixel-bce`` on the pure latent manifold: the
   share of the decoder's forward pass in the solve time.
2. The decoder alone on one generation's worth of codes (600: 32 chromosomes x 6 examples x ~3
   objects): fp32, fp32 channels_last (kept), bf16 autocast (not kept: up to 0.1 ink error).
3. How many of a generation's predicted codes repeat (decoded once by fitness.composite_ink).
4. Seconds per puzzle and accuracy of: code distance; pixel-bce scored in code space then re-ranked
   and answered by decoded images (``pixel_search="never"``); pixel search only when that fails in
   pixels (``"fallback"``); pixel scoring of every chromosome (``"always"``, the default of pixel-*).
"""
from __future__ import annotations

import argparse
import cProfile
import copy
import dataclasses
import json
import pstats
import sys
import time

import numpy as np
import torch

from nar_solver.solve import fitness
from nar_solver.solve.ga import GAConfig
from nar_solver.solve.manifold import load_manifold
from nar_solver.solve.registry import make_solver
from nar_solver.solve.solver import SolverSettings
from nar_solver.world.puzzle import generate_puzzles

SEED = 7_000_003  # bench/solver_accuracy.py's mixed puzzles


def best_of(f, repeats: int = 3) -> float:
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5, help="mixed puzzles per configuration")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out: dict = {"threads": args.threads, "n": args.n}
    manifold = load_manifold(None, "objects", "cpu")
    puzzles = list(generate_puzzles(SEED, args.n, "mixed"))

    # 1. profile
    ga = dataclasses.replace(GAConfig(), distance="pixel-bce")
    solver = make_solver("ga", SolverSettings(manifold="objects", device="cpu", ga=ga), manifold)
    profile = cProfile.Profile()
    profile.enable()
    solver.solve(puzzles[0])
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(v[3] for v in stats.stats.values())
    decoder = sum(v[3] for k, v in stats.stats.items() if k[2] == "decode" and k[0].endswith("vae.py"))
    out["profile"] = {"solve_s": total, "decoder_s": decoder, "decoder_share": decoder / total}
    print(f"profile: one pixel-bce solve {total:.2f} s, decoder {decoder:.2f} s ({decoder / total:.0%})")

    # 2. the decoder alone
    z = torch.randn(600, manifold.z_dim)
    plain = copy.deepcopy(manifold.vae).to(memory_format=torch.contiguous_format)
    with torch.inference_mode():
        t_plain = best_of(lambda: plain.decode(z))
        t_cl = best_of(lambda: manifold.vae.decode(z))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            t_bf16 = best_of(lambda: manifold.vae.decode(z))
            bf16 = torch.sigmoid(manifold.vae.decode(z).float())
        error = float((bf16 - torch.sigmoid(manifold.vae.decode(z))).abs().max())
    out["decoder_600"] = {"fp32_s": t_plain, "fp32_channels_last_s": t_cl, "bf16_autocast_s": t_bf16,
                          "bf16_max_ink_error": error}
    print(f"decoder, 600 codes: fp32 {t_plain:.3f} s, channels_last {t_cl:.3f} s, bf16 autocast {t_bf16:.3f} s "
          f"(max ink error {error:.3f}); {t_cl / 600 * 1e3:.2f} ms per object")

    # 3. repeats: count the codes each composite asks for and how many are distinct
    counts = {"codes": 0, "unique": 0}
    original = fitness.composite_ink

    def counting(manifold_, pred):
        p, b, n, _ = pred.codes.shape
        codes = pred.codes[pred.mask[None].expand(p, b, n)]
        counts["codes"] += int(codes.shape[0])
        counts["unique"] += int(torch.unique(codes, dim=0).shape[0]) if codes.shape[0] else 0
        return original(manifold_, pred)

    fitness.composite_ink = counting
    try:
        for puzzle in puzzles:
            solver.solve(puzzle)
    finally:
        fitness.composite_ink = original
    out["repeats"] = counts
    print(f"pixel-bce search on {len(puzzles)} puzzles: {counts['codes']} codes to decode, "
          f"{counts['unique']} distinct ({1 - counts['unique'] / max(1, counts['codes']):.0%} saved)")

    # 4. seconds per puzzle and accuracy
    out["configs"] = {}
    for name, fields in (("code", {"distance": "code"}),
                         ("pixel-bce never", {"distance": "pixel-bce", "pixel_search": "never"}),
                         ("pixel-bce fallback", {"distance": "pixel-bce", "pixel_search": "fallback"}),
                         ("pixel-bce always", {"distance": "pixel-bce", "pixel_search": "always"})):
        s = make_solver("ga", SolverSettings(manifold="objects", device="cpu",
                                             ga=dataclasses.replace(GAConfig(), **fields)), manifold)
        solutions = [s.solve(p) for p in puzzles]
        seconds = float(np.mean([x.seconds for x in solutions]))
        accuracy = float(np.mean([x.answer == p.query_answer for x, p in zip(solutions, puzzles)]))
        out["configs"][name] = {"seconds_per_puzzle": seconds, "accuracy": accuracy}
        print(f"{name:<20} {seconds:7.3f} s/puzzle  accuracy {accuracy:.0%} (n={len(puzzles)})", flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
