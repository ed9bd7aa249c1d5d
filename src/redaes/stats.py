"""Measurable image statistics shared by the prior judge, the reasoning text and the tests.

All statistics are computed on an RGB image in ``[0, 1]`` (PIL image or ``(3, H, W)`` tensor).
Tone and colour are measured on a copy of at most ``max_side`` pixels on the long side (area
averaging); the artefact measures (noise, blockiness, impulses, flat patches) need the real pixel
grid, so they run on the image at its own resolution, centre-cropped to at most
:data:`ARTEFACT_SIDE` px per side (never resampled: resampling hides grain and JPEG blocks).

What each number means (documented so the prior's verdicts and the reasoning texts can cite them):

* clipping counts pixels with **all three** channels at the limit (``>= 253`` white, ``<= 2``
  black on the 0-255 scale), after a 3x3 morphological opening that drops specular points and
  single-pixel speckle: a saturated orange petal (one channel at 255) is not "blown".
* the colour cast is judged on **neutral candidates**, not the mean colour: the least chromatic
  15 % of the mid-tone pixels (grey-world on them) averaged with the white patch (the brightest
  unclipped near-neutral pixels), in CIE Lab ``a*``/``b*`` units. Orange flowers or green grass
  do not move it; a white-balance shift moves every pixel and therefore moves it.
* saturation is reported as HSV mean (legacy), Lab chroma mean and 95th percentile, and
  ``gamut_clip``: the share of strongly coloured pixels with a channel pinned at 0 or 255
  (oversaturation destroys colour gradations there).
* noise is Immerkaer's sigma restricted to the flattest quarter of the image (lowest Sobel
  gradient, :data:`FLAT_QUANTILE`), so texture is not mistaken for grain; ``detail`` is the
  standard deviation of the Laplacian of a sigma-1 Gaussian smoothing (which keeps edges and
  passes ~180x less grain variance than the bare Laplacian), the grain's share removed.
* the scene's own colour (``chroma_rel``, the hue share) is measured after a von Kries white
  balance to the cast estimate and a sigma-1.5 smoothing: a global cast or per-channel grain
  is not colour.
* KADID-like damage: ``blockiness`` (8x8 grid discontinuity of JPEG-like coding), ``impulse``
  (isolated pixels beyond all 8 neighbours: salt and pepper), ``flat`` (exactly uniform 2x2
  blocks inside structured 9x9 neighbourhoods: pixelation) and ``colour_block`` (uniform, strongly
  coloured windows: pasted colour patches).
* ``dark_channel`` (He et al.'s haze cue), ``vignette`` (centre vs corner luma, in stops).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch

from redaes.edits.tone import scale_linear_light, srgb_to_linear
from redaes.imageio import ImageInput, as_pil

LOG_NOISE_GAIN = 0.113
"""Variance of OpenCV's 4-neighbour Laplacian (``cv2.Laplacian``, ``ksize=1``) after a sigma-1
Gaussian, per unit of white-noise variance (0.1126 measured on a 512 x 512 white-noise field; a
test re-measures it): the share of ``detail`` that grain alone produces. An earlier value of
1.31 (the 3x3-aperture kernel's gain) removed ~12x too much and sent the detail of any noisy
photo to 0, so added grain also read as a total loss of sharpness."""
NEUTRAL_RELIABLE = 0.1
"""Share of truly neutral pixels (Lab chroma < 8) at which a cast estimate is fully trusted."""
COLOUR_SIGMA = 1.5
"""Gaussian sigma (px of the tone/colour copy) of the smoothing before the scene's own chroma
and hue are measured: per-channel grain adds chroma speckle that is noise, not colour."""
FLAT_QUANTILE = 25.0
"""Percent of the lowest-gradient pixels Immerkaer's noise sigma is taken over: the flattest
quarter (sky, walls, skin) carries the grain; busier regions carry texture (fur, foliage, a
wood board), which resampling and compression smooth and a larger share would read as noise."""
ARTEFACT_SIDE = 768
"""Largest side (px) of the native-resolution centre crop the artefact measures use."""


@dataclass(frozen=True)
class ImageStats:
    """Photographic statistics of one image (see the module docstring for the definitions).

    Attributes:
        luminance: mean Rec.709 luma of the sRGB values, 0-1.
        clip_dark: area share of crushed blacks (all channels <= 2/255, specks ignored).
        clip_bright: area share of blown whites (all channels >= 253/255, specks ignored).
        contrast: RMS contrast (standard deviation of luma).
        saturation: mean HSV saturation, 0-1.
        colourfulness: Hasler-Suesstrunk colourfulness (0 grey ... ~1.5 very colourful).
        warmth: mean(R - B), -1 (cool/blue) ... +1 (warm/orange) (mean colour, not a cast).
        tint: mean(G - (R + B) / 2), positive = green, negative = magenta (mean colour).
        sharpness: variance of the Laplacian of luma (on the 0-255 scale).
        noise: robust noise sigma on flat regions (Immerkaer), on the 0-255 scale.
        width: pixel width of the original image.
        height: pixel height of the original image.
        detail: standard deviation of the Laplacian of the sigma-1 Gaussian-smoothed luma, with
            the noise's share (``0.113 sigma^2``) removed (0-255 scale): edges and texture,
            hardly grain.
        chroma: mean CIE Lab chroma ``C*``.
        chroma_rel: mean Lab chroma after a von Kries white balance that takes the cast
            estimate to grey (:func:`balanced_chroma`): the scene's own colour, which a global
            cast does not add.
        chroma_p95: 95th percentile of ``C*``.
        gamut_clip: share of pixels with ``C* > 30`` and a channel at 0 or 255.
        cast_a: neutral-candidate estimate of the illuminant cast, Lab ``a*`` (+ magenta).
        cast_b: the same for ``b*`` (+ warm/yellow, - cool/blue).
        neutral_fraction: share of pixels with ``C* < 8`` (truly neutral surfaces).
        blockiness: 8x8 grid discontinuity, 0 = none (natural images ~0-0.05).
        impulse: share of pixels that lie more than 50/255 above (or below) all 8 neighbours
            in some channel (isolated salt-and-pepper outliers, not texture).
        flat: share of pixels whose 2x2 block is exactly uniform (all channels) where the 9x9
            neighbourhood has structure (luma std > 3/255) and no uniform 5x5 window lies
            within 2 px (the rim of a flat or formerly blown area is not pixelation): the
            signature of blocky upsampling.
        colour_block: share of strongly coloured pixels (channel spread > 60/255) at the centre
            of an exactly uniform 7x7 window whose uniform area ends in a hard step
            (:func:`pasted_blocks`): pasted colour patches.
        dark_channel: mean of the 7x7 dark channel (haze veils raise it), 0-1.
        vignette: log2 of centre over corner luma (stops; + = darker corners).
        unnatural_hue: chroma-weighted share of colour (pixels with ``C* > 4`` on the smoothed
            copy) in magenta-purple hues (Lab h 295-355); scaling all chroma hardly moves it.
    """

    luminance: float
    clip_dark: float
    clip_bright: float
    contrast: float
    saturation: float
    colourfulness: float
    warmth: float
    tint: float
    sharpness: float
    noise: float
    width: int
    height: int
    detail: float = 0.0
    chroma: float = 0.0
    chroma_rel: float = 0.0
    chroma_p95: float = 0.0
    gamut_clip: float = 0.0
    cast_a: float = 0.0
    cast_b: float = 0.0
    neutral_fraction: float = 0.0
    blockiness: float = 0.0
    impulse: float = 0.0
    flat: float = 0.0
    colour_block: float = 0.0
    dark_channel: float = 0.0
    vignette: float = 0.0
    unnatural_hue: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_K3 = np.ones((3, 3), np.uint8)
_RING = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.uint8)


def to_uint8(image: ImageInput | torch.Tensor) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB array of a PIL image, path or ``(3, H, W)``/(1, 3, H, W) tensor."""
    if isinstance(image, torch.Tensor):
        t = image.detach().float().clamp(0, 1)
        if t.ndim == 4:
            t = t[0]
        return np.ascontiguousarray((t.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8))
    return np.asarray(as_pil(image), dtype=np.uint8)


def _resized(arr: np.ndarray, max_side: int) -> np.ndarray:
    h, w = arr.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1.0:  # area averaging: fast and alias-free for statistics
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        arr = cv2.resize(arr, size, interpolation=cv2.INTER_AREA)
    return arr


def _centre_crop(arr: np.ndarray, side: int) -> np.ndarray:
    h, w = arr.shape[:2]
    y0, x0 = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return arr[y0 : y0 + side, x0 : x0 + side]


def _opened_share(mask: np.ndarray) -> float:
    return float(cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _K3).mean())


