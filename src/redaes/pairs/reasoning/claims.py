"""Structured claims of a pair: which measured changes a text states, and which one decides.

:func:`claims` turns the two images' :class:`~redaes.pairs.reasoning.observe.Observation` (and, when
the prior judge gave them, its ``extra["terms"]``) into :class:`Claim` objects: one per measured
kind whose change is large enough to see, or that a prior term weighted (``|c| >= 0.1`` points).
Sharpness is never claimed to rise while noise rose (noise raises the Laplacian), nor noise to fall
while detail fell (a blur is not a cleaner image); the centre of visual interest only when the frame
changed or the horizon turned. Each claim carries a valence: the sign of the prior term's
contribution, else the kind's own unambiguous valence (more grain is a loss), else 0.
:func:`decisive` picks the claim that set the verdict: the largest contribution that agrees in sign
with ``delta``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redaes.pairs.reasoning.observe import GEOMETRY_KINDS, KINDS, TERM_KINDS, Observation

TERM_MIN = 0.1
"""A prior term of at least this many points is stated even below the visibility threshold."""
CONFOUNDED = frozenset({"saturation", "purple", "haze", "blacks", "whites", "squares", "patches"})
"""Kinds that visible added grain moves by itself: stated then only when a prior term used them,
and without a visual consequence."""
VALENCE_MIN = 0.05
"""A term contribution of at least this size gives its claim a valence."""


@dataclass(frozen=True)
class Claim:
    """One measured change: ``kind`` from ``before`` to ``after`` (display units)."""

    kind: str
    before: float
    after: float
    valence: int
    weight: float
    dims: tuple[int, int, int, int] | None = None
    visible: bool = True
    confounded: bool = False

    @property
    def up(self) -> bool:
        return self.after > self.before


def dims_of(src: Observation, ed: Observation) -> tuple[int, int, int, int]:
    """(source width, source height, edited width, edited height)."""
    s, e = src.stats, ed.stats
    return int(s["width"]), int(s["height"]), int(e["width"]), int(e["height"])


def frame_changed(src: Observation, ed: Observation) -> bool:
    w0, h0, w1, h1 = dims_of(src, ed)
    return (w0, h0) != (w1, h1)


def detail_fell(src: Observation, ed: Observation) -> bool:
    """Fine detail fell visibly (then a lower noise reading is blur, not a cleaner image)."""
    k = KINDS["detail"]
    ab = k.pair(src, ed)
    return ab is not None and ab[1] < ab[0] and k.visible(*ab)


def term_contributions(
    terms: Iterable[Mapping[str, Any]] | None, src: Observation, ed: Observation
) -> dict[str, float]:
    """Contribution (points) per claim kind, summed over the prior terms that map to it.

    A term behind two kinds (``colour_cast``: b* and a*) is shared in proportion to how far each
    kind moved, in units of its visibility threshold.
    """
    out: dict[str, float] = {}
    for t in terms or ():
        try:
            name, c = str(t["name"]), float(t["contribution"])
        except (KeyError, TypeError, ValueError):
            continue
        kinds = TERM_KINDS.get(name, ())
        moves = []
        for kind in kinds:
            k = KINDS.get(kind)
            a, b = (k.read(src), k.read(ed)) if k else (None, None)
            moves.append(0.0 if k is None or a is None or b is None else abs(b - a) / k.min_change)
        total = sum(moves)
        for kind, m in zip(kinds, moves, strict=True):
            share = m / total if total > 0 else 1.0 / len(kinds)
            out[kind] = out.get(kind, 0.0) + c * share
    return out


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def claims(
    src: Observation,
    ed: Observation,
    terms: Iterable[Mapping[str, Any]] | None = None,
    term_min: float = TERM_MIN,
) -> list[Claim]:
    """Every claim worth stating, most important first (by contribution, else visibility).

    ``term_min``: a term of at least this many points is stated even when its change is below
    the visibility threshold.
    """
    contrib = term_contributions(terms, src, ed)
    out: list[Claim] = []
    h0, h1 = KINDS["horizon"].read(src), KINDS["horizon"].read(ed)
    tilted = h0 is not None and h1 is not None and abs(h1 - h0) >= 1.0
    geometry = frame_changed(src, ed) or tilted
    noise = KINDS["noise"]
    n0, n1 = noise.read(src), noise.read(ed)
    noise_rose = n0 is not None and n1 is not None and n1 - n0 >= 0.5
    softer = detail_fell(src, ed)
    nn = noise.pair(src, ed)
    grainy = nn is not None and nn[1] > nn[0] and noise.visible(*nn)
    for kind in KINDS.values():
        if kind.name in GEOMETRY_KINDS and not geometry:
            continue
        a, b = kind.read(src), kind.read(ed)
        if a is None or b is None:
            continue
        a, b = round(a, kind.decimals), round(b, kind.decimals)
        if a == b:
            continue
        c = contrib.get(kind.name)
        if not kind.visible(a, b) and not (c is not None and abs(c) >= term_min):
            continue
        if kind.name == "detail" and (grainy or (b > a and noise_rose)):
            continue  # grain moves the Laplacian both ways: no detail claim on a grainier image
        confounded = grainy and kind.name in CONFOUNDED
        if confounded and not (c is not None and abs(c) >= term_min):
            continue  # per-pixel grain moves chroma, clipping and flatness: not a change of look
        if softer and (kind.name == "haze" or (kind.name == "noise" and b < a)):
            continue  # a blur smooths grain and lifts the dark channel: not cleaner or hazier
        own = kind.valence(a, b)
        valence = own
        if c is not None and abs(c) >= VALENCE_MIN:
            valence = _sign(c) if own in (0, _sign(c)) else 0
        ratio = abs(b - a) / max(kind.min_change, 1e-9)
        weight = abs(c) if c is not None else 0.01 * min(ratio, 10.0)
        out.append(Claim(kind.name, a, b, valence, weight, None, kind.visible(a, b), confounded))
    if frame_changed(src, ed):
        dims = dims_of(src, ed)
        c = contrib.get("frame", 0.0)
        area = (dims[2] * dims[3]) / max(dims[0] * dims[1], 1)
        valence = _sign(c) if abs(c) >= VALENCE_MIN else 0
        out.append(Claim("frame", 1.0, area, valence, max(abs(c), 0.05), dims))
    out.sort(key=lambda cl: -cl.weight)
    return out


def uncited(terms: Iterable[Mapping[str, Any]] | None, delta: float) -> float:
    """The largest contribution agreeing with ``delta`` among terms a text never cites
    (e.g. the recorded ``restoration`` term), 0 without any."""
    best = 0.0
    for t in terms or ():
        try:
            name, c = str(t["name"]), float(t["contribution"])
        except (KeyError, TypeError, ValueError):
            continue
        if name not in TERM_KINDS and _sign(c) == _sign(delta):
            best = max(best, abs(c))
    return best


def decisive(
    found: list[Claim], delta: float, neutral_threshold: float, hidden: float = 0.0
) -> Claim | None:
    """The claim that set the verdict: the heaviest whose valence agrees with ``delta``.

    ``None`` when none agrees, or when an uncited term (``hidden`` points, see :func:`uncited`)
    outweighs it: a small measured change is then not presented as the reason.
    """
    if abs(delta) < neutral_threshold:
        return None
    want = _sign(delta)
    agreeing = [c for c in found if c.valence == want]
    best = max(agreeing, key=lambda c: c.weight) if agreeing else None
    return None if best is None or best.weight < hidden else best
