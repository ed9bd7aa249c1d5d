"""Edit suggestions: a beam search of edit space for short chains that raise the predicted score.

Level 1 tries every op of :data:`SUGGEST_OPS` at each of ``strengths`` (unsigned ops only at the
positive ones) on the photo; level ``k`` extends each of the ``beam`` best chains so far by one
more op not yet in the chain. The change stays bounded: at most ``depth`` ops, each with
``|strength| <= max(strengths)``. Every candidate of a level is scored in one batched call.
Suggestions are the best chains with a positive gain, best first, one per distinct op set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redaes.assessors.base import Assessor
from redaes.edits import EditChain, create_edit
from redaes.errors import EditError
from redaes.imageio import ImageInput, as_pil, save_image
from redaes.models.scoring import image_label, scores_with_std

SUGGEST_OPS = (
    "exposure",
    "contrast",
    "highlights",
    "shadows",
    "saturation",
    "vibrance",
    "temperature",
    "tint",
    "clarity",
    "haze",
    "vignette",
    "sharpen",
)
STRENGTHS = (-0.5, -0.3, -0.15, 0.15, 0.3, 0.5)

Chain = tuple[tuple[str, float], ...]


def suggest(
    assessor: Assessor,
    image: ImageInput,
    top: int = 3,
    ops: Sequence[str] = SUGGEST_OPS,
    strengths: Sequence[float] = STRENGTHS,
    depth: int = 2,
    beam: int = 3,
    out_dir: str | Path | None = None,
    min_gain: float = 1e-3,
) -> dict[str, Any]:
    """``{"path", "score", "suggestions": [{"edits": [{"op", "strength"}], "score", "gain",
    "preview"}]}``, best first; previews (JPEG) are written to ``out_dir`` when given."""
    if top < 1 or depth < 1 or beam < 1:
        raise EditError("suggest: top, depth and beam must be >= 1")
    img = as_pil(image)
    moves = [
        (name, float(s))
        for name in ops
        for s in strengths
        if s != 0 and (s > 0 or create_edit(name).info.signed)
    ]
    base = scores_with_std(assessor, [img])[0][0]
    found: dict[Chain, float] = {}
    frontier: list[Chain] = [()]
    for _ in range(depth):
        candidates = sorted(
            {
                (*chain, move)
                for chain in frontier
                for move in moves
                if move[0] not in {op for op, _ in chain}
            }
        )
        if not candidates:
            break
        edited = [
            EditChain([f"{op}={s}" for op, s in c]).apply_pil(img, seed=0) for c in candidates
        ]
        scores = [s for s, _ in scores_with_std(assessor, edited)]
        ranked = sorted(zip(candidates, scores, strict=True), key=lambda cs: (-cs[1], cs[0]))
        for chain, score in ranked:
            found.setdefault(chain, score)
        frontier = [c for c, s in ranked[:beam] if s - base > min_gain]
        if not frontier:
            break
    best: list[tuple[Chain, float]] = []
    seen: set[frozenset[str]] = set()
    for chain, score in sorted(found.items(), key=lambda cs: (-cs[1], len(cs[0]), cs[0])):
        key = frozenset(op for op, _ in chain)
        if score - base <= min_gain or key in seen:
            continue
        seen.add(key)
        best.append((chain, score))
        if len(best) == top:
            break
    out = Path(out_dir) if out_dir is not None else None
    suggestions = []
    for rank, (chain, score) in enumerate(best, start=1):
        preview = None
        if out is not None:
            preview = str(out / f"suggestion-{rank}.jpg")
            save_image(EditChain([f"{op}={s}" for op, s in chain]).apply_pil(img, seed=0), preview)
        suggestions.append(
            {
                "edits": [{"op": op, "strength": s} for op, s in chain],
                "score": score,
                "gain": score - base,
                "preview": preview,
            }
        )
    return {"path": image_label(image), "score": base, "suggestions": suggestions}
