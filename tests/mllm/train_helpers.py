"""Helpers of the training tests: a format-primed tiny model, tiny stage datasets, configs."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

TINY_PIXELS = 56 * 56


def prime_format(src: Path, out: Path, steps: int = 80, seed: int = 0) -> Path:
    """``src``'s tiny model taught the ``<think>..</think><answer>N</answer>`` shape.

    GRPO only moves weights when the rewards of a prompt's samples differ; a random tiny
    model never writes a parseable answer, so the RL tests start from this primed copy
    (random digit answers: sampled scores differ, rewards differ).
    """
    import torch
    from PIL import Image
    from transformers import (
        AutoImageProcessor,
        AutoTokenizer,
        Qwen2VLForConditionalGeneration,
    )

    from redaes.mllm.adapter import ADAPTERS, PAIR_PROMPT, SCORE_PROMPT, Processor

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = Qwen2VLForConditionalGeneration.from_pretrained(src, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(src)
    processor = Processor(tok, AutoImageProcessor.from_pretrained(src))
    adapter = ADAPTERS["qwen2_vl"]
    colours = [(200, 120, 40), (40, 90, 200), (90, 160, 90)]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        texts: list[str] = []
        images: list[Any] = []
        for prompt, n in ((SCORE_PROMPT, 1), (PAIR_PROMPT, 2), (SCORE_PROMPT, 1)):
            answer = f"<think> good photo light </think><answer> {rng.randint(0, 9)} </answer>"
            texts.append(adapter.chat(prompt, n) + answer + "<|im_end|>")
            images += [Image.new("RGB", (56, 56), rng.choice(colours)) for _ in range(n)]
        batch = processor(text=texts, images=images)
        labels = batch["input_ids"].clone()
        labels[batch["attention_mask"] == 0] = -100
        loss = model(**batch, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.save_pretrained(out)
    processor.save_pretrained(out)
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
