"""Render, judge and record one work block of planned pairs (runs inside a worker).

A block is a fixed range of candidate units (see :mod:`redaes.pairs.plan`). :func:`process_block`
renders every planned pair of the block, asks the judges, combines their verdicts, drops the pairs
the filter rejects, writes the kept rows to ``WORK/block-NNNNNN.parquet`` atomically and returns a
:class:`BlockReport`. A block whose file is already complete is not recomputed (resume).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import torch
from PIL import Image

from redaes.errors import ImageLoadError
from redaes.imageio import encode_image, load_image, pil_to_tensor, resize_long_side, tensor_to_pil
from redaes.pairs import reasoning
from redaes.pairs.plan import PairPlan, PlannedPair, Planner, Source
from redaes.pairs.storage import rows_to_table, write_table

log = logging.getLogger(__name__)
REPORT_KEY = b"redaes_block"


@dataclass(frozen=True)
class BuildSpec:
    """Everything a worker needs to process blocks (picklable, no open resources)."""

    plan: PairPlan
    sources: tuple[Source, ...]
    root: str
    seed: int
    work_dir: str
    plugins: tuple[str, ...] = ()

    def block_path(self, block: int) -> Path:
        return Path(self.work_dir) / f"block-{block:06d}.parquet"


@dataclass
class BlockReport:
    """Counts of one processed block."""

    block: int
    candidates: int = 0
    kept: int = 0
    render_failed: int = 0
    judge_failed: int = 0
    disagree: int = 0
    uninformative: int = 0
    """pairs dropped because ``|delta| < delta_std`` (plan ``drop_uninformative``)"""
    guard_rejected: int = 0
    """generative pairs dropped by the content guard (luminance SSIM below ``guard_min_ssim``)"""
    bad_sources: list[str] = field(default_factory=list)
    judge_errors: dict[str, int] = field(default_factory=dict)
    """``"judge: error" -> pairs`` for the pairs dropped because judges failed (10 kept)."""
    seconds: float = 0.0
    resumed: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class _Loaded:
    image: Image.Image
    tensor: torch.Tensor
    encoded: bytes
    obs: reasoning.Observation | None = None

    def observed(self) -> reasoning.Observation:
        """The reasoning measurements of the source AS STORED (decoded from ``encoded``)."""
        if self.obs is None:
            self.obs = reasoning.observe(_decoded(self.encoded))
        return self.obs


def _decoded(data: bytes) -> Image.Image:
    """The stored image back from its bytes (texts describe what the dataset holds)."""
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


# Per-process caches (workers are long-lived; each has its own copy).
_SOURCE_CACHE: dict[tuple[Any, ...], _Loaded | str] = {}
_JUDGE_CACHE: dict[str, Any] = {}


def render_source(original: Image.Image, source_edits: list[dict[str, Any]]) -> Image.Image:
    """The source of a pair: ``original`` (already resized) degraded by ``source_edits``.

    The base degradation is applied with seed 0 and rounded to 8 bits, so the stored source is
    exactly what the pair's edit was applied to (up to the storage codec).
    """
    if not source_edits:
        return original
    from redaes.edits import EditChain

    return tensor_to_pil(EditChain(source_edits)(pil_to_tensor(original), 0))


def _load_source(
    spec: BuildSpec, idx: int, base: tuple[tuple[str, float], ...] = ()
) -> _Loaded | str:
    if base:  # a degraded copy serves one unit only: derived from the cached original, not kept
        plain = _load_source(spec, idx)
        if isinstance(plain, str):
            return plain
        img = render_source(plain.image, [{"op": op, "strength": s} for op, s in base])
        return _Loaded(img, pil_to_tensor(img), _encode(spec, img))
    src = spec.sources[idx]
    p = spec.plan
    key = (spec.root, src.path, src.sha256, p.max_side, p.image_format, p.jpeg_quality)
    if key not in _SOURCE_CACHE:
        if len(_SOURCE_CACHE) > 64:
            _SOURCE_CACHE.clear()
        try:
            img = resize_long_side(load_image(Path(spec.root) / src.path), spec.plan.max_side)
            _SOURCE_CACHE[key] = _Loaded(img, pil_to_tensor(img), _encode(spec, img))
        except ImageLoadError as exc:
            log.warning("skipping source %s", exc)
            _SOURCE_CACHE[key] = str(exc)
    return _SOURCE_CACHE[key]


def _encode(spec: BuildSpec, img: Image.Image) -> bytes:
    return encode_image(img, spec.plan.image_format.upper(), spec.plan.jpeg_quality)


def create_judges(spec: BuildSpec) -> list[Any]:
    """The plan's judges, created once per process (plugins imported first)."""
    for module in spec.plugins:
        importlib.import_module(module)
    import redaes.judges as judges_pkg

    out = []
    for name in spec.plan.judges:
        if name not in _JUDGE_CACHE:
            _JUDGE_CACHE[name] = judges_pkg.create_judge(name)
        out.append(_JUDGE_CACHE[name])
    return out


