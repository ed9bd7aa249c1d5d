"""Weights files of the compact assessor: one ``.safetensors`` file carrying its JSON config.

The tensors are stored with :mod:`safetensors` (no pickle, safe to open); the
:class:`~redaes.models.net.ModelConfig` (backbone, input size and scaling, score anchoring,
training recipe, data fingerprint, versions) is the JSON string under the metadata key
``redaes_config``. ``redaes`` never executes anything from a weights file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redaes.errors import ConfigError

if TYPE_CHECKING:  # torch and the net load on first use: reading a config needs neither
    import torch

    from redaes.models.net import CompactNet

META_KEY = "redaes_config"
# the backbone's ImageNet classifier is not part of the assessor
_SKIP = (".net._fc.",)


def _assessor_state(net: CompactNet) -> dict[str, torch.Tensor]:
    return {
        k: v.detach().cpu().contiguous().clone()
        for k, v in net.state_dict().items()
        if not any(s in f".{k}" for s in _SKIP)
    }


def save_weights(net: CompactNet, path: str | Path) -> Path:
    """Write ``net`` and its config to ``path`` atomically; return the path."""
    from safetensors.torch import save

    from redaes.imageio import atomic_write_bytes

    dest = Path(path)
    meta = {META_KEY: json.dumps(net.config.to_dict(), sort_keys=True)}
    atomic_write_bytes(dest, save(_assessor_state(net), metadata=meta))
    return dest


def read_config(path: str | Path) -> dict[str, Any]:
    """The stored config of a weights file (raises :class:`ConfigError` naming the file)."""
    from safetensors import safe_open

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: weights file not found")
    try:
        with safe_open(str(p), framework="numpy") as f:  # the header only: no torch
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise ConfigError(f"{p}: not a readable safetensors weights file ({exc})") from None
    if META_KEY not in meta:
        raise ConfigError(f"{p}: safetensors file without a redaes config (not a redaes model)")
    try:
        cfg = json.loads(meta[META_KEY])
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p}: malformed redaes config in the weights file ({exc})") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"{p}: malformed redaes config in the weights file")
    return cfg


def load_weights(path: str | Path) -> CompactNet:
    """Rebuild the network stored in ``path`` (eval mode, no ImageNet weights read)."""
    from safetensors.torch import load_file

    from redaes.models.net import CompactNet, ModelConfig

    p = Path(path)
    config = ModelConfig.from_dict(read_config(p), where=str(p))
    config.pretrained = False
    net = CompactNet(config)
    try:
        state = load_file(str(p))
    except Exception as exc:
        raise ConfigError(f"{p}: corrupt weights file ({exc})") from None
    expected = _assessor_state(net)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    bad = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or extra or bad:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
        if bad:
            detail = f"wrong shapes for {bad[:3]}"
        raise ConfigError(f"{p}: weights do not match the stored config ({detail})")
    net.load_state_dict(state, strict=False)
    net.eval()
    return net


def describe_weights(path: str | Path) -> str:
    """``PATH (sha256 0123456789ab, redaes-compact v1, redaes 0.1.0, stage 3)``: which weights
    file is in use (the first 12 hex digits of its sha256, its format and training versions)."""
    p = Path(path)
    cfg = read_config(p)
    parts = [
        f"sha256 {file_sha256(p)[:12]}",
        f"{cfg.get('format', 'redaes-compact')} v{cfg.get('format_version', 1)}",
        f"redaes {cfg.get('redaes', '?')}",
    ]
    stage = (cfg.get("recipe") or {}).get("stage")
    if stage is not None:
        parts.append(f"stage {stage}")
    if cfg.get("calibration"):
        parts.append("calibrated")
    return f"{p} ({', '.join(parts)})"


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file (equal to :func:`redaes.models.backbones.file_sha256`,
    without importing torch)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def is_main_process() -> bool:
    """False in the non-zero ranks of a multi-process run (``RANK`` set by ``accelerate``)."""
    try:
        return int(os.environ.get("RANK", "0") or 0) == 0
    except ValueError:
        return True
