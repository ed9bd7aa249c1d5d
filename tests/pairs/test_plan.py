"""The pair plan: YAML config, determinism, strengths, chains and splits."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from redaes.errors import ConfigError, UnknownNameError
from redaes.pairs.plan import _GENERATIVE_FIELDS, PairPlan, Planner, Source
from tests.pairs.conftest import fast_plan

SOURCES = [Source(f"img{i}.jpg", f"{i:02x}" * 32) for i in range(7)]


def test_yaml_round_trip(tmp_path: Path) -> None:
    plan = fast_plan(chain_length=4)
    f = tmp_path / "plan.yaml"
    f.write_text(plan.to_yaml())
    again = PairPlan.from_yaml(f)
    assert again == plan
    assert again.fingerprint() == plan.fingerprint()


def test_yaml_unknown_key_names_the_key(tmp_path: Path) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text("max_side: 256\nstrenghts: [0.5]\n")
    with pytest.raises(ConfigError, match="strenghts") as exc:
        PairPlan.from_yaml(f)
    assert str(f) in str(exc.value)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"split_ratios": {"train": 0.9, "test": 0.3}}, "split_ratios"),
        ({"min_abs_strength": 0.8, "max_abs_strength": 0.5}, "min_abs_strength"),
        ({"chain_prob": 1.5}, "chain_prob"),
        ({"image_format": "GIF"}, "image_format"),
    ],
)
def test_invalid_fields(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        PairPlan.from_dict(changes)


def test_unknown_op_suggests() -> None:
    with pytest.raises(UnknownNameError, match="exposure"):
        Planner(PairPlan(ops={"exposur": 1.0}), SOURCES, 0)


def test_plan_is_pure_function_of_unit() -> None:
    a = Planner(fast_plan(), SOURCES, seed=3)
    b = Planner(fast_plan(), SOURCES, seed=3)
    forward = [a.plan_unit(u) for u in range(40)]
    backward = [b.plan_unit(u) for u in reversed(range(40))][::-1]
    assert forward == backward
    other = Planner(fast_plan(), SOURCES, seed=4)
    assert [other.plan_unit(u) for u in range(40)] != forward


def test_strengths_respect_minimum_and_both_signs() -> None:
    plan = fast_plan(chain_length=0, multi_op_prob=0.5, min_abs_strength=0.3)
    planner = Planner(plan, SOURCES, seed=0)
    steps = [s for u in range(300) for pp in planner.plan_unit(u) for s in pp.steps]
    assert all(0.3 - 1e-9 <= abs(s) <= 1.0 for _, s in steps)
    signed = [s for op, s in steps if op == "exposure"]
    assert min(signed) < 0 < max(signed)
    # unsigned ops never get a negative strength
    assert all(s > 0 for op, s in steps if op in ("gaussian_blur", "crop_thirds"))
    assert {len(pp.steps) for u in range(300) for pp in planner.plan_unit(u)} >= {1, 2}


def test_per_op_strength_spans_and_sign_preferences() -> None:
    plan = fast_plan(
        chain_length=0,
        multi_op_prob=0.0,
        restore_prob=0.0,
        op_strength={"exposure": [0.1, 0.2]},
        op_positive_prob={"exposure": 0.9},
    )
    steps = [
        s for u in range(400) for pp in Planner(plan, SOURCES, 0).plan_unit(u) for s in pp.steps
    ]
    exposure = [s for op, s in steps if op == "exposure"]
    assert exposure and all(0.1 - 1e-9 <= abs(s) <= 0.2 + 1e-9 for s in exposure)
    assert 0.8 < sum(s > 0 for s in exposure) / len(exposure) < 0.98
    # other ops keep the global span
    assert all(0.15 - 1e-9 <= abs(s) <= 1.0 for op, s in steps if op != "exposure")
    assert any(abs(s) > 0.5 for op, s in steps if op != "exposure")


def test_default_plan_is_balanced_by_design_and_fields_are_checked() -> None:
    plan = PairPlan()
    # pure damage is sampled less than the ops that can correct a photo
    assert plan.ops["gaussian_blur"] < plan.ops["sharpen"]
    assert plan.op_positive_prob["sharpen"] > 0.5 > plan.op_positive_prob["haze"]
    with pytest.raises(ConfigError, match="op_strength"):
        PairPlan(op_strength={"exposure": [0.5, 0.2]})
    with pytest.raises(ConfigError, match="op_positive_prob"):
        PairPlan(op_positive_prob={"exposure": 1.5})
    with pytest.raises(UnknownNameError, match="exposure"):
        Planner(PairPlan(op_strength={"exposur": [0.1, 0.2]}), SOURCES, 0)
    # the new fields at their empty values leave the fingerprint of older plans unchanged
    data = fast_plan().to_dict()
    for k in ("op_strength", "op_positive_prob", "drop_uninformative", *_GENERATIVE_FIELDS):
        data.pop(k)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
    assert fast_plan().fingerprint() == digest
    assert fast_plan(drop_uninformative=True).fingerprint() != digest


def test_chains_have_sorted_ranks_of_one_op() -> None:
    planner = Planner(fast_plan(chain_length=4, chain_prob=1.0), SOURCES, seed=1)
    for u in range(30):
        chain = planner.plan_unit(u)
        assert len(chain) == 4
        assert len({pp.chain_id for pp in chain}) == 1
        assert len({pp.source for pp in chain}) == 1
        assert len({pp.steps[0][0] for pp in chain}) == 1
        strengths = [pp.steps[0][1] for pp in chain]
        assert [pp.chain_rank for pp in chain] == [0, 1, 2, 3]
        assert strengths == sorted(strengths) and len(set(strengths)) == 4


def test_grid_sampling_uses_the_grid() -> None:
    plan = fast_plan(strength_sampling="grid", strength_grid=[-0.5, 0.5], chain_length=0)
    planner = Planner(plan, SOURCES, seed=0)
    values = {s for u in range(50) for pp in planner.plan_unit(u) for _, s in pp.steps}
    assert values <= {-0.5, 0.5}


def test_sources_visited_evenly_and_pair_ids_unique() -> None:
    planner = Planner(fast_plan(chain_length=0), SOURCES, seed=0)
    pps = [pp for u in range(70) for pp in planner.plan_unit(u)]
    counts = [sum(pp.source == i for pp in pps) for i in range(len(SOURCES))]
    assert counts == [10] * len(SOURCES)
    assert len({planner.pair_id(pp) for pp in pps}) == len(pps)


def test_split_is_deterministic_and_follows_ratios() -> None:
    ratios = {"train": 0.7, "validation": 0.2, "test": 0.1}
    import hashlib

    srcs = [Source(str(i), hashlib.sha256(str(i).encode()).hexdigest()) for i in range(2000)]
    splits = [s.split(ratios) for s in srcs]
    assert splits == [s.split(ratios) for s in srcs]
    frac = {k: splits.count(k) / len(splits) for k in ratios}
    assert all(abs(frac[k] - ratios[k]) < 0.04 for k in ratios)