def flat_noise_sigma(luma255: np.ndarray) -> float:
    """Immerkaer's noise sigma (0-255 scale) over the flattest :data:`FLAT_QUANTILE` percent of
    ``luma255``."""
    if min(luma255.shape) < 8:
        return 0.0
    conv = np.abs(cv2.filter2D(luma255, cv2.CV_32F, _IMMERKAER))[1:-1, 1:-1]
    smooth = cv2.GaussianBlur(luma255, (0, 0), 1.5)  # flatness judged on structure, not grain
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)[1:-1, 1:-1]
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)[1:-1, 1:-1]
    grad = np.abs(gx) + np.abs(gy)
    sel = conv[grad <= np.percentile(grad, FLAT_QUANTILE)]
    return float(np.sqrt(np.pi / 2.0) / 6.0 * sel.mean()) if sel.size else 0.0


def blockiness(luma255: np.ndarray) -> float:
    """8x8 grid discontinuity: excess of the mean step across the strongest of the 8 column
    (row) phases over the median phase, relative to the median; 0 for grid-free images."""
    vals = []
    for d in (np.abs(np.diff(luma255, axis=1)), np.abs(np.diff(luma255, axis=0)).T):
        if d.shape[1] < 16:
            continue
        col = d.mean(axis=0)
        prof = np.array([col[p::8].mean() for p in range(8)])
        med = float(np.median(prof))
        vals.append((float(prof.max()) - med) / (med + 0.5))
    return float(np.mean(vals)) if vals else 0.0


