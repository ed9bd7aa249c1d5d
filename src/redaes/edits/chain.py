"""Edit chains: a list of (op, strength) steps recorded as data, so any image re-renders exactly.

A chain serialises to ``[{"op": "exposure", "strength": 0.4}, ...]``. Step ``k`` of a chain with
seed ``S`` uses the seed ``S + k`` (stochastic ops differ per step but stay reproducible).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import torch
from PIL import Image

from redaes.edits.base import EDIT_OPS, EditOp, create_edit
from redaes.errors import EditError
from redaes.imageio import pil_to_tensor, tensor_to_pil


@dataclass(frozen=True)
class EditStep:
    """One step of a chain: an op name and a normalised strength in ``[-1, 1]``."""

    op: str
    strength: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.strength):
            raise EditError(
                f"edit {self.op}={self.strength}: strength must be a finite number in [-1, 1], "
                f"got {self.strength}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "strength": float(self.strength)}

    @classmethod
    def parse(cls, text: str) -> EditStep:
        """Parse ``"exposure=0.5"`` (the CLI form)."""
        name, sep, value = text.partition("=")
        if not sep:
            raise EditError(f"edit {text!r} must look like NAME=STRENGTH, e.g. exposure=0.5")
        try:
            strength = float(value)
        except ValueError:
            raise EditError(f"edit {text!r}: strength {value!r} is not a number") from None
        return cls(name.strip(), strength)


StepLike: TypeAlias = EditStep | Mapping[str, Any] | str


class EditChain:
    """An ordered list of :class:`EditStep` applied left to right."""

    def __init__(self, steps: Iterable[StepLike] = ()) -> None:
        self.steps: list[EditStep] = [self._coerce(s) for s in steps]
        for step in self.steps:
            if step.op not in EDIT_OPS:
                EDIT_OPS.get(step.op)  # raises UnknownNameError with suggestions

    @staticmethod
    def _coerce(step: StepLike) -> EditStep:
        if isinstance(step, EditStep):
            return step
        if isinstance(step, str):
            return EditStep.parse(step)
        try:
            op, strength = str(step["op"]), float(step["strength"])
        except (KeyError, TypeError, ValueError):
            raise EditError(
                f"malformed edit step {step!r}: need {{'op': NAME, 'strength': X}}"
            ) from None
        return EditStep(op, strength)

    def ops(self) -> list[EditOp]:
        return [create_edit(s.op) for s in self.steps]

    def __call__(self, images: torch.Tensor, seed: int | Sequence[int] = 0) -> torch.Tensor:
        """Apply the chain to a tensor batch (or one ``(3, H, W)`` image)."""
        out = images
        for k, (step, op) in enumerate(zip(self.steps, self.ops(), strict=True)):
            step_seed = seed + k if isinstance(seed, int) else [v + k for v in seed]
            out = op(out, step.strength, step_seed)
        return out

    def apply_pil(self, image: Image.Image, seed: int = 0) -> Image.Image:
        """Apply the chain to one PIL image."""
        return tensor_to_pil(self(pil_to_tensor(image), seed))

    def describe(self) -> list[str]:
        """One sentence per step (from the ops' templates)."""
        return [op.describe(s.strength) for s, op in zip(self.steps, self.ops(), strict=True)]

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.steps]

    def to_json(self) -> str:
        return json.dumps(self.to_list())

    @classmethod
    def from_json(cls, text: str) -> EditChain:
        data = json.loads(text)
        if not isinstance(data, Sequence):
            raise EditError("an edit chain is a JSON list of {'op', 'strength'} objects")
        return cls(data)

    def __len__(self) -> int:
        return len(self.steps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EditChain) and self.steps == other.steps

    def __repr__(self) -> str:
        return f"EditChain({self.to_list()!r})"
