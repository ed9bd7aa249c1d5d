"""The contract every edit operation follows, and the edit-op registry.

An edit op maps a *normalised signed strength* ``s`` in ``[-1, 1]`` to a physical amount (EV,
kelvin-like mired shift, blur sigma in pixels, JPEG quality, ...) and applies it.

Rules every op obeys (the generic tests in ``tests/edits/test_contract.py`` check all of them for
every registered op):

* ``s = 0`` is the identity (bit-exact or within 1/255).
* Input and output are ``float32`` tensors ``(N, 3, H, W)`` in ``[0, 1]`` (sRGB). Output keeps the
  dtype and device and is clamped to ``[0, 1]``.
* ``strength`` is a float (the whole batch) or a tensor of shape ``(N,)`` (one per image).
* Deterministic given ``seed``; a batch gives the same result as the images one at a time
  (stochastic ops draw the noise of image ``i`` from its own seed only).
* Ops marked ``differentiable`` keep gradients w.r.t. the image and the strength tensor.
* Ops with ``signed=False`` only accept ``s >= 0`` (e.g. JPEG compression); the others have a
  meaningful negative direction (e.g. exposure -1 = -2 EV).
* Ops with ``changes_size=True`` may return a different ``H, W`` (crops); they require one
  scalar strength per call.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, TypeAlias

import torch
from PIL import Image

from redaes.errors import EditError
from redaes.imageio import pil_to_tensor, tensor_to_pil
from redaes.registry import Registry

Strength: TypeAlias = float | torch.Tensor
Seed: TypeAlias = int | Sequence[int]

FAMILIES = ("tone", "colour", "detail", "artefact", "composition", "style")


@dataclass(frozen=True)
class OpInfo:
    """Metadata travelling with an op.

    Attributes:
        name: registry name (``"exposure"``).
        family: one of :data:`FAMILIES`.
        unit: physical unit of the amount (``"EV"``, ``"px sigma"``, ``"quality"``...).
        description: one line for ``redaes ops``.
        identity: physical amount at strength 0.
        at_minus_one: physical amount at strength -1 (equal to ``identity`` for unsigned ops).
        at_plus_one: physical amount at strength +1.
        template: sentence describing the change, formatted with ``amount`` (physical, signed
            relative to identity), ``abs_amount``, ``unit``, ``direction`` (``"raised"`` /
            ``"lowered"`` by default, see ``verbs``) and ``strength``.
        verbs: the two ``direction`` words for positive and negative strength.
        differentiable: gradients flow through the op.
        stochastic: the op draws random numbers (uses ``seed``).
        signed: negative strengths are meaningful (else only ``[0, 1]``).
        changes_size: output size may differ from the input size.
    """

    name: str
    family: str
    unit: str
    description: str
    identity: float
    at_minus_one: float
    at_plus_one: float
    template: str
    verbs: tuple[str, str] = ("raised", "lowered")
    differentiable: bool = False
    stochastic: bool = False
    signed: bool = True
    changes_size: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (used by ``redaes ops --json``)."""
        return asdict(self)


