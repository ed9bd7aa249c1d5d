"""Ten KADID-10k distortion types, re-created from their published parameters, for human anchoring.

KADID-10k (Lin, Hosu and Saupe, 2019) shows people a reference photo beside a distorted copy and
records a degradation opinion score (DMOS, 1-5, 5 = imperceptible). Its distortions come from the
KADIS-700k generator (``imdist_generator``: one function per type, five levels each). This module
re-creates only the project's ten *calibration* types, :data:`CALIBRATION_TYPES`; every other
KADID type is the project's untouched check and is deliberately not implemented here.

Parameters per level (the published level tables) and how each type is rendered:

======================  =============================  =============================================
type                    levels 1..5                    rendering (8-bit sRGB in, 8-bit sRGB out)
======================  =============================  =============================================
GBLUR                   sigma 0.1, 0.5, 1, 2, 5 px     Gaussian, kernel ``2 ceil(2 sigma) + 1``,
                                                       replicated border
AWGN                    variance .001 .002 .003 .005   ``x + N(0, var)`` per pixel and channel
                        .01 (of the [0, 1] range)
JPEG                    quality 43, 36, 24, 7, 4       Pillow/libjpeg encode + decode (4:2:0)
Brighten                amount .1 .2 .4 .7 1.1         tone curve through (0, 0), (0.5, 0.5 + a/2),
                                                       (1, 1) (a parabola, as MATLAB's 3-point
                                                       spline), on RGB and on Lab L, mixed 2:1
Saturation_Dist._Lab    factor 1, 2, 3, 6, 9           Lab a* and b* multiplied (more chroma)
Pixelate                p .01 .05 .1 .2 .5             nearest down to ``z = 0.95 - p^0.6`` of the
                                                       size, nearest back up
Multiplicative_Noise    variance .001 .005 .01 .02     ``x + n x``, ``n`` uniform, mean 0 (MATLAB's
                        .05                            ``imnoise(..., 'speckle', var)``)
Impulse_Noise           density .001 .005 .01 .02 .03  salt and pepper per channel value
Color_Block             2, 4, 6, 8, 10 blocks          32 x 32 px blocks of a random colour
Jitter                  amount .05 .1 .2 .5 1 px       5 rounds of per-pixel Gaussian displacement
                                                       (sd = amount), bilinear, replicated border
======================  =============================  =============================================

The KADIS generator also min-max stretches its input and output; that is a no-op on full-range
photos and is left out. Random draws come from ``numpy.random.default_rng((seed, type))``: a
(photo, type, level, seed) always renders the same image, and the five levels of a type share one
random field (they differ only by the parameter, so a stronger level is a stronger distortion).

:func:`nearest_op` maps a (type, level) to the closest redaes edit chain whose physical amount
matches the KADID parameter (clipped to the op's range), or ``None`` when redaes has no such op.
"""

from __future__ import annotations

import difflib
import math
import warnings
from io import BytesIO
from typing import Any

import cv2
import numpy as np
from PIL import Image
from skimage import color as skcolor

from redaes.edits.base import create_edit
from redaes.errors import EditError, UnknownNameError

CALIBRATION_TYPES: tuple[str, ...] = (
    "GBLUR",
    "AWGN",
    "JPEG",
    "Brighten",
    "Saturation_Dist._Lab",
    "Pixelate",
    "Multiplicative_Noise",
    "Impulse_Noise",
    "Color_Block",
    "Jitter",
)
"""The ten KADID-10k types the project may calibrate on (names as in ``KADID-10k.txt``)."""

TYPE_NUMBERS: dict[str, int] = {
    "GBLUR": 1,
    "Saturation_Dist._Lab": 8,
    "JPEG": 10,
    "AWGN": 11,
    "Impulse_Noise": 13,
    "Multiplicative_Noise": 14,
    "Brighten": 16,
    "Jitter": 19,
    "Pixelate": 21,
    "Color_Block": 23,
}
"""KADID's type number of each calibration type (the ``NN`` in ``I<ref>_NN_<level>.png``)."""

