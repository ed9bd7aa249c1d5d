"""The ``prior`` judge: potential-form verdict, restoration term, uncertainty from estimates."""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from functools import lru_cache
from importlib import resources
from typing import Any

import cv2
import numpy as np
import yaml
from PIL import Image

from redaes.errors import ConfigError
from redaes.judges.base import JUDGES, Judge, JudgeResult, PairContext
from redaes.judges.prior.terms import TERM_UNITS, Term, pair_terms
from redaes.judges.prior.uncertainty import spread
from redaes.scene import SceneInfo, analyse
from redaes.stats import ImageStats, measure

MAX_DELTA = 5.0
RESTORE_EXPONENT = 1.0
IMAGE_WEIGHT_WITH_RECORD = 0.35
"""Weight of the pixel terms when the source's degradation is recorded (restoration pairs)."""
UNDO_SCALE: dict[str, float] = {"haze": 50.0 / 90.0}
"""Correction strength that undoes one unit of base strength (haze: +1 adds a 50 % veil, -1
removes 90 %); 1 for the other ops."""
DAMAGE_CLEAR_DE = 4.0
"""Mean CIE76 colour difference over the frame at which a degradation of strength
:data:`TYPICAL_DAMAGE` is plainly visible. A restoration pays ``K`` per unit of strength times
the visibility ``v = min(1, (dE / |s|) / (DAMAGE_CLEAR_DE / TYPICAL_DAMAGE))``, ``dE`` the mean
difference the correction ``s`` makes on this photo (removing the colour of an almost grey photo
undoes little anyone can see)."""
TYPICAL_DAMAGE = 0.6
"""The recorded strength the visibility is normalised at (the middle of the restoration ranges)."""
VISIBILITY_SIDE = 256
"""Long side (px) of the copy the damage's visible size is measured on."""
GEOMETRY_OPS = frozenset({"rotate"})
"""Recorded ops whose visibility is not a colour difference (a tilt is judged by its lines)."""
WEIGHTS_FILE = "prior_weights.yaml"
HALF_SIDE = 256
"""Long side (px) of the tone/colour copy of each image half (artefacts stay native)."""


@lru_cache(maxsize=1)
def load_weights() -> dict[str, Any]:
    """The shipped term magnitudes and fit record (``redaes/judges/prior_weights.yaml``)."""
    text = resources.files("redaes.judges").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or "terms" not in data:
        raise ConfigError(f"{WEIGHTS_FILE}: needs a 'terms' mapping")
    return data


def prior_version() -> str:
    """``"<rules>+<weights>"``: the rule set's version and the weights file's version."""
    return f"2.2+{load_weights().get('version', 'unknown')}"


def recorded_base(ctx: PairContext) -> dict[str, float]:
    """Op -> summed strength of the source's recorded degradation (``meta["source_edits"]``)."""
    base: dict[str, float] = {}
    for e in ctx.meta.get("source_edits") or []:
        base[str(e["op"])] = base.get(str(e["op"]), 0.0) + float(e["strength"])
    return base


def moved_strength(ctx: PairContext) -> dict[str, float]:
    """Op -> summed strength of the pair's own edit chain (``ctx.edits``)."""
    moved: dict[str, float] = {}
    for step in ctx.edits.steps:
        moved[step.op] = moved.get(step.op, 0.0) + float(step.strength)
    return moved


