"""CLI commands (train): ``redaes train compact``. Torch loads only when a command runs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from redaes.errors import ConfigError

train_app = typer.Typer(
    name="train",
    help="Train models with relative supervision only (compact assessor).",
    no_args_is_help=True,
)
console = Console(stderr=True)


@train_app.command("compact")
def compact_cmd(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="recipe YAML (e.g. configs/compact-default.yaml)"
    ),
    stage: int | None = typer.Option(
        None, "--stage", help="run only this stage (1, 2 or 3; later stages need the earlier)"
    ),
    data: Path | None = typer.Option(None, "--data", help="RED dataset folder (data.root)"),
    out: Path | None = typer.Option(None, "--out", help="output folder (out_dir)"),
    sets: list[str] = typer.Option(
        [], "--set", help="override a recipe field: KEY.PATH=VALUE (e.g. stages.1.steps=50)"
    ),
) -> None:
    """Three-stage relative training of the compact assessor; resumes from checkpoints."""
    from redaes.train import load_config, train_compact

    if stage is not None and stage not in (1, 2, 3):
        raise ConfigError(f"--stage must be 1, 2 or 3, got {stage}")
    overrides = list(sets)
    if data is not None:
        overrides.append(f"data.root={data}")
    if out is not None:
        overrides.append(f"out_dir={out}")
    cfg = load_config(config, overrides)
    stages = [stage] if stage is not None else [1, 2, 3]
    final = train_compact(cfg, stages)
    from redaes.models.weights import describe_weights, is_main_process

    if not is_main_process():  # under accelerate launch only rank 0 reports
        return
    console.print(f"weights: {describe_weights(final)}", highlight=False, soft_wrap=True)
    for s in stages:
        console.print(
            f"stage {s}: {Path(cfg.out_dir) / f'stage{s}'}/log.jsonl, loss.png", highlight=False
        )


def register(app: typer.Typer) -> None:
    """Add ``redaes train`` (``compact``, and ``mllm`` from :mod:`redaes.cli.train_mllm_cmds`)."""
    from redaes.cli.train_mllm_cmds import attach

    attach(train_app)
    app.add_typer(train_app, name="train")
