"""Adapters around local ``diffusers`` image-editing pipelines (instruction + image -> image).

An adapter loads a pipeline from a local folder only (``local_files_only=True``; nothing is ever
downloaded), maps a normalised strength magnitude ``a = |s|`` in ``[0, 1]`` to the pipeline's
controls (:class:`StrengthMapping`), and edits a batch ``(N, 3, H, W)`` in ``[0, 1]`` with one
instruction, deterministically: image ``i`` draws its noise from ``torch.Generator`` (CPU)
seeded with ``seeds[i]`` only, so the result does not depend on the device placement of the
noise. The adapter is chosen by the pipeline class name in ``model_index.json``:

* ``StableDiffusionInstructPix2PixPipeline`` -> :class:`InstructPix2PixAdapter`;
* any other class (FLUX Kontext, Qwen-Image-Edit, img2img, ...) -> :class:`GenericAdapter`,
  which passes each control only when the pipeline's ``__call__`` accepts it.

Placement: on CUDA, ``enable_model_cpu_offload()`` (``offload=True``) or ``.to("cuda")``; on a
machine without CUDA the pipeline stays on the CPU and offload is never enabled.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from redaes.errors import ConfigError

INSTALL_HINT = "pip install 'redaes[generative]'"
IP2P_CLASS = "StableDiffusionInstructPix2PixPipeline"


class PipelineUnavailable(ConfigError):
    """The editing pipeline cannot be loaded: no folder, not a pipeline, or no ``diffusers``."""


@dataclass(frozen=True)
class StrengthMapping:
    """How ``a = |s|`` in ``[0, 1]`` maps to the pipeline controls (linear in ``a``).

    Each pair is ``(value at a -> 0, value at a = 1)``:

    * ``image_guidance``: InstructPix2Pix ``image_guidance_scale`` (higher = closer to the input
      photo), 1.8 -> 1.2; kept >= 1 so classifier-free guidance stays on;
    * ``text_guidance``: ``guidance_scale`` (and ``true_cfg_scale`` where a pipeline has it),
      3.0 -> 9.0: the instruction is followed more strongly;
    * ``steps``: ``num_inference_steps``, 10 -> 30 (rounded);
    * ``denoise``: the ``strength`` argument of img2img-style pipelines, 0.3 -> 0.8.
    """

    image_guidance: tuple[float, float] = (1.8, 1.2)
    text_guidance: tuple[float, float] = (3.0, 9.0)
    steps: tuple[int, int] = (10, 30)
    denoise: tuple[float, float] = (0.3, 0.8)

    def controls(self, magnitude: float) -> EditControls:
        """The controls for strength magnitude ``magnitude`` (clipped to ``[0, 1]``)."""
        a = min(1.0, max(0.0, abs(float(magnitude))))

        def lerp(span: tuple[float, float]) -> float:
            return round(float(span[0]) + a * (float(span[1]) - float(span[0])), 6)

        return EditControls(
            steps=max(1, round(lerp((float(self.steps[0]), float(self.steps[1]))))),
            guidance_scale=lerp(self.text_guidance),
            image_guidance_scale=max(1.0, lerp(self.image_guidance)),
            denoise=min(1.0, max(0.0, lerp(self.denoise))),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrengthMapping:
        """Build from ``{"steps": [10, 30], ...}``; unknown keys raise :class:`ConfigError`."""
        from redaes.edits.generative.options import MAPPING_KEYS, check_mapping, did_you_mean

        for key, value in data.items():
            if key not in MAPPING_KEYS:
                hint = did_you_mean(str(key), MAPPING_KEYS)
                known = ", ".join(MAPPING_KEYS)
                raise ConfigError(f"strength mapping: unknown key {key!r}.{hint} Known: {known}")
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise ConfigError(f"strength mapping {key!r}: need [value at 0, value at 1]")
        check_mapping(data, "strength mapping")
        pairs: dict[str, Any] = {
            k: (int(v[0]), int(v[1])) if k == "steps" else (float(v[0]), float(v[1]))
            for k, v in data.items()
        }
        return cls(**pairs)


@dataclass(frozen=True)
class EditControls:
    """The pipeline controls of one edit (recorded in every pair row, JSON-ready)."""

    steps: int
    guidance_scale: float
    image_guidance_scale: float
    denoise: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EditControls:
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(data["steps"]),
            float(data["guidance_scale"]),
            float(data["image_guidance_scale"]),
            float(data["denoise"]),
        )


def pipeline_class_name(folder: str | Path) -> str:
    """``_class_name`` of ``folder/model_index.json``; :class:`PipelineUnavailable` if unusable."""
    root = Path(folder)
    if not root.is_dir():
        raise PipelineUnavailable(
            f"generative pipeline folder {root} not found: point --generative (plan: "
            "generative_pipeline) at a local diffusers pipeline folder (save_pretrained "
            "output); nothing is downloaded"
        )
    index = root / "model_index.json"
    try:
        name = json.loads(index.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, ValueError, AttributeError):
        name = None
    if not isinstance(name, str) or not name:
        raise PipelineUnavailable(
            f"{root} is not a diffusers pipeline folder (no readable model_index.json with "
            "_class_name)"
        )
    return name


def require_diffusers() -> Any:
    """Import ``diffusers`` or raise :class:`PipelineUnavailable` naming the extra."""
    try:
        import diffusers
    except ImportError:
        raise PipelineUnavailable(f"generative edits need diffusers: {INSTALL_HINT}") from None
    return diffusers


def weights_id(folder: str | Path) -> str:
    """``sha256:<20 hex>`` over every file of ``folder`` (relative path and bytes, sorted)."""
    root = Path(folder).resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    stamp = tuple((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _weights_id(str(root), stamp)


@lru_cache(maxsize=16)
def _weights_id(root: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for rel, _, _ in stamp:
        h.update(rel.encode() + b"\0")
        with open(Path(root) / rel, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return "sha256:" + h.hexdigest()[:20]


def _dtype_key() -> str:
    """``dtype`` where diffusers takes it (newer releases deprecate ``torch_dtype``)."""
    try:
        from diffusers.utils import deprecation_utils

        return "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
    except ImportError:
        return "torch_dtype"


def _round_size(h: int, w: int, multiple: int) -> tuple[int, int]:
    return max(multiple, h // multiple * multiple), max(multiple, w // multiple * multiple)


class PipelineAdapter:
    """Base adapter: load, map strength, edit batches. Use :func:`load_adapter`.

    Args:
        folder: local pipeline folder.
        mapping: strength -> controls.
        device: ``"auto"`` (CUDA when available), ``"cuda"`` or ``"cpu"``.
        offload: on CUDA, ``enable_model_cpu_offload()`` instead of moving the whole pipeline.
        batch_size: images per pipeline call.
        dtype: ``"auto"`` (float16 on CUDA, float32 on CPU), ``"float32"``, ``"float16"``,
            ``"bfloat16"``.
        cpu_threads: torch threads while a CPU pipeline runs (restored after). Fixed, so the
            reduction order, hence the 8-bit result, does not depend on the process (a build's
            workers run with 1 thread, the main process with all cores).
    """

    name: ClassVar[str] = "base"

    def __init__(
        self,
        folder: str | Path,
        mapping: StrengthMapping | None = None,
        *,
        device: str = "auto",
        offload: bool = False,
        batch_size: int = 4,
        dtype: str = "auto",
        cpu_threads: int = 1,
    ) -> None:
        self.folder = Path(folder)
        self.pipeline_class = pipeline_class_name(self.folder)
        diffusers = require_diffusers()
        self.mapping = mapping or StrengthMapping()
        self.batch_size = max(1, int(batch_size))
        self.cpu_threads = max(1, int(cpu_threads))
        cuda = torch.cuda.is_available()
        if device == "auto":
            device = "cuda" if cuda else "cpu"
        if device == "cuda" and not cuda:
            raise PipelineUnavailable(
                "generative device 'cuda' requested but CUDA is not available"
            )
        self.device = device
        names = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
        if dtype == "auto":
            torch_dtype = torch.float16 if device == "cuda" else torch.float32
        elif dtype in names:
            torch_dtype = names[dtype]
        else:
            raise ConfigError(f"generative dtype {dtype!r}: use auto, {', '.join(names)}")
        cls = getattr(diffusers, self.pipeline_class, None) or diffusers.DiffusionPipeline
        try:
            pipe = cls.from_pretrained(
                str(self.folder), local_files_only=True, **{_dtype_key(): torch_dtype}
            )
        except (OSError, ValueError) as exc:
            raise PipelineUnavailable(
                f"{self.folder}: cannot load {self.pipeline_class} from the local folder "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            ) from None
        pipe.set_progress_bar_config(disable=True)
        if device == "cuda" and offload:
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(device)
        self.offload = bool(device == "cuda" and offload)
        self.pipe = pipe
        self.weights_id = weights_id(self.folder)
        self.size_multiple = 8
        self._params = set(inspect.signature(pipe.__call__).parameters)
        factor = getattr(pipe, "vae_scale_factor", None)
        if isinstance(factor, int) and factor > 0:
            self.size_multiple = max(8, factor)

    def controls(self, magnitude: float) -> EditControls:
        """The controls for strength magnitude ``|s|`` (see :class:`StrengthMapping`)."""
        return self.mapping.controls(magnitude)

    def call_kwargs(self, controls: EditControls) -> dict[str, Any]:
        """Keyword arguments of one pipeline call for ``controls`` (subclasses narrow them)."""
        raise NotImplementedError

    def edit(
        self,
        images: torch.Tensor,
        instruction: str,
        controls: EditControls,
        seeds: list[int],
    ) -> torch.Tensor:
        """Edit ``images`` ``(N, 3, H, W)`` in ``[0, 1]`` with one instruction; same shape out.

        Images are resized to a multiple of the VAE factor for the pipeline and back after; image
        ``i`` uses its own generator seeded with ``seeds[i]`` (batched equals one at a time up to
        floating-point reduction order).
        """
        if images.ndim != 4 or images.shape[1] != 3:
            raise ConfigError(f"expected (N, 3, H, W) images, got {tuple(images.shape)}")
        if len(seeds) != images.shape[0]:
            raise ConfigError(f"got {len(seeds)} seeds for {images.shape[0]} images")
        outs = [
            self._edit_chunk(images[i : i + self.batch_size], instruction, controls, seeds[i:])
            for i in range(0, images.shape[0], self.batch_size)
        ]
        return torch.cat(outs).to(images.dtype).clamp(0.0, 1.0)

    def _edit_chunk(
        self, x: torch.Tensor, instruction: str, controls: EditControls, seeds: list[int]
    ) -> torch.Tensor:
        n, _, h, w = x.shape
        ph, pw = _round_size(h, w, self.size_multiple)
        inp = x.float()
        if (ph, pw) != (h, w):
            inp = F.interpolate(inp, size=(ph, pw), mode="bilinear", antialias=True)
        gens = [torch.Generator("cpu").manual_seed(int(s) & 0xFFFF_FFFF_FFFF) for s in seeds[:n]]
        kwargs = self.call_kwargs(controls)
        kwargs.update(prompt=[instruction] * n, image=inp.clamp(0, 1), generator=gens)
        if "output_type" in self._params:
            kwargs["output_type"] = "pt"
        if "height" in self._params and "width" in self._params:
            kwargs.update(height=ph, width=pw)
        threads = torch.get_num_threads()
        if self.device == "cpu":
            torch.set_num_threads(self.cpu_threads)
        try:
            with torch.inference_mode():
                result = self.pipe(**kwargs)
        finally:
            torch.set_num_threads(threads)
        out = _as_tensor(result.images if hasattr(result, "images") else result[0])
        out = out.to("cpu", torch.float32)
        if tuple(out.shape[-2:]) != (h, w):
            out = F.interpolate(out, size=(h, w), mode="bilinear", antialias=True)
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.pipeline_class}, {self.folder}, device={self.device}, "
            f"weights={self.weights_id})"
        )


def _as_tensor(images: Any) -> torch.Tensor:
    """Pipeline output (``pt`` tensor, numpy array or PIL list) -> ``(N, 3, H, W)`` in [0, 1]."""
    if isinstance(images, torch.Tensor):
        return images.float()
    if isinstance(images, list) and images and hasattr(images[0], "convert"):
        from redaes.imageio import pil_to_tensor

        return torch.stack([pil_to_tensor(im.convert("RGB")) for im in images])
    arr = torch.as_tensor(images).float()
    return arr.permute(0, 3, 1, 2) if arr.shape[-1] == 3 else arr


class InstructPix2PixAdapter(PipelineAdapter):
    """``StableDiffusionInstructPix2PixPipeline``: image guidance, text guidance and steps."""

    name = "instruct-pix2pix"

    def call_kwargs(self, controls: EditControls) -> dict[str, Any]:
        return {
            "num_inference_steps": controls.steps,
            "guidance_scale": controls.guidance_scale,
            "image_guidance_scale": controls.image_guidance_scale,
        }


class GenericAdapter(PipelineAdapter):
    """Any pipeline taking ``image`` and ``prompt``: each control goes to the argument of the
    same meaning when ``__call__`` has it (``num_inference_steps``, ``guidance_scale``,
    ``true_cfg_scale``, ``image_guidance_scale``, ``strength``)."""

    name = "generic"

    def call_kwargs(self, controls: EditControls) -> dict[str, Any]:
        wanted = {
            "num_inference_steps": controls.steps,
            "guidance_scale": controls.guidance_scale,
            "true_cfg_scale": controls.guidance_scale,
            "image_guidance_scale": controls.image_guidance_scale,
            "strength": controls.denoise,
        }
        if not {"image", "prompt"} <= self._params:
            raise PipelineUnavailable(
                f"{self.pipeline_class} does not take an image and a prompt: not an editing "
                "pipeline"
            )
        kwargs = {k: v for k, v in wanted.items() if k in self._params}
        if "strength" in kwargs and kwargs["num_inference_steps"] * controls.denoise < 1:
            kwargs["num_inference_steps"] = math.ceil(1 / max(controls.denoise, 1e-3))
        return kwargs


ADAPTERS: dict[str, type[PipelineAdapter]] = {IP2P_CLASS: InstructPix2PixAdapter}
"""Pipeline class name -> adapter; any other class gets :class:`GenericAdapter`."""


def load_adapter(
    folder: str | Path,
    mapping: StrengthMapping | None = None,
    *,
    adapter: str = "auto",
    **options: Any,
) -> PipelineAdapter:
    """Load the adapter for the pipeline in ``folder`` (chosen by its class name).

    ``adapter`` forces ``"instruct-pix2pix"`` or ``"generic"``; ``options`` go to
    :class:`PipelineAdapter` (``device``, ``offload``, ``batch_size``, ``dtype``).
    """
    by_name = {c.name: c for c in (InstructPix2PixAdapter, GenericAdapter)}
    if adapter == "auto":
        cls = ADAPTERS.get(pipeline_class_name(folder), GenericAdapter)
    elif adapter in by_name:
        cls = by_name[adapter]
    else:
        raise ConfigError(f"unknown generative adapter {adapter!r} (auto, {', '.join(by_name)})")
    return cls(folder, mapping, **options)
