"""``redaes mllm``: the multimodal LLM path (dataset export for the three TRL stages)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

mllm_app = typer.Typer(
    help="Multimodal LLM (RED-Aes as published): data export.", no_args_is_help=True
)


@mllm_app.command("export")
def export(
    red_dir: Annotated[Path, typer.Argument(help="RED dataset folder (redaes pairs build).")],
    out: Annotated[Path, typer.Argument(help="Output folder (datasets.save_to_disk).")],
    stage: Annotated[
        int, typer.Option(help="Training stage: 1 SFT, 2 pairwise RL, 3 ranking RL.")
    ] = 1,
    split: Annotated[str, typer.Option(help="Dataset split to export.")] = "train",
    family: Annotated[str, typer.Option(help="Model family prompt format.")] = "qwen2_5_vl",
) -> None:
    """Export a RED dataset as a TRL-ready dataset for one training stage."""
    from rich.console import Console

    from redaes.mllm.export import export_stage

    n = export_stage(red_dir, out, stage, split=split, family=family)
    Console().print(f"stage {stage}: {n} rows -> {out}")


def register(app: typer.Typer) -> None:
    """Add ``redaes mllm`` to the main app."""
    app.add_typer(mllm_app, name="mllm")
