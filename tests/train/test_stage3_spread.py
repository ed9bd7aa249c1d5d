"""Stage 3 keeps the predicted spread honest: ``freeze_std_head`` and ``nll_weight``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import redaes.train.loop as loop
from redaes.errors import ConfigError
from redaes.train import load_config, losses, train_compact
from redaes.train.config import StageConfig
from redaes.train.data import load_pairs
from redaes.train.report import read_log
from tests.train.conftest import CONFIG, tiny_config


def test_options_default_off_and_shipped_recipe_freezes_the_std_head():
    assert StageConfig().freeze_std_head is False and StageConfig().nll_weight == 0.0
    cfg = load_config(CONFIG)
    assert cfg.stages[3].freeze_std_head is True
    assert not cfg.stages[1].freeze_std_head and not cfg.stages[2].freeze_std_head
    assert load_config(CONFIG, ["stages.3.nll_weight=0.5"]).stages[3].nll_weight == 0.5
    with pytest.raises(ConfigError, match="nll_weight must be >= 0"):
        load_config(CONFIG, ["stages.3.nll_weight=-1"])


def test_group_delta_nll_pairs_each_edit_with_its_groups_source():
    mu = torch.tensor([5.0, 6.0, 4.0, 3.0, 3.5])
    sd = torch.tensor([0.5, 0.4, 0.3, 0.2, 0.6])
    tgt = torch.tensor([0.0, 0.8, -1.2, 0.0, 0.1])  # edits' targets: delta against the source
    is_src = [True, False, False, True, False]
    w = torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0])
    got = losses.group_delta_nll(mu, sd, tgt, is_src, w)
    d = torch.tensor([1.0, -1.0, 0.5])
    v = torch.tensor([0.25 + 0.16, 0.25 + 0.09, 0.04 + 0.36])
    want = losses.delta_nll(d, v, torch.tensor([0.8, -1.2, 0.1]), torch.tensor([1.0, 2.0, 1.0]))
    assert math.isclose(float(got), float(want), rel_tol=1e-6)
    by_hand = [
        0.5 * (math.log(vi) + (di - ti) ** 2 / vi)
        for vi, di, ti in zip([0.41, 0.34, 0.40], [1.0, -1.0, 0.5], [0.8, -1.2, 0.1], strict=True)
    ]
    assert math.isclose(float(got), (by_hand[0] + 2 * by_hand[1] + by_hand[2]) / 4, rel_tol=1e-5)
    assert float(losses.group_delta_nll(mu[:1], sd[:1], tgt[:1], [True], w[:1])) == 0.0


def _stage3_loss(tiny_red, tmp_path, **kw):
    cfg = tiny_config(tiny_red, tmp_path / "l", dropout=0.0, freeze_std_head=False)
    for k, v in kw.items():
        setattr(cfg.stages[3], k, v)
    data = load_pairs(tiny_red, "train", 37)
    net = loop.build_net(cfg, 3, None)
    train_in, _ = loop.pixel_inputs(cfg, data, None)
    loop.set_train_mode(net, cfg.model.freeze_bn)
    torch.manual_seed(0)
    net.head.weight.data.normal_(0.0, 0.1)  # a head that depends on the features
    loss, parts = loop.stage_loss(
        net, 3, data, train_in, cfg, cfg.stages[3], np.random.default_rng([0, 3, 0])
    )
    loss.backward()
    assert net.head.weight.grad is not None
    return loss.detach(), parts, net.head.weight.grad.clone()


def test_nll_term_enters_the_stage3_loss(tiny_red, tmp_path):
    base, p0, _ = _stage3_loss(tiny_red, tmp_path, nll_weight=0.0)
    with_nll, p1, _ = _stage3_loss(tiny_red, tmp_path, nll_weight=0.7)
    assert "nll" not in p0 and abs(p1["nll"]) > 1e-3
    assert math.isclose(p1["main"], p0["main"] + 0.7 * p1["nll"], rel_tol=1e-5)
    assert math.isclose(float(with_nll), float(base) + 0.7 * p1["nll"], rel_tol=1e-5)


def test_frozen_std_gets_no_gradient_from_the_ranking_loss(tiny_red, tmp_path):
    _, _, free = _stage3_loss(tiny_red, tmp_path, freeze_std_head=False)
    _, _, frozen = _stage3_loss(tiny_red, tmp_path, freeze_std_head=True, nll_weight=1.0)
    assert float(free[1].abs().sum()) > 0  # the ranking loss moves the std head...
    assert float(frozen[1].abs().sum()) == 0.0  # ...unless it is frozen (NLL too)
    assert float(frozen[0].abs().sum()) > 0  # the score head still learns


@pytest.mark.parametrize("freeze", [True, False])
def test_stage3_std_head_unchanged_when_frozen(tiny_red, tmp_path, freeze):
    out = tmp_path / str(freeze)
    cfg = tiny_config(tiny_red, out, steps=4, eval_every=2)
    cfg.stages[3].freeze_std_head = freeze
    cfg.stages[3].weight_decay = 0.1  # decay alone would move a parameter with zero gradient
    train_compact(cfg, stages=[1, 2, 3])
    before = load_file(str(out / "stage2" / "model.safetensors"))
    after = load_file(str(out / "stage3" / "model.safetensors"))
    same_std = torch.equal(before["head.weight"][1], after["head.weight"][1]) and torch.equal(
        before["head.bias"][1], after["head.bias"][1]
    )
    assert same_std is freeze
    assert not torch.equal(before["head.weight"][0], after["head.weight"][0])  # score trains
    val = [r["val"] for r in read_log(out / "stage3" / "log.jsonl") if "val" in r]
    assert val and all(0.0 <= v["cover68"] <= v["cover95"] <= 1.0 for v in val)
