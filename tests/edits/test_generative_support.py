"""Tiny random diffusers pipelines for the generative tests (built from configs, no downloads).

Imported by the other ``test_generative*.py`` files; holds no tests itself except a sanity check
of the tokenizer it writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bytes_to_unicode() -> list[str]:
    """The byte -> unicode table of the CLIP / GPT-2 byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1))
    bs += list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_tokenizer(folder: Path) -> Path:
    """A CLIP tokenizer over single characters (vocab.json + merges.txt) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = _bytes_to_unicode()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    for merged in ("th", "the</w>"):  # the results of the two merges below
        vocab[merged] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\nt h\nth e</w>\n", encoding="utf-8")
    return folder


def tiny_components(tmp: Path, in_channels: int = 8) -> dict[str, object]:
    """Random tiny UNet (``in_channels`` 8 for InstructPix2Pix), VAE, CLIP text model, tokenizer
    and scheduler, seeded so every build is identical."""
    import torch
    from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32),
        layers_per_block=1,
        sample_size=16,
        in_channels=in_channels,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=8,
        layers_per_block=1,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=600,
            max_position_embeddings=77,
        )
    )
    tok_dir = write_tokenizer(tmp / "tokenizer-src")
    tokenizer = CLIPTokenizer.from_pretrained(
        str(tok_dir), model_max_length=77, local_files_only=True
    )
    return {
        "unet": unet,
        "vae": vae,
        "text_encoder": text,
        "tokenizer": tokenizer,
        "scheduler": EulerAncestralDiscreteScheduler(steps_offset=1),
        "safety_checker": None,
        "feature_extractor": None,
    }


def save_ip2p(folder: Path) -> Path:
    """A tiny random ``StableDiffusionInstructPix2PixPipeline`` saved to ``folder``."""
    from diffusers import StableDiffusionInstructPix2PixPipeline

    pipe = StableDiffusionInstructPix2PixPipeline(
        **tiny_components(folder.parent, 8),  # type: ignore[arg-type]
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(folder), safe_serialization=True)
    return folder


def save_img2img(folder: Path) -> Path:
    """A tiny random ``StableDiffusionImg2ImgPipeline`` (4-channel UNet) saved to ``folder``."""
    from diffusers import StableDiffusionImg2ImgPipeline

    pipe = StableDiffusionImg2ImgPipeline(
        **tiny_components(folder.parent, 4),  # type: ignore[arg-type]
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(folder), safe_serialization=True)
    return folder


def test_tokenizer_round_trip(tmp_path: Path) -> None:
    from transformers import CLIPTokenizer

    d = write_tokenizer(tmp_path / "tok")
    tok = CLIPTokenizer.from_pretrained(str(d), model_max_length=77, local_files_only=True)
    ids = tok("make the golden hour")["input_ids"]
    tokens = tok.convert_ids_to_tokens(ids)
    assert tokens[0] == "<|startoftext|>" and tokens[-1] == "<|endoftext|>"
    assert "the</w>" in tokens and "m" in tokens and "r</w>" in tokens
    assert len(set(ids)) > 8 and max(ids) < 600  # below the tiny text model's vocab_size


@pytest.fixture(scope="session")
def ip2p_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny InstructPix2Pix pipeline folder for the whole session."""
    return save_ip2p(tmp_path_factory.mktemp("gen") / "ip2p")


@pytest.fixture
def gen_registry() -> Iterator[None]:
    """The gen:<id> ops registered for one test, removed after (the default registry stays)."""
    from redaes.edits.generative import register_generative_ops, unregister_generative_ops
    from redaes.edits.generative.ops import _ACTIVE

    register_generative_ops()
    try:
        yield
    finally:
        unregister_generative_ops()
        _ACTIVE.clear()
