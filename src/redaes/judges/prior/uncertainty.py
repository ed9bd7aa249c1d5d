"""The prior's uncertainty: the disagreement between independent estimates of one delta.

The prior judges a pair once on the full images (the ``rule`` estimate, which is the verdict)
and again on each half of the pair (left, right, top, bottom: the same rule on measurements of
other pixels of the same scene), and, on restoration pairs, from the pixels alone without the
recorded degradation. ``delta_std`` is the root-mean-square deviation of those estimates from the
verdict, with a floor :data:`STD_FLOOR` for the measurement's own resolution. It is large where
the verdict hinges on one part of the frame or where the record and the pixels disagree, and
small where every part of the image tells the same story. :mod:`redaes.judges.consensus` adds the
spread between judges on top.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

STD_FLOOR = 0.05
"""Points: below this the measurements cannot tell two verdicts apart."""


def spread(delta: float, estimates: Mapping[str, float]) -> float:
    """RMS deviation of ``estimates`` from ``delta``, floored at :data:`STD_FLOOR`."""
    vals = [float(v) for v in estimates.values() if math.isfinite(float(v))]
    if not vals:
        return STD_FLOOR
    rms = math.sqrt(sum((v - delta) ** 2 for v in vals) / len(vals))
    return max(STD_FLOOR, rms)


def informative(delta: float, delta_std: float) -> bool:
    """A pair teaches something when ``|delta|`` is at least its uncertainty."""
    return abs(delta) >= delta_std
