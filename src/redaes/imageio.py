"""Image I/O in one place: every photo entering redaes goes through :func:`load_image`.

Guarantees:

* EXIF orientation is applied (the pixels are what a viewer shows).
* CMYK, 16-bit, palette, alpha (composited on white), grayscale and LAB inputs become 8-bit
  sRGB ``RGB``; an embedded ICC profile is converted to sRGB when Pillow's ImageCms is available.
* A pixel limit guards against decompression bombs (``REDAES_MAX_PIXELS``, default 100 MP).
* Missing, truncated, corrupt or non-image files raise :class:`~redaes.errors.ImageLoadError`
  naming the file.

Tensors are ``float32`` in ``[0, 1]`` with shape ``(N, 3, H, W)`` (sRGB, not linearised).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
from PIL import Image, ImageCms, ImageOps

from redaes.errors import ConfigError, ImageLoadError

if TYPE_CHECKING:  # torch loads on first use (`redaes score` on a cached ONNX model: never)
    import torch

DEFAULT_MAX_PIXELS = 100_000_000
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")

ImageInput: TypeAlias = "str | Path | Image.Image | np.ndarray | torch.Tensor"
"""One image: a path, a PIL image, an HxWx3 uint8 array or a CHW tensor."""


def max_pixels() -> int:
    """The decompression-bomb limit in pixels (env ``REDAES_MAX_PIXELS`` overrides the default)."""
    raw = os.environ.get("REDAES_MAX_PIXELS")
    if raw is None or not raw.strip():
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"REDAES_MAX_PIXELS={raw!r} is not an integer") from None
    if value <= 0:
        raise ConfigError(f"REDAES_MAX_PIXELS={raw!r} must be positive")
    return value


def _to_srgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(img, src, dst, outputMode=out_mode)
            if converted is not None:
                img = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixel values as they are
    return img


def normalize_mode(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit ``RGB`` (alpha composited over white)."""
    if img.mode in _SIXTEEN_BIT_MODES:
        # a 16-bit container means full scale is 65535, however dark the picture is
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(arr / 65535.0 * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "I":
        # 32-bit integer: 16-bit data (PNG/TIFF) unless the values say it is 8-bit
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        peak = 1.0 if arr.max() <= 1.0 else float(arr.max())
        img = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "PA"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def load_image(
    path: str | Path, *, limit: int | None = None, draft: tuple[int, int] | None = None
) -> Image.Image:
    """Load ``path`` as an upright 8-bit sRGB ``RGB`` PIL image.

    Args:
        path: the image file.
        limit: maximum number of pixels (default :func:`max_pixels`).
        draft: ``(w, h)`` of the upright image the caller needs at least: JPEGs are then
            decoded DCT-downscaled (``Image.draft``, 1/2..1/8) to no less than that size
            (much faster for a model input; the pixel limit is checked before decoding).

    Raises:
        ImageLoadError: the file is missing, not an image, truncated/corrupt or over the limit.
    """
    p = Path(path)
    if not p.exists():
        raise ImageLoadError(p, "no such file")
    if p.is_dir():
        raise ImageLoadError(p, "is a directory, not an image")
    if not p.is_file():
        raise ImageLoadError(p, "not a regular file")
    cap = max_pixels() if limit is None else limit
    try:
        with warnings.catch_warnings():
            # our own ``cap`` is the limit; Pillow's warning threshold (~89 MP) would contradict it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(p) as opened:
                w, h = opened.size
                if w * h > cap:
                    raise ImageLoadError(
                        p,
                        f"{w}x{h} = {w * h} pixels exceeds the limit of {cap} (REDAES_MAX_PIXELS)",
                    )
                if draft is not None and opened.format == "JPEG":
                    dw, dh = draft
                    if opened.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                        dw, dh = dh, dw  # stored sideways: transposed after decoding
                    opened.draft("RGB", (dw, dh))
                opened.load()
                img = ImageOps.exif_transpose(opened) or opened
                img = _to_srgb(img)
                img = normalize_mode(img)
                img.load()
    except ImageLoadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(p, f"decompression bomb refused ({exc})") from None
    except Image.UnidentifiedImageError:
        raise ImageLoadError(p, "not a recognised image file") from None
    except PermissionError:
        raise ImageLoadError(p, "permission denied") from None
    except MemoryError:
        raise ImageLoadError(p, "out of memory while decoding") from None
    except Exception as exc:  # any decoder failure on user data is a bad file, not a bug
        raise ImageLoadError(
            p, f"corrupt or truncated image ({type(exc).__name__}: {exc})"
        ) from None
    return img


def as_pil(image: ImageInput) -> Image.Image:
    """Coerce any :data:`ImageInput` to an RGB PIL image (paths go through :func:`load_image`)."""
    if isinstance(image, (str, Path)):
        return load_image(image)
    if isinstance(image, Image.Image):
        return normalize_mode(ImageOps.exif_transpose(image) or image)
    torch_mod = sys.modules.get("torch")  # without torch loaded, nothing can be a tensor
    if torch_mod is not None and isinstance(image, torch_mod.Tensor):
        t = image.detach()
        if t.ndim == 4:
            if t.shape[0] != 1:
                raise ValueError("as_pil takes one image; got a batch")
            t = t[0]
        return tensor_to_pil(t)
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            arr = np.clip(
                arr.astype(np.float64) * (255.0 if arr.max() <= 1.0 else 1.0) + 0.5, 0, 255
            )
            arr = arr.astype(np.uint8)
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise ValueError(f"expected an HxWx3 array, got shape {arr.shape}")
        return normalize_mode(Image.fromarray(arr))
    raise TypeError(f"unsupported image input of type {type(image).__name__}")


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> ``float32`` tensor ``(3, H, W)`` in ``[0, 1]``."""
    import torch

    arr = np.asarray(normalize_mode(img), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255.0)


def tensor_to_pil(t: torch.Tensor) -> Image.Image:
    """``(3, H, W)`` float tensor in ``[0, 1]`` -> RGB PIL image (rounded to 8 bits)."""
    if t.ndim != 3 or t.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) tensor, got shape {tuple(t.shape)}")
    import torch

    arr = (t.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8)
    return Image.fromarray(arr.permute(1, 2, 0).cpu().numpy(), "RGB")


def to_batch(images: Sequence[ImageInput]) -> torch.Tensor:
    """Stack same-sized images into ``(N, 3, H, W)``; raise ``ValueError`` on mixed sizes."""
    tensors = [pil_to_tensor(as_pil(im)) for im in images]
    sizes = {tuple(t.shape) for t in tensors}
    if len(sizes) > 1:
        raise ValueError(f"images in a batch must share one size, got {sorted(sizes)}")
    import torch

    return torch.stack(tensors)


def resize_long_side(img: Image.Image, long_side: int) -> Image.Image:
    """Downscale (never upscale) so the longer side is at most ``long_side`` (Lanczos)."""
    w, h = img.size
    scale = long_side / max(w, h)
    if scale >= 1.0:
        return img
    return img.resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS
    )


def encode_image(img: Image.Image, fmt: str = "PNG", quality: int = 95) -> bytes:
    """Encode ``img`` to bytes (``PNG`` or ``JPEG``)."""
    buf = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        img.save(buf, format="JPEG", quality=quality, subsampling=0)
    else:
        img.save(buf, format=fmt.upper())
    return buf.getvalue()


def _file_mode(dest: Path) -> int:
    """Mode of the file being replaced, else ``0o666`` minus the process umask."""
    try:
        return dest.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _file_mode(dest))  # mkstemp makes 0600 files; keep the usual mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_image(img: Image.Image, path: str | Path, quality: int = 95) -> None:
    """Save ``img`` atomically; the format follows the suffix (JPEG for .jpg/.jpeg, else PNG...)."""
    p = Path(path)
    fmt = {
        ".jpg": "JPEG",
        ".jpeg": "JPEG",
        ".webp": "WEBP",
        ".bmp": "BMP",
        ".tif": "TIFF",
        ".tiff": "TIFF",
    }.get(p.suffix.lower(), "PNG")
    atomic_write_bytes(p, encode_image(img, fmt, quality))


def iter_image_files(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` (by extension), sorted for determinism."""
    root = Path(folder)
    if not root.is_dir():
        raise ImageLoadError(root, "not a directory")
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in root.glob(pattern)
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    )
