"""Fixtures of the training tests: a tiny RED build judged by the brightness test judge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from redaes.pairs import build
from redaes.train.config import TrainConfig, load_config
from tests.pairs.conftest import fast_plan, make_photos

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "compact-default.yaml"


@pytest.fixture(scope="session")
def tiny_red(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 pairs of 8 small photos (train/validation/test by source), chains included."""
    root = tmp_path_factory.mktemp("red")
    photos = make_photos(root / "photos", n=8)
    out = root / "red"
    build(photos, out, 36, fast_plan(chain_prob=0.5), seed=3)
    return out


def tiny_sets(red: Path, out: Path, dropout: float = 0.1, **stage_kw: Any) -> list[str]:
    """``--set`` overrides that shrink the shipped recipe to the tiny CNN and a few steps."""
    sets = [
        f"data.root={red}",
        f"out_dir={out}",
        "progress=false",
        "threads=1",
        "model.backbone=tiny-cnn",
        "model.input_size=32",
        "model.scaling=unit",
        f"model.dropout={dropout}",
        "model.cache_trunk=false",
        "augment.views=0",
    ]
    for stage in (1, 2, 3):
        base = {
            "steps": 6,
            "batch_size": 4,
            "lr": 0.01,
            "warmup_steps": 2,
            "log_every": 1,
            "eval_every": 3,
            "ckpt_every": 3,
            "backbone_lr_mult": 1.0,
            "groups_per_batch": 2,
            "group_size": 4,
        }
        base.update(stage_kw)
        sets += [f"stages.{stage}.{k}={v}" for k, v in base.items()]
    return sets


def tiny_config(red: Path, out: Path, **stage_kw: Any) -> TrainConfig:
    """The shipped recipe shrunk to the tiny CNN and a few steps per stage."""
    return load_config(CONFIG, tiny_sets(red, out, **stage_kw))
