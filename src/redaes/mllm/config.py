"""Dataclass configs of the three MLLM training stages (one YAML per stage).

Every field carries ``metadata={"help": ...}``; :func:`load_stage_config` rejects unknown
keys with a one-line :class:`~redaes.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from redaes.errors import ConfigError


@dataclass
class LoraSettings:
    """LoRA adapter (peft) settings; ``enabled: false`` means full fine-tuning."""

    enabled: bool = field(default=True, metadata={"help": "Train LoRA adapters (peft)."})
    r: int = field(default=64, metadata={"help": "LoRA rank."})
    alpha: int = field(default=128, metadata={"help": "LoRA alpha."})
    dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        metadata={"help": "Module names of the language model that get adapters."},
    )


@dataclass
class StageConfig:
    """One training stage: model, data, optimisation and (GRPO) sampling settings."""

    stage: int = field(default=1, metadata={"help": "1 SFT, 2 pairwise GRPO, 3 ranking GRPO."})
    model: str = field(default="", metadata={"help": "Local model directory (or cached hub id)."})
    data: str = field(default="", metadata={"help": "Dataset from `redaes mllm export`."})
    out_dir: str = field(default="runs/mllm", metadata={"help": "Checkpoint folder."})
    allow_download: bool = field(default=False, metadata={"help": "Allow hub downloads."})
    lr: float = field(default=1e-5, metadata={"help": "Peak learning rate."})
    epochs: float = field(default=1.0, metadata={"help": "Training epochs."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after N steps (-1: epochs)."})
    batch_size: int = field(default=4, metadata={"help": "Per-device batch size."})
    grad_accum: int = field(default=4, metadata={"help": "Gradient accumulation steps."})
    bf16: bool = field(default=True, metadata={"help": "bf16 mixed precision."})
    gradient_checkpointing: bool = field(default=True, metadata={"help": "Save activations."})
    max_pixels: int = field(default=256 * 28 * 28, metadata={"help": "Image pixel limit."})
    num_generations: int = field(default=8, metadata={"help": "GRPO samples per prompt."})
    max_completion_length: int = field(default=256, metadata={"help": "GRPO completion tokens."})
    temperature: float = field(default=1.0, metadata={"help": "GRPO sampling temperature."})
    beta: float = field(default=0.0, metadata={"help": "GRPO KL coefficient."})
    reward_form: str = field(
        default="fidelity", metadata={"help": "Stage 3 reward: fidelity or fidelity-delta."}
    )
    format_weight: float = field(default=0.5, metadata={"help": "Weight of the format reward."})
    steps_per_generation: int | None = field(
        default=None,
        metadata={"help": "GRPO: optimiser steps per generation batch (None: grad_accum)."},
    )
    max_length: int | None = field(
        default=None, metadata={"help": "SFT: truncate sequences to N tokens (None: never)."}
    )
    save_steps: int = field(default=100, metadata={"help": "Checkpoint every N steps."})
    save_total_limit: int | None = field(
        default=3, metadata={"help": "Keep at most N checkpoints (None: all)."}
    )
    use_vllm: bool = field(default=False, metadata={"help": "vLLM generation (if installed)."})
    vllm_mode: str = field(
        default="colocate", metadata={"help": "vLLM mode: colocate or server (trl vllm-serve)."}
    )
    vllm_gpu_memory_utilization: float = field(
        default=0.3, metadata={"help": "Colocated vLLM: fraction of GPU memory."}
    )
    seed: int = field(default=0, metadata={"help": "Random seed."})
    lora: LoraSettings = field(default_factory=LoraSettings, metadata={"help": "LoRA (peft)."})

    def __post_init__(self) -> None:
        if self.stage not in (1, 2, 3):
            raise ConfigError(f"stage must be 1, 2 or 3, got {self.stage}")
        if self.reward_form not in ("fidelity", "fidelity-delta"):
            raise ConfigError(f"unknown reward_form {self.reward_form!r}")
        if self.stage > 1 and self.num_generations < 2:
            raise ConfigError("GRPO stages need num_generations >= 2")
        if self.vllm_mode not in ("colocate", "server"):
            raise ConfigError(f"vllm_mode must be colocate or server, got {self.vllm_mode!r}")


def _build(cls: Any, data: dict[str, Any], where: str) -> Any:
    names = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(names)}")
    values = dict(data)
    if "lora" in values and cls is StageConfig:
        values["lora"] = _build(LoraSettings, values["lora"] or {}, f"{where}: lora")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def apply_sets(data: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """``data`` with ``KEY=VALUE`` / ``lora.KEY=VALUE`` overrides (values parsed as YAML)."""
    out = dict(data)
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        parts = key.strip().split(".")
        target = out
        for part in parts[:-1]:
            child = target.get(part)
            target[part] = dict(child) if isinstance(child, dict) else {}
            target = target[part]
        target[parts[-1]] = value
    return out


def load_stage_config(
    path: str | Path, sets: list[str] | None = None, **overrides: Any
) -> StageConfig:
    """The stage config of YAML file ``path`` with ``sets`` (``KEY=VALUE``) and ``overrides``."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping")
    data = apply_sets(data, list(sets or []))
    data.update({k: v for k, v in overrides.items() if v is not None})
    config: StageConfig = _build(StageConfig, data, str(path))
    return config
