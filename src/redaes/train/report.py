"""Training logs: read ``log.jsonl`` and draw the loss curve (matplotlib, if installed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_log(path: Path) -> list[dict[str, Any]]:
    """Records of a JSONL log (missing file: empty; a torn last line is dropped)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def plot_log(log: Path, png: Path) -> Path | None:
    """Training loss and validation direction accuracy against the step; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    records = read_log(log)
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    val = [(r["step"], r["val"].get("direction_acc")) for r in records if "val" in r]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss", color="tab:blue")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if val:
        ax2 = ax.twinx()
        ax2.plot(*zip(*val, strict=True), "o-", label="val direction acc", color="tab:orange")
        ax2.set_ylabel("direction accuracy")
        ax2.set_ylim(0, 1)
    ax.set_title(log.parent.name)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return png
