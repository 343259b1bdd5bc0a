"""The solver's picture of one solved puzzle (the tuning sweep's is in nar_solver/evaluate/figures.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nar_solver.figures import pyplot, save_figure
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
    plt = pyplot()
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
    return save_figure(fig, path)
