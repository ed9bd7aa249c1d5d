"""The demo report: score, explain and suggest edits for photos, written as one HTML page.

:func:`write_report` runs an assessor's ``explain`` and ``suggest`` on every photo and writes
``OUT/report.html`` with previews beside it (``OUT/report/NN-name/original.jpg`` and
``suggestion-K.jpg``); every link is relative, so the folder can be moved or zipped, and every
text on the page is HTML-escaped. A ``report.json`` holds the same data.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redaes.imageio import atomic_write_bytes, load_image, resize_long_side, save_image

PREVIEW_SIDE = 384

_CSS = """
body { font-family: sans-serif; margin: 2em; max-width: 70em; color: #222; }
.photo { border-top: 1px solid #ccc; padding: 1em 0; }
.row { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; max-width: 20em; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.score { font-size: 1.3em; font-weight: bold; }
"""


def _slug(index: int, path: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-") or "photo"
    return f"{index:02d}-{stem[:40]}"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _chain_text(edits: Sequence[dict[str, Any]]) -> str:
    from redaes.models.explain import amount_text

    return ", ".join(amount_text(e["op"], float(e["strength"])) for e in edits)


def analyse_photo(
    assessor: Any, path: Path, folder: Path, rel: str, top: int = 3, top_effects: int = 5
) -> dict[str, Any]:
    """Score, explanation and suggestions of one photo; previews written to ``folder``.

    Preview paths in the result are relative to the report page (``rel`` is ``folder``
    relative to it).
    """
    image = resize_long_side(load_image(path), PREVIEW_SIDE)
    folder.mkdir(parents=True, exist_ok=True)
    save_image(image, folder / "original.jpg")
    explanation = assessor.explain(image)
    suggestions = assessor.suggest(image, top=top, out_dir=folder)
    items = []
    for s in suggestions["suggestions"]:
        preview = s.get("preview")
        items.append(
            {
                **s,
                "preview": f"{rel}/{Path(preview).name}" if preview else None,
                "text": _chain_text(s["edits"]),
            }
        )
    return {
        "path": str(path),
        "name": path.name,
        "original": f"{rel}/original.jpg",
        "score": float(explanation["score"]),
        "std": float(explanation["std"]),
        "text": explanation["text"],
        "effects": explanation["effects"][:top_effects],
        "suggestions": items,
    }


def _photo_html(p: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_e(e['op'])}</td><td>{e['strength']:+.2f}</td>"
        f"<td>{e['delta']:+.2f}</td><td>{e['delta_std']:.2f}</td></tr>"
        for e in p["effects"]
    )
    figures = [
        f'<figure><img src="{_e(p["original"])}" alt="{_e(p["name"])}">'
        f"<figcaption>original: {p['score']:.2f} ± {p['std']:.2f}</figcaption></figure>"
    ]
    for k, s in enumerate(p["suggestions"], start=1):
        img = f'<img src="{_e(s["preview"])}" alt="suggestion {k}">' if s["preview"] else ""
        figures.append(
            f"<figure>{img}<figcaption>suggestion {k}: {_e(s['text'])} &rarr; "
            f"{s['score']:.2f} (gain {s['gain']:+.2f})</figcaption></figure>"
        )
    if not p["suggestions"]:
        figures.append("<p>No bounded edit raises the predicted score of this photo.</p>")
    return (
        f'<section class="photo"><h2>{_e(p["name"])}</h2>'
        f'<p class="score">score {p["score"]:.2f} ± {p["std"]:.2f} (0-10)</p>'
        f'<p class="explanation">{_e(p["text"])}</p>'
        f'<div class="row">{"".join(figures)}</div>'
        "<h3>Most influential edits</h3><table><tr><th>op</th><th>strength</th>"
        f"<th>score change</th><th>± std</th></tr>{rows}</table></section>"
    )


def render_html(photos: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The report page for analysed photos (see :func:`analyse_photo`); all text escaped."""
    facts = "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in meta.items())
    body = "".join(_photo_html(p) for p in photos)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>redaes demo report</title><style>{_CSS}</style></head><body>"
        "<h1>redaes demo report</h1><p>Scores are on 0-10, higher is better. Explanations are "
        "counterfactual: each photo is edited and re-scored. Suggestions are edit chains found "
        f"by a bounded beam search.</p><ul>{facts}</ul>{body}</body></html>\n"
    )


def write_report(
    assessor: Any,
    photos: Sequence[str | Path],
    out: str | Path,
    model_label: str = "compact",
    top: int = 3,
) -> Path:
    """Analyse ``photos`` with ``assessor`` and write ``out/report.html`` (+ previews, JSON).

    Args:
        assessor: anything with ``explain(image)`` and ``suggest(image, top=, out_dir=)``
            (a :class:`redaes.models.CompactAssessor`).
        photos: image files.
        out: output folder (created).
        model_label: how the page names the model.
        top: suggestions per photo.

    Returns:
        The path of ``report.html``.
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = []
    for i, photo in enumerate(photos, start=1):
        path = Path(photo)
        slug = _slug(i, path)
        results.append(analyse_photo(assessor, path, root / "report" / slug, f"report/{slug}", top))
    meta = {
        "model": model_label,
        "photos": len(results),
        "seconds": round(time.perf_counter() - start, 1),
    }
    page = root / "report.html"
    atomic_write_bytes(page, render_html(results, meta).encode("utf-8"))
    data = {"meta": meta, "photos": results}
    atomic_write_bytes(root / "report.json", (json.dumps(data, indent=1) + "\n").encode())
    return page
