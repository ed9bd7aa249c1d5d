"""The MLLM as a redaes assessor, in reasoning or fast mode (both deterministic).

* ``reasoning``: greedy generation, then :func:`~redaes.mllm.parse.parse_score`. A parse
  failure scores NaN and is counted in :attr:`MllmAssessor.parse_failures`; it is never
  replaced by a default number.
* ``fast``: no generation. The score is the expectation of the rating tokens' probabilities
  (``0``..``10``, or ``0``..``9`` rescaled when ``10`` is not one token) right after the
  prompt, Q-Align style.

Created by ``mllm:PATH[?mode=fast&max_new_tokens=N]`` through
:func:`redaes.assessors.create_assessor`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from redaes.assessors.base import Assessor
from redaes.errors import ConfigError
from redaes.imageio import ImageInput
from redaes.mllm.adapter import FAST_PROMPT, SCORE_PROMPT, load_model
from redaes.mllm.parse import parse_score

MODES = ("reasoning", "fast")


class MllmAssessor(Assessor):
    """Scores images with a local multimodal LLM on the 0-10 scale."""

    name = "mllm"

    def __init__(
        self,
        path: str | Path,
        mode: str = "reasoning",
        max_new_tokens: int = 256,
        batch_size: int = 8,
        allow_download: bool = False,
        device: str = "cpu",
        min_pixels: int | None = None,
        max_pixels: int | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"unknown mllm mode {mode!r}; choose from {', '.join(MODES)}")
        self.path, self.mode = str(path), mode
        self.max_new_tokens, self.batch_size = int(max_new_tokens), int(batch_size)
        self.parse_failures = 0
        self.scored = 0
        self.last_completions: list[str] = []
        self._model, self._processor, self._adapter = load_model(
            path,
            allow_download=allow_download,
            device=device,
            min_pixels=min_pixels,
            max_pixels=max_pixels,
        )
        self._rating_ids, self._rating_values = self._rating_tokens()

    def _rating_tokens(self) -> tuple[list[int], list[float]]:
        tok = self._processor.tokenizer
        ids: list[int] = []
        for text in [str(i) for i in range(11)]:
            enc = tok.encode(text, add_special_tokens=False)
            if len(enc) != 1:
                break
            ids.append(enc[0])
        if len(ids) < 10:
            raise ConfigError("the tokenizer has no single tokens for the digits 0-9")
        scale = 10.0 / (len(ids) - 1)
        return ids, [i * scale for i in range(len(ids))]

    def _inputs(self, images: Sequence[ImageInput], prompt: str) -> Any:
        from redaes.imageio import as_pil

        pil = [as_pil(img) for img in images]
        texts = [self._adapter.chat(prompt) for _ in pil]
        inputs = self._processor(text=texts, images=pil)
        return inputs.to(self._model.device)

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        """Scores of ``images``; NaN marks a reasoning-mode parse failure (counted)."""
        out: list[float] = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            out.extend(self._fast(chunk) if self.mode == "fast" else self._reason(chunk))
        self.scored += len(images)
        return out

    def _fast(self, images: Sequence[ImageInput]) -> list[float]:
        import torch

        with torch.no_grad():
            logits = self._model(**self._inputs(images, FAST_PROMPT)).logits[:, -1, :]
        probs = torch.softmax(logits.float()[:, self._rating_ids], dim=-1)
        values = torch.tensor(self._rating_values, dtype=probs.dtype)
        return [float(v) for v in probs @ values]

    def _reason(self, images: Sequence[ImageInput]) -> list[float]:
        import torch

        inputs = self._inputs(images, SCORE_PROMPT)
        with torch.no_grad():
            ids = self._model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False
            )
        new = ids[:, inputs["input_ids"].shape[1] :]
        texts = self._processor.batch_decode(new, skip_special_tokens=True)
        self.last_completions = list(texts)
        scores: list[float] = []
        for text in texts:
            value = parse_score(text)
            if value is None:
                self.parse_failures += 1
                scores.append(math.nan)
            else:
                scores.append(value)
        return scores

    def report(self) -> dict[str, Any]:
        """How many images were scored and how many completions failed to parse."""
        return {"mode": self.mode, "scored": self.scored, "parse_failures": self.parse_failures}

    def fingerprint(self) -> dict[str, Any]:
        """The model directory and the generation settings."""
        return {"path": self.path, "mode": self.mode, "max_new_tokens": self.max_new_tokens}


def from_spec(spec: str, **overrides: Any) -> MllmAssessor:
    """An assessor from ``mllm:PATH[?mode=fast&max_new_tokens=N&batch_size=B]``."""
    body = spec.removeprefix("mllm:")
    path, _, query = body.partition("?")
    if not path:
        raise ConfigError("mllm assessor needs a model path: mllm:PATH[?mode=fast]")
    options: dict[str, Any] = dict(parse_qsl(query, strict_parsing=bool(query)))
    known = {"mode", "max_new_tokens", "batch_size", "allow_download", "device"}
    known |= {"min_pixels", "max_pixels"}
    unknown = set(options) - known
    if unknown:
        raise ConfigError(f"unknown mllm option(s) {sorted(unknown)}; known: {sorted(known)}")
    if "allow_download" in options:
        options["allow_download"] = options["allow_download"].lower() in ("1", "true", "yes")
    for key in ("max_new_tokens", "batch_size", "min_pixels", "max_pixels"):
        if key in options:
            try:
                options[key] = int(options[key])
            except ValueError:
                raise ConfigError(
                    f"mllm option {key} must be an integer, got {options[key]!r}"
                ) from None
    options.update(overrides)
    return MllmAssessor(path, **options)
