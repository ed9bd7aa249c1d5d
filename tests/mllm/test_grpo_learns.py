"""GRPO stages 2 and 3 move the weights once the sampled rewards of a prompt differ.

A random tiny model never writes a parseable answer, so its rewards are all equal and GRPO's
advantages are zero (``test_train_stages`` shows that its weights then stay put). Here the
policy is :func:`~tests.mllm.train_helpers.format_writer`'s model: it answers in the format
with a uniformly random digit, so the rewards of a prompt's samples differ and the update is
not zero. Stage 2 trains LoRA adapters (merged into the saved model), stage 3 all weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.mllm.train_helpers import write_config

from redaes.cli import main


def _weights(path: Path) -> dict[str, object]:
    from safetensors.torch import load_file

    return dict(load_file(str(path / "model.safetensors")))


def _changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
    import torch

    assert before.keys() == after.keys()
    return [k for k in before if not torch.equal(before[k], after[k])]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stage", "reward", "lora"),
    [(2, "pair_delta", True), (3, "ranking_consistency", False)],
)
def test_grpo_moves_weights_when_rewards_differ(
    format_mllm: Path, exports: Path, tmp_path: Path, stage: int, reward: str, lora: bool
) -> None:
    out = tmp_path / f"run{stage}"
    cfg = write_config(
        tmp_path / "g.yaml",
        stage,
        format_mllm,
        exports / f"s{stage}",
        out,
        max_completion_length=8,
        save_steps=10,
        lora={"enabled": lora, "r": 4, "alpha": 8, "dropout": 0.0},
    )
    assert main(["train", "mllm", "--stage", str(stage), "--config", str(cfg)]) == 0
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "reward" in r]
    assert len(rows) == 2
    # (c) both reward columns are logged, and every sample parsed (the format reward is 1)
    assert all(r["rewards/format/mean"] == 1.0 for r in rows)
    assert all(r[f"rewards/{reward}/mean"] is not None for r in rows)
    # (a) the samples of a prompt got different rewards: non-zero advantages
    assert any(r["frac_reward_zero_std"] < 1.0 for r in rows)
    assert any(r["reward_std"] > 0.0 and r[f"rewards/{reward}/std"] > 0.0 for r in rows)
    # (b) the update moved trainable weights
    changed = _changed(_weights(format_mllm), _weights(out))
    if lora:  # only the adapted projections can change; merged into the saved weights
        assert changed and all(k.rsplit(".", 2)[-2].endswith("_proj") for k in changed)
        assert any("q_proj" in k for k in changed) and any("o_proj" in k for k in changed)
    else:
        assert "lm_head.weight" in changed and len(changed) > 10
