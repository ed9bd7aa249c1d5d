"""Scatter plots of predictions against ground truth (matplotlib, Agg backend, lazy import)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from redaes.errors import ConfigError
from redaes.metrics import logistic4


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


def scatter_png(
    pred: Sequence[float],
    gt: Sequence[float],
    logistic: Sequence[float] | None,
    title: str,
    xlabel: str = "prediction",
    ylabel: str = "ground truth",
) -> bytes:
    """PNG bytes of ``gt`` against ``pred`` with the fitted logistic curve (when given)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
    try:
        x, y = np.asarray(pred, dtype=float), np.asarray(gt, dtype=float)
        ax.scatter(x, y, s=6, alpha=0.5, color="#1f77b4", label=f"n={x.size}")
        if logistic is not None and x.size:
            xs = np.linspace(float(x.min()), float(x.max()), 200)
            ax.plot(xs, logistic4(xs, *logistic), color="#d62728", label="4-parameter logistic")
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()
