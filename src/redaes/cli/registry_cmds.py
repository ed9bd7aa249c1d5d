"""``redaes list``: what every registry holds."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from redaes.errors import ConfigError

KINDS = ("edits", "judges", "assessors", "benchmarks")


def _names(kind: str) -> list[str]:
    """Names in registry ``kind``: read from the sources when possible (no torch import),
    else from the live registry."""
    if kind not in KINDS:
        raise ConfigError(f"unknown registry {kind!r}; choose from {', '.join(KINDS)}")
    from redaes.cli.static_meta import registry_names

    static = registry_names(kind)
    return static if static is not None else _live_names(kind)


def _live_names(kind: str) -> list[str]:
    """Names in registry ``kind`` after importing it."""
    if kind == "edits":
        from redaes.edits import EDIT_OPS

        return EDIT_OPS.names()
    if kind == "judges":
        from redaes.judges import JUDGES

        return JUDGES.names()
    if kind == "assessors":
        from redaes.assessors import ASSESSORS

        return ASSESSORS.names()
    if kind == "benchmarks":
        try:
            from redaes.benchmarks import BENCHMARKS
        except ImportError:
            return []
        return list(BENCHMARKS.names())
    raise ConfigError(f"unknown registry {kind!r}; choose from {', '.join(KINDS)}")


def register(app: typer.Typer) -> None:
    """Add ``redaes list``."""

    @app.command("list")
    def list_cmd(
        kind: str = typer.Argument("all", help=f"one of: all, {', '.join(KINDS)}"),
        as_json: bool = typer.Option(False, "--json", help="print JSON"),
    ) -> None:
        """List the registered components (edit ops, judges, assessors, benchmarks)."""
        kinds = KINDS if kind == "all" else (kind,)
        found = {k: _names(k) for k in kinds}
        if as_json:
            typer.echo(json.dumps(found, indent=2))
            return
        table = Table("registry", "names")
        for k, names in found.items():
            table.add_row(k, Text(", ".join(names) or "-"))
        Console().print(table)
