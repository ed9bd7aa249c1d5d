"""The figures of ``bench/teacher.py``, computed from dataset rows and judged photos.

Every function takes plain rows (dicts read from the RED Parquet shards: ``edits``,
``source_edits``, ``chain_id``, ``delta``, ``reasoning``, ``source_id``) so it works for datasets
built by any redaes tree. Shares are returned as ``{"k", "n", "pct"}``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

NOISE_OPS = {"gaussian_noise", "poisson_noise", "film_grain"}
SOFT_OPS = {"gaussian_blur", "motion_blur", "defocus", "downscale"}
COLOUR_CASES = [
    ("saturation", -0.3),
    ("temperature", -0.3),
    ("saturation", 0.3),
    ("temperature", 0.3),
]


def pct(k: int, n: int) -> dict[str, Any]:
    return {"k": k, "n": n, "pct": round(100.0 * k / n, 1) if n else None}


def undo_fraction(row: dict[str, Any], scale: dict[str, float]) -> float | None:
    """Correction as a fraction of the degradation (1 = full undo), single-op restorations."""
    src, edits = row.get("source_edits") or [], row.get("edits") or []
    if (
        len(src) != 1
        or len(edits) != 1
        or src[0]["op"] != edits[0]["op"]
        or src[0]["strength"] == 0
    ):
        return None
    op = src[0]["op"]
    return -float(edits[0]["strength"]) / (float(src[0]["strength"]) * scale.get(op, 1.0))


def restoration_law(rows: list[dict[str, Any]], scale: dict[str, float]) -> dict[str, Any]:
    near = [r for r in rows if (f := undo_fraction(r, scale)) is not None and 0.8 <= f <= 1.2]
    chains: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        f = undo_fraction(r, scale)
        if f is not None and r.get("chain_id"):
            chains.setdefault(r["chain_id"], []).append((abs(f - 1.0), float(r["delta"])))
    multi = [c for c in chains.values() if len(c) >= 2]
    best = sum(1 for c in multi if min(c)[1] >= max(d for _, d in c))
    return {
        "near_full_undo_rated_negative": pct(sum(r["delta"] < 0 for r in near), len(near)),
        "chain_full_undo_rated_best": pct(best, len(multi)),
        "review": {"near_full_undo_rated_negative": 30.0, "chain_full_undo_rated_best": 26.0},
    }


def balance(rows: list[dict[str, Any]], neutral: float) -> dict[str, Any]:
    plain = [r for r in rows if not r.get("source_edits")]
    moved = [r for r in plain if abs(r["delta"]) >= neutral]
    positive = [r for r in rows if r["delta"] >= neutral]
    restored = sum(1 for r in positive if r.get("source_edits"))
    return {
        "plain_non_neutral_negative": pct(sum(r["delta"] < 0 for r in moved), len(moved)),
        "positive_from_restorations": pct(restored, len(positive)),
        "plain_positive": pct(sum(r["delta"] >= neutral for r in plain), len(plain)),
        "review": {"plain_non_neutral_negative": 88.0, "positive_from_restorations": 68.0},
    }


def _key(row: dict[str, Any]) -> str:
    def b(s: float) -> int:
        return min(7, max(0, int((float(s) + 1.0) // 0.25)))

    steps = [f"{e['op']}:{b(e['strength'])}" for e in row.get("edits") or []]
    base = [f"{e['op']}:{b(e['strength'])}" for e in row.get("source_edits") or []]
    return "+".join(steps) + ("|" + "+".join(base) if base else "")


def variance_explained(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import numpy as np

    y = np.array([float(r["delta"]) for r in rows])
    keys = [_key(r) for r in rows]

    def fit(idx: list[int]) -> dict[str, float]:
        sums: dict[str, list[float]] = {}
        for i in idx:
            sums.setdefault(keys[i], []).append(y[i])
        return {k: float(np.mean(v)) for k, v in sums.items()}

    every = list(range(len(rows)))
    means = fit(every)
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(sum((y[i] - means[keys[i]]) ** 2 for i in every)) / sst
    fold = [sum(map(ord, str(r["source_id"]))) % 2 for r in rows]  # by photo, deterministic
    pred = np.zeros_like(y)
    for f in (0, 1):
        train = [i for i in every if fold[i] != f]
        m, mu = fit(train), float(y[train].mean()) if train else 0.0
        for i in every:
            if fold[i] == f:
                pred[i] = m.get(keys[i], mu)
    held = 1.0 - float(((y - pred) ** 2).sum()) / sst
    return {
        "r2_in_sample": round(r2, 3),
        "r2_two_fold_by_photo": round(held, 3),
        "groups": len(means),
        "review_r2": 0.80,
    }


def run_checker(checker: Any, data: Path, limit: int, total: int) -> dict[str, Any]:
    """Call ``checker(row)`` on ``limit`` rows spread over the dataset, images included."""
    import pyarrow.parquet as pq

    step = max(1, -(-total // max(1, limit)))  # ceil: every step-th row
    out: dict[str, Any] = {"checker": getattr(checker, "__name__", "checker"), "every": step}
    failed = errors = seen = index = 0
    claims: dict[str, int] = {}
    for f in sorted((data / "data").glob("*.parquet")):
        table = pq.read_table(f)
        picked = [i for i in range(table.num_rows) if (index + i) % step == 0]
        index += table.num_rows
        for row in table.take(picked).to_pylist():
            seen += 1
            try:
                bad = list(checker(row))
            except Exception as exc:  # report, do not crash the bench
                errors += 1
                out.setdefault("checker_error", f"{type(exc).__name__}: {exc}")
                continue
            failed += bool(bad)
            for claim in bad:
                head = str(claim).split(":")[0][:60]
                claims[head] = claims.get(head, 0) + 1
    out["checker_failed"] = pct(failed, seen - errors)
    out["checker_errors"] = errors
    out["failed_claims_top"] = dict(sorted(claims.items(), key=lambda kv: -kv[1])[:8])
    return out


def reasoning_checks(
    rows: list[dict[str, Any]], reasoning: ModuleType | None, data: Path, limit: int
) -> dict[str, Any]:
    checker = getattr(reasoning, "check_reasoning", None) if reasoning is not None else None
    out: dict[str, Any] = {"checker": "no checker"}
    if checker is not None:
        out = run_checker(checker, data, limit, len(rows))

    def ops(r: dict[str, Any]) -> set[str]:
        return {e["op"] for e in r.get("edits") or []}

    def has(r: dict[str, Any], *words: str) -> bool:
        text = (r.get("reasoning") or "").lower()
        return any(w in text for w in words)

    noise = [r for r in rows if ops(r) & NOISE_OPS]
    soft = [r for r in rows if ops(r) & SOFT_OPS]
    restored = [r for r in rows if r.get("source_edits")]
    out["crisper_on_noise"] = pct(sum(has(r, "crisper") for r in noise), len(noise))
    out["cleaner_flat_on_blur_downscale"] = pct(
        sum(has(r, "flat areas are cleaner", "cleaner") for r in soft), len(soft)
    )
    out["skin_tones_mentioned"] = pct(sum(has(r, "skin") for r in rows), len(rows))
    out["degraded_copy_leak"] = pct(sum(has(r, "degraded copy") for r in rows), len(rows))
    out["degraded_copy_leak_in_restorations"] = pct(
        sum(has(r, "degraded copy") for r in restored), len(restored)
    )
    out["nothing_changed_on_noise"] = pct(
        sum(has(r, "no measured attribute changed") for r in noise), len(noise)
    )
    out["review"] = {
        "crisper_on_noise": 54.7,
        "cleaner_flat_on_blur_downscale": 78.8,
        "skin_tones_mentioned": 34.0,
    }
    return out


def colour_intent(judge: Any, photos: list[Any]) -> dict[str, Any]:
    from redaes.edits import EditChain, create_edit
    from redaes.judges.base import PairContext

    out: dict[str, Any] = {}
    for op, s in COLOUR_CASES:
        deltas = []
        for i, img in enumerate(photos):
            edited = create_edit(op).apply_pil(img, s, seed=0)
            ctx = PairContext(EditChain([{"op": op, "strength": s}]), source_id=f"photo{i}")
            res = judge.judge(img, edited, ctx)
            if res.ok and res.delta is not None:
                deltas.append(float(res.delta))
        name = f"{op}{s:+.1f}"
        out[name] = {
            **pct(sum(d > 0 for d in deltas), len(deltas)),
            "mean_delta": round(sum(deltas) / max(1, len(deltas)), 3),
            # beyond the neutral band of the balance figures (|delta| < 0.1 is 'neutral')
            "above_neutral": pct(sum(d >= 0.1 for d in deltas), len(deltas)),
        }
    out["review"] = {"saturation-0.3": 50.0, "temperature-0.3": 40.9}
    return out
