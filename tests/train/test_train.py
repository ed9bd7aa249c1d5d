"""Compact training on a tiny RED build with the tiny CNN: learning, determinism, exact resume."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import redaes.train.evaluate as evaluate
import redaes.train.loop as loop
from redaes.errors import ConfigError
from redaes.models import CompactAssessor, load_assessor, read_config
from redaes.train import load_config, losses, train_compact
from redaes.train.config import AugmentConfig, StageConfig
from redaes.train.data import load_pairs, paired_view
from redaes.train.inputs import PixelInputs
from redaes.train.report import read_log
from tests.train.conftest import CONFIG, tiny_config


def _losses(log: Path) -> list[float]:
    return [r["loss"] for r in read_log(log) if "loss" in r]


def test_shipped_config_parses_and_rejects_unknown_keys(tmp_path):
    cfg = load_config(CONFIG)
    assert cfg.model.backbone == "efficientnet-lite0" and cfg.stages[3].reward == "fidelity-delta"
    with pytest.raises(ConfigError, match="unknown keys"):
        load_config(CONFIG, ["model.bakbone=x"])
    with pytest.raises(ConfigError, match="stage"):
        load_config(CONFIG, ["stages.4.steps=1"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [1, 2")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad)
    assert load_config(CONFIG, ["stages.2.steps=7"]).stages[2].steps == 7


def test_lr_schedule_warmup_then_cosine():
    sc = StageConfig(steps=100, lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    lrs = [loop.lr_at(t, sc) for t in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:]))
    assert lrs[-1] == pytest.approx(0.1, abs=0.01)


def test_paired_augmentation_same_box_and_flip(tiny_red):
    data = load_pairs(tiny_red, "train", 40)
    imgs = data.images[[data.src[0], data.src[0]]]  # the same image twice
    rng = np.random.default_rng(0)
    out = paired_view(imgs, 32, rng, load_config(CONFIG).augment)
    assert out.shape == (2, 3, 32, 32) and torch.equal(out[0], out[1])
    assert len(data.groups) >= 2 and sum(len(p) for _, p in data.groups) == len(data)


def test_stage1_loss_decreases(tiny_red, tmp_path):
    cfg = tiny_config(tiny_red, tmp_path / "run", steps=60, eval_every=30, ckpt_every=60)
    train_compact(cfg, stages=[1])
    losses = _losses(tmp_path / "run" / "stage1" / "log.jsonl")
    assert len(losses) == 60
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 0.1
    val = [r["val"] for r in read_log(tmp_path / "run" / "stage1" / "log.jsonl") if "val" in r]
    assert val and {"direction_acc", "delta_srcc", "cover68", "ranking_reward"} <= set(val[-1])
    assert (tmp_path / "run" / "stage1" / "loss.png").stat().st_size > 1000


def test_three_stages_deterministic_and_loadable(tiny_red, tmp_path):
    a = train_compact(tiny_config(tiny_red, tmp_path / "a"))
    b = train_compact(tiny_config(tiny_red, tmp_path / "b"))
    ta, tb = load_file(str(a)), load_file(str(b))
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    for stage in (1, 2, 3):
        assert (tmp_path / "a" / f"stage{stage}" / "model.safetensors").is_file()
    cfg = read_config(a)
    assert cfg["recipe"]["stage"] == 3 and cfg["data"]["train"]["pairs"] > 0
    assert cfg["anchor"]["method"] == "median_of_train_sources"
    model = load_assessor(a)
    assert isinstance(model, CompactAssessor)
    # anchoring: the median score of the training sources is the anchor value
    data = load_pairs(tiny_red, "train", 32)
    s, _ = evaluate.predict(
        model.net, PixelInputs(data.images[[g for g, _ in data.groups]], 32, AugmentConfig())
    )
    assert float(s.median()) == pytest.approx(5.0, abs=1e-4)
    # a different seed gives different stage-1 weights
    other = dataclasses.replace(tiny_config(tiny_red, tmp_path / "c"), seed=1)
    c = train_compact(other, stages=[1])
    t1, tc = load_file(str(tmp_path / "a" / "stage1" / "model.safetensors")), load_file(str(c))
    assert not all(torch.equal(t1[k], tc[k]) for k in t1)


def test_exact_resume_after_interruption(tiny_red, tmp_path, monkeypatch):
    full = train_compact(tiny_config(tiny_red, tmp_path / "full"), stages=[1])
    real, calls = loop.stage_loss, {"n": 0}

    def dies_at_step_5(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "stage_loss", dies_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        train_compact(tiny_config(tiny_red, tmp_path / "cut"), stages=[1])
    monkeypatch.setattr(loop, "stage_loss", real)
    resumed = train_compact(tiny_config(tiny_red, tmp_path / "cut"), stages=[1])
    tf, tr = load_file(str(full)), load_file(str(resumed))
    assert all(torch.equal(tf[k], tr[k]) for k in tf)
    log_full = _losses(tmp_path / "full" / "stage1" / "log.jsonl")
    log_cut = _losses(tmp_path / "cut" / "stage1" / "log.jsonl")
    assert log_full == log_cut  # the log has no duplicated or missing steps either


def test_later_stage_needs_the_previous_one(tiny_red, tmp_path):
    with pytest.raises(ConfigError, match="run stage 2 first"):
        train_compact(tiny_config(tiny_red, tmp_path / "x"), stages=[3])


def test_changed_recipe_refuses_the_old_checkpoint(tiny_red, tmp_path):
    train_compact(tiny_config(tiny_red, tmp_path / "r"), stages=[1])
    with pytest.raises(ConfigError, match="different recipe"):
        train_compact(tiny_config(tiny_red, tmp_path / "r", lr=0.02), stages=[1])


def test_relabelled_data_refuses_the_old_checkpoint(tiny_red, tmp_path, monkeypatch):
    train_compact(tiny_config(tiny_red, tmp_path / "d"), stages=[1])
    real = loop.load_pairs

    def relabelled(*args, **kwargs):  # the same pairs judged by another teacher
        pt = real(*args, **kwargs)
        return dataclasses.replace(pt, fingerprint={**pt.fingerprint, "labels": "other"})

    monkeypatch.setattr(loop, "load_pairs", relabelled)
    with pytest.raises(ConfigError, match="different recipe or data"):
        train_compact(tiny_config(tiny_red, tmp_path / "d"), stages=[1])


def test_cli_train_compact_stage_by_stage(tiny_red, tmp_path, capsys):
    from redaes.cli import main

    out = tmp_path / "cli"
    small = [
        "--set",
        "model.backbone=tiny-cnn",
        "--set",
        "model.input_size=32",
        "--set",
        "progress=false",
        "--set",
        "threads=1",
    ]
    for stage in (1, 2, 3):
        small += ["--set", f"stages.{stage}.steps=3", "--set", f"stages.{stage}.batch_size=4"]
    args = ["train", "compact", "--config", str(CONFIG), "--data", str(tiny_red), "--out", str(out)]
    assert main([*args, "--stage", "3", *small]) == 2  # stage 2 has not run yet
    assert "run stage 2 first" in capsys.readouterr().err
    for stage in ("1", "2", "3"):
        assert main([*args, "--stage", stage, *small]) == 0
    assert read_config(out / "model.safetensors")["recipe"]["stage"] == 3
    assert (out / "stage3" / "log.jsonl").is_file()
    assert list((out / "trunk_cache").glob("train-*.pt"))  # the shipped recipe caches the trunk
    assert main([*args, "--stage", "4"]) == 2


def test_train_last_blocks_freezes_the_rest(tiny_red, tmp_path):
    import redaes.models.net as net_mod

    torch.manual_seed(0)
    cfg = tiny_config(tiny_red, tmp_path / "f", steps=4)
    cfg.model.train_last_blocks = 1
    out = train_compact(cfg, stages=[1])
    trained = load_file(str(out))
    torch.manual_seed(cfg.seed * 1009 + 1)  # the stage-1 initialisation
    init = net_mod.CompactNet(loop.model_config(cfg)).state_dict()
    first, last = "backbone.net.0.weight", "backbone.net.4.weight"
    assert torch.equal(trained[first], init[first])  # frozen
    assert not torch.equal(trained[last], init[last])  # the last block trained
    assert not torch.equal(trained["head.weight"], init["head.weight"])
    with pytest.raises(ConfigError, match="train_last_blocks"):
        load_config(CONFIG, ["model.train_last_blocks=-1"])


def _full_objective(net, data, cfg, stage):
    """Stage 2's Bradley-Terry loss or stage 3's ranking reward on ALL training pairs/groups."""
    sc = cfg.stages[stage]
    if stage == 3:
        return -evaluate.validate(net, data, PixelInputs(data.images, 32, cfg.augment), sc)[
            "ranking_reward"
        ]
    s, _ = evaluate.predict(net, PixelInputs(data.images, 32, cfg.augment))
    d = s[torch.from_numpy(data.edt)] - s[torch.from_numpy(data.src)]
    delta, w = torch.from_numpy(data.delta), torch.from_numpy(data.weight)
    return float(losses.bradley_terry(d, delta, w, sc.margin_scale, sc.margin_max, sc.tie_eps))


@pytest.mark.parametrize("learning_stage", [2, 3])
def test_pairwise_and_listwise_objectives_improve(tiny_red, tmp_path, learning_stage):
    cfg = tiny_config(tiny_red, tmp_path / "obj", steps=1, eval_every=100, ckpt_every=100)
    sc = cfg.stages[learning_stage]
    sc.steps, sc.warmup_steps, sc.lr = 80, 5, 0.03
    train_compact(cfg, stages=list(range(1, learning_stage + 1)))
    data = load_pairs(tiny_red, "train", 32)  # no augmentation
    prev = tmp_path / "obj" / f"stage{learning_stage - 1}" / "model.safetensors"
    before = _full_objective(load_assessor(prev).net, data, cfg, learning_stage)
    after = _full_objective(
        load_assessor(tmp_path / "obj" / "model.safetensors").net, data, cfg, learning_stage
    )
    assert after < before - 0.01
