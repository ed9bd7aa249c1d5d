"""Model-family adapters: prompt templates, pixel limits and local-only loading.

Qwen2.5-VL is the reference family; Qwen2-VL and Qwen3-VL share its chat format. Loading
never downloads unless ``allow_download=True``: a missing model is a one-line
:class:`~redaes.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redaes.errors import ConfigError

SYSTEM_PROMPT = (
    "You are an expert in photo aesthetics. Think about composition, light, colour and "
    "technical quality, then answer."
)
SCORE_PROMPT = (
    "Rate the aesthetics of this image from 0 to 10. Reason inside <think></think>, then "
    "give only the number inside <answer></answer>."
)
PAIR_PROMPT = (
    "The second image is an edit of the first. By how much does the edit change the "
    "aesthetics, from -10 to 10? Reason inside <think></think>, then give only the signed "
    "number inside <answer></answer>."
)
FAST_PROMPT = "Rate the aesthetics of this image from 0 to 10. Answer with one number."


@dataclass(frozen=True)
class Adapter:
    """How one model family is prompted and loaded."""

    family: str
    model_class: str
    min_pixels: int = 64 * 28 * 28
    max_pixels: int = 256 * 28 * 28
    image_token: str = "<|vision_start|><|image_pad|><|vision_end|>"

    def chat(self, prompt: str, n_images: int = 1, answer_prefix: str = "") -> str:
        """The full chat text (system, user with ``n_images`` images, open assistant turn)."""
        images = self.image_token * n_images
        return (
            f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
            f"<|im_start|>user\n{images}{prompt}<|im_end|>\n"
            f"<|im_start|>assistant\n{answer_prefix}"
        )

    def messages(self, prompt: str, n_images: int = 1) -> list[dict[str, Any]]:
        """The conversational (TRL) form of the user turn."""
        content: list[dict[str, Any]] = [{"type": "image"} for _ in range(n_images)]
        content.append({"type": "text", "text": prompt})
        return [
            {"role": "system", "content": [{"type": "text", "text": SYSTEM_PROMPT}]},
            {"role": "user", "content": content},
        ]


ADAPTERS: dict[str, Adapter] = {
    "qwen2_5_vl": Adapter("qwen2_5_vl", "Qwen2_5_VLForConditionalGeneration"),
    "qwen2_vl": Adapter("qwen2_vl", "Qwen2VLForConditionalGeneration"),
    "qwen3_vl": Adapter("qwen3_vl", "Qwen3VLForConditionalGeneration", 64 * 32 * 32, 256 * 32 * 32),
}


def adapter_for(model_type: str) -> Adapter:
    """The adapter of a transformers ``model_type`` (``config.json``)."""
    if model_type not in ADAPTERS:
        raise ConfigError(
            f"unsupported model family {model_type!r}; supported: {', '.join(ADAPTERS)}"
        )
    return ADAPTERS[model_type]


def load_model(
    path: str | Path,
    allow_download: bool = False,
    dtype: str = "auto",
    device: str = "cpu",
    min_pixels: int | None = None,
    max_pixels: int | None = None,
) -> tuple[Any, Processor, Adapter]:
    """Model, processor and adapter from a local directory (or the local hub cache).

    ``min_pixels``/``max_pixels`` default to the family's limits (:class:`Adapter`).
    """
    import transformers

    local_only = not allow_download
    try:
        config = transformers.AutoConfig.from_pretrained(str(path), local_files_only=local_only)
    except OSError as exc:
        hint = "" if allow_download else " (nothing is downloaded without allow_download)"
        raise ConfigError(
            f"cannot load MLLM {str(path)!r}: {exc.__class__.__name__}{hint}"
        ) from None
    adapter = adapter_for(config.model_type)
    cls = getattr(transformers, adapter.model_class, None)
    if cls is None:
        raise ConfigError(f"transformers {transformers.__version__} has no {adapter.model_class}")
    model = cls.from_pretrained(str(path), local_files_only=local_only, dtype=dtype)
    model.to(device).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=local_only)
    image_processor = transformers.AutoImageProcessor.from_pretrained(
        str(path),
        local_files_only=local_only,
        min_pixels=min_pixels or adapter.min_pixels,
        max_pixels=max_pixels or adapter.max_pixels,
    )
    return model, Processor(tokenizer, image_processor), adapter


class Processor:
    """Tokenizer + image processor with Qwen's image-token expansion (no video backend needed).

    Each ``<|image_pad|>`` in a text becomes ``t*h*w / merge_size**2`` pad tokens for its
    image, as ``Qwen2VLProcessor`` does, so torchvision is not required.
    """

    def __init__(self, tokenizer: Any, image_processor: Any, pad: str = "<|image_pad|>") -> None:
        self.tokenizer, self.image_processor, self.pad = tokenizer, image_processor, pad
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.merge = int(getattr(image_processor, "merge_size", 2))

    def __call__(self, text: list[str], images: list[Any] | None = None) -> Any:
        """Batch inputs (``input_ids``, ``attention_mask``, ``pixel_values``, grids)."""
        from transformers import BatchFeature

        features: dict[str, Any] = {}
        texts = list(text)
        if images:
            vision = self.image_processor(images=images, return_tensors="pt")
            features.update(vision)
            counts = iter(int(g.prod()) // self.merge**2 for g in vision["image_grid_thw"])
            expanded = []
            for t in texts:
                parts = t.split(self.pad)
                out = parts[0]
                for part in parts[1:]:
                    out += "<|placeholder|>" * next(counts) + part
                expanded.append(out.replace("<|placeholder|>", self.pad))
            texts = expanded
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        features.update(enc)
        pad_id = self.tokenizer.convert_tokens_to_ids(self.pad)
        features["mm_token_type_ids"] = (enc["input_ids"] == pad_id).long()
        return BatchFeature(features)

    def batch_decode(self, ids: Any, skip_special_tokens: bool = True) -> list[str]:
        """Decoded texts of a batch of token ids."""
        out: list[str] = self.tokenizer.batch_decode(ids, skip_special_tokens=skip_special_tokens)
        return out

    def save_pretrained(self, path: str | Path) -> None:
        """Save tokenizer and image processor to ``path``."""
        self.tokenizer.save_pretrained(str(path))
        self.image_processor.save_pretrained(str(path))
