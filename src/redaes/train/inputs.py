"""What a training step feeds the network: augmented pixels, or cached trunk features.

:class:`PixelInputs` turns the images of one pair or group into network input with one shared
augmentation: a fresh random crop and flip per draw (``augment.views = 0``), or one of ``K``
fixed views per image (``augment.views = K``: view 0 is the whole image, view 1 its mirror,
the rest seeded crops; :func:`view_boxes`).

:class:`CachedInputs` is the fast path of ``model.cache_trunk``: when the backbone is frozen
except its last ``train_last_blocks`` blocks (BatchNorm and the frozen blocks in eval mode), the
frozen trunk's output depends only on the image and the view, so it is computed once per image
and view (``backbone.trunk``) and a step runs only the trained tail (``net.forward_tail``). The
result is the same training as :class:`PixelInputs` with the same fixed views, up to the float16
storage of the features, at a fraction of the cost (tail only; no decode, crop or resize).
The cache is written atomically under ``OUT/trunk_cache/`` keyed by the data, the views, the
input size and the trunk's weights, so an interrupted run resumes without recomputing it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from redaes.imageio import atomic_write_bytes
from redaes.models.net import CompactNet
from redaes.train.config import AugmentConfig
from redaes.train.data import crop_resize, paired_view

Box = tuple[float, float, float, bool]  # (side, top, left) as fractions of the image, flip
WHOLE: Box = (1.0, 0.0, 0.0, False)
CACHE_DTYPE = torch.float16  # trunk features are stored at half precision (half the memory)


def view_boxes(k: int, aug: AugmentConfig, seed: int) -> list[Box]:
    """``k`` fixed views: the whole image, its mirror (with ``hflip``), then seeded crops."""
    boxes = [WHOLE]
    if aug.hflip and k > 1:
        boxes.append((1.0, 0.0, 0.0, True))
    rng = np.random.default_rng([seed, 7919])
    while len(boxes) < k:
        side = float(rng.uniform(aug.crop_min, 1.0))
        top, left = (float(v) for v in rng.uniform(0.0, 1.0 - side, size=2))
        boxes.append((side, top, left, bool(aug.hflip and rng.random() < 0.5)))
    return boxes


def apply_box(imgs: torch.Tensor, box: Box, out_size: int) -> torch.Tensor:
    """``imgs`` (n, 3, L, L) uint8 -> (n, 3, S, S) float in [0, 1], cropped to ``box``."""
    side_px = imgs.shape[-1]
    side, top, left, flip = box
    c = max(8, round(side_px * side))
    t, lft = min(round(side_px * top), side_px - c), min(round(side_px * left), side_px - c)
    return crop_resize(imgs.float().div_(255.0), c, t, lft, flip, out_size)


class PixelInputs:
    """Images decoded in memory; each draw crops, flips and resizes them (see module doc)."""

    def __init__(self, images: torch.Tensor, size: int, aug: AugmentConfig, seed: int = 0):
        self.images, self.size, self.aug = images, size, aug
        self.boxes = view_boxes(aug.views, aug, seed) if aug.views else None

    def draw(self, idx: Sequence[int], rng: np.random.Generator) -> torch.Tensor:
        """The images ``idx`` of one pair or group, with one augmentation drawn from ``rng``."""
        imgs = self.images[list(idx)]
        if self.boxes is None:
            return paired_view(imgs, self.size, rng, self.aug)
        return apply_box(imgs, self.boxes[int(rng.integers(len(self.boxes)))], self.size)

    def whole(self, bs: int) -> Iterator[torch.Tensor]:
        """Every image, whole and unflipped, in batches of ``bs`` (validation, anchoring)."""
        for i in range(0, self.images.shape[0], bs):
            yield paired_view(self.images[i : i + bs], self.size, None, self.aug)

    def forward(self, net: CompactNet, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return net(x)


def _trunk_digest(net: CompactNet, n_tail: int) -> str:
    h = hashlib.sha256()
    for block in net.backbone.blocks()[: net.backbone.first_trained(n_tail)]:
        for name, t in sorted(block.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()


class CachedInputs:
    """Frozen-trunk features of every image under every view, float16 (see module doc)."""

    def __init__(
        self,
        net: CompactNet,
        images: torch.Tensor,
        size: int,
        boxes: Sequence[Box],
        n_tail: int,
        cache_dir: Path | None = None,
        fingerprint: dict[str, Any] | None = None,
        progress: Any = None,
        bs: int = 32,
    ) -> None:
        self.n_tail, self.boxes = n_tail, list(boxes)
        key = json.dumps(
            {
                "data": fingerprint,
                "boxes": self.boxes,
                "size": size,
                "n_tail": n_tail,
                "shape": list(images.shape),
                "dtype": str(CACHE_DTYPE),
                "trunk": _trunk_digest(net, n_tail),
            },
            sort_keys=True,
        )
        path = None
        if cache_dir is not None:
            digest = hashlib.sha256(key.encode()).hexdigest()[:16]
            path = Path(cache_dir) / f"{(fingerprint or {}).get('split', 'data')}-{digest}.pt"
            if path.is_file():
                stored = torch.load(path, map_location="cpu", weights_only=True)
                if stored["key"] == key:
                    self.feats: torch.Tensor = stored["feats"]
                    return
        self.feats = self._compute(net, images, size, bs, progress)
        if path is not None:
            buf = io.BytesIO()
            torch.save({"key": key, "feats": self.feats}, buf)
            atomic_write_bytes(path, buf.getvalue())

    @torch.no_grad()
    def _compute(
        self, net: CompactNet, images: torch.Tensor, size: int, bs: int, progress: Any
    ) -> torch.Tensor:
        was = net.training
        net.eval()
        m, k = images.shape[0], len(self.boxes)
        task = progress.add_task("trunk cache", total=m * k) if progress is not None else None
        out: torch.Tensor | None = None
        for i in range(0, m, bs):
            for j, box in enumerate(self.boxes):
                h = net.backbone.trunk(apply_box(images[i : i + bs], box, size), self.n_tail)
                if out is None:
                    out = torch.empty((m, k, *h.shape[1:]), dtype=CACHE_DTYPE)
                out[i : i + bs, j] = h.to(CACHE_DTYPE)
                if task is not None:
                    progress.advance(task, h.shape[0])
        net.train(was)
        if task is not None:
            progress.remove_task(task)
        assert out is not None
        return out

    def draw(self, idx: Sequence[int], rng: np.random.Generator) -> torch.Tensor:
        """The features of images ``idx`` under one view drawn from ``rng``."""
        view = int(rng.integers(len(self.boxes)))
        return self.feats[list(idx), view].float()

    def whole(self, bs: int) -> Iterator[torch.Tensor]:
        """View 0 (the whole image) of every image, in batches of ``bs``."""
        for i in range(0, self.feats.shape[0], bs):
            yield self.feats[i : i + bs, 0].float()

    def forward(self, net: CompactNet, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return net.forward_tail(x, self.n_tail)


Inputs = PixelInputs | CachedInputs
