"""Build a RED pair dataset: scan sources, process work blocks, publish Parquet shards.

Layout of ``OUT``::

    OUT/README.md                         dataset card (YAML header for ``datasets``)
    OUT/plan.yaml                         the plan (re-loadable with PairPlan.from_yaml)
    OUT/build_state.json                  build state (complete, counts, fingerprint); not
                                          "state.json", which datasets reserves
    OUT/data/{split}-NNNNN-of-MMMMM.parquet
    OUT/.work/block-NNNNNN.parquet        work blocks while building (removed at the end)

Resume: every work block is written atomically; a re-run skips blocks whose file is complete and
deletes partial temporary files, so a build killed at any moment and re-run yields exactly the
same N pairs. The published shards only depend on (plan, sources, seed, N): the same inputs give
byte-identical files whatever the engine, the worker count or the interruptions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from redaes.errors import ConfigError, DataError
from redaes.imageio import atomic_write_bytes
from redaes.pairs.engines import check_engine, create_engine
from redaes.pairs.plan import SPLITS, PairPlan, Planner, Source
from redaes.pairs.preflight import (
    check_generative,
    check_judges,
    check_out_folder,
    scan_sources,
)
from redaes.pairs.reasoning import direction
from redaes.pairs.render import BlockReport, BuildSpec
from redaes.pairs.storage import (
    card_text,
    columns,
    is_complete,
    judge_versions,
    pair_schema,
    read_table,
    remove_temp_files,
    shard_name,
    write_table,
)

log = logging.getLogger(__name__)
STATE_FILE = "build_state.json"
ProgressFn = Callable[[int, int], None]


def _spec_key(plan: PairPlan, sources: Sequence[Source], seed: int, n_pairs: int) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(f"{s.path}:{s.sha256}" for s in sources).encode())
    return {
        "fingerprint": plan.fingerprint(),
        "seed": seed,
        "pairs": n_pairs,
        "sources": digest.hexdigest()[:16],
        # a changed teacher (prior rules or weights, VLM prompt) makes another dataset: a
        # rebuild must never hand back the labels of the old one as "resumed"
        "judges": judge_versions(list(plan.judges)),
    }


def _write(path: Path, data: bytes) -> None:
    atomic_write_bytes(path, data)
    path.chmod(0o644)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    _write(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def build(
    images: str | Path,
    out: str | Path,
    n_pairs: int,
    plan: PairPlan | None = None,
    *,
    seed: int = 0,
    workers: int = 1,
    engine: str = "local",
    ray_address: str | None = None,
    plugins: Sequence[str] = (),
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Build (or resume) a dataset of exactly ``n_pairs`` pairs; return the summary dict.

    Args:
        images: folder of source photos (searched recursively).
        out: dataset folder.
        n_pairs: number of pairs to publish.
        plan: the pair plan (default :class:`PairPlan`).
        seed: dataset seed.
        workers: parallel workers.
        engine: ``"local"`` or ``"ray"``.
        ray_address: an existing Ray cluster (``--engine ray``).
        plugins: modules to import in workers before creating judges (custom judges/ops).
        overwrite: replace a dataset built with other settings instead of refusing.
        progress: called as ``progress(pairs_done, n_pairs)`` after each block.
    """
    if n_pairs < 1:
        raise ConfigError(f"--pairs must be >= 1, got {n_pairs}")
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    check_engine(engine)
    plan = plan or PairPlan()
    plan.validate()
    check_out_folder(images, out)
    sources, bad_files = scan_sources(images)
    if not sources:
        raise DataError(f"{images}: no usable images found ({len(bad_files)} unreadable)")
    out_dir = Path(out)
    work = out_dir / ".work"
    spec = BuildSpec(
        plan, tuple(sources), str(Path(images).resolve()), seed, str(work), tuple(plugins)
    )
    # everything that can refuse the request does so before anything is written
    Planner(plan, sources, seed)  # op names, restore_ops
    check_judges(spec)
    check_generative(plan)
    key = _spec_key(plan, sources, seed, n_pairs)
    state_path = out_dir / STATE_FILE
    if state_path.exists():
        state = json.loads(state_path.read_text())
        if state.get("key") == key and state.get("complete"):
            return dict(state["summary"]) | {"resumed_pairs": n_pairs}
    spec_file = work / "spec.json"
    if spec_file.exists() and json.loads(spec_file.read_text()) != key:
        if not overwrite:
            raise ConfigError(
                f"{out_dir}: an unfinished build with another plan/seed/sources/size is here; "
                "use another --out or --overwrite"
            )
        shutil.rmtree(work)
    if state_path.exists() and not overwrite:
        raise ConfigError(f"{out_dir}: holds another dataset; use another --out or --overwrite")
    state_path.unlink(missing_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    _write_json(spec_file, key)
    remove_temp_files(work)
    t0 = time.perf_counter()
    try:
        reports = _run_blocks(spec, n_pairs, workers, engine, ray_address, progress)
    except _JudgesFailed:
        shutil.rmtree(work, ignore_errors=True)  # failed verdicts must not be resumed later
        raise
    counts, used = _publish(spec, reports, n_pairs, out_dir)
    summary = _summary(spec, {b: reports[b] for b in used}, counts, out_dir, bad_files)
    summary["resumed_pairs"] = _resumed(reports, used, n_pairs)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["pairs_per_second"] = round(n_pairs / max(summary["seconds"], 1e-9), 2)
    _write(out_dir / "plan.yaml", plan.to_yaml().encode())
    sizes: dict[str, int] = {}
    for shard in (out_dir / "data").glob("*.parquet"):
        split = shard.name.split("-", 1)[0]
        sizes[split] = sizes.get(split, 0) + shard.stat().st_size
    card = card_text("RED-Aes pair dataset", plan.to_dict(), counts, _stable(summary), sizes)
    _write(out_dir / "README.md", card.encode())
    _write_json(state_path, {"complete": True, "key": key, "summary": summary})
    shutil.rmtree(work, ignore_errors=True)
    return summary


def _stable(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without timings (the card must be identical between builds)."""
    return {k: v for k, v in summary.items() if k not in _UNSTABLE}


_UNSTABLE = ("seconds", "pairs_per_second", "resumed_pairs")


def _resumed(reports: dict[int, BlockReport], used: list[int], n_pairs: int) -> int:
    """Published pairs that came from blocks finished by an earlier run."""
    left, resumed = n_pairs, 0
    for b in used:
        n = min(left, reports[b].kept)
        resumed += n if reports[b].resumed else 0
        left -= n
    return resumed


def _judge_errors(reports: dict[int, BlockReport], top: int = 5) -> dict[str, int]:
    """The ``top`` most frequent judge errors (``"judge: error" -> pairs``) over ``reports``."""
    errors: Counter[str] = Counter()
    for r in reports.values():
        errors.update(r.judge_errors)
    return dict(sorted(errors.most_common(top)))


def _judge_error_text(reports: dict[int, BlockReport]) -> str:
    """The most frequent judge error over ``reports``, or ``""``."""
    errors = _judge_errors(reports, top=1)
    return next(iter(errors), "")


def _run_blocks(
    spec: BuildSpec,
    n_pairs: int,
    workers: int,
    engine: str,
    ray_address: str | None,
    progress: ProgressFn | None,
) -> dict[int, BlockReport]:
    plan = spec.plan
    per_unit = 1 + (plan.chain_prob * (plan.chain_length - 1) if plan.chain_length >= 2 else 0)
    expected = plan.block_size * per_unit
    reports: dict[int, BlockReport] = {}
    runner = create_engine(engine, spec, workers, ray_address)
    try:
        next_block = 0
        while True:
            kept = _prefix_kept(reports)
            if kept >= n_pairs:
                break
            candidates = sum(r.candidates for r in reports.values())
            if candidates > 50 * n_pairs + 200:
                raise DataError(_survival_message(reports, kept, n_pairs))
            rate = kept / candidates if candidates else 1.0
            need = (n_pairs - kept) / max(rate * expected, 0.05 * expected)
            wave = max(workers, math.ceil(need * 1.1) + workers - 1)
            blocks = list(range(next_block, next_block + wave))
            next_block += wave
            for report in runner.run(blocks):
                reports[report.block] = report
                _fail_if_judges_never_work(reports, n_pairs)
                done = _prefix_kept(reports)
                if progress is not None:
                    progress(min(n_pairs, done), n_pairs)
                if done >= n_pairs:
                    break  # the first N kept pairs are known: later blocks cannot change them
    finally:
        runner.close()
    return reports


JUDGE_FAIL_LIMIT = 8
"""A build stops when its first this-many judged pairs all failed to be judged (none kept)."""


def _survival_message(reports: dict[int, BlockReport], kept: int, n_pairs: int) -> str:
    candidates = sum(r.candidates for r in reports.values())
    msg = (
        f"only {kept} of {n_pairs} pairs survived after {candidates} candidates "
        f"({sum(r.disagree for r in reports.values())} judge disagreements, "
        f"{sum(r.judge_failed for r in reports.values())} judge failures, "
        f"{sum(r.render_failed for r in reports.values())} render failures)"
    )
    error = _judge_error_text(reports)
    return f"{msg}; most frequent judge error: {error}" if error else msg


def _fail_if_judges_never_work(reports: dict[int, BlockReport], n_pairs: int) -> None:
    """Stop at once when the judges failed on every pair so far (a missing package, an endpoint
    that is down), instead of rendering up to 50 x ``n_pairs`` candidates first."""
    failed = sum(r.judge_failed for r in reports.values())
    if failed < JUDGE_FAIL_LIMIT or any(r.kept or r.disagree for r in reports.values()):
        return
    raise _JudgesFailed(
        f"only 0 of {n_pairs} pairs survived: the judges failed on all {failed} pairs judged so "
        f"far ({_judge_error_text(reports) or 'no error message'})"
    )


class _JudgesFailed(DataError):
    """Every judged pair failed: the work blocks hold no result worth resuming."""


def _prefix_kept(reports: dict[int, BlockReport]) -> int:
    """Kept pairs in the gap-free run of blocks 0, 1, 2, ... (blocks may finish out of order)."""
    total, b = 0, 0
    while b in reports:
        total, b = total + reports[b].kept, b + 1
    return total


def _publish(
    spec: BuildSpec, reports: dict[int, BlockReport], n_pairs: int, out_dir: Path
) -> tuple[dict[str, int], list[int]]:
    """Write the first ``n_pairs`` kept rows (in candidate order) as per-split shards.

    Returns the per-split counts and the blocks used (later blocks are ignored, so the result
    does not depend on how far ahead the workers ran).
    """
    blocks = list(range(len(reports)))
    take: list[tuple[int, int]] = []  # (block, rows to take)
    left = n_pairs
    for b in blocks:
        if left <= 0 or b not in reports:
            break
        if reports[b].kept == 0:
            take.append((b, 0))
            continue
        n = min(left, reports[b].kept)
        take.append((b, n))
        left -= n
    counts: Counter[str] = Counter()
    for b, n in take:
        counts.update(read_table(spec.block_path(b), ["split"]).column("split")[:n].to_pylist())
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    remove_temp_files(data)
    rps = spec.plan.rows_per_shard
    n_shards = {s: math.ceil(counts[s] / rps) for s in SPLITS if counts[s]}
    wanted = {shard_name(s, i, n) for s, n in n_shards.items() for i in range(n)}
    for stale in data.glob("*.parquet"):
        if stale.name not in wanted:
            stale.unlink()
    buffers: dict[str, list[pa.Table]] = {s: [] for s in n_shards}
    written: dict[str, int] = dict.fromkeys(n_shards, 0)
    generative = bool(spec.plan.generative_pipeline)
    schema = pair_schema(generative=generative)
    seen: set[str] = set()

    def flush(split: str, final: bool) -> None:
        table = pa.concat_tables(buffers[split]) if buffers[split] else None
        while table is not None and (table.num_rows >= rps or (final and table.num_rows)):
            chunk, table = table.slice(0, rps), table.slice(rps)
            path = data / shard_name(split, written[split], n_shards[split])
            write_table(chunk.cast(schema).replace_schema_metadata(schema.metadata), path)
            written[split] += 1
        buffers[split] = [table] if table is not None and table.num_rows else []

    names = [n for n, _ in columns(generative)]
    for b, n in take:
        table = read_table(spec.block_path(b)).slice(0, n)
        ids = table.column("pair_id").to_pylist()
        if seen.intersection(ids) or len(set(ids)) != len(ids):
            raise DataError(f"{spec.block_path(b)}: duplicate pair ids (corrupt work folder)")
        seen.update(ids)
        splits = table.column("split").to_pylist()
        for s in n_shards:
            mask = pa.array([x == s for x in splits])
            buffers[s].append(table.filter(mask).select(names))
            flush(s, final=False)
    for s in n_shards:
        flush(s, final=True)
    for s, n in n_shards.items():
        if written[s] != n or not all(is_complete(data / shard_name(s, i, n)) for i in range(n)):
            raise DataError(f"{data}: failed to write the {s} shards")
    return {s: counts[s] for s in SPLITS if counts[s]}, [b for b, _ in take]


def _summary(
    spec: BuildSpec,
    reports: dict[int, BlockReport],
    counts: dict[str, int],
    out_dir: Path,
    bad_files: list[str],
) -> dict[str, Any]:
    ops: Counter[str] = Counter()
    directions: Counter[str] = Counter()
    chains = restorations = informative = 0
    for f in sorted((out_dir / "data").glob("*.parquet")):
        t = read_table(f, ["edits", "delta", "chain_id", "source_edits", "informative"])
        restorations += sum(bool(b) for b in t.column("source_edits").to_pylist())
        informative += sum(bool(b) for b in t.column("informative").to_pylist())
        for edits in t.column("edits").to_pylist():
            ops.update(e["op"] for e in edits)
        for d in t.column("delta").to_pylist():
            directions[direction(d, spec.plan.neutral_threshold)] += 1
        chains += sum(c is not None for c in t.column("chain_id").to_pylist())
    judged = sum(r.kept + r.disagree for r in reports.values())
    disagree = sum(r.disagree for r in reports.values())
    bad_sources = sorted({s for r in reports.values() for s in r.bad_sources})
    return {
        "pairs": sum(counts.values()),
        "splits": counts,
        "ops": dict(sorted(ops.items())),
        "directions": {k: directions[k] for k in ("improve", "degrade", "neutral")},
        "chain_pairs": chains,
        "restoration_pairs": restorations,
        "informative_pairs": informative,
        "judges": list(spec.plan.judges),
        "judge_agreement": round(1.0 - disagree / judged, 4) if judged else 1.0,
        "candidates": sum(r.candidates for r in reports.values()),
        "dropped_disagree": disagree,
        "dropped_uninformative": sum(r.uninformative for r in reports.values()),
        "judge_failures": sum(r.judge_failed for r in reports.values()),
        "judge_errors": _judge_errors(reports),
        "render_failures": sum(r.render_failed for r in reports.values()),
        "skipped_images": sorted(set(bad_files) | set(bad_sources)),
        "sources": len(spec.sources),
        "seed": spec.seed,
    } | (_generative_summary(reports, out_dir) if spec.plan.generative_pipeline else {})


def _generative_summary(reports: dict[int, BlockReport], out_dir: Path) -> dict[str, Any]:
    """Generative builds only: pairs with a generative step and the guard's rejections."""
    n = 0
    for f in sorted((out_dir / "data").glob("*.parquet")):
        n += sum(bool(g) for g in read_table(f, ["generative"]).column("generative").to_pylist())
    return {"generative_pairs": n, "dropped_guard": sum(r.guard_rejected for r in reports.values())}


def with_overrides(plan: PairPlan, **changes: Any) -> PairPlan:
    """A copy of ``plan`` with the non-``None`` ``changes`` applied (CLI flags over plan.yaml)."""
    return replace(plan, **{k: v for k, v in changes.items() if v is not None})
