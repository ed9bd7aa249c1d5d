"""Fit the prior judge's per-term magnitudes to KADID-10k people (calibration types only).

For each photo the 50 calibration cells (:func:`redaes.judges.anchor.render_cells`: 10 types x 5
levels, KADID's 512 x 384) are judged once with every term weight set to 1, which gives each
term's unweighted contribution per cell. The cell-mean contributions ``X`` (cells x terms) are
then fitted to the human cell deltas, ``y = 1.25 (DMOS - 5)`` (the DMOS's 4-point range onto the
prior's +-5 points), through the prior's squashing (``5 artanh(y / 5)``), with non-negative
weights and a ridge pull toward the hand-set weights (``--ridge``, on standardised columns), so
only the terms that KADID's types move (:data:`FIT_TERMS`) change and the rest stay as they are.

Photos are split into a fit set and a held-out check set; SRCC/PLCC across the 50 cells are
reported before (hand weights) and after (fitted), on both. ``--write`` stores the weights, the
fit's date, the photos used and the correlations in ``src/redaes/judges/prior_weights.yaml``.
Only the ten calibration types are ever rendered or read.

    python bench/calibrate_prior.py --photos /tmp/corpus --fit 10 --check 8 --write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from scipy import optimize
from scipy import stats as scistats

from redaes import load_image
from redaes.judges.anchor import REFERENCE_DMOS, Cell, human_cell_means, render_cells
from redaes.judges.prior import PriorJudge, load_weights
from redaes.judges.prior.judge import WEIGHTS_FILE

FIT_TERMS = (
    "exposure",
    "highlight_clipping",
    "shadow_clipping",
    "contrast",
    "saturation",
    "colour_cast",
    "hue",
    "sharpness",
    "noise",
    "compression",
    "pixelation",
    "impulse",
    "colour_block",
)
DMOS_TO_POINTS = 1.25
BOUND_DOWN, BOUND_UP = 1.5, 3.0
"""A fitted weight stays within [w0 / BOUND_DOWN, w0 * BOUND_UP] of its hand-set value: damage
that the hand weights punish (blur, noise) must stay visible to the teacher."""
WEIGHTS_PATH = Path(__file__).resolve().parents[1] / "src" / "redaes" / "judges" / WEIGHTS_FILE


def photo_paths(folder: Path) -> list[Path]:
    """Image files of ``folder`` in name order."""
    exts = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in exts)


def features(paths: list[Path], seed: int = 0) -> dict[tuple[str, int], dict[str, float]]:
    """Cell -> term -> mean unweighted contribution over the photos."""
    judge = PriorJudge(perturb=False)
    judge.weights = dict.fromkeys(judge.weights, 1.0)
    acc: dict[tuple[str, int], dict[str, list[float]]] = {}
    cells: list[Cell] = render_cells([load_image(p) for p in paths], seed=seed)
    for cell in cells:
        res = judge.judge(cell.reference, cell.render(), cell.context(use_ops=False))
        row = acc.setdefault(cell.key, {})
        for t in res.extra["terms"]:
            row.setdefault(str(t["name"]), []).append(float(t["contribution"]))
    return {k: {n: float(np.mean(v)) for n, v in row.items()} for k, row in acc.items()}


def judged(
    feats: dict[tuple[str, int], dict[str, float]], w: dict[str, float]
) -> dict[tuple[str, int], float]:
    """Cell -> judged delta with weights ``w`` (the prior's squashing applied).

    Uses the cell-mean contributions, i.e. the squashing of the mean raw verdict."""
    return {
        k: 5.0 * math.tanh(sum(w.get(n, 0.0) * v for n, v in row.items()) / 5.0)
        for k, row in feats.items()
    }


def correlations(
    human: dict[tuple[str, int], float], pred: dict[tuple[str, int], float]
) -> dict[str, float]:
    keys = sorted(k for k in pred if k in human)
    h, p = [human[k] for k in keys], [pred[k] for k in keys]
    return {
        "srcc": round(float(scistats.spearmanr(h, p)[0]), 4),
        "plcc": round(float(scistats.pearsonr(h, p)[0]), 4),
    }


def fit(
    feats: dict[tuple[str, int], dict[str, float]],
    human: dict[tuple[str, int], float],
    w0: dict[str, float],
    ridge: float,
) -> dict[str, float]:
    """Bounded ridge fit of the :data:`FIT_TERMS` weights (the others stay at ``w0``)."""
    keys = sorted(k for k in feats if k in human)
    y = np.array([DMOS_TO_POINTS * (human[k] - REFERENCE_DMOS) for k in keys])
    y = 5.0 * np.arctanh(np.clip(y, -4.9, 4.9) / 5.0)
    fixed = np.array(
        [sum(w0.get(n, 0.0) * v for n, v in feats[k].items() if n not in FIT_TERMS) for k in keys]
    )
    x = np.array([[feats[k].get(n, 0.0) for n in FIT_TERMS] for k in keys])
    scale = x.std(axis=0) + 1e-9
    xs = x / scale
    prior = np.array([w0.get(n, 0.0) for n in FIT_TERMS]) * scale
    a = np.vstack([xs, math.sqrt(ridge) * np.eye(len(FIT_TERMS))])
    b = np.concatenate([y - fixed, math.sqrt(ridge) * prior])
    # every term keeps most of its hand-set size and grows at most BOUND_UP-fold: with 50 cells
    # and collinear terms an unbounded fit zeroes whole families (noise, compression) that
    # KADID moves only through other terms, which would blind the teacher to them elsewhere
    w0v = np.array([w0.get(n, 0.0) for n in FIT_TERMS])
    lo, hi = w0v / BOUND_DOWN * scale, w0v * BOUND_UP * scale + 1e-12
    sol = optimize.lsq_linear(a, b, bounds=(lo, hi)).x / scale
    out = dict(w0)
    out.update({n: round(float(v), 4) for n, v in zip(FIT_TERMS, sol, strict=True)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, required=True, help="folder of photos (corpus)")
    ap.add_argument("--fit", type=int, default=10, help="photos used for the fit")
    ap.add_argument("--check", type=int, default=8, help="held-out photos for the check")
    ap.add_argument("--ridge", type=float, default=2.0, help="pull toward the hand weights")
    ap.add_argument("--write", action="store_true", help="store the fit in the weights file")
    args = ap.parse_args(argv)
    paths = photo_paths(args.photos)
    if len(paths) < 2:
        print(f"need at least 2 photos in {args.photos}", file=sys.stderr)
        return 2
    step = max(1, len(paths) // (args.fit + args.check))
    chosen = paths[::step][: args.fit + args.check]
    fit_paths, check_paths = chosen[0::2][: args.fit], chosen[1::2][: args.check]
    human = human_cell_means()
    current = load_weights()
    w0 = {k: float(v) for k, v in current["terms"].items()}
    t0 = time.perf_counter()
    f_fit, f_check = features(fit_paths), features(check_paths)
    w = fit(f_fit, human, w0, args.ridge)
    report = {
        "fit_before": correlations(human, judged(f_fit, w0)),
        "fit_after": correlations(human, judged(f_fit, w)),
        "check_before": correlations(human, judged(f_check, w0)),
        "check_after": correlations(human, judged(f_check, w)),
        "seconds": round(time.perf_counter() - t0, 1),
        "weights": {n: w[n] for n in FIT_TERMS},
    }
    print(json.dumps(report, indent=1))
    if args.write:
        data = dict(current)
        data["version"] = f"fit-{dt.date.today().isoformat()}"
        data["terms"] = w
        data["fit"] = {
            "method": "bounded ridge least squares toward the hand weights "
            f"(ridge {args.ridge}, each weight within x1/{BOUND_DOWN}..x{BOUND_UP} of its hand "
            "value) "
            "of the 50 KADID calibration cells, "
            f"y = {DMOS_TO_POINTS} (DMOS - 5) through 5 artanh(y / 5)",
            "date": dt.date.today().isoformat(),
            "photos": [p.name for p in fit_paths],
            "check_photos": [p.name for p in check_paths],
            "srcc_before": report["check_before"]["srcc"],
            "plcc_before": report["check_before"]["plcc"],
            "srcc_after": report["check_after"]["srcc"],
            "plcc_after": report["check_after"]["plcc"],
            "in_sample": {"before": report["fit_before"], "after": report["fit_after"]},
        }
        header = "".join(
            line + "\n" for line in WEIGHTS_PATH.read_text().splitlines() if line.startswith("#")
        )
        WEIGHTS_PATH.write_text(header + yaml.safe_dump(data, sort_keys=False))
        print(f"wrote {WEIGHTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
