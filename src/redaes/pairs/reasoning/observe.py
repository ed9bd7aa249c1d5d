"""What the reasoning text may claim: measured quantities ("kinds") of the two images of a pair.

Every claim of a reasoning text is one :class:`Kind` measured on both images of the pair
(:func:`observe`: :func:`redaes.stats.measure` at :data:`STATS_SIDE` plus
:func:`redaes.scene.analyse`). A kind knows how to read its value from an :class:`Observation`,
how it is printed (decimals, unit), how large a change must be before it is visible, the words
that state its direction, the keyword that identifies it in a sentence (the claim checker uses
it) and its *valence* where it is unambiguous (more noise, blocking or clipped white is never a
gain). Kinds whose statistic a :class:`~redaes.stats.ImageStats` version lacks read ``None`` and
are never claimed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from redaes.imageio import ImageInput
from redaes.scene import SceneInfo, analyse
from redaes.stats import measure

STATS_SIDE = 256
"""Long side (px) of the tone/colour statistics behind the texts (artefacts: native pixels)."""


@dataclass(frozen=True)
class Observation:
    """The measured statistics (``ImageStats.to_dict()``) and the scene of one image."""

    stats: dict[str, float]
    scene: SceneInfo


def observe(image: ImageInput, faces: bool = True) -> Observation:
    """Measure ``image`` for the reasoning text (``faces=False`` skips the face cascade)."""
    return Observation(measure(image, STATS_SIDE).to_dict(), analyse(image, detect_faces=faces))


Reader = Callable[[Observation], float | None]


@dataclass(frozen=True)
class Kind:
    """One claimable measured quantity (values in display units)."""

    name: str
    read: Reader
    decimals: int
    unit: str
    min_change: float
    keyword: str
    up: tuple[str, ...] = ()
    down: tuple[str, ...] = ()
    min_rel: float = 0.0
    floor: float = 0.0
    valence_up: int = 0
    valence_down: int = 0

    def fmt(self, v: float) -> str:
        signed = self.name in ("warmth", "tint")
        text = f"{v:+.{self.decimals}f}" if signed else f"{v:.{self.decimals}f}"
        return text + self.unit

    def visible(self, before: float, after: float) -> bool:
        """Large enough to see: absolute and relative change and a floor on the larger value."""
        d = abs(after - before)
        if d < self.min_change or max(abs(before), abs(after)) < self.floor:
            return False
        return d >= self.min_rel * max(abs(before), 1e-6)

    def pair(self, src: Observation, ed: Observation) -> tuple[float, float] | None:
        """(before, after) rounded as printed, or ``None`` when not measurable."""
        a, b = self.read(src), self.read(ed)
        if a is None or b is None:
            return None
        return round(a, self.decimals), round(b, self.decimals)

    def valence(self, before: float, after: float) -> int:
        """-1 / +1 where the direction alone decides good or bad, else 0."""
        return self.valence_up if after > before else self.valence_down


def _stat(key: str, scale: float = 1.0, alt: str | None = None) -> Reader:
    def read(o: Observation) -> float | None:
        if key in o.stats:
            return scale * float(o.stats[key])
        if alt is not None and alt in o.stats:
            return scale * float(o.stats[alt])
        return None

    return read


def _detail(o: Observation) -> float | None:
    """Laplacian standard deviation of luma (``sqrt(ImageStats.sharpness)``, 0-255 scale).

    Grain raises it too: the claims never state detail on a visibly grainier image.
    """
    return math.sqrt(max(float(o.stats["sharpness"]), 0.0)) if "sharpness" in o.stats else None


def _horizon(o: Observation) -> float | None:
    h = o.scene.horizon_deg
    return None if h is None else abs(float(h))


def _centroid(axis: int) -> Reader:
    return lambda o: 100.0 * float(o.scene.saliency_centroid[axis])


def _chroma(o: Observation) -> float | None:
    if "chroma" in o.stats:
        return float(o.stats["chroma"])
    return 100.0 * float(o.stats["saturation"]) if "saturation" in o.stats else None


def _cast(key: str, legacy: str) -> Reader:
    def read(o: Observation) -> float | None:
        if key in o.stats:
            return float(o.stats[key])
        return 100.0 * float(o.stats[legacy]) if legacy in o.stats else None

    return read


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "brightness",
            _stat("luminance", 100.0),
            0,
            "%",
            3.0,
            r"\bbrightness\b",
            ("brighter", "lighter"),
            ("darker", "dimmer"),
        ),
        Kind(
            "whites",
            _stat("clip_bright", 100.0),
            1,
            "%",
            0.5,
            r"\bpure white\b",
            floor=1.0,
            valence_up=-1,
        ),
        Kind(
            "blacks",
            _stat("clip_dark", 100.0),
            1,
            "%",
            0.5,
            r"\bpure black\b",
            floor=1.0,
            valence_up=-1,
        ),
        Kind(
            "contrast",
            _stat("contrast"),
            2,
            "",
            0.02,
            r"\bcontrast\b",
            ("punchier",),
            ("flatter",),
            min_rel=0.12,
        ),
        Kind(
            "saturation",
            _chroma,
            1,
            "",
            2.0,
            r"\bsaturation\b",
            ("richer", "more vivid"),
            ("paler", "more muted"),
            min_rel=0.12,
        ),
        Kind(
            "warmth",
            _cast("cast_b", "warmth"),
            1,
            "",
            3.0,
            r"\bb\*|\bwarmth\b",
            ("warmer", "yellower"),
            ("cooler", "bluer"),
        ),
        Kind(
            "tint", _cast("cast_a", "tint"), 1, "", 3.0, r"\ba\*|\btint\b", ("magenta",), ("green",)
        ),
        Kind(
            "noise",
            _stat("noise"),
            1,
            "",
            1.0,
            r"\bnoise\b|\bgrain\b|\bgrainy\b",
            ("grainier", "grainy"),
            ("cleaner",),
            floor=2.0,
            valence_up=-1,
        ),
        Kind(
            "detail",
            _detail,
            0,
            "",
            3.0,
            r"\bdetail\b",
            ("crisper", "sharper"),
            ("softer", "blurrier"),
            min_rel=0.15,
            valence_down=-1,
        ),
        Kind(
            "blocking", _stat("blockiness"), 2, "", 0.04, r"\bblocking\b", floor=0.1, valence_up=-1
        ),
        Kind("squares", _stat("flat", 100.0), 1, "%", 2.0, r"\bpixel squares\b", valence_up=-1),
        Kind("specks", _stat("impulse", 100.0), 1, "%", 1.0, r"\bspecks?\b", valence_up=-1),
        Kind(
            "patches",
            _stat("colour_block", 100.0),
            1,
            "%",
            1.0,
            r"\bcolour patches\b",
            valence_up=-1,
        ),
        Kind("purple", _stat("unnatural_hue", 100.0), 0, "%", 5.0, r"\bpurple\b", valence_up=-1),
        Kind(
            "vignette",
            _stat("vignette"),
            2,
            " stops",
            0.2,
            r"\bcorners?\b",
            ("darker",),
            ("brighter",),
        ),
        Kind(
            "haze",
            _stat("dark_channel"),
            2,
            "",
            0.04,
            r"\bhaze\b|\bveil\b|\bdark channel\b",
            ("hazier", "milkier"),
            ("clearer",),
        ),
        Kind("horizon", _horizon, 1, " degrees", 1.0, r"\bhorizontal lines?\b|\bhorizon\b"),
        Kind("subject_x", _centroid(0), 0, "%", 5.0, r"\bacross\b"),
        Kind("subject_y", _centroid(1), 0, "%", 5.0, r"\bfrom the top\b"),
    )
}
"""Every claimable kind by name (the vocabulary of texts and checker)."""

GEOMETRY_KINDS = frozenset({"subject_x", "subject_y"})
"""Kinds claimed only when the frame itself changed (crop, aspect, rotation)."""

TERM_KINDS: dict[str, tuple[str, ...]] = {
    "exposure": ("brightness",),
    "highlight_clipping": ("whites",),
    "shadow_clipping": ("blacks",),
    "contrast": ("contrast",),
    "saturation": ("saturation",),
    "colour_cast": ("warmth", "tint"),
    "hue": ("purple",),
    "sharpness": ("detail",),
    "noise": ("noise",),
    "compression": ("blocking",),
    "pixelation": ("squares",),
    "impulse": ("specks",),
    "colour_block": ("patches",),
    "vignette": ("vignette",),
    "haze": ("haze",),
    "horizon_tilt": ("horizon",),
    "subject_framing": ("subject_x", "subject_y"),
    "resolution": ("frame",),
}
"""Which claim kinds state the measurement behind each of the prior's terms (others, e.g. the
recorded ``restoration`` term, are never cited: they would give the answer away)."""

INTENT_PHRASES: dict[str, tuple[str, ...]] = {
    "sunset_warm": ("a warm-toned scene", "a scene in warm-toned light"),
    "blue_hour_cool": ("a dim, blue-toned scene", "a blue-toned scene in low light"),
    "high_key": ("a bright, high-key picture", "a high-key picture, light and airy"),
    "low_key": ("a dark, low-key picture", "a low-key picture, mostly dark"),
}
"""How the source's scene intent is named (the checker maps the phrase back)."""

INTENT_MIN_STRENGTH = 0.5
"""An intent is named only at this strength (the checker accepts it from 0.3)."""