LEVELS: dict[str, tuple[float, ...]] = {
    "GBLUR": (0.1, 0.5, 1.0, 2.0, 5.0),
    "AWGN": (0.001, 0.002, 0.003, 0.005, 0.01),
    "JPEG": (43, 36, 24, 7, 4),
    "Brighten": (0.1, 0.2, 0.4, 0.7, 1.1),
    "Saturation_Dist._Lab": (1.0, 2.0, 3.0, 6.0, 9.0),
    "Pixelate": (0.01, 0.05, 0.1, 0.2, 0.5),
    "Multiplicative_Noise": (0.001, 0.005, 0.01, 0.02, 0.05),
    "Impulse_Noise": (0.001, 0.005, 0.01, 0.02, 0.03),
    "Color_Block": (2, 4, 6, 8, 10),
    "Jitter": (0.05, 0.1, 0.2, 0.5, 1.0),
}
"""The published KADID parameter of each type at levels 1..5."""

BLOCK_SIZE = 32
JITTER_ROUNDS = 5


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is a calibration type, else raise :class:`UnknownNameError`."""
    if kind not in TYPE_NUMBERS:
        close = difflib.get_close_matches(str(kind), CALIBRATION_TYPES, n=2)
        raise UnknownNameError("KADID calibration type", str(kind), close, list(CALIBRATION_TYPES))
    return kind


def parameter(kind: str, level: int) -> float:
    """The published KADID parameter of ``kind`` at ``level`` (1..5)."""
    check_kind(kind)
    if isinstance(level, bool) or not isinstance(level, int | np.integer) or not 1 <= level <= 5:
        raise EditError(f"KADID level must be an integer 1..5, got {level!r}")
    return float(LEVELS[kind][int(level) - 1])


def _curve(x: np.ndarray, mid: float) -> np.ndarray:
    """The parabola through (0, 0), (0.5, mid), (1, 1), clipped to [0, 1]."""
    a = 2.0 - 4.0 * mid
    return np.clip(a * x * x + (1.0 - a) * x, 0.0, 1.0)


def _lab(x: np.ndarray) -> np.ndarray:
    return np.asarray(skcolor.rgb2lab(x), dtype=np.float64)


def _rgb(lab: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # out-of-gamut colours are clipped, as intended
        warnings.simplefilter("ignore")
        return np.clip(np.asarray(skcolor.lab2rgb(lab), dtype=np.float64), 0.0, 1.0)


def _gblur(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    k = 2 * math.ceil(2 * sigma) + 1
    return np.asarray(
        cv2.GaussianBlur(x, (k, k), sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
    )


def _awgn(x: np.ndarray, var: float, rng: np.random.Generator) -> np.ndarray:
    return x + rng.normal(0.0, math.sqrt(var), x.shape)


def _brighten(x: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    mid = 0.5 + amount / 2.0
    lab = _lab(x)
    lab[..., 0] = _curve(lab[..., 0] / 100.0, mid) * 100.0
    return (2.0 * _curve(x, mid) + _rgb(lab)) / 3.0


def _saturation_lab(x: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    lab = _lab(x)
    lab[..., 1:] *= factor
    return _rgb(lab)


def _pixelate(x: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    h, w = x.shape[:2]
    z = 0.95 - p**0.6
    small = cv2.resize(
        x, (max(1, math.ceil(w * z)), max(1, math.ceil(h * z))), interpolation=cv2.INTER_NEAREST
    )
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST))


def _multiplicative(x: np.ndarray, var: float, rng: np.random.Generator) -> np.ndarray:
    n = math.sqrt(12.0 * var) * (rng.random(x.shape) - 0.5)  # uniform, mean 0, variance var
    return x + n * x


def _impulse(x: np.ndarray, density: float, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(x.shape)
    y = x.copy()
    y[u < density / 2.0] = 0.0
    y[(u >= density / 2.0) & (u < density)] = 1.0
    return y


def _color_block(x: np.ndarray, blocks: float, rng: np.random.Generator) -> np.ndarray:
    h, w = x.shape[:2]
    y = x.copy()
    size_y, size_x = min(BLOCK_SIZE, h), min(BLOCK_SIZE, w)
    for _ in range(int(blocks)):
        colour = rng.random(3)
        top = int(rng.integers(0, h - size_y + 1))
        left = int(rng.integers(0, w - size_x + 1))
        y[top : top + size_y, left : left + size_x] = colour
    return y


def _jitter(x: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    h, w = x.shape[:2]
    grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
    y: np.ndarray = x.astype(np.float32)
    for _ in range(JITTER_ROUNDS):
        shift = rng.normal(0.0, amount, (2, h, w)).astype(np.float32)
        y = np.asarray(
            cv2.remap(
                y,
                grid_x - shift[1],
                grid_y - shift[0],
                interpolation=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
        )
    return y.astype(np.float64)


_FUNCTIONS: dict[str, Any] = {
    "GBLUR": _gblur,
    "AWGN": _awgn,
    "Brighten": _brighten,
    "Saturation_Dist._Lab": _saturation_lab,
    "Pixelate": _pixelate,
    "Multiplicative_Noise": _multiplicative,
    "Impulse_Noise": _impulse,
    "Color_Block": _color_block,
    "Jitter": _jitter,
}


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buf = BytesIO()
    image.save(buf, format="JPEG", quality=int(quality), subsampling="4:2:0")
    buf.seek(0)
    with Image.open(buf) as decoded:
        return decoded.convert("RGB")


def distort(image: Image.Image, kind: str, level: int, seed: int = 0) -> Image.Image:
    """Render the KADID distortion ``kind`` at ``level`` (1..5) on an RGB image.

    The output has the input's size and is 8-bit RGB; the same ``(image, kind, level, seed)``
    always gives the same pixels. Unknown or reserved type names raise
    :class:`~redaes.errors.UnknownNameError`.
    """
    value = parameter(kind, level)
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if kind == "JPEG":
        return _jpeg(rgb, int(value))
    rng = np.random.default_rng((int(seed) & 0xFFFFFFFF, TYPE_NUMBERS[kind]))
    x = np.asarray(rgb, dtype=np.float64) / 255.0
    y = _FUNCTIONS[kind](x, value, rng)
    out = np.clip(np.round(np.clip(y, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(out), "RGB")


def _brighten_gamma(amount: float) -> float:
    """Gamma exponent ``g`` with ``0.5 ** g`` equal to the curve's midpoint (0 beyond white)."""
    mid = 0.5 + amount / 2.0
    return 0.0 if mid >= 1.0 else math.log(mid) / math.log(0.5)


