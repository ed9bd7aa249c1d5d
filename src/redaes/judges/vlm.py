"""The ``vlm`` judge: a vision-language model behind an OpenAI-compatible chat-completions endpoint.

Both images go into one request (JPEG data URLs, resized to ``max_side``); the prompt
(:data:`PROMPT_VERSION`) says which image is the source and which the edit, asks for a 0-10 score
of each and a short reasoning as JSON. ``delta = edited_score - source_score``.

Reliability:

* our own retry loop (the client's is off): exponential backoff with jitter on 429, 5xx, timeouts
  and connection errors, honouring ``Retry-After``; other 4xx fail at once;
* strict parsing: JSON, possibly in a ```` ```json ```` fence or surrounded by text, with numeric
  ``source_score``/``edited_score`` in ``[0, 10]``; otherwise the request is repeated up to
  ``parse_retries`` times, then the verdict is a failure carrying the raw answer (never a number);
* a disk cache keyed by ``sha256(model, PROMPT_VERSION, prompt, both image hashes)``, one JSON file
  per answer written atomically: a re-run never pays twice for a parsed answer;
* ``judge_batch`` runs at most ``concurrency`` requests at a time; :attr:`VlmJudge.usage` counts
  requests, cache hits, retries, parse failures and failures.

Configuration comes from keyword options, else the environment: ``REDAES_VLM_BASE_URL``,
``REDAES_VLM_MODEL``, ``REDAES_VLM_API_KEY`` (or ``OPENAI_API_KEY``), ``REDAES_VLM_CACHE``.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import math
import os
import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from redaes.errors import ConfigError, JudgeError
from redaes.imageio import atomic_write_bytes, encode_image, resize_long_side
from redaes.judges.base import JUDGES, Judge, JudgeResult, PairContext

PROMPT_VERSION = "redaes-vlm-pair-v1"
PROMPT = (
    "You are an expert photographer judging image aesthetics. You see two versions of the same "
    "photo. IMAGE 1 is the SOURCE photo. IMAGE 2 is the EDITED photo, made from the source{edit}. "
    "Score the aesthetic quality of each image on a 0-10 scale (0 = very poor, 10 = excellent; "
    "decimals allowed), considering exposure, colour, sharpness, noise and artefacts, and "
    "composition. Reply with JSON only, exactly in this form: "
    '{{"source_score": <number>, "edited_score": <number>, "reasoning": "<one or two sentences>"}}'
)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


@dataclass
class VlmUsage:
    """Counters of one :class:`VlmJudge` (thread-safe updates through the judge)."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    parse_failures: int = 0
    failures: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def parse_answer(text: str) -> tuple[float, float, str]:
    """Extract ``(source_score, edited_score, reasoning)`` from a model answer.

    Accepts bare JSON, JSON inside a code fence, or JSON surrounded by text.

    Raises:
        ValueError: no JSON object with both scores as numbers within ``[0, 10]``.
    """
    decoder = json.JSONDecoder()
    chunks = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    problem = "no JSON object with source_score and edited_score"
    for chunk in chunks:
        for start in [i for i, ch in enumerate(chunk) if ch == "{"]:
            try:
                obj, _ = decoder.raw_decode(chunk[start:])
            except json.JSONDecodeError:
                continue
            if not isinstance(obj, dict) or not {"source_score", "edited_score"} <= obj.keys():
                continue
            scores = []
            for key in ("source_score", "edited_score"):
                value = obj[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    problem = f"{key} is not a number: {value!r}"
                    break
                if not math.isfinite(value) or not 0.0 <= value <= 10.0:
                    problem = f"{key} {value!r} is outside 0-10"
                    break
                scores.append(float(value))
            if len(scores) == 2:
                return scores[0], scores[1], str(obj.get("reasoning", ""))
    raise ValueError(problem)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@JUDGES.register("vlm")
class VlmJudge(Judge):
    """Ask a VLM to score the source and the edit (see the module docstring).

    Args:
        base_url: endpoint root, e.g. ``http://localhost:8000/v1`` (env ``REDAES_VLM_BASE_URL``).
        model: served model name (env ``REDAES_VLM_MODEL``).
        api_key: key (env ``REDAES_VLM_API_KEY`` or ``OPENAI_API_KEY``; local servers need none).
        max_side: long side in px of the images sent.
        jpeg_quality: JPEG quality of the images sent.
        timeout: seconds per request.
        max_retries: retries on 429/5xx/timeouts/connection errors.
        parse_retries: extra requests after an unparseable answer.
        backoff_base: first backoff in seconds (doubles each retry, with jitter).
        backoff_max: cap on one computed backoff.
        retry_after_max: cap on a server's ``Retry-After`` wait.
        concurrency: requests in flight at once in :meth:`judge_batch`.
        cache_dir: answer cache folder (env ``REDAES_VLM_CACHE``; ``""`` disables the cache).
        reveal_edit: tell the model which edit was applied.
        temperature: sampling temperature (0 for reproducible judging).
        max_tokens: answer length limit.
        confidence: the confidence reported with every parsed verdict.
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        max_side: int = 512,
        jpeg_quality: int = 90,
        timeout: float = 60.0,
        max_retries: int = 4,
        parse_retries: int = 2,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        retry_after_max: float = 120.0,
        concurrency: int = 4,
        cache_dir: str | Path | None = None,
        reveal_edit: bool = False,
        temperature: float = 0.0,
        max_tokens: int = 300,
        confidence: float = 0.7,
    ) -> None:
        self.base_url = base_url or os.environ.get("REDAES_VLM_BASE_URL", "")
        self.model = model or os.environ.get("REDAES_VLM_MODEL", "")
        if not self.base_url:
            raise ConfigError(
                "vlm judge: no endpoint; pass base_url= or set REDAES_VLM_BASE_URL "
                "(e.g. http://localhost:8000/v1)"
            )
        if not self.model:
            raise ConfigError("vlm judge: no model; pass model= or set REDAES_VLM_MODEL")
        key = api_key or os.environ.get("REDAES_VLM_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if cache_dir is None:
            cache_dir = os.environ.get("REDAES_VLM_CACHE", str(Path.home() / ".cache/redaes/vlm"))
        self.cache_dir = Path(cache_dir) if str(cache_dir) else None
        self.name = f"vlm:{self.model}"
        self.max_side, self.jpeg_quality = int(max_side), int(jpeg_quality)
        self.timeout, self.max_retries, self.parse_retries = timeout, max_retries, parse_retries
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.retry_after_max = retry_after_max
        self.concurrency = max(1, int(concurrency))
        self.reveal_edit, self.temperature, self.max_tokens = reveal_edit, temperature, max_tokens
        self.confidence = float(confidence)
        self.usage = VlmUsage()
        self._lock = threading.Lock()
        import openai  # lazy: only this judge needs the client library

        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=key or "not-needed", max_retries=0, timeout=timeout
        )

    def _count(self, field: str, n: int = 1) -> None:
        with self._lock:
            setattr(self.usage, field, getattr(self.usage, field) + n)

    def prompt(self, ctx: PairContext) -> str:
        """The prompt text for ``ctx`` (mentions the edit only with ``reveal_edit``)."""
        edit = ""
        if self.reveal_edit and len(ctx.edits):
            edit = " by these edits: " + "; ".join(ctx.edits.describe())
        return PROMPT.format(edit=edit)

    def _encode(self, image: Image.Image) -> bytes:
        return encode_image(resize_long_side(image, self.max_side), "JPEG", self.jpeg_quality)

    def cache_key(self, prompt: str, source_jpeg: bytes, edited_jpeg: bytes) -> str:
        """sha256 of (model, prompt version, prompt, both image hashes)."""
        parts = [self.model, PROMPT_VERSION, prompt]
        parts += [hashlib.sha256(b).hexdigest() for b in (source_jpeg, edited_jpeg)]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def _request(self, prompt: str, images: Sequence[bytes]) -> str:
        import openai

        urls = ["data:image/jpeg;base64," + base64.b64encode(b).decode() for b in images]
        content: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
        for k, (label, url) in enumerate(zip(("SOURCE", "EDITED"), urls, strict=True)):
            content.append({"type": "text", "text": f"IMAGE {k + 1} ({label}):"})
            content.append({"type": "image_url", "image_url": {"url": url}})
        for attempt in range(self.max_retries + 1):
            self._count("requests")
            try:
                messages: Any = [{"role": "user", "content": content}]
                resp = self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                )
                return resp.choices[0].message.content or ""
            except openai.APIStatusError as exc:
                if exc.status_code < 500 and exc.status_code not in (408, 409, 429):
                    raise JudgeError(f"{self.base_url}: HTTP {exc.status_code}: {exc}") from exc
                error: Exception = exc
            except openai.APIConnectionError as exc:  # includes timeouts
                error = exc
            if attempt == self.max_retries:
                raise JudgeError(
                    f"{self.base_url}: gave up after {attempt + 1} attempts: "
                    f"{type(error).__name__}: {error}"
                ) from error
            wait = _retry_after(error)
            if wait is None:
                backoff = self.backoff_base * 2**attempt * (0.5 + random.random())
                wait = min(self.backoff_max, backoff)
            self._count("retries")
            time.sleep(min(self.retry_after_max, wait))
        raise AssertionError("unreachable")  # pragma: no cover

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        """Judge one pair (from the cache when this exact request was answered before)."""
        prompt = self.prompt(ctx)
        images = (self._encode(source), self._encode(edited))
        key = self.cache_key(prompt, *images)
        path = self.cache_dir / key[:2] / f"{key}.json" if self.cache_dir else None
        if path is not None and path.exists():
            try:
                hit = json.loads(path.read_text())
                self._count("cache_hits")
                return self._result(hit["source_score"], hit["edited_score"], hit, cached=True)
            except (OSError, ValueError, KeyError):
                pass  # unreadable cache entry: ask again and overwrite it
        raw, problem = "", ""
        for _ in range(self.parse_retries + 1):
            try:
                raw = self._request(prompt, images)
            except JudgeError as exc:
                self._count("failures")
                return JudgeResult.failure(self.name, str(exc), cache_key=key)
            try:
                src, edit, reasoning = parse_answer(raw)
            except ValueError as exc:
                self._count("parse_failures")
                problem = str(exc)
                continue
            record = {
                "model": self.model,
                "prompt_version": PROMPT_VERSION,
                "source_score": src,
                "edited_score": edit,
                "reasoning": reasoning,
                "raw": raw,
            }
            if path is not None:
                atomic_write_bytes(path, json.dumps(record).encode())
            return self._result(src, edit, record, cached=False)
        self._count("failures")
        return JudgeResult.failure(
            self.name,
            f"unparseable answer after {self.parse_retries + 1} tries: {problem}",
            raw=raw,
        )

    def _result(self, src: float, edit: float, record: dict[str, Any], cached: bool) -> JudgeResult:
        return JudgeResult(
            judge=self.name,
            delta=float(edit) - float(src),
            confidence=self.confidence,
            rationale=str(record.get("reasoning", "")),
            source_score=float(src),
            edited_score=float(edit),
            extra={
                "raw": record.get("raw", ""),
                "cached": cached,
                "prompt_version": PROMPT_VERSION,
            },
        )

    def judge_batch(
        self, pairs: Sequence[tuple[Image.Image, Image.Image, PairContext]]
    ) -> list[JudgeResult]:
        """Judge pairs with at most ``concurrency`` requests in flight (results in input order)."""
        if len(pairs) <= 1 or self.concurrency == 1:
            return [self.judge(s, e, c) for s, e, c in pairs]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda p: self.judge(*p), pairs))
