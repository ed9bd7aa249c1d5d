"""The compact assessor network: a backbone, a score head and an uncertainty head.

``CompactNet(x)`` returns ``(score, std)`` per image on redaes' 0-10 scale (higher is better).
Relative supervision fixes score *differences*, not the level: the level is set afterwards by
the anchor (``offset``), by default so that the median score of the training sources (corpus
originals) is ``anchor_value`` (5.0). Scores are clamped to [0, 10] only when reported
(:meth:`CompactNet.scores`); training sees the unclamped values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from redaes.errors import ConfigError
from redaes.imageio import ImageInput, as_pil, pil_to_tensor
from redaes.models.backbones import Backbone, create_backbone

FORMAT = "redaes-compact"
FORMAT_VERSION = 1


@dataclass
class ModelConfig:
    """Everything needed to rebuild a :class:`CompactNet` (stored in the weights file).

    Args:
        backbone: backbone registry name.
        input_size: square input side in pixels (images are resized to it, aspect not kept).
        scaling: input scaling (``tf`` = (x-127)/128, ``imagenet``, ``unit``).
        pretrained: load the backbone's ImageNet weights at construction (training start only).
        dropout: dropout before the head.
        min_std: floor of the predicted std (points).
        anchor: how the level was fixed: ``{"method", "value", "offset"}``.
        recipe: the training configuration that produced the weights.
        data: fingerprint of the training data.
        std_scale: factor on every predicted std, fitted after training on the validation
            split (:func:`redaes.train.evaluate.calibrate_std`); 1.0 = uncalibrated (old files).
        calibration: optional monotone map to a user's rating scale (``redaes calibrate``,
            :class:`redaes.models.calibrate.Calibration`); None = redaes' 0-10 scale.
    """

    backbone: str = "efficientnet-lite0"
    input_size: int = 224
    scaling: str = "tf"
    pretrained: bool = True
    dropout: float = 0.2
    min_std: float = 0.05
    anchor: dict[str, Any] = field(
        default_factory=lambda: {"method": "none", "value": 5.0, "offset": 5.0}
    )
    recipe: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    std_scale: float = 1.0
    calibration: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, with the format and the redaes version."""
        from redaes import __version__

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "redaes": __version__,
            **asdict(self),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "config") -> ModelConfig:
        """Parse a stored config; raise :class:`ConfigError` on a foreign or newer format."""
        if d.get("format") not in (None, FORMAT):
            raise ConfigError(f"{where}: not a {FORMAT} config (format {d.get('format')!r})")
        if int(d.get("format_version", 1)) > FORMAT_VERSION:
            raise ConfigError(
                f"{where}: format version {d['format_version']} is newer than "
                f"this redaes supports ({FORMAT_VERSION})"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known - {"format", "format_version", "redaes"})
        if unknown:
            raise ConfigError(f"{where}: unknown model config keys {unknown}")
        return cls(**{k: v for k, v in d.items() if k in known})


class CompactNet(nn.Module):
    """Backbone + linear heads for the score (points) and its std (softplus, floored)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        kw: dict[str, Any] = {"scaling": config.scaling}
        if config.backbone.startswith("efficientnet"):
            kw["pretrained"] = config.pretrained
        else:
            kw["input_size"] = config.input_size
        self.backbone: Backbone = create_backbone(config.backbone, **kw)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(self.backbone.dim, 2)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.head.bias.data[1] = math.log(math.expm1(0.5))  # initial std 0.5 + min_std

    @property
    def offset(self) -> float:
        """The anchoring offset added to the raw score."""
        return float(self.config.anchor.get("offset", 5.0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (N, 3, S, S) in [0, 1] -> (unclamped score, std), both (N,)."""
        return self.forward_features(self.backbone(x))

    def forward_tail(self, h: torch.Tensor, n_tail: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Like :meth:`forward` from ``backbone.trunk(x, n_tail)`` (cached-trunk training)."""
        return self.forward_features(self.backbone.tail(h, n_tail))

    def forward_features(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled backbone features (N, dim) -> (unclamped score, std)."""
        out = self.head(self.dropout(feats))
        score = out[:, 0] + self.offset
        std = F.softplus(out[:, 1]) + self.config.min_std
        if self.config.std_scale != 1.0:  # post-training calibration (bit-identical when off)
            std = std * self.config.std_scale
        return score, std

    def std_head_state(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A copy of the std head's parameters (row 1 of ``head``: weight and bias)."""
        return self.head.weight[1].detach().clone(), self.head.bias[1].detach().clone()

    @torch.no_grad()
    def restore_std_head(self, state: tuple[torch.Tensor, torch.Tensor]) -> None:
        """Put back the std head's parameters saved by :meth:`std_head_state`."""
        self.head.weight[1].copy_(state[0])
        self.head.bias[1].copy_(state[1])

    def preprocess(self, image: ImageInput) -> torch.Tensor:
        """One image -> (3, S, S) in [0, 1]: RGB, resized to the input size (Pillow bilinear)."""
        return preprocess(as_pil(image), self.config.input_size)

    @torch.inference_mode()
    def scores(self, batch: torch.Tensor, clamp: bool = True) -> tuple[list[float], list[float]]:
        """Eval-mode scores (clamped to [0, 10] unless ``clamp=False``) and stds for a
        preprocessed batch."""
        was = self.training
        self.eval()
        try:
            score, std = self(batch)
        finally:
            self.train(was)
        return (score.clamp(0.0, 10.0) if clamp else score).tolist(), std.tolist()


def resize_to_input(img: Image.Image, size: int) -> Image.Image:
    """``img`` at the model input ``size`` x ``size`` (antialiased bilinear, no reducing gap);
    returned as is when it already is."""
    if img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
    return img


def preprocess(img: Image.Image, size: int) -> torch.Tensor:
    """RGB PIL image -> (3, size, size) float tensor in [0, 1] (:func:`resize_to_input`)."""
    return pil_to_tensor(resize_to_input(img, size))


def pair_view(score_a: float, std_a: float, score_b: float, std_b: float) -> dict[str, float]:
    """``delta = s_b - s_a``, ``delta_std = sqrt(std_a² + std_b²)``, ``P(b better)``.

    The two scores' errors are treated as independent Gaussians; with zero stds the probability
    is 1, 0 or 0.5.
    """
    delta = score_b - score_a
    delta_std = math.hypot(std_a, std_b)
    if delta_std > 0:
        p = 0.5 * (1.0 + math.erf(delta / (delta_std * math.sqrt(2.0))))
    else:
        p = 1.0 if delta > 0 else 0.0 if delta < 0 else 0.5
    return {"delta": delta, "delta_std": delta_std, "p_b_better": p}
