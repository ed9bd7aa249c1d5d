"""RED pairs as tensors for compact training: decoded once, sources shared, paired augmentation.

Every distinct source render (``source_id`` + ``source_edits``) is decoded once; a *group* is a
source with all of its edited images (edit chains are groups' ordered subsets), with the known
relative targets ``0`` for the source and the judged ``delta`` for each edit. Images are resized
to a square (as the assessor does at inference) and kept as ``uint8``.

Augmentation never changes what was judged: one crop box (in relative coordinates) and one
horizontal flip are drawn per pair or group and applied to all of its images; there is no colour,
blur or noise jitter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from redaes.data import load_red
from redaes.errors import DataError
from redaes.models.net import preprocess
from redaes.train.config import AugmentConfig


@dataclass
class PairTensors:
    """One split of a RED dataset in memory.

    Attributes:
        images: ``(M, 3, L, L)`` uint8, each distinct image once.
        src, edt: ``(P,)`` image index of each pair's source and edited image.
        delta, delta_std, weight: ``(P,)`` judged delta, its std and the judges' confidence.
        groups: per source render, ``[source image, pair indices...]`` as ``(src_img, pairs)``.
        fingerprint: digest of the pair ids and labels (stored in weights files).
        source_images: ``(G, 3, S, S)`` uint8, each group's source at exactly the inference
            preprocessing (``anchor_size``), for anchoring; None when not asked for.
    """

    images: torch.Tensor
    src: np.ndarray
    edt: np.ndarray
    delta: np.ndarray
    delta_std: np.ndarray
    weight: np.ndarray
    groups: list[tuple[int, np.ndarray]]
    fingerprint: dict[str, object]
    source_images: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.src.shape[0])


def _confidence(judges: list[dict[str, object]]) -> float:
    vals = [
        float(j["confidence"])  # type: ignore[arg-type]
        for j in judges
        if j.get("ok") and j.get("confidence") is not None
    ]
    conf = float(np.mean(vals)) if vals else 1.0
    return float(np.clip(conf, 0.0, 1.0)) if np.isfinite(conf) else 0.0


def load_pairs(
    root: str | Path,
    split: str,
    size: int,
    max_pairs: int | None = None,
    anchor_size: int | None = None,
) -> PairTensors:
    """Decode ``split`` of the RED dataset at ``root`` into :class:`PairTensors` at ``size`` px."""
    ds = load_red(root, split=split)
    images: list[torch.Tensor] = []
    index: dict[str, int] = {}
    src: list[int] = []
    edt: list[int] = []
    delta: list[float] = []
    dstd: list[float] = []
    weight: list[float] = []
    members: dict[int, list[int]] = {}
    anchors: dict[int, torch.Tensor] = {}
    digest = hashlib.sha256()

    def add(key: str, img_fn: Callable[[], Image.Image]) -> int:
        if key not in index:
            index[key] = len(images)
            images.append((preprocess(img_fn(), size) * 255.0).round().to(torch.uint8))
        return index[key]

    for n, pair in enumerate(ds):
        if max_pairs is not None and n >= max_pairs:
            break
        if not (np.isfinite(pair.delta) and np.isfinite(pair.delta_std)):
            continue
        skey = "src:" + pair.source_id + json.dumps(pair.source_edits, sort_keys=True)
        s = add(skey, lambda: pair.source_image)  # noqa: B023  (called right away)
        if anchor_size is not None and s not in anchors:
            exact = preprocess(pair.source_image, anchor_size) * 255.0
            anchors[s] = exact.round().to(torch.uint8)
        e = add("pair:" + pair.pair_id, lambda: pair.edited_image)  # noqa: B023
        members.setdefault(s, []).append(len(src))
        src.append(s)
        edt.append(e)
        delta.append(pair.delta)
        dstd.append(max(0.0, pair.delta_std))
        weight.append(_confidence(pair.judges))
        digest.update(f"{pair.pair_id}:{pair.delta:.6f}:{pair.delta_std:.6f};".encode())
    if not src:
        raise DataError(f"{root}: split {split!r} has no usable pairs")
    groups = [(s, np.asarray(p, dtype=np.int64)) for s, p in sorted(members.items())]
    return PairTensors(
        images=torch.stack(images),
        src=np.asarray(src, dtype=np.int64),
        edt=np.asarray(edt, dtype=np.int64),
        delta=np.asarray(delta, dtype=np.float32),
        delta_std=np.asarray(dstd, dtype=np.float32),
        weight=np.asarray(weight, dtype=np.float32),
        groups=groups,
        fingerprint={
            "root": str(Path(root)),
            "split": split,
            "pairs": len(src),
            "images": len(images),
            "sha256": digest.hexdigest(),
        },
        source_images=torch.stack([anchors[s] for s, _ in groups]) if anchors else None,
    )


def paired_view(
    imgs: torch.Tensor, out_size: int, rng: np.random.Generator | None, aug: AugmentConfig
) -> torch.Tensor:
    """``imgs`` (n, 3, L, L) uint8 of ONE pair/group -> (n, 3, S, S) float in [0, 1].

    With ``rng`` one crop box (side in ``[crop_min, 1]`` of L, uniform position) and one flip
    decision are drawn and applied to all ``n`` images; without ``rng`` the whole image is used.
    """
    x = imgs.float().div_(255.0)
    side = x.shape[-1]
    if rng is None:
        return crop_resize(x, side, 0, 0, False, out_size)
    frac = float(rng.uniform(aug.crop_min, 1.0))
    c = max(8, round(side * frac))
    top = int(rng.integers(0, side - c + 1))
    left = int(rng.integers(0, side - c + 1))
    return crop_resize(x, c, top, left, aug.hflip and bool(rng.random() < 0.5), out_size)


def crop_resize(
    x: torch.Tensor, c: int, top: int, left: int, flip: bool, out_size: int
) -> torch.Tensor:
    """Crop the ``c``-pixel square at (top, left) of float images, flip, resize to ``out_size``."""
    x = x[..., top : top + c, left : left + c]
    if flip:
        x = x.flip(-1)
    if x.shape[-1] != out_size:
        x = F.interpolate(
            x, size=(out_size, out_size), mode="bilinear", antialias=True, align_corners=False
        )
    return x.clamp_(0.0, 1.0)
