"""The prior's measured quality terms: potentials ``u`` of one image and antisymmetric pair terms.

Every term has a fixed name (the vocabulary the reasoning texts cite), a unit and a weight from
``prior_weights.yaml``. A *potential* term ``u(image)`` is a function of one image's statistics
(and of the pair's shared scene intent); its contribution is ``w (u(edited) - u(source))``. A
*ratio* term compares the two images, ``w f(edited) / f(source)`` on a log scale, and is
antisymmetric by construction. Either way swapping source and edited flips every contribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redaes.scene import SceneInfo
from redaes.stats import NEUTRAL_RELIABLE, ImageStats

TERM_UNITS: dict[str, str] = {
    "exposure": "luma",
    "highlight_clipping": "area share",
    "shadow_clipping": "area share",
    "contrast": "RMS luma",
    "saturation": "Lab chroma",
    "colour_cast": "Lab ab",
    "hue": "share of colour",
    "sharpness": "Laplacian std",
    "noise": "sigma /255",
    "compression": "blockiness",
    "pixelation": "area share",
    "impulse": "area share",
    "colour_block": "area share",
    "vignette": "stops",
    "horizon_tilt": "degrees",
    "subject_framing": "framing score",
    "resolution": "megapixels",
    "restoration": "op strength",
}
"""The fixed term vocabulary and the unit each term's ``before``/``after`` values are in."""

INTENT_LUMA = {"high_key": 0.78, "low_key": 0.24}
"""Mean-luma target per scene intent (the neutral target is :data:`TARGET_LUMA`)."""
TARGET_LUMA = 0.46
EXPOSURE_SLACK_EV = 0.3
CONTRAST_BAND = (0.13, 0.30)
CHROMA_KNEE = 8.0
CHROMA_CAP = 45.0
CHROMA_FLOOR = 1.5
"""Balanced Lab chroma below which a scene reads as grey: the residue a white-balance shift
leaves (under 1 Lab unit) buys no colour."""
CAST_TOLERANCE = 5.0
"""Lab a* (green-magenta) distance from the intended cast that costs nothing."""
WARM_TOLERANCE = 8.0
"""Lab b* a warm white balance may carry for free (about a 40 mired warm shift of a grey scene):
warm renderings of interiors and daylight scenes are a common, preferred look, so cooling a
mildly warm good photo earns nothing, while a stronger (tungsten-like) cast still costs."""
COOL_TOLERANCE = 4.0
"""Lab b* on the cool side that costs nothing (a blue cast reads as a fault sooner)."""
HIGH_KEY_DAMP = 0.75
"""Share of the highlight-clipping and saturation terms a fully high-key scene drops."""
HIGH_KEY_SLACK = 0.1
"""EV slack below the target in a fully high-key scene (greyer whites show at once)."""
NOISE_FLOOR = 1.5
"""Noise sigma (0-255) added to both sides of the noise ratio: changes well below a visible
grain do not count."""
MAX_TILT_CHANGE = 10.5
"""Tilts further apart than the largest rotation are a line detector's disagreement, not an
edit: the tilt term is left out."""
IMPULSE_SEEN = 0.0015
"""Impulse share at which salt-and-pepper specks are plainly seen: the cost saturates beyond it
(KADID people mark the first specks hardest; the noise term carries the rest)."""
BLOCK_SEEN = 1e-4
"""Pasted-block share of a single visible block's corner: the cost grows with the log of the
share above it (one pasted 32 px block already reads as broken, more add little)."""
PIXEL_SEEN = 0.01
"""Blocky-flat share at which pixelation shows: log cost above it (people mark the first,
barely coarser level well below a strong one, but far from zero)."""
GAMUT_COST = 2.0
"""Saturation potential lost per unit share of strongly coloured pixels pinned at 0 or 255."""
INTENT_CAST = {"sunset_warm": (5.0, 14.0), "blue_hour_cool": (0.0, -12.0)}
"""Cast (a*, b*) that a scene intent makes intended: the free box stretches from neutral to it."""


@dataclass(frozen=True)
class Term:
    """One measured quantity behind a verdict (the contract's ``extra["terms"]`` entries)."""

    name: str
    before: float
    after: float
    unit: str
    contribution: float

    def to_dict(self) -> dict[str, float | str]:
        return {
            "name": self.name,
            "before": float(self.before),
            "after": float(self.after),
            "unit": self.unit,
            "contribution": float(self.contribution),
        }


