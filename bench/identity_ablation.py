"""The ablation table of issue 19: what each lever does to the decoded glyphs and to the code.

    PYTHONPATH=. python bench/identity_ablation.py "A: broadcast32 (shipped recipe)=runs/A" "B: ...=runs/B" \
        [--metrics] [--out bench/results/identity_ablation]

Each LABEL=RUN is probed (docs/probe.md; 16 varied renders per (shape, cell), seed 0, figures off):
identity on the 180 clean renders and on glyph-varied renders, x / y R^2, the shift probe; with
``--metrics`` also `nar-solver metrics RUN --data objects --preset fast` (MIG, DCI disentanglement,
FactorVAE score: docs/metrics.md). Rows already in the output JSON are kept, so runs can be added
one at a time. Writes <out>.json and <out>.md and prints the table.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from nar_solver.probe.run import ProbeSettings, probe_checkpoint
from nar_solver.run.checkpoint import load_model


def row_of(label: str, run: str, metrics: bool) -> dict:
    loaded = load_model(run)
    cfg = loaded.config
    start = time.perf_counter()
    report = probe_checkpoint(run, ProbeSettings(samples=16, seed=0))
    s = report.scores
    row = {"label": label, "run": run, "step": loaded.step, "architecture": cfg.architecture, "z": cfg.z_dim,
           "gamma": cfg.gamma, "ink_weight": cfg.ink_weight, "recon_scales": cfg.recon_scales,
           "kl_warmup": cfg.kl_warmup, "identity": s["reconstruction_identity"],
           "varied_identity": s["varied_identity"], "x_r2": s["x_r2"], "y_r2": s["y_r2"],
           "shift": s["shift_probe"], "active": len(report.active_dims), "seconds_probe": round(time.perf_counter() - start, 1)}
    if metrics:
        from nar_solver.metrics.runner import DisentanglementSettings, evaluate_checkpoint

        m = evaluate_checkpoint(run, data="objects", seed=0, settings=DisentanglementSettings.preset("fast"),
                                device="cpu")
        row.update(mig=m.mig.score, dci_d=m.dci.disentanglement, factorvae=m.factorvae.score)
    return row


def markdown(rows: list[dict]) -> str:
    head = ("| run | step | decoder | z | ink w | scales | KL warm-up | identity clean | identity varied | x R^2 | y R^2 "
            "| shift | active dims | MIG | DCI D | FactorVAE |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def num(r, k, fmt):
        return format(r[k], fmt) if r.get(k) is not None else "-"

    for r in rows:
        lines.append(f"| {r['label']} | {r['step']} | {r['architecture']} | {r['z']} | {r['ink_weight']:g} | "
                     f"{r['recon_scales']} | {r['kl_warmup']} | {r['identity']:.1%} | {r['varied_identity']:.1%} | {r['x_r2']:.3f} | "
                     f"{r['y_r2']:.3f} | {r['shift']:.3f} | {r['active']} | {num(r, 'mig', '.2f')} | "
                     f"{num(r, 'dci_d', '.2f')} | {num(r, 'factorvae', '.2f')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=RUN")
    parser.add_argument("--metrics", action="store_true")
    parser.add_argument("--out", default="bench/results/identity_ablation")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    path = out.with_suffix(".json")
    rows = json.loads(path.read_text()) if path.exists() else []
    for item in args.runs:
        label, _, run = item.rpartition("=")
        rows = [r for r in rows if r["label"] != label] + [row_of(label, run, args.metrics)]
    path.write_text(json.dumps(rows, indent=1))
    out.with_suffix(".md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
