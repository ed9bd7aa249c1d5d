"""The assessor interface and registry.

An assessor is anything with ``score(images) -> list[float]`` on redaes' one score range:
**0-10, higher is better**. Batched and single-image calls must give the same scores.
"""

from __future__ import annotations

import importlib
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from redaes.errors import ConfigError
from redaes.imageio import ImageInput
from redaes.registry import Registry

SCORE_MIN, SCORE_MAX = 0.0, 10.0


class Assessor(ABC):
    """Scores images on the 0-10 scale (higher is better)."""

    name: str = "assessor"
    score_range: tuple[float, float] = (SCORE_MIN, SCORE_MAX)

    @abstractmethod
    def score(self, images: Sequence[ImageInput]) -> list[float]:
        """Scores of ``images`` (paths, PIL images, arrays or CHW tensors), one float each."""

    def score_one(self, image: ImageInput) -> float:
        """Score of one image."""
        return self.score([image])[0]

    def fingerprint(self) -> dict[str, Any]:
        """Extra identity for the evaluation cache (weights digests, a remote model's version).

        The evaluation runner already hashes the class's source files and the JSON-able public
        attributes (see :mod:`redaes.evaluation.fingerprint`); override this when scores depend
        on something else, e.g. ``{"weights_sha256": ...}`` for weights loaded from a package.
        """
        return {}


class CallableAssessor(Assessor):
    """Wraps a plain function ``fn(images) -> list[float]`` (already on the 0-10 scale)."""

    def __init__(
        self, fn: Callable[[Sequence[ImageInput]], Sequence[float]], name: str = "callable"
    ):
        self.fn, self.name = fn, name

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        out = [float(v) for v in self.fn(images)]
        if len(out) != len(images):
            raise ConfigError(
                f"assessor {self.name!r} returned {len(out)} scores for {len(images)} images"
            )
        return out


ASSESSORS: Registry[Assessor] = Registry("assessor")


def import_object(path: str) -> Any:
    """Import ``"package.module:attr"`` (or ``"package.module.attr"``)."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    try:
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError:
            # like `uvicorn`/`python -m`: a module in the working directory is importable
            if os.getcwd() in sys.path or "" in sys.path:
                raise
            sys.path.insert(0, os.getcwd())
            obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"cannot import {path!r}: {exc}") from None
    return obj


def create_assessor(name: str, **overrides: Any) -> Assessor:
    """Create an assessor by registry name, or from an import path ``"pkg.mod:obj"``.

    An import path may name an :class:`Assessor` subclass, an assessor instance, or a plain
    callable ``fn(images) -> list[float]`` (wrapped in :class:`CallableAssessor`).
    """
    if name.startswith("mllm:"):  # a local multimodal LLM: mllm:PATH[?mode=fast]
        from_spec = import_object("redaes.mllm.assessor:from_spec")  # lazy, no import cycle
        return from_spec(name, **overrides)
    if name in ASSESSORS or (":" not in name and "." not in name):
        return ASSESSORS.create(name, **overrides)
    obj = import_object(name)
    if isinstance(obj, type) and issubclass(obj, Assessor):
        return obj(**overrides)
    if isinstance(obj, Assessor):
        return obj
    if callable(obj):
        return CallableAssessor(obj, name=name)
    raise ConfigError(f"{name!r} is neither an Assessor nor a callable")