def _judge_all(judge: Any, items: list[Any]) -> list[Any]:
    """``judge.judge_batch(items)``; a judge that raises gets a failed verdict on every pair."""
    from redaes.judges import JudgeResult

    try:
        results = list(judge.judge_batch(items))
        if len(results) != len(items):
            raise RuntimeError(f"returned {len(results)} verdicts for {len(items)} pairs")
        return results
    except Exception as exc:
        name = getattr(judge, "name", type(judge).__name__)
        log.warning("judge %s failed on a block: %s", name, exc)
        return [JudgeResult.failure(name, f"{type(exc).__name__}: {exc}") for _ in items]


def _render_unit(spec: BuildSpec, src: _Loaded, pairs: list[PlannedPair]) -> list[torch.Tensor]:
    """Edited tensors for the pairs of one unit (a chain of one op is one batched call)."""
    from redaes.edits import EditChain, create_edit

    first = pairs[0]
    if len(pairs) > 1 and len(first.steps) == 1:
        op = create_edit(first.steps[0][0])
        if not op.info.changes_size:
            n = len(pairs)
            batch = src.tensor.unsqueeze(0).expand(n, -1, -1, -1).contiguous()
            strengths = torch.tensor([p.steps[0][1] for p in pairs], dtype=torch.float32)
            out = op(batch, strengths, [p.seed for p in pairs])
            return list(out)
    return [EditChain(p.edits())(src.tensor, p.seed) for p in pairs]


def setup_generative(plan: PairPlan) -> None:
    """Register the ``gen:<id>`` ops and point them at the plan's pipeline (this process)."""
    from redaes.edits.generative import (
        StrengthMapping,
        configure_generative,
        register_generative_ops,
    )

    options = dict(plan.generative_options)
    adapter = str(options.pop("adapter", "auto"))
    register_generative_ops()
    mapping = StrengthMapping.from_dict(plan.generative_mapping)
    configure_generative(plan.generative_pipeline, mapping, adapter=adapter, **options)


def _guard(
    spec: BuildSpec, report: BlockReport, staged: list[tuple[PlannedPair, _Loaded, torch.Tensor]]
) -> tuple[list[tuple[PlannedPair, _Loaded, torch.Tensor]], dict[int, float]]:
    """Drop the generative pairs the content guard rejects; ``id(pp) -> ssim`` of the others."""
    from redaes.edits.generative import ContentGuard, is_generative

    guard = ContentGuard(spec.plan.guard_min_ssim, spec.plan.guard_side)
    kept, ssim = [], {}
    for pp, src, ed in staged:
        if any(is_generative(op) and s != 0 for op, s in pp.steps):
            ok, value = guard.check(src.tensor, ed)
            if not ok:
                report.guard_rejected += 1
                continue
            ssim[id(pp)] = value
        kept.append((pp, src, ed))
    return kept, ssim


def _count_judge_errors(report: BlockReport, results: list[Any]) -> None:
    for r in results:
        if not r.ok:
            key = f"{r.judge}: {r.error}"[:300]
            if key in report.judge_errors or len(report.judge_errors) < 10:
                report.judge_errors[key] = report.judge_errors.get(key, 0) + 1


def combine(results: list[Any], plan: PairPlan) -> tuple[float, float, bool, str]:
    """Consensus of the judges on one pair: ``(delta, delta_std, keep, reason)``.

    :func:`redaes.judges.consensus.aggregate` with the plan's ``min_judges``, ``sign_eps`` and
    ``require_sign_agreement``. ``reason`` is ``"disagree"`` for sign disagreements.
    """
    from redaes.judges.consensus import aggregate

    c = aggregate(
        results,
        min_judges=plan.min_judges,
        drop_sign_disagreement=plan.require_sign_agreement,
        eps=plan.sign_eps,
    )
    if c.delta is None or not c.kept:
        return 0.0, 0.0, False, "disagree" if c.n_ok and not c.agree else c.reason
    return float(c.delta), float(c.delta_std or 0.0), True, ""


def _prior_terms(results: list[Any]) -> list[dict[str, Any]] | None:
    """The measured terms behind a judge's verdict (the prior gives them), else ``None``."""
    for r in results:
        terms = r.extra.get("terms") if r.ok else None
        if isinstance(terms, list) and terms:
            return terms
    return None


def _judge_row(r: Any) -> dict[str, Any]:
    return {
        "judge": r.judge,
        "delta": r.delta,
        "confidence": float(r.confidence),
        "rationale": r.rationale,
        "source_score": r.source_score,
        "edited_score": r.edited_score,
        "ok": bool(r.ok),
        "error": r.error,
    }


