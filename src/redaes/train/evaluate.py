"""After-the-step evaluation of the compact net: predictions, validation, anchoring and the
post-training std calibration (the parts of :mod:`redaes.train.loop` that only read the net).

Std calibration (:func:`calibrate_std`): the pair view's ``delta_std = sqrt(std_a² + std_b²)``
is compared by ``bench/compact.py`` with the *judged* delta (``|pred - judged| <= z *
delta_std``), so the judge's own noise is part of the residual it has to cover. A single factor
``k`` on every per-image std scales ``delta_std`` by the same ``k``; the Gaussian NLL of the
validation residuals ``r`` under ``N(0, k² v)`` (``v = delta_std²``) is minimised in closed form
by ``k² = mean(r² / v)`` (:func:`fit_std_scale`). The judge's ``delta_std`` is not added to
``v``: the interval is checked against the noisy label, so ``k`` absorbs the label noise.
Fitted on the validation split only; stored as ``ModelConfig.std_scale``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from redaes.imageio import atomic_write_bytes
from redaes.models.net import CompactNet
from redaes.models.weights import load_weights, save_weights
from redaes.train import losses
from redaes.train.config import StageConfig, TrainConfig
from redaes.train.data import PairTensors
from redaes.train.inputs import Inputs, PixelInputs

Z68, Z95 = 1.0, 1.959964  # as bench/compact.py


@torch.no_grad()
def predict(net: CompactNet, inputs: Inputs, bs: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode unclamped scores and stds of every image, whole (no augmentation)."""
    net.eval()
    out_s, out_sd = [], []
    for x in inputs.whole(bs):
        s, sd = inputs.forward(net, x)
        out_s.append(s)
        out_sd.append(sd)
    return torch.cat(out_s), torch.cat(out_sd)


def validate(
    net: CompactNet, val: PairTensors, val_in: Inputs, sc: StageConfig
) -> dict[str, float]:
    """Pair metrics and the stage-3 ranking reward on the validation split."""
    s, sd = predict(net, val_in)
    src, edt = torch.from_numpy(val.src), torch.from_numpy(val.edt)
    d, v = s[edt] - s[src], sd[edt] ** 2 + sd[src] ** 2
    metrics = losses.pair_metrics(d, v, torch.from_numpy(val.delta), sc.tie_eps)
    # one group per source render: the source (target 0) and its edits (targets = deltas)
    idx, tgt, tsd, gid = [], [], [], []
    for g, (s_img, pairs) in enumerate(val.groups):
        idx += [s_img, *val.edt[pairs].tolist()]
        tgt += [0.0, *val.delta[pairs].tolist()]
        tsd += [0.0, *val.delta_std[pairs].tolist()]
        gid += [g] * (len(pairs) + 1)
    ii = torch.tensor(idx)
    reward, _ = losses.listwise_fidelity(
        s[ii], sd[ii] ** 2, torch.tensor(tgt), gid, torch.tensor(tsd), form=sc.reward, tie=sc.tie
    )
    metrics["ranking_reward"] = float(reward)
    return metrics


def anchor(net: CompactNet, data: PairTensors, cfg: TrainConfig) -> None:
    """Shift the score level so the median training-source score is ``cfg.anchor_value``."""
    if data.source_images is not None:  # exactly the inference preprocessing
        images = data.source_images
    else:
        images = data.images[torch.tensor([s for s, _ in data.groups])]
    s, _ = predict(net, PixelInputs(images, cfg.model.input_size, cfg.augment))
    median = float(s.median())
    net.config.anchor = {
        "method": "median_of_train_sources",
        "value": cfg.anchor_value,
        "offset": net.offset + cfg.anchor_value - median,
        "sources": int(images.shape[0]),
    }


def fit_std_scale(residuals: Any, variances: Any) -> float:
    """The ``k`` minimising the Gaussian NLL of ``residuals`` under ``N(0, k² variances)``:
    ``sqrt(mean(r² / v))`` (1.0 when there is nothing to fit)."""
    r = np.asarray(residuals, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    ok = np.isfinite(r) & np.isfinite(v) & (v > 0)
    if not ok.any():
        return 1.0
    k = math.sqrt(float(np.mean(r[ok] ** 2 / v[ok])))
    return k if k > 0 else 1.0


def coverage(residuals: Any, stds: Any) -> dict[str, float]:
    """Share of ``|residual| <= z * std`` at the 68 % and 95 % Gaussian ``z``."""
    r, s = np.abs(np.asarray(residuals, dtype=np.float64)), np.asarray(stds, dtype=np.float64)
    return {
        "coverage_68": float(np.mean(r <= Z68 * s)),
        "coverage_95": float(np.mean(r <= Z95 * s)),
    }


def calibrate_std(net: CompactNet, val: PairTensors, cfg: TrainConfig) -> dict[str, Any]:
    """Fit and set ``net.config.std_scale`` on the validation pairs ``val`` (whole images, eval
    mode, scores clamped to 0-10 as at inference); return the fit and coverage before/after."""
    net.config.std_scale = 1.0
    scores, stds = predict(net, PixelInputs(val.images, cfg.model.input_size, cfg.augment))
    s, sd = scores.clamp(0.0, 10.0).double().numpy(), stds.double().numpy()
    resid = s[val.edt] - s[val.src] - np.asarray(val.delta, dtype=np.float64)
    var = sd[val.edt] ** 2 + sd[val.src] ** 2
    k = fit_std_scale(resid, var)
    net.config.std_scale = k
    dsd = np.sqrt(var)
    return {
        "method": "gaussian_nll_scale_on_validation",
        "std_scale": k,
        "pairs": int(resid.size),
        "before": coverage(resid, dsd),
        "after": coverage(resid, k * dsd),
    }


def write_calibrated(
    src: Path, dest: Path, val: PairTensors, cfg: TrainConfig, report: Path
) -> dict[str, Any]:
    """``src``'s weights with the std scale fitted on ``val`` written to ``dest``; the fit and
    the validation coverage before/after written to ``report`` (JSON) and returned."""
    net = load_weights(src)
    record = calibrate_std(net, val, cfg)
    save_weights(net, dest)
    atomic_write_bytes(report, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    return record
