"""A TRL-compatible processor for the Qwen-VL families, without a video backend.

TRL's ``SFTTrainer`` and ``GRPOTrainer`` need a :class:`transformers.ProcessorMixin` with a
chat template. The installed ``Qwen2VLProcessor`` insists on a video processor (torchvision),
so :class:`ImageQwenProcessor` is the same processor with the image processor and tokenizer
only. Its chat template renders exactly :meth:`redaes.mllm.adapter.Adapter.chat`, so training
prompts and the assessor's prompts are the same token sequence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import Qwen2VLProcessor
from transformers.processing_utils import ProcessorMixin

from redaes.errors import ConfigError

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}{{ '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


class ImageQwenProcessor(Qwen2VLProcessor):
    """``Qwen2VLProcessor`` with an image processor and a tokenizer only (no video)."""

    def __init__(
        self,
        image_processor: Any = None,
        tokenizer: Any = None,
        chat_template: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.image_token = "<|image_pad|>"
        self.video_token = "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)


def trl_processor(
    path: str | Path,
    max_pixels: int,
    min_pixels: int | None = None,
    allow_download: bool = False,
) -> ImageQwenProcessor:
    """The TRL processor of the model directory ``path`` (tokenizer + image processor).

    ``min_pixels`` defaults to the family's limit, capped at ``max_pixels``. Padding is on the
    left (generation) and a missing pad token becomes the EOS token.
    """
    import transformers

    from redaes.mllm.adapter import adapter_for

    local_only = not allow_download
    try:
        config = transformers.AutoConfig.from_pretrained(str(path), local_files_only=local_only)
        adapter = adapter_for(config.model_type)
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(path), local_files_only=local_only
        )
        low = min(min_pixels or adapter.min_pixels, max_pixels)
        image_processor = transformers.AutoImageProcessor.from_pretrained(
            str(path), local_files_only=local_only, min_pixels=low, max_pixels=max_pixels
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot load the processor of {str(path)!r}: {exc.__class__.__name__}"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return ImageQwenProcessor(image_processor, tokenizer, chat_template=CHAT_TEMPLATE)
