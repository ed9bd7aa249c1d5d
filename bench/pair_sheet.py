"""Contact sheet of judged pairs, to look at labels with your own eyes before trusting them.

    python bench/pair_sheet.py --data DIR --out sheet.png [--n 12] [--seed 0]
        [--split train] [--op saturation] [--sign pos|neg|any] [--plain]

Each row shows the source and the edited image of one pair of a RED dataset (built by
``redaes pairs build``), the edit chain (and the recorded degradation of a restoration's
source), the judged delta with its std, and the first sentence of the reasoning. Rows are a
seeded random sample of the pairs that pass the filters: ``--op`` keeps chains that use the op,
``--sign`` the improving (``pos``) or worsening (``neg``) labels, ``--plain`` leaves restorations
out. The PNG goes to ``--out``, and a text listing of the same rows to stdout.
"""

from __future__ import annotations

import argparse
import random
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from redaes.data import RedPair, load_red

CELL = 256
TEXT_H = 58


def _chain(edits: list[dict[str, object]]) -> str:
    return " + ".join(f"{e['op']}{float(e['strength']):+.2f}" for e in edits)  # type: ignore[arg-type]


def select(
    pairs: list[RedPair], n: int, seed: int, op: str | None, sign: str, plain: bool
) -> list[RedPair]:
    """A seeded sample of ``n`` pairs passing the filters (see the module docstring)."""
    keep = [
        p
        for p in pairs
        if (op is None or any(e["op"] == op for e in p.edits))
        and (sign == "any" or (p.delta > 0.1 if sign == "pos" else p.delta < -0.1))
        and not (plain and p.is_restoration)
    ]
    return random.Random(seed).sample(keep, min(n, len(keep)))


def label(p: RedPair) -> list[str]:
    """The text lines printed above a pair."""
    head = _chain(p.edits)
    if p.is_restoration:
        head = f"[degraded by {_chain(p.source_edits)}] -> {head}"
    lines = [f"{Path(p.source_path).name[:40] or p.source_id[:12]}  {head}"[:110]]
    lines.append(f"delta {p.delta:+.2f} +- {p.delta_std:.2f}  informative={p.informative}")
    first = p.reasoning.split(". ")[0].strip()
    lines.extend(textwrap.wrap(first, 110)[:2])
    return lines


def render(rows: list[RedPair]) -> Image.Image:
    """The sheet: one row per pair, source left, edited right, labels above."""
    sheet = Image.new("RGB", (2 * CELL + 8, max(1, len(rows)) * (CELL + TEXT_H)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, p in enumerate(rows):
        y = k * (CELL + TEXT_H)
        for j, im in enumerate((p.source_image, p.edited_image)):
            thumb = im.copy()
            thumb.thumbnail((CELL, CELL))
            sheet.paste(thumb, (j * (CELL + 8), y + TEXT_H))
        for i, line in enumerate(label(p)):
            draw.text((4, y + 2 + 13 * i), line, fill="black")
    return sheet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="RED dataset folder")
    ap.add_argument("--out", type=Path, required=True, help="PNG to write")
    ap.add_argument("--n", type=int, default=12, help="rows")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed")
    ap.add_argument("--split", default="train", help="dataset split")
    ap.add_argument("--op", default=None, help="keep chains using this op")
    ap.add_argument("--sign", choices=("pos", "neg", "any"), default="any")
    ap.add_argument("--plain", action="store_true", help="leave restorations out")
    args = ap.parse_args()
    rows = select(
        list(load_red(args.data, split=args.split)),
        args.n,
        args.seed,
        args.op,
        args.sign,
        args.plain,
    )
    render(rows).save(args.out)
    for p in rows:
        print(" | ".join(label(p)))
    print(f"wrote {args.out} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
