"""CLI commands: ``redaes ops``, ``redaes edit`` and ``redaes demo`` (edit contact sheet)."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from PIL import Image

    from redaes.edits import EditChain, EditOp

DEMO_STRENGTHS = (-1.0, -0.5, 0.0, 0.5, 1.0)
OUTPUT_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) >= 10 or value == int(value) else f"{value:.2f}"


def op_range(info: Any) -> str:
    """``"-2 .. 2 EV"`` (unsigned ops start at their identity)."""
    low = info.at_minus_one if info.signed else info.identity
    return f"{_fmt(low)} .. {_fmt(info.at_plus_one)} {info.unit}"


def load_chain_file(path: Path) -> list[Any]:
    """Steps of a chain file: a JSON list, or an object with a ``"chain"`` list."""
    from redaes.errors import ConfigError, EditError

    if not path.is_file():
        raise ConfigError(f"{path}: no such chain file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EditError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("chain")
    if not isinstance(data, list):
        raise EditError(f"{path}: expected a list of {{'op', 'strength'}} steps")
    return data


def build_chain(ops: list[str], chain_file: Path | None) -> EditChain:
    """A chain from a ``--chain`` file (first) and ``--op NAME=STRENGTH`` options (after)."""
    from redaes.edits import EditChain
    from redaes.errors import EditError

    steps: list[Any] = load_chain_file(chain_file) if chain_file is not None else []
    steps += list(ops)
    if not steps:
        raise EditError("nothing to do: give at least one --op NAME=STRENGTH or --chain FILE")
    try:
        return EditChain(steps)
    except EditError as exc:
        raise EditError(f"{chain_file}: {exc}" if chain_file is not None else str(exc)) from None


def _apply_row(op: EditOp, base: Image.Image, strengths: list[float]) -> list[Image.Image]:
    from redaes.imageio import pil_to_tensor, tensor_to_pil

    x = pil_to_tensor(base)
    if op.info.changes_size:
        return [tensor_to_pil(op(x, s, seed=0)) for s in strengths]
    out = op(x.unsqueeze(0).expand(len(strengths), -1, -1, -1).contiguous(), _t(strengths), 0)
    return [tensor_to_pil(t) for t in out]


def _t(values: list[float]) -> Any:
    import torch

    return torch.tensor(values, dtype=torch.float32)


def render_contact_sheet(
    base: Image.Image, strengths: tuple[float, ...] = DEMO_STRENGTHS, cell: int = 160
) -> tuple[Image.Image, dict[str, Any]]:
    """Every registered op (rows) at ``strengths`` (columns), labelled with physical amounts.

    Returns the sheet and a JSON-ready description (the chain of every cell).
    """
    from PIL import Image, ImageDraw, ImageFont

    from redaes.edits import create_edit, list_edits
    from redaes.imageio import resize_long_side

    base = resize_long_side(base, cell)
    infos = list_edits()
    label_w, head_h, text_h, pad = 170, 20, 14, 6
    row_h = cell + text_h + pad
    sheet = Image.new(
        "RGB", (label_w + len(strengths) * (cell + pad), head_h + len(infos) * row_h), "white"
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for j, s in enumerate(strengths):
        draw.text((label_w + j * (cell + pad) + 4, 4), f"strength {s:+g}", fill="black", font=font)
    rows = []
    for i, info in enumerate(infos):
        top = head_h + i * row_h
        draw.text((4, top + 4), info.name, fill="black", font=font)
        draw.text((4, top + 20), f"{info.family}, {info.unit}"[:28], fill="dimgray", font=font)
        op = create_edit(info.name)
        valid = [s for s in strengths if info.signed or s >= 0]
        images = dict(zip(valid, _apply_row(op, base, valid), strict=True))
        cells: list[dict[str, Any] | None] = []
        for j, s in enumerate(strengths):
            left = label_w + j * (cell + pad)
            if s not in images:
                draw.text((left + 4, top + cell // 2), "n/a (one-directional)", fill="gray")
                cells.append(None)
                continue
            img = images[s]
            img.thumbnail((cell, cell))
            sheet.paste(img, (left + (cell - img.width) // 2, top + (cell - img.height) // 2))
            amount = op.physical(s)
            draw.text((left + 4, top + cell + 1), f"{_fmt(amount)} {info.unit}"[:30], fill="black")
            cells.append(
                {
                    "strength": s,
                    "amount": amount,
                    "chain": [{"op": info.name, "strength": s}],
                    "description": op.describe(s),
                }
            )
        rows.append({"op": info.name, "family": info.family, "unit": info.unit, "cells": cells})
    meta = {"strengths": list(strengths), "cell": cell, "size": list(base.size), "rows": rows}
    return sheet, meta


def register(app: typer.Typer) -> None:
    """Add ``ops``, ``edit`` and ``demo`` to ``app``."""

    @app.command("ops")
    def ops_cmd(
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
        family: str | None = typer.Option(None, "--family", "-f", help="only this family"),
    ) -> None:
        """List the edit operations: family, unit, range and description."""
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from redaes.cli.static_meta import edit_infos, families
        from redaes.errors import ConfigError

        names = families()  # read from the sources: no torch import (see static_meta)
        if names is None:
            from redaes import edits

            names = edits.FAMILIES
        if family is not None and family not in names:
            close = difflib.get_close_matches(family, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown family {family!r}.{hint} Available: {', '.join(names)}")
        rows = edit_infos(family)
        if rows is None:
            from redaes.edits import list_edits

            rows = [i.to_dict() for i in list_edits(family)]
        if as_json:
            typer.echo(json.dumps(rows, indent=1))
            return
        infos = [SimpleNamespace(**r) for r in rows]
        table = Table("op", "family", "unit", "range (-1 .. +1)", "description")
        for i in infos:
            table.add_row(i.name, i.family, Text(i.unit), Text(op_range(i)), Text(i.description))
        Console().print(table)

    @app.command("edit")
    def edit_cmd(
        src: Path = typer.Argument(..., help="input image"),
        dst: Path = typer.Argument(..., help="output image (jpg, png, webp, bmp, tif)"),
        op: list[str] = typer.Option([], "--op", "-o", help="NAME=STRENGTH, repeatable"),
        chain: Path | None = typer.Option(None, "--chain", help="JSON chain file (applied first)"),
        seed: int = typer.Option(0, "--seed", help="seed of stochastic ops"),
        quality: int = typer.Option(95, "--quality", "-q", min=1, max=100, help="JPEG quality"),
    ) -> None:
        """Apply an edit chain to one image and write the result atomically."""
        from redaes.errors import ConfigError
        from redaes.imageio import load_image, save_image

        if dst.suffix.lower() not in OUTPUT_SUFFIXES:
            raise ConfigError(f"{dst}: unsupported output type; use {', '.join(OUTPUT_SUFFIXES)}")
        if dst.is_dir():
            raise ConfigError(f"{dst}: is a directory; give an output file name")
        edits = build_chain(op, chain)
        image = load_image(src)
        result = edits.apply_pil(image, seed=seed)
        save_image(result, dst, quality=quality)
        typer.echo(json.dumps({"input": str(src), "output": str(dst), "chain": edits.to_list()}))
        for sentence in edits.describe():
            typer.echo(f"- {sentence}")

    @app.command("demo")
    def demo_cmd(
        out: Path = typer.Option(Path("out"), "--out", help="output folder"),
        image: Path | None = typer.Option(None, "--image", help="photo (default: bundled)"),
        cell: int = typer.Option(160, "--cell", min=32, max=512, help="cell size in pixels"),
        model: Path | None = typer.Option(
            None, "--model", help="weights for the report (default: the shipped weights)"
        ),
    ) -> None:
        """Contact sheet of every edit op at strengths -1..1, and an HTML report that scores,
        explains and suggests edits for the bundled photos (out/report.html)."""
        from importlib import resources

        from redaes.imageio import atomic_write_bytes, load_image, save_image

        if image is None:
            with resources.as_file(resources.files("redaes") / "assets" / "astronaut.jpg") as p:
                base = load_image(p)
            source = "redaes/assets/astronaut.jpg"
        else:
            base, source = load_image(image), str(image)
        sheet, meta = render_contact_sheet(base, cell=cell)
        meta = {"image": source, **meta}
        png, js = out / "contact_sheet.png", out / "contact_sheet.json"
        save_image(sheet, png)
        atomic_write_bytes(js, (json.dumps(meta, indent=1) + "\n").encode())
        typer.echo(f"contact sheet ({len(meta['rows'])} ops x {len(DEMO_STRENGTHS)} strengths)")
        typer.echo(f"  image:  {png}")
        typer.echo(f"  chains: {js}")
        _demo_report(out, model)


def _demo_report(out: Path, model: Path | None) -> None:
    """The demo's HTML report with the default (or given) model; one line when none ships."""
    from importlib import resources

    from redaes.models import CompactAssessor, default_weights_path
    from redaes.models.report import write_report

    weights = model if model is not None else default_weights_path()
    if weights is None:
        typer.echo(
            "report skipped: no default compact weights ship in this build "
            "(give --model FILE.safetensors)"
        )
        return
    assessor = CompactAssessor(weights=weights)
    from redaes.cli.score_cmds import announce_weights

    announce_weights(assessor)
    assets = resources.files("redaes") / "assets"
    names = sorted(p.name for p in assets.iterdir() if p.name.endswith(".jpg"))
    with resources.as_file(assets) as folder:
        page = write_report(assessor, [Path(folder) / n for n in names], out, Path(weights).name)
    typer.echo(f"report ({len(names)} photos: score, explanation, suggestions)")
    typer.echo(f"  page:   {page}")
