"""CLI command ``redaes calibrate``: map a model's scores to a user's own rating scale.

The labels file is a CSV with a header and the columns ``path,rating``: ``path`` is an image
(relative paths are relative to the CSV), ``rating`` is any number on the user's own scale
(1-5 stars, 0-100, ...); at least 3 photos with at least 2 distinct ratings. Torch loads only
when the command runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def register(app: typer.Typer) -> None:
    """Add ``redaes calibrate``."""

    @app.command("calibrate")
    def calibrate_cmd(
        model: Path = typer.Option(..., "--model", "-m", help="compact weights (.safetensors)"),
        labels: Path = typer.Option(..., "--labels", help="CSV with columns path,rating"),
        out: Path = typer.Option(..., "--out", "-o", help="calibrated weights to write"),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    ) -> None:
        """Fit a monotone (isotonic) map from scores to your ratings; store it with the weights.

        The calibrated model reports scores in your scale; the fit is kept apart from training.
        """
        from redaes.models.assessor import calibrate_model

        report = calibrate_model(model, labels, out)
        if as_json:
            typer.echo(json.dumps(report, indent=2))
            return
        cal = report["calibration"]
        lo, hi = cal["range"]
        console.print(
            f"calibrated on {cal['n']} photos (ratings {lo:g}..{hi:g}, {len(cal['x'])} knots)",
            highlight=False,
        )
        console.print(
            f"in-sample: Spearman {_fmt(report['spearman'])}, Kendall {_fmt(report['kendall'])}",
            highlight=False,
        )
        console.print(
            f"leave-one-out isotonic: Spearman {_fmt(report['loo_spearman'])}, "
            f"Kendall {_fmt(report['loo_kendall'])}, MAE {report['loo_mae']:.3f}",
            highlight=False,
        )
        from redaes.models.weights import describe_weights

        console.print(f"weights: {describe_weights(report['model'])}", highlight=False)
