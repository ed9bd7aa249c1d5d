"""``redaes eval``: score a model on public benchmarks and write a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from redaes.errors import ConfigError


def parse_roots(benchmarks: list[str], roots: list[str]) -> dict[str, Path]:
    """Pair benchmarks with roots: ``name=DIR`` entries by name, plain ``DIR`` ones in order."""
    named: dict[str, Path] = {}
    plain: list[Path] = []
    for r in roots:
        name, sep, rest = r.partition("=")
        if sep and name in benchmarks:
            named[name] = Path(rest)
        else:
            plain.append(Path(r))
    remaining = [b for b in benchmarks if b not in named]
    if len(plain) != len(remaining):
        raise ConfigError(
            f"{len(benchmarks)} benchmark(s) ({', '.join(benchmarks)}) need one --root each "
            f"(DIR in order, or NAME=DIR); got {len(roots)}"
        )
    named.update(zip(remaining, plain, strict=True))
    return {b: named[b] for b in benchmarks}


def parse_options(benchmarks: list[str], sets: list[str]) -> dict[str, dict[str, Any]]:
    """``BENCH.KEY=VALUE`` overrides (VALUE parsed as JSON when it can be, else a string)."""
    out: dict[str, dict[str, Any]] = {b: {} for b in benchmarks}
    for item in sets:
        left, sep, value = item.partition("=")
        bench, dot, key = left.partition(".")
        if not sep or not dot or bench not in out or not key:
            raise ConfigError(
                f"--set {item!r}: expected BENCHMARK.OPTION=VALUE with BENCHMARK one of "
                f"{', '.join(benchmarks)}"
            )
        try:
            parsed: Any = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out[bench][key] = parsed
    return out


def register(app: typer.Typer) -> None:
    """Add ``redaes eval``."""

    @app.command("eval")
    def eval_cmd(
        model: str = typer.Option(..., "--model", "-m", help="assessor name or pkg.mod:callable"),
        benchmark: str = typer.Option(
            ..., "--benchmark", "-b", help="benchmark name(s), comma separated (redaes list)"
        ),
        root: list[str] = typer.Option(
            ..., "--root", "-r", help="dataset root per benchmark: DIR (in order) or NAME=DIR"
        ),
        out: Path = typer.Option(..., "--out", "-o", help="report folder (also holds the cache)"),
        split: str = typer.Option(
            "test", help="test, train, val (also: validation) or all", show_default=True
        ),
        limit: int | None = typer.Option(
            None, min=1, help="at most N samples per benchmark (deterministic subset)"
        ),
        batch_size: int = typer.Option(16, "--batch-size", min=1, help="images per model call"),
        bootstrap: int = typer.Option(1000, min=0, help="bootstrap resamples for the 95% CIs"),
        seed: int = typer.Option(0, help="seed of the subset and the bootstrap"),
        sets: list[str] = typer.Option(
            [], "--set", help="benchmark option, e.g. generic.labels=scores.csv (repeatable)"
        ),
        plots: bool = typer.Option(True, "--plots/--no-plots", help="write scatter PNGs"),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bar"),
    ) -> None:
        """Score MODEL on one or more benchmarks; write report.json, report.md and plots."""
        from rich.console import Console

        from redaes.assessors import create_assessor
        from redaes.benchmarks import create_benchmark
        from redaes.evaluation import Target, evaluate, write_report
        from redaes.evaluation.plots import plots_available
        from redaes.evaluation.report import report_warnings

        names = [b.strip() for b in benchmark.split(",") if b.strip()]
        if not names:
            raise ConfigError("--benchmark: give at least one benchmark name")
        roots = parse_roots(names, root)
        options = parse_options(names, sets)
        for n in names:
            create_benchmark(n, **options[n])  # unknown names / bad options fail before scoring
        assessor = create_assessor(model)
        targets = [Target(n, roots[n], options[n]) for n in names]
        console = Console(soft_wrap=True, highlight=False)
        warn = Console(stderr=True, soft_wrap=True, highlight=False)
        if plots and not plots_available():  # checked before scoring, not after
            warn.print(
                "warning: plots need matplotlib (pip install 'redaes[eval]'); "
                "writing report.json and report.md without plots",
                markup=False,
            )  # write_report skips them and records why
        results = evaluate(
            assessor,
            targets,
            out,
            split=split,
            limit=limit,
            batch_size=batch_size,
            n_resamples=bootstrap,
            seed=seed,
            progress=progress,
            model_name=model,
        )
        model_info = {
            "name": model,
            "class": f"{type(assessor).__module__}.{type(assessor).__qualname__}",
            "score_range": list(assessor.score_range),
            "fingerprint": results[0].summary.get("model_fingerprint") if results else None,
        }
        config = {
            "benchmarks": {t.name: {"root": str(t.root), "options": t.options} for t in targets},
            "split": split,
            "limit": limit,
            "batch_size": batch_size,
            "n_resamples": bootstrap,
            "seed": seed,
        }
        report = write_report(results, out, model_info, config, plots=plots)
        for b in report["benchmarks"]:
            if b.get("n_reused"):
                console.print(
                    f"{b['benchmark']}: resumed {b['n_reused']} of {b['n_selected']} predictions "
                    f"from the cache (model fingerprint {str(b.get('model_fingerprint'))[:12]})",
                    markup=False,
                )
            for line in report_warnings(b):
                warn.print(f"warning: {line}", markup=False)
        for b in report["benchmarks"]:
            m = b["metrics"]
            shown = ", ".join(
                f"{k}={v['value']:.3f}" for k, v in m.items() if v["value"] is not None
            )
            console.print(f"{b['benchmark']}: n={b['n_scored']} {shown}", highlight=False)
        if report["mean"]:
            mean = report["mean"]
            shown = ", ".join(f"{k}={mean[k]:.3f}" for k in ("plcc", "srcc") if mean[k] is not None)
            console.print(f"mean over {len(mean['benchmarks'])} benchmarks: {shown}")
        console.print(f"report: {Path(out) / 'report.md'}")
