"""A tiny Qwen2-VL (random weights) with a word-level tokenizer built offline."""

from __future__ import annotations

from pathlib import Path

import pytest

SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
]


def build_tiny_qwen2vl(out: Path) -> Path:
    """Save a 2-layer Qwen2-VL, its tokenizer and processor to ``out``."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessorPil,
    )

    from redaes.mllm import adapter
    from redaes.mllm.adapter import Processor

    words = set()
    for text in (
        adapter.SYSTEM_PROMPT,
        adapter.SCORE_PROMPT,
        adapter.PAIR_PROMPT,
        adapter.FAST_PROMPT,
        "system user assistant good bad photo light",
    ):
        words.update(text.replace("<", " <").replace(">", "> ").split())
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for w in [str(i) for i in range(11)] + sorted(words) + ["[UNK]", "\n", "-", "."]:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_tokens(SPECIALS[7:])  # <think> ... </answer> as whole words
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        additional_special_tokens=SPECIALS[1:7],
    )
    image_processor = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 56)
    processor = Processor(fast, image_processor)
    ids = {t: fast.convert_tokens_to_ids(t) for t in SPECIALS}
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "rope_scaling": {"type": "mrope", "mrope_section": [2, 2, 4]},
            "max_position_embeddings": 4096,
            "bos_token_id": None,
            "eos_token_id": SPECIALS.index("<|im_end|>"),
            "pad_token_id": 0,
        },
        vision_config={
            "depth": 1,
            "embed_dim": 32,
            "hidden_size": 32,
            "num_heads": 2,
            "mlp_ratio": 2,
            "in_channels": 3,
            "patch_size": 14,
            "spatial_merge_size": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_mllm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a tiny saved Qwen2-VL."""
    return build_tiny_qwen2vl(tmp_path_factory.mktemp("tiny_qwen2vl"))


@pytest.fixture(scope="session")
def format_mllm(tiny_mllm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen2-VL set by hand to write the answer format with a random digit."""
    from tests.mllm.train_helpers import format_writer

    return format_writer(tiny_mllm, tmp_path_factory.mktemp("format_mllm") / "model")


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny RED set exported for the three stages (``s1``, ``s2``, ``s3`` under the root)."""
    from tests.pairs.conftest import fast_plan, make_photos

    from redaes.mllm.export import export_stage
    from redaes.pairs import build

    root = tmp_path_factory.mktemp("mllm_train")
    build(make_photos(root / "photos", n=6), root / "red", 16, fast_plan(chain_prob=0.5), seed=3)
    for stage in (1, 2, 3):
        export_stage(root / "red", root / f"s{stage}", stage, family="qwen2_vl")
    return root
