"""Test helper: look inside the figures a command draws, not only at the file sizes.

:func:`capture_figures` wraps the ``save_figure`` that figure modules call, so a test gets each
matplotlib Figure (and where it went) after the command ran: its panels, its texts and the pixels
of the pictures it shows.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Every module that draws with nar_solver.figures.save_figure.
FIGURE_MODULES = ("nar_solver.figures", "nar_solver.evaluate.figures", "nar_solver.probe.figures",
                  "nar_solver.solve.figures")


@dataclass
class Drawn:
    figure: object   # matplotlib.figure.Figure (closed once saved; its artists stay)
    path: Path

    @property
    def panels(self) -> list:
        """The axes that are panels (colour bars left out)."""
        return [ax for ax in self.figure.axes if ax.get_label() != "<colorbar>"]

    def texts(self) -> list[str]:
        """Every non-empty text drawn: titles, axis labels, tick labels, legends, annotations."""
        from matplotlib.text import Text

        return [t.get_text() for t in self.figure.findobj(Text) if t.get_text() and t.get_visible()]

    def picture(self, panel: int = 0) -> np.ndarray:
        """The image array a panel shows (imshow)."""
        return np.asarray(self.panels[panel].images[0].get_array())


def capture_figures(monkeypatch) -> dict[str, Drawn]:
    """Record every figure saved from now on, by file name (later ones replace earlier ones)."""
    drawn: dict[str, Drawn] = {}
    for name in FIGURE_MODULES:
        module = importlib.import_module(name)
        original = module.save_figure

        def record(fig, path, _original=original):
            drawn[Path(path).name] = Drawn(fig, Path(path))
            return _original(fig, path)

        monkeypatch.setattr(module, "save_figure", record)
    return drawn


def tile(picture: np.ndarray, row: int, column: int, pad: int = 2, size: int = 64) -> np.ndarray:
    """One image of a grid made by nar_solver.figures.tile_grid (or torchvision's make_grid)."""
    y, x = pad + row * (size + pad), pad + column * (size + pad)
    return picture[y:y + size, x:x + size]


def tick_labels(ax, axis: str = "y") -> list[str]:
    return [t.get_text() for t in (ax.get_yticklabels() if axis == "y" else ax.get_xticklabels())]
