"""Scatter plots of predictions against ground truth (matplotlib, Agg backend, lazy import).

Readable at benchmark sizes: up to :data:`HEXBIN_FROM` points are drawn as a scatter with an
alpha that falls with n; above it, as a log-count hexbin (AVA's 20k test images). The title
carries SRCC and PLCC, the x axis names the model's 0-10 score.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from redaes.errors import ConfigError
from redaes.metrics import logistic4

HEXBIN_FROM = 2000
"""From this many points on, the plot is a hexbin density instead of a scatter."""


def plots_available() -> bool:
    """Whether matplotlib (the ``eval`` extra) is installed, checked without importing it."""
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):  # a None entry in sys.modules (tests) or a broken install
        return False


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(
            "plots need matplotlib: pip install 'redaes[eval]' (or pass --no-plots)"
        ) from None
    return plt


def _fmt(x: float | None) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3f}"


def scatter_png(
    pred: Sequence[float],
    gt: Sequence[float],
    logistic: Sequence[float] | None,
    title: str,
    xlabel: str = "prediction (0-10)",
    ylabel: str = "ground truth",
    srcc: float | None = None,
    plcc: float | None = None,
) -> bytes:
    """PNG bytes of ``gt`` against ``pred`` with the fitted logistic curve (when given).

    ``srcc`` / ``plcc`` are shown in the title when given.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    try:
        x, y = np.asarray(pred, dtype=float), np.asarray(gt, dtype=float)
        if x.size >= HEXBIN_FROM:
            hb = ax.hexbin(x, y, gridsize=60, bins="log", cmap="viridis", mincnt=1)
            fig.colorbar(hb, ax=ax, label="images per cell (log)")
            ax.plot([], [], " ", label=f"n={x.size}")
        else:
            alpha = float(np.clip(30.0 / math.sqrt(max(x.size, 1)), 0.15, 0.8))
            ax.scatter(x, y, s=8, alpha=alpha, color="#1f77b4", lw=0, label=f"n={x.size}")
        if logistic is not None and x.size:
            xs = np.linspace(float(x.min()), float(x.max()), 200)
            ax.plot(xs, logistic4(xs, *logistic), color="#d62728", label="4-parameter logistic")
        if srcc is not None or plcc is not None:
            title = f"{title}\nSRCC {_fmt(srcc)}, PLCC {_fmt(plcc)}"
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()
