"""The solver's pictures: one solved puzzle, and the tuning sweep (accuracy against time)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nar_solver.evaluate.stats import error_bars
from nar_solver.figures import _pyplot, _save
from nar_solver.solve.selfcheck import REPRODUCE_FRACTION

_RIGHT = "#1a9641"
_CHOSEN = "#2b83ba"
_WRONG = "#d7191c"
_LEANS = "#e08a00"   # right option nearest, but not reproduced


def _show(ax, image: np.ndarray | None, title: str = "", edge: str | None = None) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if image is None:
        ax.axis("off")
        return
    ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    if title:
        ax.set_title(title, fontsize=7)
    for spine in ax.spines.values():
        spine.set_edgecolor(edge or "#bbbbbb")
        spine.set_linewidth(2.5 if edge else 0.6)


def solution_figure(puzzle, solution, path: str | Path) -> Path:
    """Examples (input, the rule's prediction with the example's margin, options with the right one
    framed green), then the query, its prediction and its options (chosen framed blue, or red when
    known to be wrong, with the right one green). A legend names the frames; the title says how
    many examples the rule reproduces (:mod:`nar_solver.solve.selfcheck`)."""
    plt = _pyplot()
    from matplotlib.patches import Patch

    examples = [ex for ex in puzzle.examples if ex.answer is not None]
    predicted = solution.details.get("predicted_examples")
    margins = solution.details.get("margins")
    ratios = solution.details.get("reproduction")
    rows = len(examples) + 1
    n_opt = puzzle.n_options
    fig, axes = plt.subplots(rows, 2 + n_opt, figsize=(1.25 * (2 + n_opt), 1.3 * rows + 0.4), squeeze=False)
    for r, ex in enumerate(examples):
        _show(axes[r, 0], ex.input, "input" if r == 0 else "")
        _show(axes[r, 1], None if predicted is None else predicted[r], "predicted" if r == 0 else "")
        if margins is not None:
            note = f"margin {margins[r]:.1f} T"
            if ratios is not None:
                note += f"\nmiss {ratios[r]:.2f}"
            reproduced = ratios is None or ratios[r] <= REPRODUCE_FRACTION
            colour = _WRONG if margins[r] <= 0 else (_RIGHT if reproduced else _LEANS)
            axes[r, 1].set_xlabel(note, fontsize=6, color=colour)
        for o in range(n_opt):
            _show(axes[r, 2 + o], ex.options[o], f"option {o}" if r == 0 else "",
                  _RIGHT if o == ex.answer else None)
    q = rows - 1
    _show(axes[q, 0], puzzle.query, "query")
    _show(axes[q, 1], solution.details.get("predicted_query"), "prediction")
    for o in range(n_opt):
        edge = None
        if o == solution.answer:
            edge = _CHOSEN if puzzle.query_answer in (None, o) else _WRONG
        elif puzzle.query_answer == o:
            edge = _RIGHT
        _show(axes[q, 2 + o], puzzle.query_options[o], f"{o}: {solution.scores[o]:.3g}", edge)
    verdict = ""
    if puzzle.query_answer is not None:
        verdict = "  (correct)" if solution.answer == puzzle.query_answer else f"  (wrong; right: {puzzle.query_answer})"
    solved = ("" if solution.examples_solved is None
              else f", examples reproduced {solution.examples_solved}/{solution.n_examples}")
    fig.suptitle(f"puzzle {puzzle.id} - {solution.solver}: answer {solution.answer}{verdict}, "
                 f"confidence {solution.confidence:.2f}{solved}", fontsize=8)
    handles = [Patch(facecolor="none", edgecolor=_RIGHT, lw=2, label="right option"),
               Patch(facecolor="none", edgecolor=_CHOSEN, lw=2, label="chosen option (right)"),
               Patch(facecolor="none", edgecolor=_WRONG, lw=2, label="chosen option (wrong)")]
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    legend = ("margin: right option's lead over the nearest wrong one, in temperatures (T)\nmiss: distance "
              "to the right option / its distance to the nearest other\n(green: reproduced, miss <= "
              f"{REPRODUCE_FRACTION:g}; orange: nearest but not reproduced; red: a wrong option is nearer)")
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, 0.03))
    fig.text(0.5, 0.0, legend if margins is not None else "", ha="center", va="bottom", fontsize=5.5,
             color="#555555")
    return _save(fig, path)


def tuning_figure(report, path: str | Path) -> Path:
    """Accuracy against seconds per puzzle for every (population, generations) pair, the Pareto
    front as a line, the recommended default ringed."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    points = report.points
    pops = sorted({p.population for p in points})
    cmap = plt.get_cmap("viridis")
    for i, pop in enumerate(pops):
        mine = sorted([p for p in points if p.population == pop], key=lambda p: p.generations)
        colour = cmap(i / max(1, len(pops) - 1))
        ax.plot([p.seconds_per_puzzle for p in mine], [100 * p.accuracy for p in mine], "o-", color=colour,
                lw=0.8, ms=5, label=f"population {pop}")
        yerr = 100 * np.array([error_bars(p.accuracy, p.interval) for p in mine]).T
        ax.errorbar([p.seconds_per_puzzle for p in mine], [100 * p.accuracy for p in mine], yerr=yerr,
                    fmt="none", ecolor=colour, elinewidth=0.5, alpha=0.4)
        for p in mine:
            ax.annotate(f"{p.generations}", (p.seconds_per_puzzle, 100 * p.accuracy), fontsize=6,
                        xytext=(3, 3), textcoords="offset points")
    front = report.pareto
    ax.plot([p.seconds_per_puzzle for p in front], [100 * p.accuracy for p in front], "--", color="black",
            lw=0.8, label="Pareto front")
    rec = report.recommended
    ax.scatter([rec.seconds_per_puzzle], [100 * rec.accuracy], s=180, facecolors="none", edgecolors="red",
               linewidths=1.5, label=f"recommended: {rec.population}x{rec.generations}")
    ax.set_xscale("log")
    ax.set_xlabel("seconds per puzzle (log)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("GA: accuracy against time (labels: generations; bars: 95% intervals)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
