"""Restoration pairs: a degraded source and the edit that undoes it (balanced directions)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from redaes.data import RedPair, load_red
from redaes.edits import EditChain
from redaes.errors import ConfigError, UnknownNameError
from redaes.imageio import load_image, pil_to_tensor, resize_long_side, tensor_to_pil
from redaes.judges import PairContext
from redaes.judges.prior import PriorJudge
from redaes.pairs import build
from redaes.pairs.plan import PairPlan, Planner, Source
from redaes.pairs.reasoning import direction
from redaes.pairs.restore import RESTORE_FRACTION, RESTORE_RANGES, RESTORE_SCALE
from tests.pairs.conftest import fast_plan

SOURCES = [Source(f"img{i}.jpg", f"{i:02x}" * 32) for i in range(7)]
WORDS = {"improve": "raises", "degrade": "lowers", "neutral": "barely changes"}

# Captured from the planner before restoration units existed (commit 5811668): fingerprint and
# (pair_id, steps, seed) of the first pairs of fast_plan() with seed 3 on SOURCES.
HEAD_FINGERPRINT = "d0c4d7c8dc18"
HEAD_PAIRS = [
    ("ce9c89468bef64f5d3cf", (("crop_thirds", 0.23),), 713397379),
    ("5fb323ef63db0908eaf6", (("exposure", -0.6079),), 1842640226),
    ("c8ee7cac895b8272b2e0", (("contrast", -0.2376),), 137850667),
    ("2b9ba0ab0f72687ad8e6", (("saturation", -0.9138),), 1760059049),
    (
        "f61f40db4be0d02ea419",
        (("gaussian_blur", 0.772), ("contrast", -0.8312), ("exposure", 0.2911)),
        845193369,
    ),
]


def test_restore_prob_zero_plans_exactly_as_before() -> None:
    planner = Planner(fast_plan(restore_prob=0.0), SOURCES, seed=3)
    assert planner.fingerprint == HEAD_FINGERPRINT
    pps = [pp for u in range(60) for pp in planner.plan_unit(u)]
    assert all(pp.base == () and pp.source_edits() == [] for pp in pps)
    got = {planner.pair_id(pp): (pp.steps, pp.seed) for pp in pps}
    for pid, steps, seed in HEAD_PAIRS:
        assert got[pid] == (steps, seed)


def test_plain_units_unchanged_by_restore_prob() -> None:
    off = Planner(fast_plan(restore_prob=0.0), SOURCES, seed=3)
    on = Planner(fast_plan(restore_prob=0.5), SOURCES, seed=3)
    n_restored = 0
    for u in range(80):
        a, b = off.plan_unit(u), on.plan_unit(u)
        if b[0].base:
            n_restored += 1
        else:  # a plain unit is planned from the same stream as before
            strip = [(pp.source, pp.steps, pp.seed, pp.chain_rank) for pp in a]
            assert strip == [(pp.source, pp.steps, pp.seed, pp.chain_rank) for pp in b]
    assert 20 < n_restored < 60


def test_restoration_units_undo_their_base() -> None:
    plan = fast_plan(restore_prob=1.0, ops={}, chain_length=4, chain_prob=0.3)
    planner = Planner(plan, SOURCES, seed=1)
    fractions, chains = [], 0
    for u in range(200):
        unit = planner.plan_unit(u)
        assert len({pp.base for pp in unit}) == 1 and len({pp.source for pp in unit}) == 1
        ((op, base),) = unit[0].base
        assert op in RESTORE_RANGES
        assert any(lo <= base <= hi for lo, hi in RESTORE_RANGES[op])
        for pp in unit:
            ((fix_op, s),) = pp.steps
            assert fix_op == op and s * base < 0 and abs(s) <= 1.0
            f = abs(s) / (abs(base) * RESTORE_SCALE.get(op, 1.0))
            lo, hi = RESTORE_FRACTION
            assert lo - 1e-3 <= f <= hi + 1e-3 or abs(s) in (plan.min_abs_strength, 1.0)
            fractions.append(f)
        if len(unit) > 1:
            chains += 1
            strengths = [pp.steps[0][1] for pp in unit]
            assert strengths == sorted(strengths) and len(set(strengths)) == len(unit)
            assert [pp.chain_rank for pp in unit] == list(range(len(unit)))
    assert chains > 20
    assert min(fractions) < 0.9 and max(fractions) > 1.1  # partial undo and overshoot both occur


def test_restore_ops_validation_and_filtering() -> None:
    with pytest.raises(ConfigError, match=r"gaussian_blur.*not a signed op"):
        Planner(fast_plan(restore_ops=["gaussian_blur"]), SOURCES, 0)
    with pytest.raises(UnknownNameError, match="exposure"):
        Planner(fast_plan(restore_ops=["exposur"]), SOURCES, 0)
    with pytest.raises(ConfigError, match="restore_prob"):
        PairPlan(restore_prob=1.5)
    # only the plan's ops can be restoration ops; none left = no restoration units
    planner = Planner(fast_plan(restore_prob=1.0), SOURCES, 0)
    assert planner.restore_names == ["contrast", "exposure", "saturation"]
    blur_only = Planner(fast_plan(restore_prob=1.0, ops={"gaussian_blur": 1.0}), SOURCES, 0)
    assert all(not pp.base for u in range(20) for pp in blur_only.plan_unit(u))


@pytest.fixture(scope="module")
def balanced(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    """The same prior-judged build with restore_prob 0 and 0.5."""
    out = {}
    for rp in (0.0, 0.5):
        folder = tmp_path_factory.mktemp("bal") / f"r{rp}"
        build(photos, folder, 30, fast_plan(judges=["prior"], ops={}, restore_prob=rp), seed=5)
        out[rp] = folder
    return out


def _pairs(folder: Path) -> list[RedPair]:
    return list(load_red(folder))


def test_restorations_add_improvements(balanced: dict[float, Path]) -> None:
    counts = {}
    for rp, folder in balanced.items():
        pairs = _pairs(folder)
        counts[rp] = sum(direction(p.delta) == "improve" for p in pairs)
        n_restored = sum(p.is_restoration for p in pairs)
        assert (n_restored == 0) == (rp == 0.0)
    assert counts[0.5] > counts[0.0] and counts[0.5] > 0
    restored = [p for p in _pairs(balanced[0.5]) if p.is_restoration]
    improved = sum(direction(p.delta) == "improve" for p in restored)
    assert improved >= len(restored) / 3


def test_restoration_rows_rerender_exactly(balanced: dict[float, Path], photos: Path) -> None:
    restored = [p for p in _pairs(balanced[0.5]) if p.is_restoration]
    assert restored
    for pair in restored:
        src = resize_long_side(load_image(photos / pair.source_path), 96)
        src = tensor_to_pil(EditChain(pair.source_edits)(pil_to_tensor(src), 0))
        sdiff = np.abs(np.asarray(src, float) - np.asarray(pair.source_image, float)).mean()
        assert sdiff < 3.0  # only the JPEG q95 rounding
        again = tensor_to_pil(EditChain(pair.edits)(pil_to_tensor(src), pair.seed))
        assert again.size == pair.edited_image.size
        diff = np.abs(np.asarray(again, float) - np.asarray(pair.edited_image, float)).mean()
        assert diff < 3.0


def test_source_id_is_the_original_and_splits_do_not_leak(
    balanced: dict[float, Path], photos: Path
) -> None:
    shas = {hashlib.sha256(f.read_bytes()).hexdigest() for f in photos.glob("*.jpg")}
    by_source: dict[str, set[str]] = {}
    for p in _pairs(balanced[0.5]):
        assert p.source_id in shas
        assert p.source_id == hashlib.sha256((photos / p.source_path).read_bytes()).hexdigest()
        by_source.setdefault(p.source_id, set()).add(p.split)
    assert all(len(s) == 1 for s in by_source.values())


def test_reasoning_sign_and_degraded_source(balanced: dict[float, Path]) -> None:
    for p in _pairs(balanced[0.5]):
        expected = WORDS[direction(p.delta, 0.1)]
        assert f"Overall the edit {expected}" in p.reasoning, p.reasoning
        assert all(
            f"Overall the edit {w}" not in p.reasoning for w in set(WORDS.values()) - {expected}
        )
        # the text never says how the source was made (that would give the answer away)
        assert "degraded" not in p.reasoning and "original" not in p.reasoning
        if p.is_restoration:
            assert EditChain(p.source_edits).describe()[0] not in p.reasoning


def test_summary_counts_restorations(balanced: dict[float, Path]) -> None:
    import json

    for folder in balanced.values():
        summary = json.loads((folder / "build_state.json").read_text())["summary"]
        assert summary["restoration_pairs"] == sum(p.is_restoration for p in _pairs(folder))
        assert (
            f'"restoration_pairs": {summary["restoration_pairs"]}'
            in (folder / "README.md").read_text()
        )


def test_old_datasets_without_the_column_still_load(
    balanced: dict[float, Path], tmp_path: Path
) -> None:
    old = tmp_path / "old"
    (old / "data").mkdir(parents=True)
    for f in (balanced[0.0] / "data").glob("*.parquet"):
        pq.write_table(pq.read_table(f).drop_columns(["source_edits"]), old / "data" / f.name)
    pairs = _pairs(old)
    assert len(pairs) == 30 and all(p.source_edits == [] and not p.is_restoration for p in pairs)


def _prior_delta(src: Image.Image, edits: list[str], base: list[dict[str, object]]) -> float:
    chain = EditChain(edits)
    edited = tensor_to_pil(chain(pil_to_tensor(src), 0))
    ctx = PairContext(edits=chain, meta={"source_edits": base} if base else {})
    return float(PriorJudge().judge(src, edited, ctx).delta)


@pytest.mark.parametrize(
    ("op", "base", "fix"),
    [
        ("exposure", -0.6, 0.6),
        ("exposure", 0.7, -0.6),
        ("saturation", -0.7, 0.7),
        ("temperature", 0.7, -0.7),
        ("haze", 0.7, -0.6),
    ],
)
def test_prior_scores_measured_restorations_as_improvements(
    small_photo: Image.Image, op: str, base: float, fix: float
) -> None:
    photo = small_photo
    degraded = tensor_to_pil(EditChain([f"{op}={base}"])(pil_to_tensor(photo), 0))
    # the stats alone decide: no base recorded in the context
    assert _prior_delta(degraded, [f"{op}={fix}"], []) > 0.1
    assert _prior_delta(photo, [f"{op}={base}"], []) < -0.1  # the degradation itself hurts


@pytest.mark.parametrize(("op", "base", "fix"), [("rotate", 0.5, -0.5), ("vignette", 0.8, -0.6)])
def test_prior_uses_the_recorded_base_for_strength_only_rules(
    small_photo: Image.Image, op: str, base: float, fix: float
) -> None:
    degraded = tensor_to_pil(EditChain([f"{op}={base}"])(pil_to_tensor(small_photo), 0))
    recorded = [{"op": op, "strength": base}]
    with_record = _prior_delta(degraded, [f"{op}={fix}"], recorded)
    assert with_record > 0.5
    # without the record the pixels alone decide (prior 2.0 is content-aware, so an undone tilt
    # or vignette may already earn credit): the recorded original only adds to it
    assert with_record > _prior_delta(degraded, [f"{op}={fix}"], [])
    assert _prior_delta(degraded, [f"{op}={-fix}"], recorded) < 0  # degrading further hurts


def test_prior_credits_removing_a_recorded_veil(small_photo: Image.Image) -> None:
    hazy = tensor_to_pil(EditChain(["haze=0.7"])(pil_to_tensor(small_photo), 0))
    recorded = [{"op": "haze", "strength": 0.7}]
    gains = [_prior_delta(hazy, [f"haze={fix}"], recorded) for fix in (-0.2, -0.4, -0.6)]
    assert all(g > 0 for g in gains), gains
    assert gains[0] < gains[-1], gains  # lifting more of the recorded veil earns more
