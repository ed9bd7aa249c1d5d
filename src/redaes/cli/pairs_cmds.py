"""CLI commands (pairs): ``redaes pairs build`` and ``redaes pairs info``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redaes.cli.static_meta import plan_defaults

_PLAN = plan_defaults() or {}  # read from the source: importing the plan would load torch


def _default(name: str) -> str:
    """``" (default: the plan's NAME, VALUE)"`` for the help of a flag overriding the plan."""
    value = _PLAN.get(name)
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    elif isinstance(value, float):
        value = f"{value:g}"
    return f" (default: the plan's {name}" + (")" if value is None else f", {value})")


pairs_app = typer.Typer(
    name="pairs",
    help="Build and inspect RED datasets (source/edit pairs with judged aesthetic differences).",
    no_args_is_help=True,
)
console = Console()


def summary_table(summary: dict[str, Any], title: str = "RED dataset") -> Table:
    """A rich table of a build summary (pairs per op, direction, split; agreement; failures)."""
    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("pairs", str(summary.get("pairs", 0)))
    for split, n in summary.get("splits", {}).items():
        table.add_row(f"split {split}", str(n))
    for d, n in summary.get("directions", {}).items():
        table.add_row(f"direction {d}", str(n))
    for op, n in summary.get("ops", {}).items():
        table.add_row(f"op {op}", str(n))
    table.add_row("chain pairs", str(summary.get("chain_pairs", 0)))
    table.add_row("restoration pairs", str(summary.get("restoration_pairs", 0)))
    table.add_row("judges", escape(", ".join(summary.get("judges", []))))
    table.add_row("judge agreement", f"{summary.get('judge_agreement', 1.0):.1%}")
    table.add_row("dropped (sign disagreement)", str(summary.get("dropped_disagree", 0)))
    table.add_row("dropped (uninformative)", str(summary.get("dropped_uninformative", 0)))
    table.add_row("judge failures", str(summary.get("judge_failures", 0)))
    table.add_row("render failures", str(summary.get("render_failures", 0)))
    table.add_row("skipped images", str(len(summary.get("skipped_images", []))))
    errors = summary.get("judge_errors") or {}
    if errors:
        first = max(errors, key=lambda k: errors[k])
        table.add_row("most frequent judge error", escape(f"{first} ({errors[first]} pairs)"))
    if "pairs_per_second" in summary:
        table.add_row("pairs/s", f"{summary['pairs_per_second']:.1f}")
    return table


def generative_overrides(
    plan_pipeline: str,
    pipeline: Path | None,
    share: float | None,
    ops: list[str] | None,
    guard_min_ssim: float | None,
    *,
    mapping: list[str] | None = None,
    options: list[str] | None = None,
    guard_side: int | None = None,
    plan_mapping: dict[str, Any] | None = None,
    plan_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan fields set by ``--generative`` and its companion flags (``None``: not given).

    The companions need a pipeline, from ``--generative`` or the plan's ``generative_pipeline``;
    ``--generative-op`` takes ``gen:<id>``, ``<id>`` or either with ``=WEIGHT``;
    ``--generative-mapping CONTROL=LOW,HIGH`` and ``--generative-option KEY=VALUE`` are merged
    key by key over the plan's ``plan_mapping`` / ``plan_options``.
    """
    from redaes.errors import ConfigError

    companions = {
        "--generative-share": share is not None,
        "--generative-op": bool(ops),
        "--guard-min-ssim": guard_min_ssim is not None,
        "--generative-mapping": bool(mapping),
        "--generative-option": bool(options),
        "--guard-side": guard_side is not None,
    }
    given = [flag for flag, on in companions.items() if on]
    if given and pipeline is None and not plan_pipeline:
        raise ConfigError(f"{given[0]} needs --generative PIPELINE_DIR (or a plan naming one)")
    weights: dict[str, float] = {}
    for item in ops or []:
        name, sep, raw = item.partition("=")
        try:
            weight = float(raw) if sep else 1.0
        except ValueError:
            weight = math.nan
        if not name.strip() or not math.isfinite(weight) or weight < 0:
            raise ConfigError(f"--generative-op {item!r}: expected ID or ID=WEIGHT (>= 0)")
        weights[name.strip()] = weight
    extra: dict[str, Any] = {}
    if mapping or options:
        from redaes.edits.generative.options import parse_mapping_flags, parse_option_flags

        if mapping:
            extra["generative_mapping"] = dict(plan_mapping or {}) | parse_mapping_flags(mapping)
        if options:
            extra["generative_options"] = dict(plan_options or {}) | parse_option_flags(options)
    if guard_side is not None and guard_side < 8:
        raise ConfigError(f"--guard-side must be >= 8 px, got {guard_side}")
    return {
        "generative_pipeline": None if pipeline is None else str(pipeline),
        "generative_share": share,
        "generative_ops": weights or None,
        "guard_min_ssim": guard_min_ssim,
        "guard_side": guard_side,
    } | extra


