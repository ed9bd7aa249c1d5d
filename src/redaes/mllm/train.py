"""The three MLLM training stages on TRL: ``SFTTrainer`` (stage 1), ``GRPOTrainer`` (2 and 3).

* Stage 1 (reasoning cold start): the export's ``messages`` become ``prompt`` (system + user
  with the two images) and ``completion`` (``<think>..</think><answer>delta</answer>``), so the
  loss is on the completion only.
* Stage 2 (pairwise RL): :class:`~redaes.mllm.rewards.FormatReward` and
  :class:`~redaes.mllm.rewards.PairDeltaReward` against the ``delta``/``delta_std`` columns.
* Stage 3 (ranking RL): :class:`~redaes.mllm.rewards.FormatReward` and
  :class:`~redaes.mllm.rewards.RankingConsistencyReward` built on :mod:`redaes.rewards`. Rows
  are ordered group by group (groups in a seeded random order) and TRL's dataset shuffling is
  off, so one generation batch holds several images of a group.

LoRA (peft) or full fine-tuning, bf16 and gradient checkpointing come from the
:class:`~redaes.mllm.config.StageConfig`. Checkpoints are ``OUT/checkpoint-N`` (the trainer's);
a run resumes from the latest one. The final model is saved to ``OUT`` itself (LoRA merged
into the weights) with its processor, so the next stage or ``mllm:OUT`` can load it.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

from redaes.errors import ConfigError, DataError
from redaes.mllm.config import StageConfig
from redaes.mllm.rewards import FormatReward, PairDeltaReward, RankingConsistencyReward

STAGE_COLUMNS = {
    1: ("images", "messages"),
    2: ("images", "prompt", "delta", "delta_std"),
    3: ("images", "prompt", "group", "target", "target_std", "pair_id"),
}
LOG_NAME = "log.jsonl"


def load_stage_data(cfg: StageConfig) -> Any:
    """The exported dataset of ``cfg.data``, checked for the stage's columns and reshaped."""
    import datasets

    try:
        ds = datasets.load_from_disk(cfg.data)
    except (FileNotFoundError, ValueError) as exc:
        raise DataError(f"{cfg.data}: not a dataset from `redaes mllm export` ({exc})") from None
    if isinstance(ds, datasets.DatasetDict):
        ds = ds["train"] if "train" in ds else next(iter(ds.values()))
    missing = [c for c in STAGE_COLUMNS[cfg.stage] if c not in ds.column_names]
    if missing:
        raise DataError(
            f"{cfg.data}: missing column(s) {missing} for stage {cfg.stage}; "
            f"export it with `redaes mllm export --stage {cfg.stage}`"
        )
    if len(ds) == 0:
        raise DataError(f"{cfg.data}: the dataset is empty")
    if cfg.stage == 1:
        ds = ds.map(_split_messages, remove_columns=["messages"])
    if cfg.stage == 3:
        ds = group_contiguous(ds, cfg.seed)
    return ds


def _split_messages(row: dict[str, Any]) -> dict[str, Any]:
    messages = row["messages"]
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def group_contiguous(ds: Any, seed: int) -> Any:
    """``ds`` reordered so each ``group``'s rows are consecutive (groups in a seeded order)."""
    order: dict[Any, list[int]] = {}
    for i, g in enumerate(ds["group"]):
        order.setdefault(g, []).append(i)
    groups = list(order)
    random.Random(seed).shuffle(groups)
    return ds.select([i for g in groups for i in order[g]])


def reward_functions(cfg: StageConfig) -> tuple[list[Any], list[float]]:
    """The TRL reward callables of a GRPO stage and their weights."""
    if cfg.stage == 2:
        return [FormatReward(), PairDeltaReward()], [cfg.format_weight, 1.0]
    if cfg.stage == 3:
        from redaes.rewards import RankingReward

        ranking = RankingConsistencyReward(RankingReward(form=cfg.reward_form))
        return [FormatReward(), ranking], [cfg.format_weight, 1.0]
    raise ConfigError(f"stage {cfg.stage} has no rewards (stage 1 is SFT)")


def check_vllm(cfg: StageConfig) -> None:
    """A one-line error when ``use_vllm`` is set but vLLM cannot be used."""
    if not cfg.use_vllm:
        return
    if cfg.stage == 1:
        raise ConfigError("use_vllm applies to the GRPO stages (2, 3), not to SFT")
    if importlib.util.find_spec("vllm") is None:
        raise ConfigError("use_vllm: true needs vLLM installed (pip install vllm); it is not")


def lora_config(cfg: StageConfig) -> Any:
    """The peft ``LoraConfig`` of ``cfg.lora``, or None for full fine-tuning."""
    if not cfg.lora.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=list(cfg.lora.target_modules),
        task_type="CAUSAL_LM",
    )


def _common_args(cfg: StageConfig) -> dict[str, Any]:
    return {
        "output_dir": cfg.out_dir,
        "learning_rate": cfg.lr,
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "bf16": cfg.bf16,
        "gradient_checkpointing": cfg.gradient_checkpointing,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": cfg.save_steps,
        "save_total_limit": cfg.save_total_limit,
        "report_to": "none",
        "seed": cfg.seed,
        "dataloader_num_workers": 0,
        "disable_tqdm": True,
    }


