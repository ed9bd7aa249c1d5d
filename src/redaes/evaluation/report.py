"""Evaluation reports: ``report.json``, ``report.md`` (beside published peers) and scatter plots.

The Markdown puts the run next to the published numbers of peers on the same benchmark (from
:mod:`redaes.evaluation.references`, each with its protocol and citation) and ends with the
cross-dataset table (one row per model, PLCC/SRCC per benchmark, and the mean over the
benchmarks of the run, like the papers' tables). Only cross-dataset and zero-shot peers enter
that table; in-domain and mixed-training peers get their own table. A benchmark split by the
hash fallback (no official split found) is never placed beside published numbers.
Without matplotlib the JSON and Markdown are still written (``plots_skipped`` says why).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redaes.evaluation.plots import plots_available, scatter_png
from redaes.evaluation.references import MEAN_SETS, is_cross_dataset, reference_results
from redaes.evaluation.runner import BenchmarkResult
from redaes.imageio import atomic_write_bytes

__all__ = ["environment", "reference_results", "report_warnings", "write_report"]


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


MOS_COLUMNS = (
    ("plcc", "PLCC"),
    ("srcc", "SRCC"),
    ("plcc_fitted", "PLCC (fitted)"),
    ("krcc", "KRCC"),
    ("rmse_fitted", "RMSE (fitted)"),
    ("accuracy", "accuracy"),
    ("pairwise", "pairwise"),
)
"""The per-benchmark table of an image benchmark: every metric the report explains."""


def comparable(entry: dict[str, Any]) -> bool:
    """Whether a benchmark result used the official split (else: not beside published numbers)."""
    return not str(entry["provenance"].get("split_source", "")).startswith("hash split")


def report_warnings(entry: dict[str, Any]) -> list[str]:
    """One line per problem a reader must know about (missing/unreadable images, bad scores)."""
    name, prov, out = entry["benchmark"], entry["provenance"], []
    if prov.get("n_images_missing"):
        example = (prov.get("missing_examples") or ["?"])[0]
        out.append(
            f"{name}: {prov['n_images_missing']} of {prov.get('n_labelled', '?')} labelled "
            f"images missing on disk (e.g. {example})"
        )
    if entry.get("n_unreadable"):
        key, why = next(iter(entry["unreadable_examples"].items()))
        out.append(f"{name}: {entry['n_unreadable']} images unreadable, skipped ({key}: {why})")
    if entry.get("n_invalid"):
        key, why = next(iter(entry["invalid_examples"].items()))
        out.append(f"{name}: {entry['n_invalid']} non-finite scores, skipped ({key}: {why})")
    if entry.get("n_failed"):
        key, why = next(iter(entry["failed_examples"].items()))
        out.append(f"{name}: model errors on {entry['n_failed']} images, skipped ({key}: {why})")
    if entry.get("stale_caches_ignored"):
        out.append(
            f"{name}: cached predictions of another version of this model were not used "
            f"({', '.join(entry['stale_caches_ignored'])}; model fingerprint changed)"
        )
    want = prov.get("official_counts", {}).get(entry.get("split"))
    if want is not None and want != prov.get("n_labelled"):
        out.append(
            f"{name}: {prov.get('n_labelled')} labelled images in split {entry['split']!r}, "
            f"the official split has {want}"
        )
    for note in prov.get("notes", []):
        out.append(f"{name}: {note}")
    if entry.get("kind") == "mos" and not comparable(entry):
        out.append(
            f"{name}: {prov['split_source']} (no official split found): not comparable with "
            "published numbers"
        )
    return out


def _header(report: dict[str, Any]) -> list[str]:
    kinds = {b["kind"] for b in report["benchmarks"]}
    lines = [
        f"# Evaluation of `{report['model']['name']}`",
        "",
        f"Split `{report['config']['split']}`, {report['config']['n_resamples']} bootstrap "
        f"resamples (95% percentile CI), seed {report['config']['seed']}, "
        f"{report['date']}, redaes {report['versions']['redaes']}, model fingerprint "
        f"`{str(report['model'].get('fingerprint') or 'n/a')[:12]}`.",
    ]
    if "mos" in kinds:
        lines.append(
            "Image benchmarks: PLCC on raw predictions; PLCC (fitted) and RMSE (fitted) after "
            "the VQEG 4-parameter logistic (n >= 10; PLCC (fitted) is negative for a falling "
            "curve; RMSE in ground-truth units); SRCC; KRCC (tau-b); accuracy = binary agreement "
            "at the benchmark's threshold; pairwise = ranking accuracy over pairs with different "
            "ground truth."
        )
    if "pairs" in kinds:
        lines.append(
            "RED pair benchmarks: direction accuracy of the predicted difference, SRCC/PLCC of "
            "predicted vs recorded deltas, mean within-chain SRCC."
        )
    if report.get("plots_skipped"):
        lines.append(f"Plots skipped: {report['plots_skipped']}.")
    return [*lines, ""]


def _counts(b: dict[str, Any]) -> str:
    parts = [f"{b['n_reused']} of {b['n_selected']} predictions reused from the cache"]
    if b.get("n_unreadable"):
        parts.append(f"{b['n_unreadable']} unreadable images skipped")
    if b.get("n_invalid"):
        parts.append(f"{b['n_invalid']} non-finite scores skipped")
    if b.get("n_failed"):
        parts.append(f"{b['n_failed']} model errors skipped")
    return "; ".join(parts) + "."


def _peer_rows(b: dict[str, Any], refs: list[dict[str, Any]]) -> list[str]:
    if not comparable(b):
        return []
    out = []
    for r in refs:
        if r["benchmark"] == b["benchmark"]:
            cells = f"{_fmt(r['plcc'])} | {_fmt(r['srcc'])} |" + " |" * (len(MOS_COLUMNS) - 2)
            out.append(
                f"| {r['system']} (published) | {r['setting']}; {r['citation']}; PLCC "
                f"{r['plcc_kind']} | {cells}"
            )
    return out


def _benchmark_md(b: dict[str, Any], model: str, refs: list[dict[str, Any]]) -> list[str]:
    m, prov = b["metrics"], b["provenance"]
    lines = [f"## {b['benchmark']}", ""]
    if b["kind"] == "pairs":
        lines += [
            f"{b['n_scored']} pairs scored of {prov['n_pairs']} in `{prov['root']}`. {_counts(b)}",
            "",
            "| metric | value [95% CI] |",
            "|---|---|",
            *[f"| {k} | {_ci(v)} |" for k, v in m.items()],
            "",
        ]
        return lines
    lines += [
        f"{b['n_scored']} images scored; {prov['n_labelled']} labelled in the split, "
        f"{prov['n_images_missing']} images missing on disk. {_counts(b)} "
        f"Labels: {prov['label_format']}; split: {prov['split_source']}.",
        "",
    ]
    warnings = [w.split(": ", 1)[1] for w in report_warnings(b)]
    if warnings:
        lines += ["Warnings:", "", *[f"- {w}" for w in warnings], ""]
    if not comparable(b):
        lines += [
            f"**Not comparable with published numbers:** {prov['split_source']} (the official "
            "split was not found), so no published peers are shown.",
            "",
        ]
    if b.get("logistic_at_bound"):
        lines += [
            f"The logistic fit ended on a bound ({', '.join(b['logistic_at_bound'])}): the "
            "fitted metrics describe the best curve within the bounds.",
            "",
        ]
    lines += [
        "| system | setting | " + " | ".join(h for _, h in MOS_COLUMNS) + " |",
        "|---|---|" + "---|" * len(MOS_COLUMNS),
        f"| **{model}** (this run) | {b['split']} split, n={b['n_scored']} | "
        + " | ".join(_ci(m[k]) for k, _ in MOS_COLUMNS)
        + " |",
        *_peer_rows(b, refs),
        "",
        f"![{b['benchmark']}]({b['plot']})" if b.get("plot") else "",
        "",
    ]
    return lines


def _pair(x: dict[str, Any]) -> str:
    return f"{_fmt(x['plcc'])}/{_fmt(x['srcc'])}"


def _cross_md(report: dict[str, Any], refs: list[dict[str, Any]]) -> list[str]:
    mos = [b for b in report["benchmarks"] if b["kind"] == "mos"]
    if not mos:
        return []
    names = [b["benchmark"] for b in mos]
    ok = {b["benchmark"] for b in mos if comparable(b)}
    mean = report.get("mean")
    lines = [
        "## Cross-dataset (PLCC/SRCC)",
        "",
        "| system | " + " | ".join(names) + " | mean |",
        "|---|" + "---|" * (len(names) + 1),
        f"| **{report['model']['name']}** | "
        + " | ".join(
            _pair(b["metrics"] | {k: b["metrics"][k]["value"] for k in ("plcc", "srcc")})
            for b in mos
        )
        + f" | {_pair(mean) if mean else 'n/a'} |",
    ]
    cross = [r for r in refs if is_cross_dataset(r)]
    for system, source in sorted({(r["system"], r["source"]) for r in cross}):
        own = {r["benchmark"]: r for r in cross if (r["system"], r["source"]) == (system, source)}
        means = [k for k in MEAN_SETS if k in own and set(MEAN_SETS[k]) == set(names)]
        if not (set(own) & ok) and not means:
            continue
        row = [_pair(own[n]) if n in own and n in ok else "-" for n in names]
        cell = "-"
        if means and ok == set(names):
            cell = _pair(own[means[0]])
            if own[means[0]]["mean"] == "published only":
                cell += " (published mean only)"
        first = next(iter(own.values()))
        lines.append(
            f"| {system} (published; {first['citation']}) | " + " | ".join(row) + f" | {cell} |"
        )
    lines += [
        "",
        "Only cross-dataset and zero-shot peers are listed here; means are computed from the "
        "stored per-benchmark values (mean3 = ava, flickr-aes, tad66k; mean5 adds para, aadb) "
        "and shown only when they cover exactly the benchmarks of this run, all on official "
        "splits. `-`: no comparable published value.",
        "",
    ]
    other = [
        r
        for r in refs
        if not is_cross_dataset(r)
        and (
            r["benchmark"] in ok
            or (r["benchmark"] in MEAN_SETS and set(MEAN_SETS[r["benchmark"]]) == ok == set(names))
        )
    ]
    if other:
        lines += [
            "## Published results under other protocols (not cross-dataset)",
            "",
            "| system | benchmark | PLCC/SRCC | protocol | source |",
            "|---|---|---|---|---|",
            *[
                f"| {r['system']} | {r['benchmark']} | {_pair(r)} | {r['setting']} | "
                f"{r['citation']} |"
                for r in other
            ],
            "",
        ]
    return lines


def _markdown(report: dict[str, Any], refs: list[dict[str, Any]]) -> str:
    model = report["model"]["name"]
    lines = _header(report)
    for b in report["benchmarks"]:
        lines += _benchmark_md(b, model, refs)
    lines += _cross_md(report, refs)
    return "\n".join(lines)


def write_report(
    results: Sequence[BenchmarkResult],
    out: str | Path,
    model: dict[str, Any],
    config: dict[str, Any],
    plots: bool = True,
) -> dict[str, Any]:
    """Write ``report.json``, ``report.md`` and ``plots/<benchmark>.png`` under ``out``.

    Without matplotlib the plots are skipped (``report["plots_skipped"]`` says why) and the
    JSON and Markdown are still written. Returns the report dictionary (``report.json``).
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    refs = reference_results()
    if "fingerprint" not in model and results:
        model = {**model, "fingerprint": results[0].summary.get("model_fingerprint")}
    report: dict[str, Any] = {
        **environment(),
        "model": model,
        "config": config,
        "benchmarks": [],
        "mean": _mean_row(results),
    }
    if plots and not plots_available():
        plots = False
        report["plots_skipped"] = "matplotlib is not installed (pip install 'redaes[eval]')"
    for r in results:
        entry = dict(r.summary)
        entry["published"] = [x for x in refs if x["benchmark"] == r.name]
        if plots and len(r.pred) >= 1:
            rel = f"plots/{r.name}.png"
            mos = r.kind == "mos"
            lo, hi = entry["provenance"].get("score_range", ["?", "?"]) if mos else ("", "")
            xlabel = f"{model['name']} score (0-10, higher is better)" if mos else "predicted delta"
            ylabel = f"ground truth ({lo:g}-{hi:g})" if mos else "recorded delta"
            m = entry["metrics"]
            keys = ("srcc", "plcc") if mos else ("delta_srcc", "delta_plcc")
            png = scatter_png(
                r.pred,
                r.gt,
                entry.get("logistic_params") if mos else None,
                f"{r.name} ({r.split})",
                xlabel,
                ylabel
                if (mos and entry["provenance"].get("higher_is_better", True))
                else (f"negated {ylabel}" if mos else ylabel),
                srcc=m[keys[0]]["value"],
                plcc=m[keys[1]]["value"],
            )
            atomic_write_bytes(folder / rel, png)
            entry["plot"] = rel
        report["benchmarks"].append(entry)
    atomic_write_bytes(
        folder / "report.json", (json.dumps(report, indent=2, allow_nan=False) + "\n").encode()
    )
    atomic_write_bytes(folder / "report.md", _markdown(report, refs).encode("utf-8"))
    return report