@pairs_app.command("build")
def build_cmd(
    images: Path = typer.Option(..., "--images", help="folder of source photos (recursive)"),
    out: Path = typer.Option(..., "--out", help="dataset folder to write (resumable)"),
    n_pairs: int = typer.Option(..., "--pairs", help="exact number of pairs to publish"),
    chains: int | None = typer.Option(
        None,
        "--chains",
        help="k strengths of one op per chain (0 = none)" + _default("chain_length"),
    ),
    judge: list[str] | None = typer.Option(
        None,
        "--judge",
        help="judge name, repeatable" + _default("judges"),
    ),
    restore_prob: float | None = typer.Option(
        None,
        "--restore-prob",
        help="share of restoration units (degraded source, correcting edit); 0 = none"
        + _default("restore_prob"),
    ),
    seed: int = typer.Option(0, "--seed", help="dataset seed"),
    workers: int = typer.Option(1, "--workers", help="parallel workers"),
    engine: str = typer.Option("local", "--engine", help="local (multiprocessing) or ray"),
    ray_address: str | None = typer.Option(None, "--ray-address", help="existing Ray cluster"),
    plan_file: Path | None = typer.Option(None, "--plan", help="plan YAML (see PairPlan)"),
    max_side: int | None = typer.Option(
        None,
        "--max-side",
        help="long side of images (px)" + _default("max_side"),
    ),
    plugin: list[str] | None = typer.Option(
        None, "--plugin", help="module to import in workers (custom judges/ops), repeatable"
    ),
    generative: Path | None = typer.Option(
        None,
        "--generative",
        metavar="PIPELINE_DIR",
        help="local diffusers editing pipeline folder: mix generative instruction ops gen:<id> "
        "into the build (pip install 'redaes\\[generative]'; docs/generative.md)",
    ),
    generative_share: float | None = typer.Option(
        None,
        "--generative-share",
        help="probability that a drawn op is a generative op" + _default("generative_share"),
    ),
    generative_op: list[str] | None = typer.Option(
        None,
        "--generative-op",
        metavar="ID[=WEIGHT]",
        help="library instruction to use (gen:<id> or <id>, optional weight), repeatable "
        "(default: every instruction, weight 1)",
    ),
    guard_min_ssim: float | None = typer.Option(
        None,
        "--guard-min-ssim",
        help="content guard: drop generative edits whose luminance SSIM is below this; "
        "-1 = keep all" + _default("guard_min_ssim"),
    ),
    guard_side: int | None = typer.Option(
        None,
        "--guard-side",
        help="long side (px) of the content guard's SSIM grid" + _default("guard_side"),
    ),
    generative_mapping: list[str] | None = typer.Option(
        None,
        "--generative-mapping",
        metavar="CONTROL=LOW,HIGH",
        help="strength -> pipeline control at |s| = 0 and 1, repeatable; CONTROL: "
        "image_guidance, text_guidance, steps, denoise (e.g. steps=10,30)",
    ),
    generative_option: list[str] | None = typer.Option(
        None,
        "--generative-option",
        metavar="KEY=VALUE",
        help="pipeline option, repeatable: adapter, device, dtype, offload, batch_size, "
        "cpu_threads (e.g. offload=true)",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace a different dataset"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar or table"),
) -> None:
    """Build (or resume) a RED dataset of exactly --pairs pairs."""
    import importlib

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from redaes.errors import ConfigError
    from redaes.pairs.build import build, check_out_folder, with_overrides
    from redaes.pairs.engines import check_engine
    from redaes.pairs.plan import PairPlan
    from redaes.pairs.preflight import check_generative

    # refuse bad arguments before the progress bar is drawn
    if n_pairs < 1:
        raise ConfigError(f"--pairs must be >= 1, got {n_pairs}")
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    check_engine(engine)
    check_out_folder(images, out)
    for module in plugin or []:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"--plugin {module}: cannot import it ({exc})") from None
    plan = PairPlan.from_yaml(plan_file) if plan_file else PairPlan()
    plan = with_overrides(
        plan,
        chain_length=chains,
        max_side=max_side,
        judges=list(judge) if judge else None,
        restore_prob=restore_prob,
        **generative_overrides(
            plan.generative_pipeline,
            generative,
            generative_share,
            generative_op,
            guard_min_ssim,
            mapping=generative_mapping,
            options=generative_option,
            guard_side=guard_side,
            plan_mapping=plan.generative_mapping,
            plan_options=plan.generative_options,
        ),
    )
    plan.validate()
    check_generative(plan)  # diffusers installed, a readable pipeline folder: before the bar
    progress = Progress(
        TextColumn("[bold]pairs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} pairs/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    )
    with progress:
        task = progress.add_task("build", total=n_pairs, rate="-")

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done)
            speed = progress.tasks[task].speed
            progress.update(task, rate=f"{speed:.1f}" if speed else "-")

        summary = build(
            images,
            out,
            n_pairs,
            plan,
            seed=seed,
            workers=workers,
            engine=engine,
            ray_address=ray_address,
            plugins=tuple(plugin or ()),
            overwrite=overwrite,
            progress=update,
        )
    resumed = int(summary.get("resumed_pairs", 0))
    if resumed:
        console.print(f"resumed {resumed} of {n_pairs} pairs from an earlier run", highlight=False)
    if not quiet:
        console.print(summary_table(summary, title=escape(str(out))))


@pairs_app.command("info")
def info_cmd(
    dataset: Path = typer.Argument(..., help="dataset folder"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Show the counts and build summary of a RED dataset."""
    from redaes.data import load_red
    from redaes.errors import DataError

    ds = load_red(dataset)
    state_path = dataset / "build_state.json"
    summary: dict[str, Any] = {}
    if state_path.exists():
        try:
            summary = dict(json.loads(state_path.read_text()).get("summary", {}))
        except json.JSONDecodeError as exc:
            raise DataError(f"{state_path}: invalid JSON ({exc})") from None
    summary["pairs"] = len(ds)
    summary["splits"] = ds.splits()
    summary["restoration_pairs"] = sum(bool(b) for b in ds.table.column("source_edits").to_pylist())
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True))
    else:
        console.print(summary_table(summary, title=escape(str(dataset))))


def register(app: typer.Typer) -> None:
    """Add the ``pairs`` command group to ``app``."""
    app.add_typer(pairs_app, name="pairs")
