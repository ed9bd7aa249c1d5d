"""The evaluation runner: one model on one or more benchmarks, batched, cached and resumable.

:func:`evaluate` scores every image of each benchmark split that is not in the predictions cache
(``OUT/cache/<model>/<benchmark>-<split>-<root hash>.jsonl``), in batches, appending each batch
to the cache; a re-run scores only what is missing. The cache trusts the model name: a changed
model under the same name needs a new ``out`` folder. ``limit`` takes a deterministic subset (a
permutation drawn with ``seed``: the same limit gives the same images). Metrics come from
:mod:`redaes.metrics`.

Ground truth with ``higher_is_better = False`` is negated before the metrics, so a positive
correlation always means "agrees with the benchmark".
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from redaes.assessors import Assessor, create_assessor
from redaes.benchmarks import BenchmarkData, RedBenchmark, RedData, RedItem, create_benchmark
from redaes.errors import DataError, ImageLoadError
from redaes.evaluation.cache import PredictionCache, slug
from redaes.imageio import ImageInput
from redaes.metrics import compute_metrics, fit_logistic, map_threshold, red_metrics


@dataclass
class Target:
    """One benchmark to run: registry name, root folder and constructor overrides."""

    name: str
    root: Path
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class BenchmarkResult:
    """Predictions and metrics of one benchmark (``points`` feeds the scatter plot)."""

    name: str
    kind: str
    split: str
    summary: dict[str, Any]
    pred: list[float] = field(default_factory=list)
    gt: list[float] = field(default_factory=list)


Progress = Callable[[str, int], Any]


def _subset(keys: list[str], limit: int | None, seed: int) -> list[str]:
    keys = sorted(keys)
    if limit is None or limit >= len(keys):
        return keys
    order = np.random.default_rng(seed).permutation(len(keys))[:limit]
    return sorted(keys[i] for i in order)


def score_missing(
    assessor: Assessor,
    cache: PredictionCache,
    keys: Sequence[str],
    image_of: Callable[[str], ImageInput],
    batch_size: int,
    advance: Callable[[int], Any] | None = None,
) -> dict[str, str]:
    """Score the keys not in ``cache`` in batches; returns ``{key: error}`` for unreadable images.

    A batch with an unreadable image is retried image by image so one bad file costs only
    itself.
    """
    todo = cache.missing(keys)
    unreadable: dict[str, str] = {}
    for start in range(0, len(todo), max(1, batch_size)):
        batch = todo[start : start + max(1, batch_size)]
        try:
            scores = assessor.score([image_of(k) for k in batch])
            cache.add(zip(batch, scores, strict=True))
        except ImageLoadError:
            for k in batch:
                try:
                    cache.add([(k, assessor.score([image_of(k)])[0])])
                except ImageLoadError as exc:
                    unreadable[k] = str(exc)
        if advance is not None:
            advance(len(batch))
    return unreadable


def _progress(enabled: bool) -> Any:
    if not enabled:
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )


def _metrics_dict(metrics: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    def clean(x: float) -> float | None:
        return None if math.isnan(x) else x

    return {
        k: {"value": clean(v.value), "ci_low": clean(v.ci_low), "ci_high": clean(v.ci_high)}
        for k, v in metrics.items()
    }


def _run_mos(
    assessor: Assessor,
    target: Target,
    data: BenchmarkData,
    cache: PredictionCache,
    cfg: dict[str, Any],
    progress: Any,
) -> BenchmarkResult:
    by_key = {s.key: s for s in data.samples}
    keys = _subset(list(by_key), cfg["limit"], cfg["seed"])
    task = progress.add_task(target.name, total=len(cache.missing(keys))) if progress else None
    unreadable = score_missing(
        assessor,
        cache,
        keys,
        lambda k: by_key[k].image,
        cfg["batch_size"],
        (lambda n: progress.advance(task, n)) if progress else None,
    )
    scored = [k for k in keys if k in cache]
    if len(scored) < 3:
        raise DataError(
            f"{target.name}: only {len(scored)} image(s) scored in split {cfg['split']!r} under "
            f"{data.root} ({data.n_labelled} labelled, {len(data.missing)} images missing, "
            f"{len(unreadable)} unreadable); metrics need at least 3"
        )
    pred = [cache.scores[k] for k in scored]
    sign = 1.0 if data.higher_is_better else -1.0
    gt = [sign * by_key[k].score for k in scored]
    bench = create_benchmark(target.name, **target.options)
    gt_thr = bench.threshold(data.score_range)
    pred_thr = map_threshold(gt_thr, data.score_range, assessor.score_range)
    logistic = fit_logistic(pred, gt)
    metrics = compute_metrics(
        pred,
        gt,
        gt_threshold=gt_thr if data.higher_is_better else None,  # no accuracy on negated gt
        pred_threshold=pred_thr if data.higher_is_better else None,
        n_resamples=cfg["n_resamples"],
        seed=cfg["seed"],
        logistic=logistic,
    )
    prov = data.provenance()
    summary = {
        "benchmark": target.name,
        "kind": "mos",
        "split": cfg["split"],
        "provenance": prov,
        "n_in_split": data.n_labelled,
        "n_selected": len(keys),
        "n_scored": len(scored),
        "n_unreadable": len(unreadable),
        "unreadable_examples": dict(list(unreadable.items())[:20]),
        "limit": cfg["limit"],
        "thresholds": {"ground_truth": gt_thr, "prediction": pred_thr},
        "logistic_params": logistic,
        "metrics": _metrics_dict(metrics),
        "cache": str(cache.path),
    }
    return BenchmarkResult(target.name, "mos", cfg["split"], summary, pred, gt)


def _run_red(
    assessor: Assessor,
    target: Target,
    data: RedData,
    cache: PredictionCache,
    cfg: dict[str, Any],
    progress: Any,
) -> BenchmarkResult:
    by_pair = {i.pair_id: i for i in data.items}
    chosen = [by_pair[k] for k in _subset(list(by_pair), cfg["limit"], cfg["seed"])]
    images: dict[str, tuple[RedItem, str]] = {}  # key -> (pair, attribute), read lazily
    for it in chosen:
        images.setdefault(it.source_key, (it, "source_image"))
        images.setdefault(it.edited_key, (it, "edited_image"))
    keys = list(images)
    task = progress.add_task(target.name, total=len(cache.missing(keys))) if progress else None
    unreadable = score_missing(
        assessor,
        cache,
        keys,
        lambda k: getattr(images[k][0].pair, images[k][1]),
        cfg["batch_size"],
        (lambda n: progress.advance(task, n)) if progress else None,
    )
    ok = [it for it in chosen if it.source_key in cache and it.edited_key in cache]
    if len(ok) < 3:
        raise DataError(
            f"red: only {len(ok)} pair(s) scored in split {cfg['split']!r} under {data.root}; "
            "metrics need at least 3"
        )
    edited = [cache.scores[it.edited_key] for it in ok]
    pred_delta = [e - cache.scores[it.source_key] for e, it in zip(edited, ok, strict=True)]
    true_delta = [it.delta for it in ok]
    metrics = red_metrics(
        pred_delta,
        true_delta,
        edited,
        [it.chain_id for it in ok],
        n_resamples=cfg["n_resamples"],
        seed=cfg["seed"],
    )
    summary = {
        "benchmark": target.name,
        "kind": "pairs",
        "split": cfg["split"],
        "provenance": data.provenance(),
        "n_selected": len(chosen),
        "n_scored": len(ok),
        "n_unreadable": len(unreadable),
        "unreadable_examples": dict(list(unreadable.items())[:20]),
        "limit": cfg["limit"],
        "metrics": _metrics_dict(metrics),
        "cache": str(cache.path),
    }
    return BenchmarkResult(target.name, "pairs", cfg["split"], summary, pred_delta, true_delta)


def evaluate(
    model: str | Assessor,
    targets: Sequence[Target],
    out: str | Path,
    split: str = "test",
    limit: int | None = None,
    batch_size: int = 16,
    n_resamples: int = 1000,
    seed: int = 0,
    progress: bool = False,
    model_name: str | None = None,
) -> list[BenchmarkResult]:
    """Score ``model`` on every target and compute the metrics (no report files; see
    :func:`redaes.evaluation.report.write_report`).

    Args:
        model: an assessor, a registry name or an import path ``pkg.mod:fn``.
        targets: the benchmarks and their roots.
        out: the report folder; predictions are cached under ``out/cache/``.
        split: ``test`` (default), ``train``, ``val`` or ``all``.
        limit: score at most this many samples per benchmark (deterministic subset).
        batch_size: images per ``assessor.score`` call.
        n_resamples: bootstrap resamples of the confidence intervals.
        seed: seed of the subset and of the bootstrap.
        progress: show a rich progress bar.
        model_name: name of the cache folder (default: ``model`` or the assessor's name).
    """
    assessor = create_assessor(model) if isinstance(model, str) else model
    if model_name is None:
        model_name = model if isinstance(model, str) else getattr(assessor, "name", "assessor")
    cfg = {
        "split": split,
        "limit": limit,
        "batch_size": batch_size,
        "n_resamples": n_resamples,
        "seed": seed,
    }
    results = []
    with _progress(progress) as bar:
        for t in targets:
            bench = create_benchmark(t.name, **t.options)
            where = hashlib.sha256(str(Path(t.root).expanduser().resolve()).encode()).hexdigest()
            name = f"{slug(t.name)}-{slug(split)}-{where[:10]}.jsonl"  # another root: new cache
            path = Path(out) / "cache" / slug(model_name) / name
            with PredictionCache(path) as cache:
                if isinstance(bench, RedBenchmark):
                    red = bench.load_pairs(t.root, split)
                    results.append(_run_red(assessor, t, red, cache, cfg, bar))
                else:
                    data = bench.load(t.root).split(split)
                    results.append(_run_mos(assessor, t, data, cache, cfg, bar))
    return results