def nearest_op(kind: str, level: int) -> list[dict[str, Any]] | None:
    """The closest redaes edit chain for a KADID (type, level), or ``None`` when none exists.

    Strengths match the KADID physical parameter in the op's unit, clipped to the op's range
    (images at KADID's 512 x 384, so "px at 512 px" units apply directly):

    * GBLUR -> ``gaussian_blur`` (sigma px); AWGN -> ``gaussian_noise`` (sigma ``sqrt(var)``
      in /255); JPEG -> ``jpeg`` (quality);
    * Brighten -> ``gamma`` with ``0.5 ** g`` = the curve's midpoint (levels 4-5 exceed the
      op's range and clip to ``+1``);
    * Saturation_Dist._Lab -> ``saturation`` ``+(factor - 1) * 100`` % (clips at factor 2);
    * Pixelate -> ``downscale`` by ``1 / z``;
    * Multiplicative_Noise -> ``poisson_noise`` with the sigma at white ``sqrt(var)``
      (the op's noise grows with ``sqrt(x)``, KADID's with ``x``);
    * Impulse_Noise, Color_Block, Jitter -> ``None`` (judges must judge from pixels alone).
    """
    value = parameter(kind, level)
    amounts: dict[str, tuple[str, float]] = {
        "GBLUR": ("gaussian_blur", value),
        "AWGN": ("gaussian_noise", math.sqrt(value) * 255.0),
        "JPEG": ("jpeg", value),
        "Brighten": ("gamma", _brighten_gamma(value)),
        "Saturation_Dist._Lab": ("saturation", (value - 1.0) * 100.0),
        "Pixelate": ("downscale", 1.0 / (0.95 - value**0.6)),
        "Multiplicative_Noise": ("poisson_noise", math.sqrt(value) * 255.0),
    }
    if kind not in amounts:
        return None
    op, amount = amounts[kind]
    strength = create_edit(op).strength_for(amount)
    return [{"op": op, "strength": round(float(strength), 6)}]
