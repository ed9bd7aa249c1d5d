"""``redaes train mllm``: the three TRL stages of the multimodal LLM (torch loads on run)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from redaes.errors import ConfigError

console = Console(stderr=True)


def mllm_cmd(
    stage: int = typer.Option(..., "--stage", help="1 SFT, 2 pairwise GRPO, 3 ranking GRPO"),
    config: Path = typer.Option(
        ..., "--config", "-c", help="stage YAML (e.g. configs/mllm/stage1.yaml)"
    ),
    sets: list[str] = typer.Option(
        [], "--set", help="override a config field: KEY=VALUE (e.g. max_steps=20, lora.r=16)"
    ),
    resume: bool = typer.Option(
        True, "--resume/--no-resume", help="continue from the latest checkpoint in out_dir"
    ),
) -> None:
    """Train one stage of the MLLM with TRL (SFTTrainer / GRPOTrainer); resumes checkpoints."""
    from redaes.mllm.config import load_stage_config

    if stage not in (1, 2, 3):
        raise ConfigError(f"--stage must be 1, 2 or 3, got {stage}")
    cfg = load_stage_config(config, sets=list(sets))
    if cfg.stage != stage:
        raise ConfigError(f"{config} is a stage {cfg.stage} config, not stage {stage}")
    from redaes.mllm.train import LOG_NAME, train_stage

    out = train_stage(cfg, resume=resume)
    console.print(f"stage {stage}: model {out}, log {out / LOG_NAME}", highlight=False)


def attach(train_app: typer.Typer) -> None:
    """Add ``mllm`` to ``redaes train``."""
    train_app.command("mllm")(mllm_cmd)
