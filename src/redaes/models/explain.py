"""Counterfactual explanations through the edit engine: which attribute changes would raise or
lower the predicted score, and by how much.

For each op of :data:`EXPLAIN_OPS` the image is edited at ``+strength`` (and ``-strength`` for
signed ops) and re-scored; an effect is ``delta = score(edited) - score(image)`` with
``delta_std = sqrt(std_image² + std_edited²)`` (the pair view; conservative, since the two
errors are positively correlated). Effects are listed most influential (largest ``|delta|``)
first; ``text`` puts the top ones in words, e.g. "+0.5 EV of exposure would raise the score by
0.8 (± 0.3)".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from redaes.assessors.base import Assessor
from redaes.edits import create_edit
from redaes.imageio import ImageInput, as_pil
from redaes.models.scoring import image_label, scores_with_std
from redaes.models.suggest import SUGGEST_OPS

EXPLAIN_OPS = (*SUGGEST_OPS, "gaussian_blur", "gaussian_noise")
"""The adjustments that :func:`redaes.models.suggest` searches, plus two kinds of damage."""


def amount_text(op_name: str, strength: float) -> str:
    """``"+0.5 EV of exposure"``: the physical change of ``op_name`` at ``strength``."""
    op = create_edit(op_name)
    change = op.physical(strength) - op.info.identity
    unit = op.info.unit
    return f"{change:+.3g} {unit} of {op_name}"


def explain(
    assessor: Assessor,
    image: ImageInput,
    ops: Sequence[str] = EXPLAIN_OPS,
    strength: float = 0.25,
    top_text: int = 3,
) -> dict[str, Any]:
    """``{"path", "score", "std", "effects": [{"op", "strength", "delta", "delta_std"}], "text"}``.

    Args:
        assessor: any assessor (without uncertainty its stds are 0).
        image: a path or an image.
        ops: edit ops to probe (unsigned ops only at ``+strength``).
        strength: normalised strength of each probe, in (0, 1].
        top_text: how many effects the text names.
    """
    from redaes.errors import EditError

    if not 0.0 < strength <= 1.0:
        raise EditError(f"explain strength must be in (0, 1], got {strength}")
    img = as_pil(image)
    probes: list[tuple[str, float]] = []
    for name in ops:
        op = create_edit(name)
        probes += [(name, strength)] + ([(name, -strength)] if op.info.signed else [])
    edited = [create_edit(n).apply_pil(img, s, seed=0) for n, s in probes]
    scored = scores_with_std(assessor, [img, *edited])
    (s0, sd0), rest = scored[0], scored[1:]
    effects: list[dict[str, Any]] = [
        {"op": n, "strength": s, "delta": se - s0, "delta_std": math.hypot(sd0, sde)}
        for (n, s), (se, sde) in zip(probes, rest, strict=True)
    ]
    effects.sort(key=lambda e: (-abs(e["delta"]), e["op"], e["strength"]))
    sentences = []
    for e in effects[:top_text]:
        verb = "raise" if e["delta"] > 0 else "lower"
        sentences.append(
            f"{amount_text(e['op'], e['strength'])} would {verb} the score by "
            f"{abs(e['delta']):.2f} (± {e['delta_std']:.2f})"
        )
    text = f"Score {s0:.2f} ± {sd0:.2f}. " + ("; ".join(sentences) + "." if sentences else "")
    return {"path": image_label(image), "score": s0, "std": sd0, "effects": effects, "text": text}
