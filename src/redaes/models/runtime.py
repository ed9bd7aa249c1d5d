"""Fast CPU inference for :class:`CompactNet`: ONNX Runtime (fp32 or int8) behind one interface.

``CompactAssessor(runtime=...)`` picks the engine: ``torch`` (eager PyTorch), ``onnx`` (the net
exported once with :func:`torch.onnx.export`, run by ONNX Runtime), ``onnx-int8`` (the export
quantised with :func:`onnxruntime.quantization.quantize_dynamic`) or ``auto`` (``onnx`` when
``onnxruntime`` is importable, else ``torch``). Exports are cached in :func:`cache_dir`
(``$REDAES_CACHE`` or ``~/.cache/redaes``) under ``onnx/<key>.onnx``, where the key is the
weights file's sha256 (or a digest of an in-memory net's tensors) plus the export settings;
files are written to a temporary name and renamed, so a crash never leaves a half file.

>>> from redaes.models.runtime import resolve_runtime
>>> resolve_runtime("torch")
'torch'
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from redaes.errors import ConfigError
from redaes.models.net import CompactNet

RUNTIMES = ("auto", "torch", "onnx", "onnx-int8")
EXPORT_VERSION = 2  # bump when the exported graph changes (invalidates cached files)
# v2: the graph returns the unclamped score; OnnxScorer clamps (raw_score needs the raw value)
OPSET = 17


def onnx_available() -> bool:
    """Whether ``onnxruntime`` and ``onnx`` can be imported (the ``fast`` extra)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def resolve_runtime(runtime: str) -> str:
    """``auto`` -> ``onnx`` or ``torch``; a named ONNX runtime without onnxruntime is an error."""
    if runtime not in RUNTIMES:
        raise ConfigError(f"runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")
    if runtime == "auto":
        return "onnx" if onnx_available() else "torch"
    if runtime.startswith("onnx") and not onnx_available():
        raise ConfigError(
            f"runtime {runtime!r} needs onnxruntime and onnx: pip install 'redaes[fast]' "
            "(or use --runtime torch)"
        )
    return runtime


def cache_dir() -> Path:
    """redaes' cache folder: ``$REDAES_CACHE``, else ``$XDG_CACHE_HOME/redaes``/``~/.cache``."""
    env = os.environ.get("REDAES_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "redaes"


def net_digest(net: CompactNet) -> str:
    """sha256 of an in-memory net's config and tensors (the cache key when there is no file)."""
    h = hashlib.sha256(repr(sorted(net.config.to_dict().items())).encode())
    for name, t in net.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _atomic_save(write: Any, dest: Path) -> None:
    """Run ``write(tmp_path)`` and rename the result onto ``dest`` (same folder, atomic)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Wrapped(torch.nn.Module):
    """The net's eval forward (unclamped score, std) as one exportable graph."""

    def __init__(self, net: CompactNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        score, std = self.net(x)
        return score, std


def export_onnx(net: CompactNet, dest: Path) -> Path:
    """Export ``net`` (eval mode, dynamic batch) to ``dest`` atomically; returns ``dest``."""
    size = int(net.config.input_size)
    was = net.training
    net.eval()
    wrapped = _Wrapped(net).eval()

    def write(tmp: Path) -> None:
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(
                wrapped,
                (torch.zeros(1, 3, size, size),),
                str(tmp),
                input_names=["image"],
                output_names=["score", "std"],
                dynamic_axes={"image": {0: "n"}, "score": {0: "n"}, "std": {0: "n"}},
                opset_version=OPSET,
                dynamo=False,
            )

    try:
        _atomic_save(write, dest)
    finally:
        net.train(was)
    return dest


def quantize_int8(src: Path, dest: Path) -> Path:
    """Dynamic int8 quantisation of an exported model (weights int8, activations per batch)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def write(tmp: Path) -> None:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QUInt8)

    _atomic_save(write, dest)
    return dest


def onnx_model_path(net: CompactNet, key: str, runtime: str) -> Path:
    """The cached ``.onnx`` for ``net`` under ``key`` (exported/quantised on first use)."""
    base = cache_dir() / "onnx"
    fp32 = base / f"{key}-v{EXPORT_VERSION}-op{OPSET}.onnx"
    if not fp32.is_file():
        export_onnx(net, fp32)
    if runtime == "onnx-int8":
        int8 = fp32.with_name(fp32.stem + "-int8.onnx")
        if not int8.is_file():
            quantize_int8(fp32, int8)
        return int8
    return fp32


class OnnxScorer:
    """An ONNX Runtime session scoring preprocessed batches like :meth:`CompactNet.scores`.

    Args:
        path: the ``.onnx`` file (see :func:`onnx_model_path`).
        threads: intra-op threads (default: ``$REDAES_THREADS``, else the CPU count).
    """

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        n = threads or int(os.environ.get("REDAES_THREADS", "0") or 0) or (os.cpu_count() or 1)
        opts.intra_op_num_threads = max(1, n)
        opts.inter_op_num_threads = 1
        # idle worker threads sleep instead of spinning after each run: spinning ORT threads
        # starve the decode and tensor work that shares the cores between batches (measured in
        # bench/results/serve.md: 34.7 -> 41.2 images/s at batch 8 on 2 cores)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self.session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def scores(
        self, batch: torch.Tensor | np.ndarray, clamp: bool = True
    ) -> tuple[list[float], list[float]]:
        """Scores (clamped to [0, 10] unless ``clamp=False``) and stds for an (N, 3, S, S)
        batch in [0, 1]."""
        x = batch.numpy() if isinstance(batch, torch.Tensor) else batch
        score, std = self.session.run(None, {"image": np.ascontiguousarray(x, np.float32)})
        if clamp:
            score = np.clip(score, np.float32(0.0), np.float32(10.0))
        return [float(v) for v in score], [float(v) for v in std]


def make_scorer(net: CompactNet, runtime: str, key: str | None = None) -> Any:
    """The engine for ``runtime``: ``net`` itself for torch, else an :class:`OnnxScorer`."""
    resolved = resolve_runtime(runtime)
    if resolved == "torch":
        return net
    return OnnxScorer(onnx_model_path(net, key or net_digest(net), resolved))