def _lab(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / np.float32(255.0)
    return cv2.cvtColor(arr, cv2.COLOR_RGB2Lab)


def damage_visibility(source: Image.Image, edited: Image.Image, op: str, moved: float) -> float:
    """How visible the recorded ``op`` is on this photo, 0-1, symmetric in the pair.

    The mean CIE76 difference between source and edit on :data:`VISIBILITY_SIDE` px copies, per
    unit of the correction ``moved`` (the chain's summed strength of ``op``), against what is
    plainly visible (:data:`DAMAGE_CLEAR_DE` at :data:`TYPICAL_DAMAGE`), at most 1. It is the
    same for the pair and its reverse, so the verdict stays antisymmetric; the members of a
    chain share it up to the op's nonlinearity. Geometry ops (:data:`GEOMETRY_OPS`), a zero
    correction and images of different sizes count as fully visible; other ops in the chain
    add to the difference."""
    if op in GEOMETRY_OPS or abs(moved) < 1e-6 or source.size != edited.size:
        return 1.0
    a, b = source.copy(), edited.copy()
    for im in (a, b):
        im.thumbnail((VISIBILITY_SIDE, VISIBILITY_SIDE), Image.Resampling.BOX)
    de = float(np.linalg.norm(_lab(a) - _lab(b), axis=-1).mean())
    return min(1.0, (de / abs(moved)) / (DAMAGE_CLEAR_DE / TYPICAL_DAMAGE))


def restoration_terms(
    ctx: PairContext, k: dict[str, float], visibility: dict[str, float] | None = None
) -> list[Term]:
    """Strength-space distance to the original for every recorded op the chain touches.

    With base ``b`` and correction ``s`` the net degradation is ``n = b + s / undo_scale``;
    the term is ``K v (|b| - |n|)`` with ``v`` the damage's visibility on this source
    (``visibility[op]``, :func:`damage_visibility`; 1 when not given; shared by the members of
    a chain up to the op's nonlinearity): positive exactly when the edit moves toward the
    original, largest at the full undo ``n = 0`` (a cusp: pixel terms with a smaller slope cannot
    move the peak), and antisymmetric when the pair is reversed
    (source at ``n``, edit ``-s``)."""
    base = recorded_base(ctx)
    if not base:
        return []
    moved = {op: s for op, s in moved_strength(ctx).items() if op in base}
    out = []
    for op, s in sorted(moved.items()):
        b = base[op]
        n = b + s / UNDO_SCALE.get(op, 1.0)
        kk = float(k.get(op, k.get("default", 1.5))) * (visibility or {}).get(op, 1.0)
        c = kk * (abs(b) ** RESTORE_EXPONENT - abs(n) ** RESTORE_EXPONENT)
        out.append(Term("restoration", b, n, TERM_UNITS["restoration"], c))
    return out


def _squash(x: float) -> float:
    return MAX_DELTA * math.tanh(x / MAX_DELTA)


def verdict(image_terms: list[Term], restore: list[Term]) -> float:
    """Combine pixel terms and restoration terms into one delta (odd in every contribution).

    Plain pairs: ``5 tanh(sum / 5)``. With a recorded degradation the pixel terms count
    :data:`IMAGE_WEIGHT_WITH_RECORD` and the result keeps the restoration term's sign with at
    least a quarter of its size, so a correction toward the original is never below zero.
    """
    img = sum(t.contribution for t in image_terms)
    if not restore:
        return _squash(img)
    r = sum(t.contribution for t in restore)
    raw = IMAGE_WEIGHT_WITH_RECORD * img + r
    raw = max(raw, 0.25 * r) if r > 0 else (min(raw, 0.25 * r) if r < 0 else raw)
    return _squash(raw)


def _halves(img: Image.Image) -> dict[str, Image.Image]:
    w, h = img.size
    return {
        "left": img.crop((0, 0, max(1, w // 2), h)),
        "right": img.crop((w // 2, 0, w, h)),
        "top": img.crop((0, 0, w, max(1, h // 2))),
        "bottom": img.crop((0, h // 2, w, h)),
    }


SourceSide = tuple[ImageStats, SceneInfo, dict[str, ImageStats]]
SOURCE_CACHE_SIZE = 16
"""Sources whose measurements a judge keeps: the pairs of one photo share one source image."""


def _digest(img: Image.Image) -> bytes:
    """Content key of an image (mode, size and pixels), so equal pixels share measurements."""
    h = hashlib.blake2b(f"{img.mode}{img.size}".encode(), digest_size=16)
    h.update(img.tobytes())
    return h.digest()


@JUDGES.register("prior")
class PriorJudge(Judge):
    """Content-aware photographic prior (see :mod:`redaes.judges.prior` for the rules).

    Args:
        max_side: both images are scaled by the factor that brings the source's long side to
            at most this many px before measuring (one scale for the pair, so crops compare).
        perturb: also judge the image halves (the uncertainty estimates); ``False`` gives
            ``delta_std`` from the recorded-vs-pixel disagreement only.
    """

    name = "prior"

    def __init__(self, max_side: int = 512, perturb: bool = True) -> None:
        self.max_side, self.perturb = int(max_side), bool(perturb)
        self.weights = {k: float(v) for k, v in load_weights()["terms"].items()}
        self.restore_k = {k: float(v) for k, v in (load_weights().get("restoration") or {}).items()}
        self._sources: OrderedDict[tuple[bytes, int, bool], SourceSide] = OrderedDict()

    def _source_side(self, src: Image.Image, big: int) -> SourceSide:
        """Measurements, scene and half measurements of the (prepared) source, cached by content.

        Pure functions of the pixels, so the cache changes no verdict: it only saves measuring
        the same source again for every pair of the same photo."""
        key = (_digest(src), big, self.perturb)
        hit = self._sources.get(key)
        if hit is not None:
            self._sources.move_to_end(key)
            return hit
        halves = {k: measure(v, HALF_SIDE) for k, v in _halves(src).items()} if self.perturb else {}
        side = (measure(src, big), analyse(src), halves)
        self._sources[key] = side
        if len(self._sources) > SOURCE_CACHE_SIZE:
            self._sources.popitem(last=False)
        return side

    def _prepare(self, source: Image.Image, edited: Image.Image) -> tuple[Image.Image, Image.Image]:
        scale = self.max_side / max(source.size)
        src = source.convert("RGB") if source.mode != "RGB" else source
        out = edited.convert("RGB") if edited.mode != "RGB" else edited
        if scale < 1.0:

            def down(im: Image.Image) -> Image.Image:
                size = (max(1, round(im.size[0] * scale)), max(1, round(im.size[1] * scale)))
                return im.resize(size, Image.Resampling.BOX)

            src, out = down(src), down(out)
        return src, out

    def terms(
        self, s: ImageStats, e: ImageStats, ss: SceneInfo | None, se: SceneInfo | None
    ) -> list[Term]:
        """The pixel terms of a pair (with this judge's weights)."""
        return pair_terms(s, e, ss, se, self.weights)

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        """Judge one pair from the pixels (and a recorded degradation, if any)."""
        src, out = self._prepare(source, edited)
        big = max(max(src.size), max(out.size))
        st_s, sc_s, half_s = self._source_side(src, big)
        st_e, sc_e = measure(out, big), analyse(out)
        image_terms = self.terms(st_s, st_e, sc_s, sc_e)
        moved = moved_strength(ctx)
        visibility = {
            op: damage_visibility(src, out, op, moved[op])
            for op in recorded_base(ctx)
            if op in moved
        }
        restore = restoration_terms(ctx, self.restore_k, visibility)
        delta = verdict(image_terms, restore)
        estimates: dict[str, float] = {}
        if self.perturb:
            for key, half_e in _halves(out).items():
                part = self.terms(half_s[key], measure(half_e, HALF_SIDE), sc_s, sc_e)
                estimates[key] = verdict(part, restore)
        if restore:
            estimates["pixels_only"] = verdict(image_terms, [])
        std = spread(delta, estimates)
        terms = image_terms + restore
        top = sorted(terms, key=lambda t: -abs(t.contribution))[:4]
        rationale = (
            "; ".join(
                f"{t.name} {t.before:.3g}->{t.after:.3g} ({t.contribution:+.2f})"
                for t in top
                if abs(t.contribution) >= 0.01
            )
            or "no measured term changed"
        ) + f". Total {delta:+.2f} (uncertainty {std:.2f})."
        extra: dict[str, Any] = {
            "prior_version": prior_version(),
            "terms": [t.to_dict() for t in terms],
            "scene": sc_s.to_dict(),
            "edited_scene": sc_e.to_dict(),
            "estimates": {"rule": delta, **estimates},
            "delta_std": std,
            "source_stats": st_s.to_dict(),
            "edited_stats": st_e.to_dict(),
            "restoration": bool(restore),
        }
        if restore:
            extra["restoration_visibility"] = visibility
        return JudgeResult(
            judge=self.name,
            delta=delta,
            confidence=1.0 / (1.0 + std),
            rationale=rationale,
            extra=extra,
        )
