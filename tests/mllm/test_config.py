"""Stage configs: the shipped YAMLs load, every field has help, bad keys are one-line errors."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from redaes.errors import ConfigError
from redaes.mllm.config import LoraSettings, StageConfig, load_stage_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "mllm"


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_shipped_configs_load(stage: int) -> None:
    config = load_stage_config(CONFIGS / f"stage{stage}.yaml")
    assert config.stage == stage and config.lora.enabled and config.lora.r == 64
    assert not config.allow_download


def test_every_field_has_help() -> None:
    for cls in (StageConfig, LoraSettings):
        assert all(f.metadata.get("help") for f in fields(cls))


def test_overrides_and_errors(tmp_path: Path) -> None:
    config = load_stage_config(CONFIGS / "stage3.yaml", max_steps=2, data="x")
    assert config.max_steps == 2 and config.data == "x"
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: 3\nlearning_rate: 1\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_stage_config(bad)
    bad.write_text("stage: 2\nnum_generations: 1\n")
    with pytest.raises(ConfigError, match="num_generations"):
        load_stage_config(bad)
    bad.write_text("stage: 3\nlora: {rank: 8}\n")
    with pytest.raises(ConfigError, match="lora"):
        load_stage_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_stage_config(tmp_path / "missing.yaml")
