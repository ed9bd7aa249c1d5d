"""Image I/O: every bad input raises ImageLoadError naming the file; every odd mode becomes RGB.

All files are generated in ``tmp_path`` (no fixtures on disk, no network).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

from redaes.errors import ConfigError, ImageLoadError
from redaes.imageio import (
    as_pil,
    atomic_write_bytes,
    encode_image,
    iter_image_files,
    load_image,
    max_pixels,
    pil_to_tensor,
    resize_long_side,
    save_image,
    tensor_to_pil,
    to_batch,
)


def _rgb(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width x height`` RGB pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _linear_icc() -> bytes:
    """A minimal ICC v2 RGB profile: sRGB primaries (D50) but a *linear* tone curve (gamma 1)."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curv = b"curv\0\0\0\0" + struct.pack(">IH", 1, 256) + b"\0\0"
    text = b"linear test\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 70
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curv),
        (b"gTRC", curv),
        (b"bTRC", curv),
        (b"cprt", b"text\0\0\0\0none\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (
        struct.pack(">I", offset + len(data))
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def _assert_fails(path: Path, *needles: str, **kwargs: int) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as info:
        load_image(path, **kwargs)
    message = str(info.value)
    assert str(path) in message, message
    assert info.value.path == str(path)
    for needle in needles:
        assert needle in message.lower(), message
    return info.value


# ---------------------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path: Path) -> None:
    _assert_fails(tmp_path / "nope.jpg", "no such file")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "photos.jpg"
    folder.mkdir()
    _assert_fails(folder, "directory")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    _assert_fails(p, "not a recognised image")


def test_non_image_with_image_extension(tmp_path: Path) -> None:
    p = tmp_path / "notes.jpg"
    p.write_text("these are not the pixels you are looking for\n" * 20)
    _assert_fails(p, "not a recognised image")


def test_corrupt_bytes_with_valid_header(tmp_path: Path) -> None:
    good = encode_image(Image.fromarray(_rgb()), "JPEG", 90)
    rng = np.random.default_rng(1)
    body = rng.integers(0, 256, len(good) - 20, dtype=np.uint8).tobytes()
    p = tmp_path / "corrupt.jpg"
    p.write_bytes(good[:20] + body)  # SOI + APP0 survive, the rest is noise
    _assert_fails(p)


def test_random_bytes(tmp_path: Path) -> None:
    p = tmp_path / "noise.png"
    p.write_bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _assert_fails(p, "not a recognised image")


@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_truncated_file(tmp_path: Path, fmt: str, suffix: str) -> None:
    data = encode_image(Image.fromarray(_rgb(96, 128)), fmt, 90)
    p = tmp_path / f"half{suffix}"
    p.write_bytes(data[: len(data) // 2])
    _assert_fails(p, "truncated")


def test_png_with_bad_crc(tmp_path: Path) -> None:
    data = bytearray(encode_image(Image.fromarray(_rgb()), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # flip a byte inside the compressed data
    p = tmp_path / "crc.png"
    p.write_bytes(bytes(data))
    _assert_fails(p)


def test_decompression_bomb_beyond_pillow_limit(tmp_path: Path) -> None:
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_declaring(50_000, 50_000))  # 2.5 gigapixels declared in ~100 bytes
    _assert_fails(p)


def test_pixel_limit_argument(tmp_path: Path) -> None:
    p = tmp_path / "big.png"
    Image.fromarray(_rgb(40, 50)).save(p)
    _assert_fails(p, "exceeds the limit of 1000", limit=1000)
    assert load_image(p, limit=2000).size == (50, 40)


def test_pixel_limit_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "declared.png"
    p.write_bytes(_png_declaring(4000, 3000))  # 12 MP declared: under Pillow's own limit
    monkeypatch.setenv("REDAES_MAX_PIXELS", "1000000")
    assert max_pixels() == 1_000_000
    _assert_fails(p, "12000000 pixels", "redaes_max_pixels")


def test_pixel_limit_env_invalid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDAES_MAX_PIXELS", "lots")
    with pytest.raises(ConfigError, match="REDAES_MAX_PIXELS"):
        max_pixels()


def test_large_limit_is_ours_not_pillows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow warns above ~89 MP; a file under our limit must not fail on that warning."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # makes a 1200 px image "warn"
    p = tmp_path / "ok.png"
    Image.fromarray(_rgb(30, 40)).save(p)
    assert load_image(p).size == (40, 30)


# ---------------------------------------------------------------------------- odd modes


def test_plain_rgb_roundtrip(tmp_path: Path) -> None:
    arr = _rgb()
    p = tmp_path / "rgb.png"
    Image.fromarray(arr).save(p)
    img = load_image(p)
    assert img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), arr)


def test_cmyk_jpeg(tmp_path: Path) -> None:
    arr = np.zeros((32, 48, 3), np.uint8)
    arr[:, :24] = (220, 30, 30)
    arr[:, 24:] = (30, 30, 220)
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(arr).convert("CMYK").save(p, quality=95)
    with Image.open(p) as raw:
        assert raw.mode == "CMYK"
    out = np.asarray(load_image(p)).astype(int)
    assert out.shape == (32, 48, 3)
    assert np.abs(out[4:-4, 4:20] - (220, 30, 30)).mean() < 12
    assert np.abs(out[4:-4, 28:-4] - (30, 30, 220)).mean() < 12


def test_sixteen_bit_gray_png(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (16, 1))
    p = tmp_path / "gray16.png"
    Image.fromarray(ramp).save(p)
    with Image.open(p) as raw:
        assert raw.mode.startswith("I")
    out = np.asarray(load_image(p))
    assert out.dtype == np.uint8 and out.shape == (16, 64, 3)
    np.testing.assert_allclose(out[0, :, 0], ramp[0] / 257.0, atol=1)


def test_dark_sixteen_bit_png_stays_dark(tmp_path: Path) -> None:
    """16-bit value 200 is 0.3 % of full scale: it must not be mistaken for 8-bit 200."""
    p = tmp_path / "dark16.png"
    Image.fromarray(np.full((8, 8), 200, np.uint16)).save(p)
    assert np.asarray(load_image(p)).max() <= 1


def test_sixteen_bit_rgb_png(tmp_path: Path) -> None:
    rgb16 = (np.random.default_rng(3).random((24, 32, 3)) * 65535).astype(np.uint16)
    p = tmp_path / "rgb16.png"
    assert cv2.imwrite(str(p), rgb16[:, :, ::-1])  # OpenCV writes BGR
    out = np.asarray(load_image(p)).astype(float)
    assert out.shape == (24, 32, 3)
    np.testing.assert_allclose(out, rgb16 / 257.0, atol=1.01)


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    img = Image.new("P", (20, 10), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (10, 0, 20, 10))
    p = tmp_path / "pal.png"
    img.save(p, transparency=0)  # palette index 0 (red) is fully transparent
    out = np.asarray(load_image(p))
    assert (out[:, :10] == 255).all()  # transparent -> white, not red
    np.testing.assert_array_equal(out[0, 15], (0, 0, 255))


def test_rgba_composited_on_white(tmp_path: Path) -> None:
    arr = np.zeros((10, 10, 4), np.uint8)
    arr[..., 0] = 200
    arr[:, :5, 3] = 0  # transparent
    arr[:, 5:, 3] = 128  # half
    p = tmp_path / "rgba.png"
    Image.fromarray(arr, "RGBA").save(p)
    out = np.asarray(load_image(p)).astype(int)
    assert (out[:, :5] == 255).all()
    np.testing.assert_allclose(out[0, 7], (228, 127, 127), atol=2)


def test_la_and_l_grayscale(tmp_path: Path) -> None:
    la = np.zeros((8, 8, 2), np.uint8)
    la[..., 0] = 40
    la[:, 4:, 1] = 255
    p_la = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(p_la)
    out = np.asarray(load_image(p_la))
    assert (out[:, :4] == 255).all() and (out[:, 4:] == 40).all()

    p_l = tmp_path / "l.jpg"
    Image.fromarray(np.full((8, 8), 90, np.uint8), "L").save(p_l, quality=95)
    out = np.asarray(load_image(p_l)).astype(int)
    assert out.shape == (8, 8, 3)
    assert np.abs(out - 90).max() <= 2
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


@pytest.mark.parametrize("orientation,corner", [(6, "top_right"), (8, "bottom_left")])
def test_exif_rotated_jpeg_comes_out_upright(tmp_path: Path, orientation: int, corner: str) -> None:
    stored = np.full((40, 80, 3), 128, np.uint8)  # 80 wide x 40 high as stored
    stored[:12, :12] = (255, 0, 0)  # red marker in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / f"rot{orientation}.jpg"
    Image.fromarray(stored).save(p, exif=exif, quality=95)
    img = load_image(p)
    assert img.size == (40, 80)  # width and height swapped
    out = np.asarray(img).astype(int)
    patch = {
        "top_right": out[2:10, -10:-2],  # 6 = rotate 90 deg clockwise to display
        "bottom_left": out[-10:-2, 2:10],  # 8 = rotate 90 deg anticlockwise
    }[corner]
    assert np.abs(patch - (255, 0, 0)).mean() < 20
    assert np.abs(out[2:10, 2:10] - 128).mean() < 20  # the displayed top-left is not the marker


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_corrupt_exif_block_still_loads(tmp_path: Path) -> None:
    """Broken metadata is not a broken photo: the pixels load, in stored orientation."""
    p = tmp_path / "badexif.jpg"
    bad = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff"  # IFD claims 65535 entries
    Image.new("RGB", (30, 20), (200, 100, 50)).save(p, exif=bad, quality=95)
    img = load_image(p)
    assert img.size == (30, 20)
    assert np.abs(np.asarray(img).astype(int) - (200, 100, 50)).max() <= 3


def test_embedded_icc_profile_is_converted_to_srgb(tmp_path: Path) -> None:
    icc = _linear_icc()
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    p = tmp_path / "linear.png"
    Image.new("RGB", (8, 8), (128, 128, 128)).save(p, icc_profile=icc)
    out = np.asarray(load_image(p)).astype(int)
    # linear 0.502 is sRGB 188; without the conversion it would stay 128
    assert np.abs(out - 188).max() <= 2


def test_broken_icc_profile_is_ignored(tmp_path: Path) -> None:
    p = tmp_path / "badicc.png"
    Image.new("RGB", (8, 8), (10, 20, 30)).save(p, icc_profile=b"definitely not ICC")
    np.testing.assert_array_equal(np.asarray(load_image(p))[0, 0], (10, 20, 30))


# ---------------------------------------------------------------------------- helpers


def test_tensor_roundtrip_and_batch() -> None:
    img = Image.fromarray(_rgb(20, 30))
    t = pil_to_tensor(img)
    assert t.shape == (3, 20, 30) and t.dtype == torch.float32
    assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0
    np.testing.assert_array_equal(np.asarray(tensor_to_pil(t)), np.asarray(img))
    batch = to_batch([img, np.asarray(img), t])
    assert batch.shape == (3, 3, 20, 30)
    assert torch.equal(batch[0], batch[2])
    with pytest.raises(ValueError, match="share one size"):
        to_batch([img, Image.fromarray(_rgb(10, 10))])


def test_as_pil_path_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.png"
    with pytest.raises(ImageLoadError, match=r"gone\.png"):
        as_pil(missing)
    with pytest.raises(TypeError):
        as_pil(42)  # type: ignore[arg-type]


def test_save_image_is_atomic_and_follows_suffix(tmp_path: Path) -> None:
    img = Image.fromarray(_rgb())
    for name, fmt in (("a.jpg", "JPEG"), ("b.png", "PNG"), ("c.webp", "WEBP")):
        save_image(img, tmp_path / "sub" / name)
        with Image.open(tmp_path / "sub" / name) as back:
            assert back.format == fmt
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name.endswith(".tmp")]


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "x.bin"
    atomic_write_bytes(dest, b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(dest, "not bytes")  # type: ignore[arg-type]
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_atomic_write_mode(tmp_path: Path) -> None:
    """Not the 0600 of a temporary file: the umask default, or the replaced file's mode."""
    fresh = tmp_path / "fresh.bin"
    atomic_write_bytes(fresh, b"1")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    fresh.chmod(0o640)
    atomic_write_bytes(fresh, b"2")
    assert fresh.stat().st_mode & 0o777 == 0o640 and fresh.read_bytes() == b"2"


def test_resize_long_side_never_upscales() -> None:
    img = Image.fromarray(_rgb(100, 200))
    assert resize_long_side(img, 50).size == (50, 25)
    assert resize_long_side(img, 500).size == (200, 100)


def test_iter_image_files(tmp_path: Path) -> None:
    for name in ("b.JPG", "a.png", "sub/c.webp", ".hidden.png", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path)]
    assert names == ["a.png", "b.JPG", "sub/c.webp"]
    assert [p.name for p in iter_image_files(tmp_path, recursive=False)] == ["a.png", "b.JPG"]
    with pytest.raises(ImageLoadError, match="not a directory"):
        iter_image_files(tmp_path / "a.png")