COLOUR_INTENTS = frozenset({"sunset_warm", "blue_hour_cool"})
"""Intents read from the colours; they set the free cast range (:data:`INTENT_CAST`)."""


def _winner(votes: dict[str, float]) -> tuple[str, float]:
    """The intent with the largest vote (ties by name), capped at 1; neutral when none."""
    if not votes:
        return "neutral", 0.0
    name = max(sorted(votes), key=lambda k: votes[k])
    return name, min(1.0, votes[name])


def shared_intent(a: SceneInfo | None, b: SceneInfo | None) -> tuple[str, float]:
    """The pair's colour intent (a warm sunset, a cool blue hour), symmetric in the two images:
    each image votes half its ``intent_strength``, so a white-balance shift alone cannot make
    its own look intended. The largest wins (``("neutral", 0)`` if none)."""
    votes: dict[str, float] = {}
    for s in (a, b):
        if s is not None and s.intent in COLOUR_INTENTS:
            votes[s.intent] = votes.get(s.intent, 0.0) + 0.5 * float(s.intent_strength)
    return _winner(votes)


def shared_tone(a: SceneInfo | None, b: SceneInfo | None) -> tuple[str, float]:
    """The pair's tone intent (:attr:`SceneInfo.tone_intent`), symmetric in the two images: the
    larger of the two votes (darkening a white interior does not make it any less a white
    interior; brightening a deliberately dark room does not make it any less meant dark). A
    darkened or underexposed frame cannot vote itself into a low key: the vote needs highlights
    near white (:mod:`redaes.scene`). ``("neutral", 0)`` if neither votes."""
    votes: dict[str, float] = {}
    for s in (a, b):
        if s is not None and s.tone_intent != "neutral":
            votes[s.tone_intent] = max(votes.get(s.tone_intent, 0.0), float(s.tone_strength))
    return _winner(votes)


def _dist(x: float, lo: float, hi: float) -> float:
    return lo - x if x < lo else (x - hi if x > hi else 0.0)


def _ev(luma: float, target: float) -> float:
    return math.log2((luma + 0.03) / (target + 0.03))


def u_exposure(st: ImageStats, intent: str, strength: float) -> float:
    """Minus the EV distance of the mean luma from the (intent-aware) target, beyond a slack.

    A low key widens the free range from the neutral target down to the low-key one (scaled by
    the intent strength), as an intended cast does: any darkness in it is the photographer's
    call, so lifting a moody room toward the neutral mean earns nothing. In high key the target
    moves up and the slack below it shrinks toward :data:`HIGH_KEY_SLACK` with the strength:
    darkening a white interior turns its whites grey, which is not a fix."""
    if intent == "low_key":
        low = TARGET_LUMA + strength * (INTENT_LUMA["low_key"] - TARGET_LUMA)
        below = _ev(st.luminance, low)
        ev = below if below < 0 else max(0.0, _ev(st.luminance, TARGET_LUMA))
        return -max(0.0, abs(ev) - EXPOSURE_SLACK_EV)
    target = TARGET_LUMA + strength * (INTENT_LUMA.get(intent, TARGET_LUMA) - TARGET_LUMA)
    ev = _ev(st.luminance, target)
    slack = EXPOSURE_SLACK_EV
    if intent == "high_key" and ev < 0:
        slack -= strength * (EXPOSURE_SLACK_EV - HIGH_KEY_SLACK)
    return -max(0.0, abs(ev) - slack)


def u_contrast(st: ImageStats, intent: str, strength: float) -> float:
    """Minus the distance of RMS contrast from a band (soft contrast is intended in high key)."""
    lo = CONTRAST_BAND[0] * (1.0 - 0.5 * strength * (intent == "high_key"))
    return -_dist(st.contrast, lo, CONTRAST_BAND[1])


def u_saturation(st: ImageStats) -> float:
    """Diminishing returns of the scene's white-balanced chroma (``log1p((C - 1.5) / 8)`` capped
    at ``C = 45``, ``C`` = :attr:`ImageStats.chroma_rel`), minus gamut
    clipping and implausible chroma: dull images gain from colour, vivid ones lose when drained
    and lose when pushed into clipping."""
    c = st.chroma_rel
    base = math.log1p(max(0.0, min(c, CHROMA_CAP) - CHROMA_FLOOR) / CHROMA_KNEE)
    return base - GAMUT_COST * st.gamut_clip - max(0.0, c - 60.0) / 20.0


