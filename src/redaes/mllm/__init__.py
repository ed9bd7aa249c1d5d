"""The multimodal LLM path (RED-Aes as published): adapters, strict parsing, scoring.

Heavy libraries (torch, transformers) are imported only when a model is loaded.
"""

from redaes.mllm.parse import Parsed, has_format, parse_completion, parse_delta, parse_score

__all__ = ["Parsed", "has_format", "parse_completion", "parse_delta", "parse_score"]
