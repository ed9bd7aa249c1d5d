"""Helpers of the training tests: a format-writing tiny model, tiny stage configs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

TINY_PIXELS = 56 * 56
ANSWERS = tuple(str(i) for i in range(11))


def format_writer(src: Path, out: Path, margin: float = 20.0, seed: int = 0) -> Path:
    """``src``'s tiny model set by hand to write ``<think> </think><answer> N </answer>``.

    GRPO only moves weights when the rewards of a prompt's samples differ; a random tiny model
    never writes a parseable answer, so every reward is equal and every advantage zero. Priming
    it by SFT takes tens of seconds on two cores; this takes a fraction of one: the "state"
    tokens of the answer get large random embeddings (attention and MLP outputs are ~1e-3 of
    them at init), and ``lm_head`` is solved so that each state's next-token logits are
    ``margin`` on its successor and 0 elsewhere (a bigram model)::

        assistant -> <think> -> </think> -> <answer> -> one of 0..10 (uniform) -> </answer>
        -> <|im_end|>

    Sampled answers are uniform digits, so the rewards of a prompt's samples differ. All
    weights stay trainable (nothing is frozen or zeroed).
    """
    import torch
    from transformers import AutoTokenizer, Qwen2VLForConditionalGeneration

    tok = AutoTokenizer.from_pretrained(src)
    model = Qwen2VLForConditionalGeneration.from_pretrained(src, dtype=torch.float32)

    def ids(*tokens: str) -> list[int]:
        return [int(tok.convert_tokens_to_ids(t)) for t in tokens]

    assistant, think, end_think, answer, end_answer, end = ids(
        "assistant", "<think>", "</think>", "<answer>", "</answer>", "<|im_end|>"
    )
    digits = ids(*ANSWERS)
    table = {assistant: [think], think: [end_think], end_think: [answer], answer: digits}
    table |= {d: [end_answer] for d in digits} | {end_answer: [end]}
    states = list(table)
    emb = model.get_input_embeddings().weight
    head = model.get_output_embeddings().weight
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        emb[states] = torch.randn(len(states), emb.shape[1], generator=generator)
        hidden = model.model.language_model.norm(emb[states])  # last hidden state per state
        logits = torch.zeros(head.shape[0], len(states))
        for j, state in enumerate(states):
            logits[table[state], j] = margin
        head.copy_(logits @ torch.linalg.pinv(hidden.T))
    shutil.copytree(src, out)  # tokenizer, image processor, config
    model.save_pretrained(out)
    return out


def write_config(path: Path, stage: int, model: Path, data: Path, out: Path, **extra: Any) -> Path:
    """A tiny stage config (CPU, fp32, a few steps) written to ``path``."""
    config: dict[str, Any] = {
        "stage": stage,
        "model": str(model),
        "data": str(data),
        "out_dir": str(out),
        "lr": 5e-3,
        "max_steps": 2,
        "batch_size": 4 if stage > 1 else 2,
        "grad_accum": 1,
        "bf16": False,
        "gradient_checkpointing": False,
        "max_pixels": TINY_PIXELS,
        "num_generations": 2,
        "max_completion_length": 12,
        "save_steps": 1,
        "lora": {"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0},
    }
    config.update(extra)
    path.write_text(yaml.safe_dump(config))
    return path
