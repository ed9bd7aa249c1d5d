"""Fast CPU inference for :class:`CompactNet`: ONNX Runtime (fp32 or int8) behind one interface.

``CompactAssessor(runtime=...)`` picks the engine: ``torch`` (eager PyTorch), ``onnx`` (the net
exported once with :func:`torch.onnx.export`, run by ONNX Runtime), ``onnx-int8`` (the export
quantised with :func:`onnxruntime.quantization.quantize_dynamic`) or ``auto`` (``onnx`` when
``onnxruntime`` is importable, else ``torch``). Exports are cached in :func:`cache_dir`
(``$REDAES_CACHE`` or ``~/.cache/redaes``) under ``onnx/<key>.onnx``, where the key is the
weights file's sha256 (or a digest of an in-memory net's tensors) plus the export settings;
files are written to a temporary name and renamed, so a crash never leaves a half file.

Once a weights file's export is cached, :class:`CachedOnnxAssessor` scores with it without
importing torch (``redaes score``'s fast start): the config comes from the safetensors header,
the input from :func:`preprocess_array` (the same numbers as :meth:`CompactNet.preprocess`).

>>> from redaes.models.runtime import resolve_runtime
>>> resolve_runtime("torch")
'torch'
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from redaes.errors import ConfigError
from redaes.models.scoring import CalibratedScores

if TYPE_CHECKING:  # torch and the net load only to export or to run the torch engine
    import torch

    from redaes.imageio import ImageInput
    from redaes.models.calibrate import Calibration
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


def export_onnx(net: CompactNet, dest: Path) -> Path:
    """Export ``net`` (eval mode, dynamic batch) to ``dest`` atomically; returns ``dest``."""
    import torch

    class _Wrapped(torch.nn.Module):
        """The net's eval forward (unclamped score, std) as one exportable graph."""

        def __init__(self, net: CompactNet) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            score, std = self.net(x)
            return score, std

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


def onnx_cache_paths(key: str) -> tuple[Path, Path]:
    """Where the fp32 and the int8 export for ``key`` are cached."""
    fp32 = cache_dir() / "onnx" / f"{key}-v{EXPORT_VERSION}-op{OPSET}.onnx"
    return fp32, fp32.with_name(fp32.stem + "-int8.onnx")


def cached_onnx_path(key: str, runtime: str) -> Path | None:
    """The already cached ``.onnx`` for ``key`` under an ONNX ``runtime``, else None."""
    fp32, int8 = onnx_cache_paths(key)
    path = int8 if runtime == "onnx-int8" else fp32
    return path if path.is_file() else None


def onnx_model_path(net: CompactNet, key: str, runtime: str) -> Path:
    """The cached ``.onnx`` for ``net`` under ``key`` (exported/quantised on first use)."""
    fp32, int8 = onnx_cache_paths(key)
    if not fp32.is_file():
        export_onnx(net, fp32)
    if runtime == "onnx-int8":
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
        x = batch if isinstance(batch, np.ndarray) else batch.numpy()
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


def preprocess_array(image: ImageInput, size: int) -> np.ndarray:
    """One image -> ``float32`` (3, size, size) in [0, 1] without torch: the same numbers as
    :meth:`CompactNet.preprocess` (Pillow bilinear resize, ``/ 255`` in float32)."""
    from redaes.imageio import as_pil, normalize_mode

    img = as_pil(image)
    if img.size != (size, size):  # as redaes.models.net.resize_to_input
        img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
    arr = np.asarray(normalize_mode(img), dtype=np.uint8).transpose(2, 0, 1)
    return arr.astype(np.float32) / np.float32(255.0)


class CachedOnnxAssessor(CalibratedScores):
    """A weights file's cached ONNX export as an assessor that never imports torch.

    It scores like :class:`~redaes.models.assessor.CompactAssessor` with the same runtime
    (``score``, ``score_with_std``, ``score_details``; calibrated when the file has a
    calibration); use :meth:`from_cache` to get one only when the export is cached.

    Args:
        weights: the ``.safetensors`` weights file.
        onnx_path: its cached export (:func:`cached_onnx_path`).
        batch_size: images per ONNX run (scores do not depend on it).
    """

    name = "compact"

    def __init__(self, weights: str | Path, onnx_path: Path, batch_size: int = 16) -> None:
        from redaes.models.calibrate import Calibration
        from redaes.models.weights import read_config

        self.weights_path: str | None = str(weights)
        cfg = read_config(weights)
        self.input_size = int(cfg.get("input_size", 224))
        self.batch_size = max(1, int(batch_size))
        cal = cfg.get("calibration")
        where = f"{weights}: calibration"
        self.calibration: Calibration | None = (
            Calibration.from_dict(cal, where) if cal is not None else None
        )
        self.onnx_path = onnx_path
        self._engine: OnnxScorer | None = None

    @classmethod
    def from_cache(
        cls, weights: str | Path, runtime: str = "auto", batch_size: int = 16
    ) -> CachedOnnxAssessor | None:
        """The assessor when ``runtime`` resolves to ONNX and the export of ``weights`` is
        cached, else None (the caller then loads the torch model, which exports it)."""
        from redaes.models.weights import file_sha256

        p = Path(weights)
        if runtime not in RUNTIMES or not p.is_file() or resolve_runtime(runtime) == "torch":
            return None
        path = cached_onnx_path(file_sha256(p), resolve_runtime(runtime))
        return cls(p, path, batch_size) if path is not None else None

    def fingerprint(self) -> dict[str, Any]:
        """The weights file's digest (as :meth:`CompactAssessor.fingerprint`)."""
        from redaes.models.weights import file_sha256

        return {"weights_sha256": file_sha256(str(self.weights_path))}

    def _predict(self, images: Sequence[ImageInput], clamp: bool) -> list[tuple[float, float]]:
        if self._engine is None:
            self._engine = OnnxScorer(self.onnx_path)
        out: list[tuple[float, float]] = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            batch = np.stack([preprocess_array(im, self.input_size) for im in chunk])
            s, sd = self._engine.scores(batch, clamp=clamp)
            out.extend(zip(s, sd, strict=True))
        return out
