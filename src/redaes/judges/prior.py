"""The ``prior`` judge: a documented photographic prior that needs no model.

For every step of the edit chain the prior predicts the direction and size of the aesthetic change
from the op, its normalised strength ``s`` and the measured statistics
(:func:`redaes.stats.measure`) of the image before and after that step. Statistics are measured
on a downscaled copy, so a pair costs a few milliseconds.

Measured "quality terms" (``L`` luma, ``cb``/``cd`` clipped bright/dark fractions, ``c`` RMS
contrast, ``S`` saturation, ``w`` warmth, ``t`` tint):

* balance ``B = -|L - 0.47|``; clipping ``K = -(cb + cd)``; contrast ``C = -dist(c, [0.17, 0.28])``;
  saturation ``V = -dist(S, [0.22, 0.50])``; neutrality ``N = -(|w - 0.02| + 2 |t|)``.
* a *fall* in clipping (``dK > 0``) counts a quarter: clipped detail does not come back.

Rules (``d = after - before`` of a term; deltas in points of the 0-10 scale):

===================================  =====================================================  ====
op                                   delta                                                  conf
===================================  =====================================================  ====
exposure, gamma, black_point,        ``9 dB + 8 dK + 6 dC``: helps when luma moves toward  0.7
shadows, highlights                  0.47, hurts when clipping grows; highlight recovery
                                     (``s < 0``) adds ``1.5 |s| min(1, cb / 0.1)``
contrast                             ``9 dC + 8 dK + 3 dB``: helps flat images, hurts       0.65
                                     when it clips or flattens a balanced image
saturation, vibrance                 ``7 dV + 8 dK`` (vibrance ``x1.2`` when it helps):     0.55
                                     helps dull images modestly, hurts oversaturated ones
temperature, tint                    ``10 dN``: hurts as the cast moves away from neutral   0.6
hue                                  ``-2.5 |s|``: global hue shifts look unnatural         0.6
vignette                             ``+0.3 s`` for ``0 < s <= 0.4``, else ``-1.5 |s|``      0.35
film_grain                           ``-1.5 s``                                             0.45
haze                                 ``s > 0``: ``-2.5 s + 6 dC``; dehaze: ``6 dC + 8 dK``  0.5
                                     ``+ 6 dB`` (a veil lifts luma; removing it restores it)
clarity                              ``+0.5 s`` on flat images (``c < 0.17``), ``-2 (s -    0.4
                                     0.5)`` beyond 0.5, negative ``s`` ``-1.2 |s|``
sharpen                              soft source: ``+0.6 s``, else ``+0.2 s``; oversharpening 0.45
                                     ``-3 (s - 0.5)``; noise amplification ``-1 x rise``
gaussian_blur, motion_blur, defocus  ``-4 s^0.8 (0.5 + 0.5 drop)``; ``drop`` = fall of       0.85
                                     Laplacian variance
gaussian_noise, poisson_noise        ``-4 s^0.7 (0.5 + 0.5 rise)``; ``rise`` = noise growth  0.85
jpeg                                 ``-3.5 s^1.5``                                         0.8
downscale                            ``-2.5 s``                                             0.7
crop_thirds                          ``+0.4 |s|``                                           0.3
crop_centre                          ``-0.3 |s|``                                           0.3
rotate                               ``-(0.5 + 2.5 |s|)`` (tilted horizon)                  0.7
aspect                               ``-0.4 |s|`` (a crop to another aspect loses content)  0.25
vignette, rotate on a degraded       ``v(b + s) - v(b)`` with ``v`` the rule above and ``b``  0.5
source (``meta["source_edits"]``)    the base strength of the same op (rotate also
                                     ``-0.3 |s|`` for the extra crop): undoing helps
dehaze on a source with a recorded     ``+2.5 min(b, 1.8 |s|)``: the veil's cost comes back   0.5
haze ``b > 0``                       (``-1`` removes 90 %, ``+1`` adds a 50 % veil)
any other op                         ``6 dB + 10 dK + 4 dC + 4 dV + 6 dN - 2 drop - 2 rise`` 0.2
===================================  =====================================================  ====

Each step's delta is clipped to ``[-5, 5]``. A chain sums its steps with diminishing returns,
``5 tanh(sum / 5)``, so the total stays within ``(-5, 5)``; multi-step chains are re-rendered on a
small copy of the source to measure the intermediate statistics. Confidence is the
``|delta|``-weighted mean of the step confidences, times ``0.9`` per extra step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from redaes.edits.base import EDIT_OPS
from redaes.imageio import pil_to_tensor, resize_long_side, tensor_to_pil
from redaes.judges.base import JUDGES, Judge, JudgeResult, PairContext
from redaes.stats import ImageStats, measure

MAX_DELTA = 5.0
TARGET_LUMA = 0.47
CONTRAST_BAND = (0.17, 0.28)
SATURATION_BAND = (0.22, 0.50)
NEUTRAL_WARMTH = 0.02
SOFT_SHARPNESS = 150.0  # Laplacian variance (0-255 scale) below which an image counts as soft


@dataclass(frozen=True)
class StepEffect:
    """The prior's verdict on one edit step."""

    op: str
    strength: float
    delta: float
    confidence: float
    reason: str