def _excess(x: float, intended: float, below: float, above: float) -> float:
    """Distance of ``x`` outside the free interval from ``min(0, intended) - below`` to
    ``max(0, intended) + above``."""
    return max(0.0, min(0.0, intended) - below - x, x - max(0.0, intended) - above)


def cast_excess(st: ImageStats, intent: str, strength: float) -> float:
    """Lab distance of the neutral-candidate cast outside the free box: :data:`CAST_TOLERANCE`
    in a*, :data:`WARM_TOLERANCE` on the warm side of b* and :data:`COOL_TOLERANCE` on the cool
    side (asymmetric: a warm look is often intended), stretched from neutral to the scene
    intent's cast (:data:`INTENT_CAST`, scaled by the intent strength): in warm evening light
    any warmth from neutral to the sunset's is the photographer's call, so neither warming nor
    cooling within it is a fix."""
    ia, ib = INTENT_CAST.get(intent, (0.0, 0.0))
    ea = _excess(st.cast_a, strength * ia, CAST_TOLERANCE, CAST_TOLERANCE)
    eb = _excess(st.cast_b, strength * ib, COOL_TOLERANCE, WARM_TOLERANCE)
    return math.hypot(ea, eb)


def u_impulse(st: ImageStats) -> float:
    """Minus the seen share of impulse specks, saturating at :data:`IMPULSE_SEEN`."""
    return -(1.0 - math.exp(-st.impulse / IMPULSE_SEEN))


def u_colour_block(st: ImageStats) -> float:
    """Minus ``log1p(share / BLOCK_SEEN)`` of pasted uniform blocks (:data:`BLOCK_SEEN`)."""
    return -math.log1p(st.colour_block / BLOCK_SEEN)


def u_pixelation(st: ImageStats) -> float:
    """Minus ``log1p(share / PIXEL_SEEN)`` of blocky flat areas (:data:`PIXEL_SEEN`)."""
    return -math.log1p(st.flat / PIXEL_SEEN)


def u_vignette(st: ImageStats) -> float:
    """Up to 0.6 stops of corner fall-off is free; beyond that costs (bright corners are
    common in nature, skies, and cost nothing)."""
    return -max(0.0, st.vignette - 0.6)


def tilt_pair(ss: SceneInfo | None, se: SceneInfo | None) -> tuple[float, float] | None:
    """The tilts that matter, like with like: both horizons, else both verticals, else ``None``
    (a source horizon is never compared with the edit's verticals: lines that one image shows
    and the other does not are a detector's disagreement, not a rotation)."""
    if ss is None or se is None:
        return None
    if ss.horizon_deg is not None and se.horizon_deg is not None:
        return float(ss.horizon_deg), float(se.horizon_deg)
    if ss.verticals_deg is not None and se.verticals_deg is not None:
        return float(ss.verticals_deg), float(se.verticals_deg)
    return None


def framing(scene: SceneInfo) -> float:
    """Thirds placement of the saliency centroid (1 on a thirds point, 0 a third away) minus
    0.25 per frame edge the subject box touches (a cut subject)."""
    cx, cy = scene.saliency_centroid
    d = min(math.hypot(cx - tx, cy - ty) for tx in (1 / 3, 2 / 3) for ty in (1 / 3, 2 / 3))
    score = max(0.0, 1.0 - d / 0.33)
    box = scene.subject_box
    if box is not None:
        x0, y0, x1, y1 = box
        if (x1 - x0) * (y1 - y0) < 0.8:  # a subject filling the frame is not cut
            score -= 0.25 * sum(v < 0.01 for v in (x0, y0, 1 - x1, 1 - y1))
    return score


def _log_ratio(a: float, b: float, floor: float) -> float:
    return max(-4.0, min(4.0, math.log((b + floor) / (a + floor))))


def detail_change(s: ImageStats, e: ImageStats) -> float:
    """Log change of detail net of the tone curve's share, odd in the pair: the log change of
    RMS contrast is taken off the log change of detail only where both move the same way, and at
    most all of it (a darker or flatter rendering is not a loss of sharpness, a blown-out one is
    not a gain)."""
    ld = _log_ratio(s.detail, e.detail, 0.5)
    lc = _log_ratio(255.0 * s.contrast, 255.0 * e.contrast, 0.5)
    return ld - min(max(lc, min(0.0, ld)), max(0.0, ld))


