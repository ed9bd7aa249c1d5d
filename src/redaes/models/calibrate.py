"""Calibration of a compact model to a user's own rating scale (``redaes calibrate``).

Relative training fixes score *differences*; the level and the units of redaes' 0-10 scale are
conventions. A user with a few photos rated on their own scale (any numeric range: 1-5 stars,
0-100, ...) can fit a monotone increasing map score -> rating, kept apart from training (the
RED-Aes paper's proposed hybrid). The map is an isotonic regression
(:class:`sklearn.isotonic.IsotonicRegression`, ``out_of_bounds="clip"``) stored as its knots in
the weights file's config::

    "calibration": {"method": "isotonic", "x": [...], "y": [...], "n": 12,
                    "range": [min_rating, max_rating], "fitted_on": "<sha256 of the CSV>"}

At load time the map is applied by piecewise-linear interpolation (:func:`numpy.interp`, no
sklearn needed); a std is mapped through the local slope of the map over ``score ± std``.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from redaes.errors import ConfigError, DataError

MIN_LABELS = 3


@dataclass(frozen=True)
class Calibration:
    """A monotone increasing piecewise-linear map from raw scores to the user's ratings."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    n: int
    range: tuple[float, float]
    fitted_on: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored under ``calibration`` in the model config."""
        return {
            "method": "isotonic",
            "x": list(self.x),
            "y": list(self.y),
            "n": self.n,
            "range": list(self.range),
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "calibration") -> Calibration:
        """Parse a stored calibration; raise :class:`ConfigError` when malformed."""
        try:
            if d.get("method") != "isotonic":
                raise ValueError(f"unknown method {d.get('method')!r}")
            x = tuple(float(v) for v in d["x"])
            y = tuple(float(v) for v in d["y"])
            lo, hi = (float(v) for v in d["range"])
            ok = len(x) == len(y) >= 1 and all(map(math.isfinite, x + y))
            if not ok or any(b < a for a, b in itertools.pairwise(x)):
                raise ValueError("knots must be finite, as many x as y, x increasing")
            if any(b < a for a, b in itertools.pairwise(y)):
                raise ValueError("y must be non-decreasing")
            return cls(x, y, int(d["n"]), (lo, hi), str(d.get("fitted_on", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: malformed calibration ({exc})") from None

    def apply(self, scores: Any) -> np.ndarray:
        """Raw scores -> ratings (clipped to the fitted range outside the knots)."""
        return np.interp(np.asarray(scores, dtype=float), self.x, self.y)

    def apply_std(self, scores: Any, stds: Any) -> np.ndarray:
        """A std mapped by the map's mean slope over ``[score - std, score + std]``."""
        s, sd = np.asarray(scores, dtype=float), np.abs(np.asarray(stds, dtype=float))
        return (self.apply(s + sd) - self.apply(s - sd)) / 2.0


def file_fingerprint(path: str | Path) -> str:
    """``sha256:<hex>`` of a file's bytes."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_labels(path: str | Path) -> list[tuple[Path, float]]:
    """Read a ``path,rating`` CSV (header required); relative paths are relative to the CSV.

    Raises :class:`DataError` naming the file and line for a missing file, a missing column,
    a non-numeric or non-finite rating, fewer than 3 rows, or all ratings equal.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: labels file not found")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: unreadable labels file ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip() for f in reader.fieldnames or []]
    if "path" not in fields or "rating" not in fields:
        raise DataError(f"{p}: needs a header with columns path,rating (found {fields})")
    rows: list[tuple[Path, float]] = []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if not row.get("path") and not row.get("rating"):
            continue
        try:
            rating = float(row["rating"])
        except ValueError:
            raise DataError(f"{p}:{line}: rating {row['rating']!r} is not a number") from None
        if not math.isfinite(rating):
            raise DataError(f"{p}:{line}: rating {row['rating']!r} is not finite")
        img = Path(row["path"]).expanduser()
        img = img if img.is_absolute() else p.parent / img
        if not img.is_file():
            raise DataError(f"{p}:{line}: image {row['path']!r} not found ({img})")
        rows.append((img, rating))
    if len(rows) < MIN_LABELS:
        raise DataError(f"{p}: {len(rows)} labelled photos; calibration needs at least 3")
    if len({r for _, r in rows}) < 2:
        raise DataError(f"{p}: all ratings are equal ({rows[0][1]:g}); nothing to calibrate")
    return rows


def fit_calibration(scores: Any, ratings: Any, fitted_on: str = "") -> Calibration:
    """Fit the increasing isotonic map ``scores -> ratings`` (clipped outside the data)."""
    from sklearn.isotonic import IsotonicRegression

    x, y = np.asarray(scores, dtype=float), np.asarray(ratings, dtype=float)
    iso = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x, y)
    return Calibration(
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
        n=int(x.size),
        range=(float(y.min()), float(y.max())),
        fitted_on=fitted_on,
    )


def fit_quality(scores: Any, ratings: Any) -> dict[str, float]:
    """Rank agreement of scores with ratings: in-sample and leave-one-out isotonic.

    ``spearman``/``kendall``: raw scores vs ratings (in-sample; the isotonic map keeps their
    order). ``loo_spearman``/``loo_kendall``/``loo_mae``: each photo's rating predicted by a map
    fitted on the others. NaN where undefined (e.g. constant predictions).
    """
    from scipy.stats import kendalltau, spearmanr

    x, y = np.asarray(scores, dtype=float), np.asarray(ratings, dtype=float)
    loo = np.empty_like(y)
    for i in range(y.size):
        keep = np.arange(y.size) != i
        loo[i] = fit_calibration(x[keep], y[keep]).apply(x[i : i + 1])[0]

    def _stat(value: Any) -> float:
        return float(value) if np.isfinite(value) else float("nan")

    with np.errstate(all="ignore"):
        return {
            "n": float(y.size),
            "spearman": _stat(spearmanr(x, y).statistic),
            "kendall": _stat(kendalltau(x, y).statistic),
            "loo_spearman": _stat(spearmanr(loo, y).statistic) if np.ptp(loo) else math.nan,
            "loo_kendall": _stat(kendalltau(loo, y).statistic) if np.ptp(loo) else math.nan,
            "loo_mae": float(np.abs(loo - y).mean()),
        }
