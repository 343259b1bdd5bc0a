"""The pictures of evaluations: accuracy per puzzle family, and the tuning sweep (accuracy against
time), with 95% Wilson intervals."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nar_solver.evaluate.stats import error_bars, wilson_interval
from nar_solver.figures import pyplot, save_figure

#: Accuracy of picking one of four options at random.
CHANCE = 0.25


def accuracy_figure(report, path: str | Path, category: str = "family") -> Path:
    """Bars of accuracy per value of ``category`` (default: family) and overall, each with its 95%
    Wilson interval and its puzzle count; a dotted line at chance (one of four options)."""
    plt = pyplot()
    table = report.per_category().get(category, {})
    labels = list(table) + ["all"]
    correct = [t["correct"] for t in table.values()] + [report.correct]
    counts = [t["n"] for t in table.values()] + [report.n]
    accuracy = np.array([c / n if n else 0.0 for c, n in zip(correct, counts)])
    bars = np.array([error_bars(a, wilson_interval(c, n)) for a, c, n in zip(accuracy, correct, counts)]).T
    fig, ax = plt.subplots(figsize=(max(3.5, 1.0 + 0.9 * len(labels)), 3.6))
    colours = ["#2b83ba"] * (len(labels) - 1) + ["#444444"]
    x = np.arange(len(labels))
    ax.bar(x, 100 * accuracy, color=colours, width=0.6)
    ax.errorbar(x, 100 * accuracy, yerr=100 * bars, fmt="none", ecolor="black", capsize=4, lw=1)
    for xi, a, n in zip(x, accuracy, counts):
        ax.annotate(f"{100 * a:.0f}%\nn={n}", (xi, 2), ha="center", va="bottom", fontsize=7, color="white")
    ax.axhline(100 * CHANCE, color="grey", ls=":", lw=1, label="chance (1 of 4)")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{report.solver}: accuracy by {category} (bars: 95% Wilson intervals)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


#: Line colours of the tuning figure, one per population: dark enough on white (viridis ended in a
#: pale yellow) and told apart in greyscale too (matplotlib's tab10, its light ones left out).
LINE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#ff7f0e", "#e377c2", "#7f7f7f")
#: Below this ratio of the longest to the shortest time the axis is linear: a log axis over less
#: than a decade labels its minor ticks, and their labels ran into each other.
LOG_RATIO = 10.0


def time_axis(ax, seconds) -> None:
    """The seconds-per-puzzle axis: log over a decade or more, else linear; at most 6 labelled ticks,
    written plainly (0.03, not 3x10^-2), none of them minor."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    seconds = [s for s in seconds if s > 0]
    plain = FuncFormatter(lambda v, _: f"{v:.3g}")
    if seconds and max(seconds) / min(seconds) >= LOG_RATIO:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=6))
        ax.set_xlabel("seconds per puzzle (log)")
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))
        ax.set_xlabel("seconds per puzzle")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(NullFormatter())


def tuning_figure(report, path: str | Path) -> Path:
    """Accuracy against seconds per puzzle for every (population, generations) pair, the Pareto
    front as a line, the recommended default ringed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    points = report.points
    pops = sorted({p.population for p in points})
    for i, pop in enumerate(pops):
        mine = sorted([p for p in points if p.population == pop], key=lambda p: p.generations)
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
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
    time_axis(ax, [p.seconds_per_puzzle for p in points])
    ax.set_ylabel("accuracy (%)")
    ax.set_title("GA: accuracy against time (labels: generations; bars: 95% intervals)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)
