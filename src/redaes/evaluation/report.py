"""Evaluation reports: ``report.json``, ``report.md`` (beside published peers) and scatter plots.

The Markdown puts the run next to the published numbers of peers on the same benchmark (from
``reference_results.json`` shipped with the package, with the protocol "setting" of each) and
ends with the cross-dataset table (one row per model, PLCC/SRCC per benchmark, and the mean over
the benchmarks of the run, like the papers' tables).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from redaes.evaluation.plots import scatter_png
from redaes.evaluation.runner import BenchmarkResult
from redaes.imageio import atomic_write_bytes

MEAN_SETS = {
    "mean3": ("ava", "flickr-aes", "tad66k"),
    "mean5": ("tad66k", "ava", "flickr-aes", "para", "aadb"),
}


def reference_results() -> list[dict[str, Any]]:
    """Published peer results shipped with redaes (PLCC/SRCC, with setting and source)."""
    text = resources.files("redaes.evaluation").joinpath("reference_results.json").read_text()
    rows: list[dict[str, Any]] = json.loads(text)["results"]
    return rows


def environment() -> dict[str, Any]:
    """Versions and machine of the run (provenance)."""
    import numpy
    import scipy

    import redaes

    try:
        import torch

        torch_version: str | None = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        torch_version = None
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": {
            "redaes": redaes.__version__,
            "torch": torch_version,
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "python": platform.python_version(),
        },
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
    }


def _mean_row(results: Sequence[BenchmarkResult]) -> dict[str, Any] | None:
    mos = [r for r in results if r.kind == "mos"]
    if len(mos) < 2:
        return None
    out: dict[str, Any] = {"benchmarks": [r.name for r in mos]}
    for metric in ("plcc", "srcc", "plcc_fitted", "krcc"):
        vals = [r.summary["metrics"][metric]["value"] for r in mos]
        out[metric] = None if any(v is None for v in vals) else sum(vals) / len(vals)
    return out


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{round(x, digits) + 0.0:.{digits}f}"  # no "-0.000"


def _ci(m: dict[str, float | None]) -> str:
    return f"{_fmt(m['value'])} [{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]"


def _markdown(report: dict[str, Any], refs: list[dict[str, Any]]) -> str:
    model = report["model"]["name"]
    lines = [
        f"# Evaluation of `{model}`",
        "",
        f"Split `{report['config']['split']}`, {report['config']['n_resamples']} bootstrap "
        f"resamples (95% percentile CI), seed {report['config']['seed']}, "
        f"{report['date']}, redaes {report['versions']['redaes']}.",
        "PLCC is on raw predictions; PLCC (fitted) and RMSE after the VQEG 4-parameter logistic.",
        "",
    ]
    for b in report["benchmarks"]:
        m, prov = b["metrics"], b["provenance"]
        lines += [f"## {b['benchmark']}", ""]
        if b["kind"] == "pairs":
            lines += [
                f"{b['n_scored']} pairs scored of {prov['n_pairs']} in `{prov['root']}`.",
                "",
                "| metric | value [95% CI] |",
                "|---|---|",
            ]
            lines += [f"| {k} | {_ci(v)} |" for k, v in m.items()]
            lines.append("")
            continue
        lines += [
            f"{b['n_scored']} images scored; {prov['n_labelled']} labelled in the split, "
            f"{prov['n_images_missing']} images missing on disk, {b['n_unreadable']} unreadable. "
            f"Labels: {prov['label_format']}; split: {prov['split_source']}.",
            "",
            "| system | setting | PLCC | SRCC | PLCC (fitted) | KRCC | RMSE (fitted) | accuracy |",
            "|---|---|---|---|---|---|---|---|",
            f"| **{model}** (this run) | {b['split']} split, n={b['n_scored']} | "
            f"{_ci(m['plcc'])} | {_ci(m['srcc'])} | {_ci(m['plcc_fitted'])} | {_ci(m['krcc'])} | "
            f"{_ci(m['rmse_fitted'])} | {_ci(m['accuracy'])} |",
        ]
        for r in refs:
            if r["benchmark"] == b["benchmark"]:
                lines.append(
                    f"| {r['system']} (published) | {r['setting']} | {_fmt(r['plcc'])} | "
                    f"{_fmt(r['srcc'])} | | | | |"
                )
        lines += ["", f"![{b['benchmark']}]({b['plot']})" if b.get("plot") else "", ""]
    mos = [b for b in report["benchmarks"] if b["kind"] == "mos"]
    if mos:
        names = [b["benchmark"] for b in mos]
        lines += [
            "## Cross-dataset (PLCC/SRCC)",
            "",
            "| system | " + " | ".join(names) + " | mean |",
            "|---|" + "---|" * (len(names) + 1),
        ]
        mean = report.get("mean")
        cells = [
            f"{_fmt(b['metrics']['plcc']['value'])}/{_fmt(b['metrics']['srcc']['value'])}"
            for b in mos
        ]
        mean_cell = f"{_fmt(mean['plcc'])}/{_fmt(mean['srcc'])}" if mean else "n/a"
        lines.append(f"| **{model}** | " + " | ".join(cells) + f" | {mean_cell} |")
        groups = sorted({(r["system"], r["table"]) for r in refs})
        for system, table in groups:
            own = {r["benchmark"]: r for r in refs if (r["system"], r["table"]) == (system, table)}
            means = [
                k for k, members in MEAN_SETS.items() if k in own and set(members) == set(names)
            ]
            if not (set(own) & set(names)) and not means:
                continue
            row = [
                f"{_fmt(own[n]['plcc'])}/{_fmt(own[n]['srcc'])}" if n in own else "-" for n in names
            ]
            mean_cell = (
                f"{_fmt(own[means[0]]['plcc'])}/{_fmt(own[means[0]]['srcc'])}" if means else "-"
            )
            lines.append(
                f"| {system} (published; {table}) | " + " | ".join(row) + f" | {mean_cell} |"
            )
        lines += [
            "",
            "Published rows come from the cited papers with their own protocols (see the "
            "per-benchmark tables); a published mean is shown only when it covers exactly the "
            "benchmarks of this run (mean3 = ava, flickr-aes, tad66k; mean5 adds para, aadb).",
            "",
        ]
    return "\n".join(lines)


def write_report(
    results: Sequence[BenchmarkResult],
    out: str | Path,
    model: dict[str, Any],
    config: dict[str, Any],
    plots: bool = True,
) -> dict[str, Any]:
    """Write ``report.json``, ``report.md`` and ``plots/<benchmark>.png`` under ``out``.

    Returns the report dictionary (the content of ``report.json``).
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    refs = reference_results()
    report: dict[str, Any] = {
        **environment(),
        "model": model,
        "config": config,
        "benchmarks": [],
        "mean": _mean_row(results),
    }
    for r in results:
        entry = dict(r.summary)
        entry["published"] = [x for x in refs if x["benchmark"] == r.name]
        if plots and len(r.pred) >= 1:
            rel = f"plots/{r.name}.png"
            xlabel = "predicted delta" if r.kind == "pairs" else f"{model['name']} score"
            ylabel = "recorded delta" if r.kind == "pairs" else "ground truth"
            params = entry.get("logistic_params") if r.kind == "mos" else None
            png = scatter_png(r.pred, r.gt, params, f"{r.name} ({r.split})", xlabel, ylabel)
            atomic_write_bytes(folder / rel, png)
            entry["plot"] = rel
        report["benchmarks"].append(entry)
    atomic_write_bytes(
        folder / "report.json", (json.dumps(report, indent=2, allow_nan=False) + "\n").encode()
    )
    atomic_write_bytes(folder / "report.md", _markdown(report, refs).encode("utf-8"))
    return report
