"""Our FactorVAE score, MIG, DCI and SAP against disent's (Michlo 2021, version 0.9.3) on the same codes.

Both libraries score one table of codes: the posterior means of a trained encoder at every factor
tuple of a world (dSprites: all 737,280; objects: every tuple times ``--variants`` rendering
nuisance draws, one random draw per observation). A sampled "observation" is a row of that table,
so both draw their scenes from the same set with the same codes, and any gap beyond the seed-to-seed
spread comes from the metrics' definitions, not from the encoder or the renderer.
Each library samples with its own random stream; run with two seeds each to see the noise.

What is ours and what is disent's: the metric computations are disent's unchanged
(``disent.metrics._factor_vae``, ``_mig``, ``_dci``, ``_sap``: sampling votes, discretising,
mutual information, gradient-boosted trees, SVMs). disent 0.9.3 needs Python >= 3.12 and its
``disent.dataset`` / ``disent.util`` import torch, which the 3.12 environment does not have, so the
worker below registers three small stand-ins before importing the metric modules: a dataset object
with the four sampling methods the metrics call (uniform factors, as disent's ``StateSpace``
samples them; ``dataset_sample_batch`` without replacement, as disent's), ``to_numpy`` =
``numpy.asarray`` and the ``disent.metrics`` package without its ``__init__`` (which imports the
torch-based metrics this check does not use). The representation function is the identity on
table rows.

Install (a separate Python 3.12 environment; never a project or test dependency):

    /root/.pyenv/versions/3.12.1/bin/python -m venv /work/disent-venv
    /work/disent-venv/bin/pip install --no-deps disent==0.9.3
    /work/disent-venv/bin/pip install numpy scipy scikit-learn tqdm

Run (from the repository root, our environment; ~10 min on one loaded core):

    OMP_NUM_THREADS=1 python bench/metrics_crosscheck.py \\
        --model objects=checkpoints/objects --model dsprites=runs/dsprites-2k \\
        --out bench/results/metrics_crosscheck.txt

The sample sizes are equal on both sides and printed with the results (FactorVAE: 10,000 images for
the variances, 10,000 + 5,000 votes of 64; MIG 10,000; DCI 5,000 / 2,500 with 100 trees; SAP on
DCI's split).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DISENT_PYTHON = "/work/disent-venv/bin/python"
SIZES = {"variance": 10_000, "train_votes": 10_000, "eval_votes": 5_000, "batch": 64, "mig": 10_000,
         "dci_train": 5_000, "dci_test": 2_500, "trees": 100}


# ------------------------------------------------------------------------------------------------
# The code table (our environment)


def build_table(run_dir: str, world_name: str, variants: int, cache: Path) -> dict:
    """Codes of every factor tuple (x ``variants`` nuisance draws) of ``world_name`` under the model
    in ``run_dir``; cached as .npz in ``cache``."""
    import torch

    from nar_solver.data import make_world
    from nar_solver.metrics.runner import model_encoder
    from nar_solver.run.checkpoint import load_model

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"codes-{world_name}-{Path(run_dir).resolve().name}-{variants}.npz"
    if path.is_file():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    torch.set_num_threads(1)
    loaded = load_model(run_dir, device=torch.device("cpu"))
    world = make_world(world_name)
    encode = model_encoder(loaded.vae, torch.device("cpu"), batch_size=512)
    sizes = np.asarray(world.factor_sizes)
    grid = np.stack(np.unravel_index(np.arange(int(sizes.prod())), sizes), axis=1)
    factors = np.repeat(grid, variants, axis=0)  # tuple-major, variant-minor
    rng = np.random.default_rng(20261205)
    parts = []
    for start in range(0, len(factors), 8192):
        chunk = factors[start:start + 8192]
        parts.append(encode(world.render(chunk, rng if variants > 1 else None)).astype(np.float32))
    table = {"codes": np.concatenate(parts), "sizes": sizes, "variants": np.int64(variants),
             "categorical": np.asarray(world.categorical), "names": np.asarray(world.factor_names),
             "step": np.int64(loaded.step)}
    np.savez(path, **table)
    return table


class TableWorld:
    """A factor world whose images carry their factor tuple (row 0) and nuisance draw (row 1), and
    whose encoder reads the table's codes back: our metrics then score exactly the table."""

    name = "table"

    def __init__(self, table: dict):
        self.codes, self.variants = table["codes"], int(table["variants"])
        self.factor_sizes = tuple(int(s) for s in table["sizes"])
        self.factor_names = tuple(str(n) for n in table["names"])
        self.categorical = tuple(bool(c) for c in table["categorical"])

    def sample_factors(self, rng: np.random.Generator, n: int) -> np.ndarray:
        from nar_solver.data.factors import uniform_factors

        return uniform_factors(self.factor_sizes, rng, n)

    def render(self, factors: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        factors = np.asarray(factors)
        images = np.zeros((factors.shape[0], 64, 64), dtype=np.uint8)
        images[:, 0, : factors.shape[1]] = factors
        variant = rng.integers(0, self.variants, factors.shape[0]) if rng is not None and self.variants > 1 else 0
        images[:, 1, 0], images[:, 1, 1] = np.asarray(variant) // 256, np.asarray(variant) % 256
        return images

    def encode(self, images: np.ndarray) -> np.ndarray:
        factors = images[:, 0, : len(self.factor_sizes)].astype(np.int64)
        variant = images[:, 1, 0].astype(np.int64) * 256 + images[:, 1, 1]
        return self.codes[np.ravel_multi_index(factors.T, self.factor_sizes) * self.variants + variant]


def ours(table: dict, seed: int) -> dict:
    """Our four metrics on the table, sampled as ``evaluate_disentanglement`` samples them."""
    from nar_solver.metrics.dci import DCISettings, dci
    from nar_solver.metrics.factorvae_score import FactorVAESettings, factorvae_score
    from nar_solver.metrics.mig import mig
    from nar_solver.metrics.sampling import sample_codes
    from nar_solver.metrics.sap import sap

    world = TableWorld(table)
    pool_seed, votes_seed = np.random.SeedSequence(seed).spawn(2)
    pool_rng = np.random.default_rng(pool_seed)
    n_pool = max(SIZES["variance"], SIZES["mig"], SIZES["dci_train"])
    factors, codes = sample_codes(world.encode, world, pool_rng, n_pool + SIZES["dci_test"])
    out = {}
    for label, collapse in (("factorvae", 0.05), ("factorvae_noprune", 0.0)):
        settings = FactorVAESettings(SIZES["variance"], SIZES["batch"], SIZES["train_votes"], SIZES["eval_votes"],
                                     collapse_std=collapse)
        rng = np.random.default_rng(votes_seed)  # the same votes with and without pruning
        result = factorvae_score(world.encode, world, rng, settings, global_codes=codes[: SIZES["variance"]])
        out[label] = result.score
        out[label + "_active"] = len(result.active_dims)
    out["mig"] = mig(codes[: SIZES["mig"]], factors[: SIZES["mig"]], 20).score
    n = SIZES["dci_train"]
    split = (codes[:n], factors[:n], codes[n_pool:], factors[n_pool:])
    result = dci(*split, DCISettings(n, SIZES["dci_test"], SIZES["trees"]), seed=seed)
    out.update(dci_d=result.disentanglement, dci_c=result.completeness, dci_i=result.informativeness)
    out["sap"] = sap(*split, categorical=world.categorical).score
    return out


# ------------------------------------------------------------------------------------------------
# disent's side (runs in the Python 3.12 environment, imports nothing of ours)


def _install_disent_stand_ins() -> None:
    import importlib.util
    import types

    root = Path(importlib.util.find_spec("disent").origin).parent
    for name, sub in (("disent.metrics", "metrics"), ("disent.util", "util")):
        module = types.ModuleType(name)
        module.__path__ = [str(root / sub)]  # submodules load from disent's files; __init__ does not run
        sys.modules[name] = module
    sys.modules["disent.util"].to_numpy = np.asarray
    dataset = types.ModuleType("disent.dataset")
    dataset.DisentDataset = object
    sys.modules["disent.dataset"] = dataset


class _GroundTruth:
    def __init__(self, sizes: np.ndarray):
        self.factor_sizes, self.num_factors = sizes, len(sizes)

    def sample_factors(self, size: int) -> np.ndarray:
        return np.random.randint(0, self.factor_sizes, size=(size, self.num_factors))


class _TableDataset:
    """The four DisentDataset methods the metrics call, over the table's rows."""

    def __init__(self, table: dict):
        self.codes, self.variants, self.sizes = table["codes"], int(table["variants"]), table["sizes"]
        self.gt_data = _GroundTruth(self.sizes)

    def _rows(self, factors: np.ndarray) -> np.ndarray:
        variant = np.random.randint(0, self.variants, len(factors))
        return self.codes[np.ravel_multi_index(np.asarray(factors).T, self.sizes) * self.variants + variant]

    def dataset_batch_from_factors(self, factors, mode):
        return self._rows(factors)

    def dataset_sample_batch_with_factors(self, num_samples, mode):
        factors = self.gt_data.sample_factors(num_samples)
        return self._rows(factors), factors

    def dataset_sample_batch(self, num_samples, mode):
        return self.codes[np.random.choice(len(self.codes), num_samples, replace=False)]


def disent_worker(npz: str, seed: int) -> dict:
    _install_disent_stand_ins()
    from disent.metrics._dci import metric_dci
    from disent.metrics._factor_vae import metric_factor_vae
    from disent.metrics._mig import metric_mig
    from disent.metrics._sap import metric_sap

    with np.load(npz) as data:
        table = {k: data[k] for k in data.files}
    dataset, identity = _TableDataset(table), (lambda rows: rows)
    out = {}
    np.random.seed(seed)
    fvae = metric_factor_vae(dataset, identity, batch_size=SIZES["batch"], num_train=SIZES["train_votes"],
                             num_eval=SIZES["eval_votes"], num_variance_estimate=SIZES["variance"])
    out["factorvae"], out["factorvae_active"] = fvae["factor_vae.eval_accuracy"], fvae["factor_vae.num_active_dims"]
    out["mig"] = metric_mig(dataset, identity, num_train=SIZES["mig"])["mig.discrete_score"]
    dci = metric_dci(dataset, identity, num_train=SIZES["dci_train"], num_test=SIZES["dci_test"])
    out.update(dci_d=dci["dci.disentanglement"], dci_c=dci["dci.completeness"], dci_i=dci["dci.informativeness_test"])
    for key, continuous in (("sap", False), ("sap_continuous", True)):
        out[key] = metric_sap(dataset, identity, num_train=SIZES["dci_train"], num_test=SIZES["dci_test"],
                              continuous_factors=continuous)["sap.score"]
    return {k: float(v) for k, v in out.items()}


def disent(npz: Path, seed: int, python: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "PYTHONPATH": ""}
    done = subprocess.run([python, __file__, "--disent-worker", str(npz), "--seed", str(seed)], capture_output=True,
                          text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"disent worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------
# Report

#: What differs between the two libraries by definition (read from both sources), printed with the tables.
NOTES = """\
## Where the definitions differ (read from both sources)
- FactorVAE score: disent keeps every dimension (its _prune_dims threshold is 0 on the std); ours
  drops dimensions whose mean's std is below 0.05 (docs/metrics.md). With no collapsed dimension the
  two rules are the same vote; the "ours, no pruning" row scores our votes with disent's rule. Both
  take the majority-vote classifier's accuracy on the evaluation votes. disent's variances use
  ddof=1 and ours ddof=0: the same factor on every dimension, so the argmin does not change.
- MIG: the same definition on both sides (20 equal-width bins over the sample's range, scikit-learn's
  mutual information, divided by the factor's entropy); differences are sampling noise.
- DCI: both fit scikit-learn's GradientBoostingClassifier with 100 trees of depth 3 per factor and
  take the same entropy formulas; disent leaves the trees' random_state unset, ours seeds it.
  Informativeness is the mean test accuracy in both.
- SAP: different scores under one name. disent (as disentanglement_lib) fits a LinearSVC (C=0.01,
  balanced classes) on each single dimension for every factor and scores plain test accuracy
  (continuous_factors=False), or the R^2 of every factor (True). Ours (Kumar et al. 2018 as in
  docs/metrics.md) scores a categorical factor by the chance-adjusted balanced accuracy of
  thresholds on the dimension (0 = no information) and an ordered factor by R^2, and gives collapsed
  dimensions 0. The chance adjustment scales a gap by n/(n-1) for n values; a one-vs-rest linear
  SVM on one dimension can place each value only where its own half-line wins, where our thresholds
  give each value an interval; and an ordered factor's R^2 measures a linear trend, not a
  classification. So the SAP rows are not expected to agree, and neither is wrong by its own
  definition.
"""

ROWS = (
    ("FactorVAE score", "factorvae", "factorvae"),
    ("  ours, no pruning (disent's rule)", "factorvae_noprune", None),
    ("  active dimensions", "factorvae_active", "factorvae_active"),
    ("MIG", "mig", "mig"),
    ("DCI disentanglement", "dci_d", "dci_d"),
    ("DCI completeness", "dci_c", "dci_c"),
    ("DCI informativeness", "dci_i", "dci_i"),
    ("SAP (ours: cat. accuracy / ordered R^2; disent: SVM accuracy)", "sap", "sap"),
    ("SAP, disent continuous_factors=True (R^2 for all)", None, "sap_continuous"),
)


def table_text(label: str, table: dict, results: dict, seeds: list[int]) -> str:
    codes = table["codes"]
    head = (f"## {label}: {len(codes):,} codes ({int(np.prod(table['sizes'])):,} factor tuples x "
            f"{int(table['variants'])} nuisance draws), model step {int(table['step'])}, "
            f"factors {', '.join(f'{n} {s}' for n, s in zip(table['names'], table['sizes']))}")
    cols = [f"ours s{s}" for s in seeds] + [f"disent s{s}" for s in seeds]
    lines = [head, f"{'metric':<62}" + "".join(f"{c:>11}" for c in cols)]
    for name, ours_key, disent_key in ROWS:
        cells = [results["ours"][s].get(ours_key) if ours_key else None for s in seeds]
        cells += [results["disent"][s].get(disent_key) if disent_key else None for s in seeds]
        lines.append(f"{name:<62}" + "".join(f"{'-':>11}" if v is None else f"{v:>11.3f}" for v in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], metavar="WORLD=RUN_DIR",
                        help="world (objects | dsprites) and a run folder; repeatable")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--variants", type=int, default=64,
                        help="nuisance draws per tuple (objects; 64 x 180 >= the 10,000 drawn without replacement)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/metrics_crosscheck"))
    parser.add_argument("--disent-python", default=DISENT_PYTHON)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--disent-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.disent_worker:
        print(json.dumps(disent_worker(args.disent_worker, args.seed)))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = ", ".join(f"{k} {v}" for k, v in SIZES.items())
    texts = [f"# metrics cross-check: nar_solver against disent 0.9.3 (same codes, equal sample sizes: {sizes})",
             f"# python bench/metrics_crosscheck.py {' '.join(sys.argv[1:])}"]
    for spec in args.model:
        world, _, run_dir = spec.partition("=")
        started = time.perf_counter()
        table = build_table(run_dir, world, 1 if world == "dsprites" else args.variants, args.cache)
        npz = args.cache / f"codes-{world}-{Path(run_dir).resolve().name}-{1 if world == 'dsprites' else args.variants}.npz"
        results = {"ours": {s: ours(table, s) for s in seeds},
                   "disent": {s: disent(npz, s, args.disent_python) for s in seeds}}
        texts.append(table_text(f"{world} ({run_dir})", table, results, seeds)
                     + f"\n({time.perf_counter() - started:.0f} s)")
        print(texts[-1], flush=True)
    texts.append(NOTES)
    text = "\n\n".join(texts) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