def _chmax(a: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])


def _chmin(a: np.ndarray) -> np.ndarray:
    return np.minimum(np.minimum(a[..., 0], a[..., 1]), a[..., 2])


def _artefacts(native: np.ndarray) -> tuple[float, float, float, float, float]:
    """``(noise, blockiness, impulse, flat, colour_block)`` on the native pixel grid."""
    arr = _centre_crop(native, ARTEFACT_SIDE)
    rgb = arr.astype(np.float32)
    luma = cv2.transform(rgb, np.array([[0.2126, 0.7152, 0.0722]], np.float32))
    noise = flat_noise_sigma(luma)
    hi, lo = cv2.dilate(arr, _RING).astype(np.int16), cv2.erode(arr, _RING).astype(np.int16)
    a16 = arr.astype(np.int16)
    impulse = float(_chmax(((a16 - hi) > 50) | ((lo - a16) > 50)).mean())
    lm = cv2.blur(luma, (9, 9))
    coarse = np.sqrt(np.maximum(cv2.blur(luma * luma, (9, 9)) - lm * lm, 0.0))
    mx, mn = _chmax(arr), _chmin(arr)
    same = (arr[:-1, :-1] == arr[1:, :-1]) & (arr[:-1, :-1] == arr[:-1, 1:])
    same &= arr[:-1, :-1] == arr[1:, 1:]
    block2 = same.all(axis=2) & (mx[:-1, :-1] < 253) & (mn[:-1, :-1] > 2)
    m5 = cv2.blur(rgb, (5, 5))
    flat5 = _chmax(cv2.blur(rgb * rgb, (5, 5)) - m5 * m5) < 0.25
    near_flat = cv2.dilate(flat5.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    blocky = block2 & (coarse[:-1, :-1] > 3.0) & ~near_flat[:-1, :-1]
    flat = float(blocky.mean()) if blocky.size else 0.0
    return noise, blockiness(luma), impulse, flat, pasted_blocks(arr, rgb)


BLOCK_EDGE = 20.0
"""Morphological gradient (8-bit levels, largest channel) that makes a rim pixel of a uniform
area a step: a flat wall or sky fades into its surroundings by a level or two."""
BLOCK_RIM_SHARE = 0.6
"""Share of its rim a uniform area must end in steps to read as pasted: a patch pasted onto a
photo stops at a step all round; a flat wall meets hard edges only here and there."""


def pasted_blocks(arr: np.ndarray, rgb: np.ndarray) -> float:
    """Share of pixels at the centre of an exactly uniform, strongly coloured 7x7 window whose
    uniform area (a connected run of such centres, grown by the window) ends in a step on most
    of its rim (:data:`BLOCK_EDGE`, :data:`BLOCK_RIM_SHARE`): pasted colour patches, not the
    smooth flat areas of a good photo (which any grain or colour edit would otherwise
    'repair')."""
    mx, mn = _chmax(arr), _chmin(arr)
    m7 = cv2.blur(rgb, (7, 7))
    var7 = _chmax(cv2.blur(rgb * rgb, (7, 7)) - m7 * m7)
    centres = ((var7 < 0.1) & (mx.astype(np.int16) - mn > 60)).astype(np.uint8)
    if not centres.any():
        return 0.0
    n, labels = cv2.connectedComponents(centres)
    own = cv2.dilate(labels.astype(np.float32), np.ones((7, 7), np.uint8))
    step = _chmax(cv2.dilate(arr, _K3).astype(np.int16) - cv2.erode(arr, _K3)) > BLOCK_EDGE
    # a pixel is on the rim of every area it touches but is not part of (largest and smallest
    # neighbouring label: two areas meeting each count the other's edge pixels)
    big = np.float32(n + 1)
    hi = cv2.dilate(own, _K3)
    lo = cv2.erode(np.where(own > 0, own, big), _K3)
    steps, rims = np.zeros(n), np.zeros(n)
    for nb in (hi, lo):
        rim = (nb != own) & (nb > 0) & (nb < big)
        idx = nb[rim].astype(np.int64)
        steps += np.bincount(idx, weights=step[rim].astype(np.float64), minlength=n)[:n]
        rims += np.bincount(idx, minlength=n)[:n]
    hard = steps / np.maximum(rims, 1) >= BLOCK_RIM_SHARE
    hard[0] = False
    return float((centres.astype(bool) & hard[labels]).mean())


def _cast(lab: np.ndarray, chroma: np.ndarray, clipped: np.ndarray) -> tuple[float, float]:
    """Neutral-candidate cast estimate ``(a*, b*)`` (grey-world on the least chromatic mid-tones
    averaged with the white patch)."""
    L = lab[..., 0]
    mid = (L > 15) & (L < 95) & ~clipped
    if mid.sum() < 16:
        return 0.0, 0.0
    cm = chroma[mid]
    cand = mid & (chroma <= np.percentile(cm, 15))
    gw = lab[cand][:, 1:].mean(axis=0)
    bright = cand | (mid & (chroma <= np.percentile(cm, 30)))
    thr = np.percentile(L[bright], 90)
    wp_px = lab[bright & (thr <= L)][:, 1:]
    wp = wp_px.mean(axis=0) if len(wp_px) else gw
    est = 0.5 * (gw + wp)
    return float(est[0]), float(est[1])


def _gains_to_grey(cast_a: float, cast_b: float) -> torch.Tensor:
    """Linear-light per-channel gains ``(1, 3, 1, 1)`` that take a mid-grey carrying the Lab
    cast to grey."""
    pair = np.array([[[60.0, 0.0, 0.0]], [[60.0, cast_a, cast_b]]], np.float32)
    ref, est = srgb_to_linear(torch.from_numpy(cv2.cvtColor(pair, cv2.COLOR_Lab2RGB)))
    return (ref / est.clamp_min(1e-4)).reshape(1, 3, 1, 1)


def balanced_chroma(
    rgb: np.ndarray,
    cast_a: float,
    cast_b: float,
    clipped: np.ndarray,
    reliability: float = 1.0,
    rounds: int = 3,
) -> float:
    """Mean Lab chroma of ``rgb`` (float ``(H, W, 3)`` sRGB in 0-1) after a von Kries white
    balance that takes the neutral candidates to grey: per-channel gains in linear light with
    the edit engine's own curves (:func:`~redaes.edits.tone.scale_linear_light`, as the
    ``temperature``/``tint`` ops shift white balance), re-estimated on the balanced image
    ``rounds`` (>= 1) times (the candidate estimate alone under-reads a strong cast), so a
    global cast changes this number hardly at all while the scene's own colours do. Each
    estimate is scaled by ``reliability`` (0-1: the share of pixels within 8 Lab units of the
    estimate over :data:`NEUTRAL_RELIABLE`): a frame without surfaces that are grey under the
    estimated illuminant is not re-balanced on its own colours."""
    image = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]

    def balanced(gains: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        out = scale_linear_light(image, gains)[0].permute(1, 2, 0).numpy()
        lab = cv2.cvtColor(np.ascontiguousarray(out), cv2.COLOR_RGB2Lab)
        return lab, np.hypot(lab[..., 1], lab[..., 2])

    gains = _gains_to_grey(reliability * cast_a, reliability * cast_b)
    lab, chroma = balanced(gains)
    for _ in range(rounds - 1):  # re-estimate what is left of the cast on the balanced image
        cast_a, cast_b = _cast(lab, chroma, clipped)
        gains = gains * _gains_to_grey(reliability * cast_a, reliability * cast_b)
        lab, chroma = balanced(gains)
    return float(chroma.mean())


def _vignette(luma: np.ndarray) -> float:
    h, w = luma.shape
    cy, cx = (
        slice(int(0.3 * h), max(int(0.7 * h), int(0.3 * h) + 1)),
        slice(int(0.3 * w), max(int(0.7 * w), int(0.3 * w) + 1)),
    )
    ch, cw = max(1, int(0.15 * h)), max(1, int(0.15 * w))
    corners = np.concatenate(
        [
            luma[:ch, :cw].ravel(),
            luma[:ch, -cw:].ravel(),
            luma[-ch:, :cw].ravel(),
            luma[-ch:, -cw:].ravel(),
        ]
    )
    return float(np.log2((luma[cy, cx].mean() + 0.02) / (corners.mean() + 0.02)))


def measure(image: ImageInput | torch.Tensor, max_side: int = 512) -> ImageStats:
    """Measure :class:`ImageStats` of ``image`` (tone/colour on a ``max_side`` copy)."""
    native = to_uint8(image)
    h, w = native.shape[:2]
    small = _resized(native, max_side)
    rgb = small.astype(np.float32) / np.float32(255.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    mx, mn = _chmax(small), _chmin(small)
    mxf = mx.astype(np.float32)
    sat = np.where(mx > 0, (mxf - mn) / np.maximum(mxf, 1.0), 0.0)
    rg, yb = r - g, 0.5 * (r + g) - b
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    luma255 = (luma * 255.0).astype(np.float32, copy=False)
    lap = cv2.Laplacian(luma255, cv2.CV_32F, ksize=3)
    noise, block, impulse, flat, colour_block = _artefacts(native)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    white, black = mn >= 253, mx <= 2
    cast_a, cast_b = _cast(lab, chroma, white | black)
    neutral_fraction = float((chroma < 8).mean())
    # surfaces that are grey under the estimated illuminant (a cast moves them all together)
    near_cast = np.hypot(lab[..., 1] - cast_a, lab[..., 2] - cast_b) < 8
    reliability = min(1.0, float(near_cast.mean()) / NEUTRAL_RELIABLE)
    # colour is judged at the scale colour lives at: grain adds chroma noise, not colour
    soft = cv2.GaussianBlur(rgb, (0, 0), COLOUR_SIGMA)
    chroma_rel = balanced_chroma(soft, cast_a, cast_b, white | black, reliability)
    strong = chroma > 30
    gamut = float((strong & ((mx >= 254) | (mn <= 1))).mean())
    lab_soft = cv2.cvtColor(soft, cv2.COLOR_RGB2Lab)
    chroma_soft = np.hypot(lab_soft[..., 1], lab_soft[..., 2])
    hue = np.degrees(np.arctan2(lab_soft[..., 2], lab_soft[..., 1])) % 360.0
    # chroma-weighted over every tinted pixel: a boost that scales all chroma leaves the share
    # nearly as it is, only a turn of the hues moves it
    tinted = chroma_soft > 4
    cw = float(chroma_soft[tinted].sum())
    magenta = float(chroma_soft[tinted & (hue >= 295) & (hue <= 355)].sum())
    unnatural = magenta / cw if cw else 0.0
    dark = cv2.erode(_chmin(rgb), np.ones((7, 7), np.uint8))
    lap_var = float(lap.var())
    same_grid = small.shape == native.shape and max(h, w) <= ARTEFACT_SIDE
    sigma_small = noise if same_grid else flat_noise_sigma(luma255)
    log_var = float(cv2.Laplacian(cv2.GaussianBlur(luma255, (0, 0), 1.0), cv2.CV_32F).var())
    detail = float(np.sqrt(max(log_var - LOG_NOISE_GAIN * sigma_small**2, 0.0)))
    return ImageStats(
        luminance=float(luma.mean()),
        clip_dark=_opened_share(black),
        clip_bright=_opened_share(white),
        contrast=float(luma.std()),
        saturation=float(sat.mean()),
        colourfulness=colourfulness,
        warmth=float((r - b).mean()),
        tint=float((g - 0.5 * (r + b)).mean()),
        sharpness=lap_var,
        noise=noise,
        width=w,
        height=h,
        detail=detail,
        chroma=float(chroma.mean()),
        chroma_rel=chroma_rel,
        chroma_p95=float(np.percentile(chroma, 95)),
        gamut_clip=gamut,
        cast_a=cast_a,
        cast_b=cast_b,
        neutral_fraction=neutral_fraction,
        blockiness=block,
        impulse=impulse,
        flat=flat,
        colour_block=colour_block,
        dark_channel=float(dark.mean()),
        vignette=_vignette(luma),
        unnatural_hue=unnatural,
    )