def fast_measure(image: Image.Image, max_side: int) -> ImageStats:
    """:func:`measure` after a cheap integer box reduction (Lanczos only for the remainder)."""
    factor = max(image.size) // max_side
    small = image.reduce(factor) if factor > 1 else image
    st = measure(small, max_side)
    return replace(st, width=image.size[0], height=image.size[1])


def _dist(x: float, band: tuple[float, float]) -> float:
    lo, hi = band
    return lo - x if x < lo else (x - hi if x > hi else 0.0)


def _terms(st: ImageStats) -> dict[str, float]:
    return {
        "B": -abs(st.luminance - TARGET_LUMA),
        "K": -(st.clip_bright + st.clip_dark),
        "C": -_dist(st.contrast, CONTRAST_BAND),
        "V": -_dist(st.saturation, SATURATION_BAND),
        "N": -(abs(st.warmth - NEUTRAL_WARMTH) + 2.0 * abs(st.tint)),
    }


def _drop(b: ImageStats, a: ImageStats) -> float:
    """Relative fall of sharpness (0 = unchanged, 1 = all detail gone)."""
    return min(1.0, max(0.0, 1.0 - a.sharpness / max(b.sharpness, 1e-6)))


def _rise(b: ImageStats, a: ImageStats) -> float:
    """Noise growth, 0 (none) ... 1 (sigma grew by 10 or more on the 0-255 scale)."""
    return min(1.0, max(0.0, (a.noise - b.noise) / 10.0))


Rule = Callable[[float, ImageStats, ImageStats, dict[str, float]], tuple[float, float]]


