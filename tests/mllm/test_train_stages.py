"""``redaes train mllm``: SFT and GRPO stages end to end on a tiny Qwen2-VL (CPU, few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.mllm.train_helpers import write_config

from redaes.cli import main
from redaes.errors import ConfigError
from redaes.mllm.config import StageConfig, load_stage_config
from redaes.mllm.train import check_vllm, training_args


def _weights(path: Path) -> dict[str, object]:
    from safetensors.torch import load_file

    return dict(load_file(str(path / "model.safetensors")))


def _log(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_stage1_sft_changes_weights_and_resumes(
    tiny_mllm: Path, exports: Path, tmp_path: Path
) -> None:
    import torch

    out = tmp_path / "run1"
    cfg = write_config(tmp_path / "s1.yaml", 1, tiny_mllm, exports / "s1", out)
    assert main(["train", "mllm", "--stage", "1", "--config", str(cfg)]) == 0
    before, after = _weights(tiny_mllm), _weights(out)
    changed = [k for k in before if "q_proj.weight" in k and not torch.equal(before[k], after[k])]
    assert changed  # the merged LoRA update moved the attention projections
    assert [r["step"] for r in _log(out) if "loss" in r] == [1, 2]
    assert main(["train", "mllm", "--stage", "1", "-c", str(cfg), "--set", "max_steps=3"]) == 0
    info = json.loads((out / "redaes_mllm.json").read_text())
    assert info["global_step"] == 3 and info["resumed_from"].endswith("checkpoint-2")
    assert [r["step"] for r in _log(out) if "loss" in r] == [1, 2, 3]


@pytest.mark.parametrize(("stage", "reward"), [(2, "pair_delta"), (3, "ranking_consistency")])
def test_grpo_stage_logs_rewards_and_reloads(
    tiny_mllm: Path, exports: Path, tmp_path: Path, stage: int, reward: str
) -> None:
    import torch
    from PIL import Image

    from redaes.mllm.assessor import MllmAssessor

    out = tmp_path / f"run{stage}"
    cfg = write_config(
        tmp_path / "g.yaml", stage, tiny_mllm, exports / f"s{stage}", out, lora={"enabled": False}
    )
    assert main(["train", "mllm", "--stage", str(stage), "--config", str(cfg)]) == 0
    rows = [r for r in _log(out) if "reward" in r]
    assert len(rows) == 2
    assert all("rewards/format/mean" in r and f"rewards/{reward}/mean" in r for r in rows)
    # a random model never writes the format: equal rewards, zero advantages, no update
    # (test_grpo_learns shows the update once the rewards differ)
    assert all(r["rewards/format/mean"] == 0.0 and r["frac_reward_zero_std"] == 1.0 for r in rows)
    before, after = _weights(tiny_mllm), _weights(out)
    assert all(torch.equal(before[k], after[k]) for k in before)  # type: ignore[arg-type]
    scorer = MllmAssessor(out, mode="fast", min_pixels=3136, max_pixels=3136)
    (score,) = scorer.score([Image.new("RGB", (64, 64), "red")])
    assert 0.0 <= score <= 10.0


def test_config_checks(tmp_path: Path) -> None:
    cfg = load_stage_config(
        Path("configs/mllm/stage3.yaml"), sets=["lora.r=8", "max_steps=5", "use_vllm=true"]
    )
    assert cfg.lora.r == 8 and cfg.lora.alpha == 128 and cfg.max_steps == 5
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(ConfigError, match="needs vLLM installed"):
            check_vllm(cfg)
    with pytest.raises(ConfigError, match="multiple of num_generations"):
        training_args(StageConfig(stage=2, batch_size=3, grad_accum=1, num_generations=2))
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_stage_config(Path("configs/mllm/stage1.yaml"), sets=["oops"])
