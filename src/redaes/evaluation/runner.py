"""The evaluation runner: one model on one or more benchmarks, batched, cached and resumable.

:func:`evaluate` first loads every benchmark (label files, roots, split names: a bad one fails
before anything is scored), then scores every image not in the predictions cache
(``OUT/cache/<model>-<fingerprint>/<benchmark>-<split>-<root hash>.jsonl``) in batches,
appending each batch to the cache; a re-run scores only what is missing. The cache is keyed on
the model's fingerprint (:mod:`redaes.evaluation.fingerprint`: code, configuration,
preprocessing, redaes version), so a changed model never reuses stale scores; each result says
how many predictions were reused (``n_reused``). ``limit`` takes a deterministic subset (a
permutation drawn with ``seed``: the same limit gives the same images). Metrics come from
:mod:`redaes.metrics`.

Bad input costs only itself: an image that cannot be read (``ImageLoadError`` or ``OSError``,
also from a model that opens the file itself) is skipped and counted (``n_unreadable``), a
non-finite score is skipped and counted (``n_invalid``), another error the model raises on one
image is skipped and counted (``n_failed``); an assessor returning the wrong number of scores,
or failing on every one of its first images, is a :class:`~redaes.errors.ConfigError`.

Ground truth with ``higher_is_better = False`` is negated before the metrics, so a positive
correlation always means "agrees with the benchmark".
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from redaes.assessors import Assessor, create_assessor
from redaes.benchmarks import BenchmarkData, RedBenchmark, RedData, RedItem, create_benchmark
from redaes.errors import ConfigError, DataError, ImageLoadError
from redaes.evaluation.cache import PredictionCache, slug
from redaes.evaluation.fingerprint import model_fingerprint
from redaes.imageio import ImageInput, atomic_write_bytes
from redaes.metrics import (
    compute_metrics,
    fit_logistic,
    map_threshold,
    params_at_bound,
    red_metrics,
)


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


@dataclass
class ScoreOutcome:
    """What :func:`score_missing` did: reused and new scores, skipped images with reasons."""

    n_reused: int = 0
    n_new: int = 0
    unreadable: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


SYSTEMATIC_FAILURES = 5
"""A model failing on each of its first this-many images stops the run (a bug, not bad files)."""


def _checked(assessor: Assessor, images: list[ImageInput]) -> list[float]:
    scores = assessor.score(images)
    name = getattr(assessor, "name", type(assessor).__name__)
    try:
        n = len(scores)
        values = [float(v) for v in scores]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"assessor {name!r} must return a list of floats ({exc})") from None
    if n != len(images):
        raise ConfigError(
            f"assessor {name!r} returned {n} scores for {len(images)} images "
            "(score() must return one float per image)"
        )
    return values


def score_missing(
    assessor: Assessor,
    cache: PredictionCache,
    keys: Sequence[str],
    image_of: Callable[[str], ImageInput],
    batch_size: int,
    advance: Callable[[int], Any] | None = None,
) -> ScoreOutcome:
    """Score the keys not in ``cache`` in batches and cache the finite scores.

    A batch that raises is retried image by image so one bad file costs only itself:
    unreadable images (``ImageLoadError``, ``OSError``), other per-image model errors and
    non-finite scores are skipped and returned with the reason. A model that fails on each of
    its first :data:`SYSTEMATIC_FAILURES` images (a bug, not a bad file) is a
    :class:`~redaes.errors.ConfigError` with the first error; so is a wrong number of scores.
    """
    todo = cache.missing(keys)
    out = ScoreOutcome(n_reused=len(set(keys)) - len(todo))
    step = max(1, batch_size)
    for start in range(0, len(todo), step):
        batch = todo[start : start + step]
        try:
            results = list(
                zip(batch, _checked(assessor, [image_of(k) for k in batch]), strict=True)
            )
        except ConfigError:
            raise
        except Exception:  # retried one by one below, errors kept per image
            results = []
            for k in batch:
                try:
                    results.append((k, _checked(assessor, [image_of(k)])[0]))
                except ConfigError:
                    raise
                except (ImageLoadError, OSError) as exc:
                    out.unreadable[k] = str(exc) or type(exc).__name__
                except Exception as exc:  # counted, see the docstring
                    out.failed[k] = f"{type(exc).__name__}: {exc}"
        good = [(k, v) for k, v in results if math.isfinite(v)]
        out.invalid.update({k: f"non-finite score {v}" for k, v in results if not math.isfinite(v)})
        cache.add(good)
        out.n_new += len(good)
        if out.n_new == 0 and len(out.failed) >= min(SYSTEMATIC_FAILURES, len(todo)):
            key, why = next(iter(out.failed.items()))
            name = getattr(assessor, "name", type(assessor).__name__)
            raise ConfigError(
                f"assessor {name!r} failed on each of the first {len(out.failed)} images "
                f"(first: {key}: {why})"
            )
        if advance is not None:
            advance(len(batch))
    return out


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


def _outcome_dict(outcome: ScoreOutcome) -> dict[str, Any]:
    return {
        "n_reused": outcome.n_reused,
        "n_new": outcome.n_new,
        "n_unreadable": len(outcome.unreadable),
        "unreadable_examples": dict(list(outcome.unreadable.items())[:20]),
        "n_invalid": len(outcome.invalid),
        "invalid_examples": dict(list(outcome.invalid.items())[:20]),
        "n_failed": len(outcome.failed),
        "failed_examples": dict(list(outcome.failed.items())[:20]),
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
    outcome = score_missing(
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
            f"{len(outcome.unreadable)} unreadable, {len(outcome.invalid)} non-finite scores, "
            f"{len(outcome.failed)} model errors); "
            "metrics need at least 3"
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
        **_outcome_dict(outcome),
        "limit": cfg["limit"],
        "thresholds": {"ground_truth": gt_thr, "prediction": pred_thr},
        "logistic_params": logistic,
        "logistic_at_bound": params_at_bound(pred, gt, logistic),
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
    outcome = score_missing(
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
        **_outcome_dict(outcome),
        "limit": cfg["limit"],
        "metrics": _metrics_dict(metrics),
        "cache": str(cache.path),
    }
    return BenchmarkResult(target.name, "pairs", cfg["split"], summary, pred_delta, true_delta)


MOS_SPLITS = {"validation": "val", "valid": "val"}
RED_SPLITS = {"val": "validation", "valid": "validation"}


def _loaded(targets: Sequence[Target], split: str) -> list[tuple[Target, Any]]:
    """Every target's benchmark data for ``split``, loaded before anything is scored."""
    out: list[tuple[Target, Any]] = []
    for t in targets:
        bench = create_benchmark(t.name, **t.options)
        if isinstance(bench, RedBenchmark):
            out.append((t, bench.load_pairs(t.root, RED_SPLITS.get(split, split))))
        else:
            out.append((t, bench.load(t.root).split(MOS_SPLITS.get(split, split))))
    return out


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
        targets: the benchmarks and their roots (all loaded and checked before scoring).
        out: the report folder; predictions are cached under ``out/cache/``.
        split: ``test`` (default), ``train``, ``val`` (or ``validation``) or ``all``.
        limit: score at most this many samples per benchmark (deterministic subset).
        batch_size: images per ``assessor.score`` call.
        n_resamples: bootstrap resamples of the confidence intervals.
        seed: seed of the subset and of the bootstrap.
        progress: show a rich progress bar.
        model_name: the model's name in the cache folder and fingerprint (default: ``model``
            or the assessor's name).
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
    loaded = _loaded(targets, split)  # label files, roots and split names fail here, early
    fp = model_fingerprint(assessor, model_name)
    folder = Path(out) / "cache" / f"{slug(model_name)}-{fp['sha256'][:12]}"
    stale = sorted(
        d.name
        for d in (Path(out) / "cache").glob(f"{slug(model_name)}-*")
        if d.is_dir() and d != folder and (d / "fingerprint.json").is_file()
    )
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / "fingerprint.json", (json.dumps(fp, indent=2) + "\n").encode())
    results = []
    with _progress(progress) as bar:
        for t, data in loaded:
            where = hashlib.sha256(str(Path(t.root).expanduser().resolve()).encode()).hexdigest()
            name = f"{slug(t.name)}-{slug(split)}-{where[:10]}.jsonl"  # another root: new cache
            with PredictionCache(folder / name) as cache:
                if isinstance(data, RedData):
                    results.append(_run_red(assessor, t, data, cache, cfg, bar))
                else:
                    results.append(_run_mos(assessor, t, data, cache, cfg, bar))
            results[-1].summary["model_fingerprint"] = fp["sha256"]
            results[-1].summary["stale_caches_ignored"] = stale
    return results
