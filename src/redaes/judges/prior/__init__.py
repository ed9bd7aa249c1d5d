"""The ``prior`` judge: a documented, content-aware photographic prior that needs no model.

The verdict is a *potential* difference plus antisymmetric pair terms,

    delta = 5 tanh( sum_t w_t [u_t(edited) - u_t(source)] + sum_r w_r a_r(source, edited) ) / 5)

measured on the two images (:func:`redaes.stats.measure`) and their scenes
(:func:`redaes.scene.analyse`), so ``delta(a -> b) = -delta(b -> a)`` holds by construction and
chains are transitive (a multi-step chain is judged on its end points; nothing is re-rendered).
Op names and strengths are **not** used for plain pairs: the pixels decide. Terms (weights ``w``
in ``redaes/judges/prior_weights.yaml``; names are the fixed vocabulary of ``extra["terms"]``):

====================  =====================================================================
term                  potential ``u`` (higher is better) or pair term ``a``
====================  =====================================================================
exposure              ``-max(0, |log2((L + .03) / (T + .03))| - 0.3)``: EV distance of mean luma
                      ``L`` from ``T`` = 0.46, moved toward 0.78 (high key, shorter slack
                      below) by the pair's tone intent strength; a low key instead widens the
                      free range down toward 0.24 (darkness in it is the photographer's call)
highlight_clipping    ``-`` area share of true white clipping (all channels >= 253, no specks)
shadow_clipping       ``-`` area share of true black clipping (half weight in low key)
contrast              ``-`` distance of RMS luma from [0.13, 0.30] (lower end halved in high key)
saturation            ``log1p((min(C, 45) - 1.5) / 8) - 2 gamut_clip - max(0, C - 60) / 20``
                      with ``C`` the Lab chroma after white balance to the cast estimate (a
                      cast adds no colour):
                      diminishing returns, so draining a vivid photo and
                      pushing it into gamut clipping both cost
colour_cast           ``-`` (Lab distance of the neutral-candidate cast from the scene's intended
                      cast, beyond 5) / 10; intended casts: sunset (5, 14), blue hour (0, -12)
                      times the pair's intent strength (a strongly warmed photo looks like a
                      sunset too, so the excuse is partial);
                      scaled by the larger neutral-surface share / 0.1 (at most 1)
hue                   ``-`` chroma share in magenta-purple hues (Lab h 295-355, rare in nature)
sharpness             ``a = ld - clip(lc, min(0, ld), max(0, ld))`` with ``ld``, ``lc`` the log
                      changes of detail (Laplacian of Gaussian) and of RMS contrast: the tone
                      curve's share is taken off, so darker or flatter is not "softer"
noise                 ``a = -[log((n_e + 1.5) / (n_s + 1.5)) - log((d_e + 1) / (d_s + 1))]``: the
                      flat-region noise sigma relative to detail, so a blur that also smooths
                      grain earns no "denoising" credit
compression           ``-max(0, blockiness - 0.1)`` (8x8 grid discontinuity)
pixelation            ``-log1p(share / 0.01)`` of uniform 3x3 windows inside structured
                      neighbourhoods (people mark the first coarse level hard, more adds less)
impulse               ``-(1 - exp(-share / 0.0015))`` of salt-and-pepper outliers (the first
                      specks are seen; the noise term carries the rest)
colour_block          ``-log1p(share / 1e-4)`` of pasted uniform blocks with a hard rim (one
                      pasted block already reads as broken)
vignette              ``-max(0, v - 0.6)``, ``v`` centre/corner stops
horizon_tilt          ``-min(|tilt|, 12)`` degrees of the horizon (else the verticals), counted
                      only when both images show straight lines within 10.5 degrees of each
                      other (no horizon in a top-down texture: no tilt penalty)
subject_framing       thirds placement of the saliency centroid, minus 0.25 per frame edge that
                      cuts the subject box
resolution            ``a = log2(pixels_e / pixels_s)``: a crop loses a little
restoration           recorded pairs only, below
====================  =====================================================================

The pair's intents are symmetric in the two images. The colour intent (sunset, blue hour: each
image votes half its strength) sets the free cast range, so a warm sunset or a cool blue hour
is not called a cast. The tone intent (:attr:`~redaes.scene.SceneInfo.tone_intent`, read apart
from the colour: a warm-lit room can be a low key too) takes the larger vote, so a high-key photo
is not "corrected" toward mid grey and a deliberately dark room is not paid for being lifted; a
darkened frame cannot vote itself into a low key (the vote needs highlights near white).

**Restoration pairs** (``ctx.meta["source_edits"]`` records how the source was degraded from the
original): for each recorded op the chain moves, with base ``b`` and net degradation
``n = b + s / undo_scale``, the term ``K v (|b| - |n|)`` (``K`` per op, ``restoration`` in
the weights file; ``v`` = how visible the op is on this photo, 0-1: the mean Lab difference the
correction makes per unit of strength against 4 dE at strength 0.6, symmetric in the pair,
:func:`~redaes.judges.prior.judge.damage_visibility`) is added to 0.35 x the pixel terms, and
the result keeps that term's sign with at least a quarter of its size: a correction toward the
original never scores below zero, the verdict peaks at the full undo, and reversing the pair
flips it exactly.

**Uncertainty** (:mod:`redaes.judges.prior.uncertainty`): ``delta_std`` is the disagreement of
independent estimates (the rule on each image half; on restoration pairs also the pixels without
the record); the confidence is ``1 / (1 + delta_std)``.

``extra`` carries ``prior_version`` (:data:`PRIOR_VERSION`), ``terms`` (name, before, after,
unit, contribution), ``scene`` (source :class:`~redaes.scene.SceneInfo` dict), ``estimates``,
``delta_std`` and ``source_stats``/``edited_stats`` (:meth:`ImageStats.to_dict`).
"""

from __future__ import annotations

from redaes.judges.prior.judge import (
    MAX_DELTA,
    PriorJudge,
    load_weights,
    prior_version,
    recorded_base,
    restoration_terms,
    verdict,
)
from redaes.judges.prior.terms import TERM_UNITS, Term, pair_terms, shared_intent
from redaes.judges.prior.uncertainty import informative, spread

PRIOR_VERSION = prior_version()
"""Version of the rules plus the weights file (recorded in every verdict and dataset card)."""

__all__ = [
    "MAX_DELTA",
    "PRIOR_VERSION",
    "TERM_UNITS",
    "PriorJudge",
    "Term",
    "informative",
    "load_weights",
    "pair_terms",
    "prior_version",
    "recorded_base",
    "restoration_terms",
    "shared_intent",
    "spread",
    "verdict",
]