def process_block(spec: BuildSpec, block: int) -> BlockReport:
    """Render, judge and write block ``block``; return its report (resumes a finished block)."""
    path = spec.block_path(block)
    done = read_block_report(path)
    if done is not None:
        done.resumed = True
        return done
    t0 = time.perf_counter()
    from redaes.edits import EditChain
    from redaes.judges import PairContext

    generative = bool(spec.plan.generative_pipeline)
    if generative:
        setup_generative(spec.plan)
    planner = Planner(spec.plan, list(spec.sources), spec.seed)
    planned = planner.plan_block(block)
    report = BlockReport(block=block, candidates=len(planned))
    units: dict[int, list[PlannedPair]] = {}
    for pp in planned:
        units.setdefault(pp.unit, []).append(pp)
    staged_t: list[tuple[PlannedPair, _Loaded, torch.Tensor]] = []
    for pairs in units.values():
        src = _load_source(spec, pairs[0].source, pairs[0].base)
        if isinstance(src, str):
            report.render_failed += len(pairs)
            report.bad_sources.append(spec.sources[pairs[0].source].path)
            continue
        try:
            edited = _render_unit(spec, src, pairs)
        except Exception as exc:  # one odd image must not stop the build: counted, reported
            log.warning("render failed for unit %d (%s): %s", pairs[0].unit, pairs[0].edits(), exc)
            report.render_failed += len(pairs)
            continue
        staged_t.extend((pp, src, t) for pp, t in zip(pairs, edited, strict=True))
    ssim: dict[int, float] = {}
    if generative:
        staged_t, ssim = _guard(spec, report, staged_t)
    staged = [(pp, src, tensor_to_pil(t)) for pp, src, t in staged_t]
    items = [
        (
            src.image,
            ed,
            PairContext(
                edits=EditChain(pp.edits()),
                source_id=spec.sources[pp.source].sha256,
                seed=pp.seed,
                meta={"source_path": spec.sources[pp.source].path}
                | ({"source_edits": pp.source_edits()} if pp.base else {}),
            ),
        )
        for pp, src, ed in staged
    ]
    verdicts = [_judge_all(judge, items) for judge in create_judges(spec)] if items else []
    rows: list[dict[str, Any]] = []
    for i, (pp, src, ed) in enumerate(staged):
        results = [v[i] for v in verdicts]
        delta, std, keep, why = combine(results, spec.plan)
        if not keep:
            if why == "disagree":
                report.disagree += 1
            else:
                report.judge_failed += 1
                _count_judge_errors(report, results)
            continue
        if spec.plan.drop_uninformative and abs(delta) < std:
            report.uninformative += 1
            continue
        rationale = next(
            (r.rationale for r in results if r.ok and r.judge.startswith("vlm") and r.rationale),
            None,
        )
        source = spec.sources[pp.source]
        edited_bytes = _encode(spec, ed)
        extra: dict[str, Any] = {}
        if generative:  # the recorded instructions: re-render data, and named by the reasoning
            from redaes.edits.generative import generative_records

            records = generative_records(pp.edits(), pp.seed)
            for r in records:
                r["controls"] = json.dumps(r["controls"], sort_keys=True)
            extra = {"generative": records, "guard_ssim": ssim.get(id(pp))}
        text = reasoning.compose(
            src.observed(),
            reasoning.observe(_decoded(edited_bytes), faces=False),
            delta,
            std,
            seed=pp.seed,
            terms=_prior_terms(results),
            neutral_threshold=spec.plan.neutral_threshold,
            rationale=rationale,
            generative=extra.get("generative"),
        )
        pair_id = planner.pair_id(pp)
        ext = "jpg" if spec.plan.image_format.upper() == "JPEG" else "png"
        src_name = source.sha256[:16]
        if pp.base:  # a degraded copy: its own file name
            src_name += "-" + hashlib.sha256(repr(pp.base).encode()).hexdigest()[:8]
        rows.append(
            {
                "pair_id": pair_id,
                "source_id": source.sha256,
                "source_path": source.path,
                "split": source.split(spec.plan.split_ratios),
                "source_image": {"bytes": src.encoded, "path": f"{src_name}.{ext}"},
                "edited_image": {"bytes": edited_bytes, "path": f"{pair_id}.{ext}"},
                "edits": pp.edits(),
                "source_edits": pp.source_edits(),
                "seed": pp.seed,
                "chain_id": pp.chain_id,
                "chain_rank": pp.chain_rank,
                "judges": [_judge_row(r) for r in results],
                "delta": delta,
                "delta_std": std,
                "informative": bool(abs(delta) >= std),
                "reasoning": text,
                "width": ed.width,
                "height": ed.height,
                "unit": pp.unit,
                "member": pp.member,
            }
            | extra
        )
    report.kept = len(rows)
    report.bad_sources = sorted(set(report.bad_sources))
    report.seconds = time.perf_counter() - t0
    table = rows_to_table(rows, work=True, generative=generative)
    meta = dict(table.schema.metadata or {})
    meta[REPORT_KEY] = report.to_json().encode()
    write_table(table.replace_schema_metadata(meta), path)
    return report


def read_block_report(path: Path) -> BlockReport | None:
    """The report stored in a complete block file, or ``None`` (missing or corrupt -> deleted)."""
    if not path.exists():
        return None
    try:
        meta = pq.read_schema(path).metadata or {}
        data = json.loads(meta[REPORT_KEY])
        report = BlockReport(**data)
        if pq.read_metadata(path).num_rows != report.kept:
            raise ValueError("row count does not match the report")
        return report
    except Exception:  # any unreadable block is redone
        path.unlink(missing_ok=True)
        return None