def _tone(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    return 9.0 * d["B"] + 8.0 * d["K"] + 6.0 * d["C"], 0.7


def _highlights(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    delta, conf = _tone(s, b, a, d)
    if s < 0:  # recovery helps images with blown highlights
        delta += 1.5 * abs(s) * min(1.0, b.clip_bright / 0.1)
    return delta, conf


def _contrast(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    return 9.0 * d["C"] + 8.0 * d["K"] + 3.0 * d["B"], 0.65


def _saturation(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    return 7.0 * d["V"] + 8.0 * d["K"], 0.55


def _vibrance(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    delta, conf = _saturation(s, b, a, d)
    return (1.2 * delta if delta > 0 else delta), conf


def _white_balance(
    s: float, b: ImageStats, a: ImageStats, d: dict[str, float]
) -> tuple[float, float]:
    return 10.0 * d["N"], 0.6


def _vignette(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    return (0.3 * s if 0.0 < s <= 0.4 else -1.5 * abs(s)), 0.35


def _haze(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    if s > 0:
        return -2.5 * s + 6.0 * d["C"], 0.5
    return 6.0 * d["C"] + 8.0 * d["K"] + 6.0 * d["B"], 0.5


def _clarity(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    if s < 0:
        return -1.2 * abs(s), 0.4
    gain = 0.5 * s if b.contrast < CONTRAST_BAND[0] else 0.15 * s
    return gain - 2.0 * max(0.0, s - 0.5), 0.4


def _sharpen(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    if s < 0:
        return -2.0 * abs(s), 0.5
    gain = (0.6 if b.sharpness < SOFT_SHARPNESS else 0.2) * s
    return gain - 3.0 * max(0.0, s - 0.5) - 1.0 * _rise(b, a), 0.45


def _blur(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    return -4.0 * abs(s) ** 0.8 * (0.5 + 0.5 * _drop(b, a)), 0.85


def _noise(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    return -4.0 * abs(s) ** 0.7 * (0.5 + 0.5 * _rise(b, a)), 0.85


def _fixed(coef: float, conf: float, power: float = 1.0) -> Rule:
    def rule(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
        return coef * abs(s) ** power, conf

    return rule


def _rotate(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    return (-(0.5 + 2.5 * abs(s)) if abs(s) > 1e-6 else 0.0), 0.7


def _generic(s: float, b: ImageStats, a: ImageStats, d: dict[str, float]) -> tuple[float, float]:
    delta = (
        6.0 * d["B"]
        + 10.0 * d["K"]
        + 4.0 * d["C"]
        + 4.0 * d["V"]
        + 6.0 * d["N"]
        - 2.0 * _drop(b, a)
        - 2.0 * _rise(b, a)
    )
    return delta, 0.2


RULES: dict[str, Rule] = {
    "exposure": _tone,
    "gamma": _tone,
    "black_point": _tone,
    "shadows": _tone,
    "highlights": _highlights,
    "contrast": _contrast,
    "saturation": _saturation,
    "vibrance": _vibrance,
    "temperature": _white_balance,
    "tint": _white_balance,
    "hue": _fixed(-2.5, 0.6),
    "vignette": _vignette,
    "film_grain": _fixed(-1.5, 0.45),
    "haze": _haze,
    "clarity": _clarity,
    "sharpen": _sharpen,
    "gaussian_blur": _blur,
    "motion_blur": _blur,
    "defocus": _blur,
    "gaussian_noise": _noise,
    "poisson_noise": _noise,
    "jpeg": _fixed(-3.5, 0.8, 1.5),
    "downscale": _fixed(-2.5, 0.7),
    "crop_thirds": _fixed(0.4, 0.3),
    "crop_centre": _fixed(-0.3, 0.3),
    "rotate": _rotate,
    "aspect": _fixed(-0.4, 0.25),
}
"""Op name -> rule ``(strength, stats_before, stats_after, term_changes) -> (delta, conf)``."""


COMPOSABLE: dict[str, float] = {"vignette": 0.0, "rotate": 0.3}
"""Ops whose rule depends on the strength only: on a source already degraded by the same op at
``b`` the step is judged as ``v(b + s) - v(b) - cost |s|`` (op -> extra cost per unit)."""


def step_effect(
    op: str, strength: float, before: ImageStats, after: ImageStats, base: float = 0.0
) -> StepEffect:
    """The prior's verdict on one step ``op`` at ``strength`` given measured statistics.

    ``base`` is the strength of the same op in the source's base degradation (restoration
    pairs); it only matters for the :data:`COMPOSABLE` ops.
    """
    tb, ta = _terms(before), _terms(after)
    diff = {k: ta[k] - tb[k] for k in tb}
    if diff["K"] > 0:  # less clipping: clipped detail does not come back, so it counts a quarter
        diff["K"] *= 0.25
    known = op in RULES
    s = float(strength)
    delta, conf = RULES.get(op, _generic)(s, before, after, diff)
    if base and op in COMPOSABLE:
        rule = RULES[op]
        delta = (
            rule(base + s, before, after, diff)[0]
            - rule(base, before, after, diff)[0]
            - COMPOSABLE[op] * abs(s)
        )
        conf = 0.5
    elif op == "haze" and base > 0 and s < 0:  # removing a recorded veil earns its cost back
        delta += 2.5 * min(base, 1.8 * abs(s))
        conf = 0.5
    if not math.isfinite(delta):
        delta, conf = 0.0, 0.0
    delta = max(-MAX_DELTA, min(MAX_DELTA, delta))
    reason = (
        f"{op} {strength:+.2f}{'' if known else ' (no specific rule)'}: "
        f"luma {before.luminance:.2f}->{after.luminance:.2f}, "
        f"clipped {100 * (before.clip_bright + before.clip_dark):.1f}%->"
        f"{100 * (after.clip_bright + after.clip_dark):.1f}%, "
        f"contrast {before.contrast:.2f}->{after.contrast:.2f}, "
        f"saturation {before.saturation:.2f}->{after.saturation:.2f}, "
        f"sharpness {before.sharpness:.0f}->{after.sharpness:.0f}, "
        f"noise {before.noise:.1f}->{after.noise:.1f} => {delta:+.2f}"
    )
    return StepEffect(op, float(strength), float(delta), float(conf), reason)


def combine(effects: list[StepEffect]) -> tuple[float, float]:
    """Total delta (sum with diminishing returns, ``5 tanh(sum/5)``) and confidence of a chain."""
    if not effects:
        return 0.0, 1.0
    total = MAX_DELTA * math.tanh(sum(e.delta for e in effects) / MAX_DELTA)
    weights = [abs(e.delta) + 1e-3 for e in effects]
    conf = sum(w * e.confidence for w, e in zip(weights, effects, strict=True)) / sum(weights)
    return total, conf * 0.9 ** (len(effects) - 1)


@JUDGES.register("prior")
class PriorJudge(Judge):
    """Rule-based photographic prior (see the module docstring for the rules).

    Args:
        max_side: long side (px) of the copy the statistics are measured on.
        chain_side: long side (px) of the copy a multi-step chain is re-rendered on.
    """

    name = "prior"

    def __init__(self, max_side: int = 192, chain_side: int = 128) -> None:
        self.max_side, self.chain_side = int(max_side), int(chain_side)

    def _step_stats(self, source: Image.Image, ctx: PairContext) -> list[ImageStats]:
        small = resize_long_side(source, self.chain_side)
        x = pil_to_tensor(small)
        stats = [measure(small, self.chain_side)]
        for k, (step, op) in enumerate(zip(ctx.edits.steps, ctx.edits.ops(), strict=True)):
            x = op(x, step.strength, ctx.seed + k)
            stats.append(measure(tensor_to_pil(x), self.chain_side))
        return stats

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        """Judge one pair from the chain in ``ctx`` and measured statistics."""
        steps = ctx.edits.steps
        src_stats = fast_measure(source, self.max_side)
        edit_stats = fast_measure(edited, self.max_side)
        single = len(steps) <= 1
        stats = [src_stats, edit_stats] if single else self._step_stats(source, ctx)
        base: dict[str, float] = {}
        for e in ctx.meta.get("source_edits") or []:
            base[str(e["op"])] = base.get(str(e["op"]), 0.0) + float(e["strength"])
        effects = [
            step_effect(step.op, step.strength, stats[k], stats[k + 1], base.get(step.op, 0.0))
            for k, step in enumerate(steps)
        ]
        if not effects:  # no recorded edit: fall back to the generic rule on the two images
            effects = [step_effect("unknown", 0.0, src_stats, edit_stats)]
        delta, conf = combine(effects)
        extra: dict[str, Any] = {
            "steps": [e.__dict__ for e in effects],
            "source_stats": src_stats.to_dict(),
            "edited_stats": edit_stats.to_dict(),
            "unknown_ops": [e.op for e in effects if e.op not in RULES],
        }
        rationale = "; ".join(e.reason for e in effects) + f". Total {delta:+.2f}."
        return JudgeResult(
            judge=self.name, delta=delta, confidence=conf, rationale=rationale, extra=extra
        )


def covered_ops() -> list[str]:
    """Registered ops that have a specific rule (the others get the generic rule)."""
    return [n for n in EDIT_OPS.names() if n in RULES]