def training_args(cfg: StageConfig) -> Any:
    """The TRL ``SFTConfig`` (stage 1) or ``GRPOConfig`` (stages 2, 3) of ``cfg``."""
    common = _common_args(cfg)
    if cfg.stage == 1:
        from trl import SFTConfig

        return SFTConfig(**common, max_length=cfg.max_length, completion_only_loss=True)
    from trl import GRPOConfig

    _, weights = reward_functions(cfg)
    per_step = cfg.batch_size * (cfg.steps_per_generation or cfg.grad_accum)
    if per_step % cfg.num_generations:
        raise ConfigError(
            f"batch_size * steps_per_generation ({per_step}) must be a multiple of "
            f"num_generations ({cfg.num_generations})"
        )
    extra: dict[str, Any] = {}
    if cfg.use_vllm:
        extra = {
            "use_vllm": True,
            "vllm_mode": cfg.vllm_mode,
            "vllm_gpu_memory_utilization": cfg.vllm_gpu_memory_utilization,
        }
    return GRPOConfig(
        **common,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        steps_per_generation=cfg.steps_per_generation,
        temperature=cfg.temperature,
        beta=cfg.beta,
        reward_weights=weights,
        shuffle_dataset=cfg.stage != 3,
        remove_unused_columns=False,
        **extra,
    )


def load_policy(cfg: StageConfig) -> Any:
    """The model to train, from the local directory ``cfg.model`` (never downloaded)."""
    from redaes.mllm.adapter import load_model

    if not cfg.model:
        raise ConfigError("the stage config needs model: a local model directory")
    dtype = "bfloat16" if cfg.bf16 else "float32"
    model, _, _ = load_model(
        cfg.model,
        allow_download=cfg.allow_download,
        dtype=dtype,
        min_pixels=min(64 * 28 * 28, cfg.max_pixels),
        max_pixels=cfg.max_pixels,
    )
    model.config.use_cache = False
    return model.train()


def latest_checkpoint(out_dir: str | Path) -> str | None:
    """The trainer's newest ``checkpoint-N`` folder under ``out_dir``, if any."""
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(out_dir)
    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def _log_callback(path: Path) -> Any:
    from transformers import TrainerCallback

    class JsonlLog(TrainerCallback):
        """Appends every trainer log (loss, rewards/...) to ``log.jsonl`` as it happens."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if not state.is_world_process_zero or not logs:
                return
            row: dict[str, Any] = {"step": state.global_step}
            for key, value in logs.items():
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    row[key] = None  # e.g. a reward that no completion of the step parsed for
                elif isinstance(value, int | float):
                    row[key] = value
            with path.open("a") as f:
                f.write(json.dumps(row) + "\n")

    return JsonlLog()


def build_trainer(cfg: StageConfig) -> Any:
    """The TRL trainer of one stage, with model, processor, data, rewards and LoRA."""
    from redaes.mllm.chat import trl_processor

    check_vllm(cfg)
    args = training_args(cfg)
    processor = trl_processor(cfg.model, cfg.max_pixels, allow_download=cfg.allow_download)
    data = load_stage_data(cfg)
    model = load_policy(cfg)
    Path(cfg.out_dir).mkdir(parents=True, exist_ok=True)
    common = {
        "model": model,
        "args": args,
        "train_dataset": data,
        "processing_class": processor,
        "peft_config": lora_config(cfg),
        "callbacks": [_log_callback(Path(cfg.out_dir) / LOG_NAME)],
    }
    if cfg.stage == 1:
        from trl import SFTTrainer

        return SFTTrainer(**common)
    from trl import GRPOTrainer

    rewards, _ = reward_functions(cfg)
    return GRPOTrainer(reward_funcs=rewards, **common)


def _sharded(trainer: Any) -> bool:
    from transformers.integrations import is_deepspeed_zero3_enabled

    return bool(trainer.is_fsdp_enabled or is_deepspeed_zero3_enabled())


def train_stage(cfg: StageConfig, resume: bool = True) -> Path:
    """Run one stage; resume from ``cfg.out_dir``'s latest checkpoint unless ``resume=False``.

    Returns ``cfg.out_dir``, which then holds the final (LoRA-merged) model and processor;
    under ZeRO-3 or FSDP the trainer saves it instead (LoRA adapters are then not merged).
    """
    trainer = build_trainer(cfg)
    checkpoint = latest_checkpoint(cfg.out_dir) if resume else None
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_state()
    out = Path(cfg.out_dir)
    if _sharded(trainer):  # parameters live across processes: the trainer gathers them
        trainer.save_model(str(out))
        trainer.processing_class.save_pretrained(str(out))
    elif trainer.accelerator.is_main_process:
        model = trainer.accelerator.unwrap_model(trainer.model)
        if cfg.lora.enabled:
            model = model.merge_and_unload()
        model.config.use_cache = True
        model.save_pretrained(str(out))
        trainer.processing_class.save_pretrained(str(out))
        info = {
            "stage": cfg.stage,
            "global_step": trainer.state.global_step,
            "resumed_from": checkpoint,
            "config": asdict(cfg),
        }
        (out / "redaes_mllm.json").write_text(json.dumps(info, indent=2) + "\n")
    return out