class EditOp(ABC):
    """Base class of edit operations. Subclasses set ``info`` and implement :meth:`apply`."""

    info: ClassVar[OpInfo]

    def physical(self, strength: float) -> float:
        """The physical amount (in ``info.unit``) for a normalised ``strength``."""
        s = float(strength)
        i = self.info
        end = i.at_plus_one if s >= 0 else i.at_minus_one
        return i.identity + abs(s) * (end - i.identity)

    def strength_for(self, amount: float) -> float:
        """Inverse of :meth:`physical` (e.g. ``strength_for(1.0)`` = +1 EV as strength 0.5)."""
        i = self.info
        for end, sign in ((i.at_plus_one, 1.0), (i.at_minus_one, -1.0)):
            span = end - i.identity
            if span != 0 and (amount - i.identity) / span >= 0:
                return sign * min(1.0, (amount - i.identity) / span)
        return 0.0

    def describe(self, strength: float) -> str:
        """A sentence explaining this edit at ``strength`` (used in reasoning text)."""
        amount = self.physical(strength) - self.info.identity
        direction = self.info.verbs[0] if strength >= 0 else self.info.verbs[1]
        return self.info.template.format(
            amount=amount,
            abs_amount=abs(amount),
            unit=self.info.unit,
            direction=direction,
            strength=strength,
            value=self.physical(strength),
        )

    def check_strength(self, strength: Strength, n: int) -> torch.Tensor:
        """Validate ``strength`` and return it as a float tensor of shape ``(n,)``."""
        s = torch.as_tensor(strength, dtype=torch.float32)
        if s.ndim == 0:
            s = s.expand(n)
        elif s.shape != (n,):
            raise EditError(
                f"{self.info.name}: strength must be a float or shape ({n},), got {tuple(s.shape)}"
            )
        if not bool(torch.isfinite(s.detach()).all()):
            raise EditError(
                f"{self.info.name}: strength must be a finite number, got {s.detach().tolist()}"
            )
        lo = -1.0 if self.info.signed else 0.0
        if bool(((s.detach() < lo - 1e-6) | (s.detach() > 1.0 + 1e-6)).any()):
            rng = "[-1, 1]" if self.info.signed else "[0, 1] (this op is one-directional)"
            raise EditError(
                f"{self.info.name}: strength must be in {rng}, got {s.detach().tolist()}"
            )
        return s

    def __call__(self, images: torch.Tensor, strength: Strength, seed: Seed = 0) -> torch.Tensor:
        """Apply the op to a batch ``(N, 3, H, W)`` (or one image ``(3, H, W)``)."""
        single = images.ndim == 3
        x = images.unsqueeze(0) if single else images
        if x.ndim != 4 or x.shape[1] != 3:
            raise EditError(
                f"{self.info.name}: expected (N, 3, H, W) images, got {tuple(images.shape)}"
            )
        n = x.shape[0]
        s = self.check_strength(strength, n)
        if self.info.changes_size and n > 1 and bool((s != s[0]).any()):
            raise EditError(f"{self.info.name} changes the image size: use one strength per batch")
        seeds = [int(seed)] * n if isinstance(seed, int) else [int(v) for v in seed]
        if len(seeds) != n:
            raise EditError(f"{self.info.name}: got {len(seeds)} seeds for {n} images")
        s = (
            s.to(device=x.device, dtype=x.dtype)
            if isinstance(strength, torch.Tensor)
            else s.to(x.device)
        )
        out = self.apply(x, s, seeds).clamp(0.0, 1.0).to(images.dtype)
        return out[0] if single else out

    def apply_pil(self, image: Image.Image, strength: float, seed: int = 0) -> Image.Image:
        """Apply the op to one PIL image (same pixels as the tensor path, rounded to 8 bits)."""
        return tensor_to_pil(self(pil_to_tensor(image), strength, seed))

    @abstractmethod
    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        """Apply to a validated batch ``x`` ``(N, 3, H, W)`` with strengths ``s`` ``(N,)``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.info.name!r})"


EDIT_OPS: Registry[EditOp] = Registry("edit op")


def register_op(cls: type[EditOp]) -> type[EditOp]:
    """Class decorator: register an :class:`EditOp` subclass under ``cls.info.name``."""
    EDIT_OPS.add(cls.info.name, cls)
    return cls


def create_edit(name: str, **overrides: Any) -> EditOp:
    """Create the edit op registered as ``name``."""
    return EDIT_OPS.create(name, **overrides)


def list_edits(family: str | None = None) -> list[OpInfo]:
    """Metadata of every registered op (optionally one family), sorted by family then name."""
    infos = [EDIT_OPS.get(n).info for n in EDIT_OPS.names()]  # type: ignore[attr-defined]
    if family is not None:
        infos = [i for i in infos if i.family == family]
    return sorted(infos, key=lambda i: (FAMILIES.index(i.family), i.name))


def per_sample(s: torch.Tensor) -> torch.Tensor:
    """Reshape strengths ``(N,)`` to ``(N, 1, 1, 1)`` for broadcasting over images."""
    return s.view(-1, 1, 1, 1)


def seeded_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A ``torch.Generator`` seeded with ``seed`` (per-image noise for stochastic ops)."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed) & 0xFFFF_FFFF_FFFF)
    return g
