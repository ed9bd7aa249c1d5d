"""CLI commands: ``redaes corpus build|sources|list``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

corpus_app = typer.Typer(
    help="Assemble a photo corpus from photos that ship with installed packages.",
    no_args_is_help=True,
)


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [name.strip() for v in values for name in v.split(",") if name.strip()]


@corpus_app.command("build")
def build_cmd(
    folder: Path = typer.Argument(..., help="output folder (created; re-runs update it)"),
    sources: list[str] | None = typer.Option(
        None, "--sources", "-s", help="sources to use, comma separated (default: all)"
    ),
    max_side: int | None = typer.Option(
        None, "--max-side", help="downscale photos whose long side exceeds this many pixels"
    ),
    refresh: bool = typer.Option(
        False, "--refresh", help="download sources again (opencv-doc) even when up to date"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Copy real photos from installed packages into FOLDER and write manifest.jsonl."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from redaes.corpus import MANIFEST, build_corpus

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]corpus[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("collecting sources...", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=name)

        report = build_corpus(
            folder, _split(sources), max_side=max_side, refresh=refresh, progress=progress
        )
    for warning in report.warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", str(warning)), soft_wrap=True)
    for failure in report.failed:
        console.print(Text.assemble(("failed:", "red"), " ", str(failure)), soft_wrap=True)
    per_source: dict[str, int] = {}
    for e in report.entries:
        per_source[e.source] = per_source.get(e.source, 0) + 1
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(per_source.items())) or "none"
    typer.echo(
        f"{len(report.entries)} photos in {folder} ({counts}); added {len(report.added)}, "
        f"kept {len(report.kept)}, duplicates skipped {len(report.duplicates)}, "
        f"failed {len(report.failed)}. Manifest: {Path(folder) / MANIFEST}"
    )


@corpus_app.command("sources")
def sources_cmd() -> None:
    """List the corpus sources."""
    from redaes.corpus import DOWNLOADING_SOURCES, SOURCES

    for name in SOURCES.names():
        note = " (downloads a Debian package with apt-get)" if name in DOWNLOADING_SOURCES else ""
        typer.echo(f"{name}{note}")


@corpus_app.command("list")
def list_cmd(
    folder: Path = typer.Argument(..., help="a corpus or any folder of images"),
    as_json: bool = typer.Option(False, "--json", help="print the manifest entries as JSON"),
) -> None:
    """List the photos of a corpus (with licences when it has a manifest)."""
    from dataclasses import asdict

    from redaes.corpus import list_images, read_manifest

    entries = read_manifest(folder)
    if as_json:
        if entries:
            rows = [asdict(e) for e in entries]
        else:
            rows = [{"file": str(p.relative_to(folder))} for p in list_images(folder)]
        typer.echo(json.dumps(rows, indent=1))
        return
    table = Table("file", "size", "source", "license")
    if entries:
        for e in entries:
            table.add_row(Text(e.file), f"{e.width}x{e.height}", Text(e.source), Text(e.license))
    else:
        for p in list_images(folder):
            table.add_row(Text(str(p.relative_to(folder))), "", "", "")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``redaes corpus ...`` to ``app``."""
    app.add_typer(corpus_app, name="corpus")