def pair_terms(
    s: ImageStats,
    e: ImageStats,
    ss: SceneInfo | None,
    se: SceneInfo | None,
    w: dict[str, float],
) -> list[Term]:
    """Every measured term of the pair ``source -> edited`` with its contribution (points)."""
    intent, k = shared_tone(ss, se)
    colour, kc = shared_intent(ss, se)
    out: list[Term] = []

    def pot(name: str, before: float, after: float, ub: float, ua: float) -> None:
        out.append(Term(name, before, after, TERM_UNITS[name], w.get(name, 0.0) * (ua - ub)))

    pot(
        "exposure",
        s.luminance,
        e.luminance,
        u_exposure(s, intent, k),
        u_exposure(e, intent, k),
    )
    low_key = 0.5 if intent == "low_key" else 1.0
    # a high-key look keeps its whites at paper white: their clipping is intended, and a pale
    # palette is the look (chroma a colour shift adds to near-white surfaces is a cast)
    high_key = 1.0 - HIGH_KEY_DAMP * k if intent == "high_key" else 1.0
    pot(
        "highlight_clipping",
        s.clip_bright,
        e.clip_bright,
        -high_key * s.clip_bright,
        -high_key * e.clip_bright,
    )
    pot(
        "shadow_clipping",
        s.clip_dark,
        e.clip_dark,
        -low_key * s.clip_dark,
        -low_key * e.clip_dark,
    )
    pot("contrast", s.contrast, e.contrast, u_contrast(s, intent, k), u_contrast(e, intent, k))
    pot(
        "saturation",
        s.chroma_rel,
        e.chroma_rel,
        high_key * u_saturation(s),
        high_key * u_saturation(e),
    )
    # the cast estimate is only as good as the neutral surfaces behind it (symmetric in the pair)
    rel = min(1.0, max(s.neutral_fraction, e.neutral_fraction) / NEUTRAL_RELIABLE)
    cb, ca = rel * cast_excess(s, colour, kc), rel * cast_excess(e, colour, kc)
    pot(
        "colour_cast",
        math.hypot(s.cast_a, s.cast_b),
        math.hypot(e.cast_a, e.cast_b),
        -cb / 10,
        -ca / 10,
    )
    pot("hue", s.unnatural_hue, e.unnatural_hue, -s.unnatural_hue, -e.unnatural_hue)
    out.append(
        Term(
            "sharpness",
            s.detail,
            e.detail,
            TERM_UNITS["sharpness"],
            w.get("sharpness", 0.0) * detail_change(s, e),
        )
    )
    out.append(
        Term(
            "noise",
            s.noise,
            e.noise,
            TERM_UNITS["noise"],
            -w.get("noise", 0.0)
            * (_log_ratio(s.noise, e.noise, NOISE_FLOOR) - _log_ratio(s.detail, e.detail, 1.0)),
        )
    )
    pot(
        "compression",
        s.blockiness,
        e.blockiness,
        -max(0.0, s.blockiness - 0.1),
        -max(0.0, e.blockiness - 0.1),
    )
    pot("pixelation", s.flat, e.flat, u_pixelation(s), u_pixelation(e))
    pot("impulse", s.impulse, e.impulse, u_impulse(s), u_impulse(e))
    pot("colour_block", s.colour_block, e.colour_block, u_colour_block(s), u_colour_block(e))
    pot("vignette", s.vignette, e.vignette, u_vignette(s), u_vignette(e))
    tilts = tilt_pair(ss, se)
    if tilts is not None and abs(tilts[0] - tilts[1]) <= MAX_TILT_CHANGE:
        # a tilt only counts where both images show the same consistent straight lines
        ts, te = tilts
        pot("horizon_tilt", ts, te, -min(abs(ts), 12.0), -min(abs(te), 12.0))
    if ss is not None and se is not None:
        fs, fe = framing(ss), framing(se)
        pot("subject_framing", fs, fe, fs, fe)
    mps, mpe = s.width * s.height / 1e6, e.width * e.height / 1e6
    out.append(
        Term(
            "resolution",
            mps,
            mpe,
            TERM_UNITS["resolution"],
            w.get("resolution", 0.0) * math.log2(max(mpe, 1e-6) / max(mps, 1e-6)),
        )
    )
    return out
