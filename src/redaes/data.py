"""Read RED pair datasets built by ``redaes pairs build`` (no ``datasets`` needed).

>>> from redaes.data import load_red
>>> ds = load_red("red-ds", split="train")          # doctest: +SKIP
>>> pair = next(iter(ds)); pair.delta, pair.edited_image.size  # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image

from redaes.errors import DataError

_IMAGE_COLUMNS = ("source_image", "edited_image")


def _decode(value: dict[str, Any] | None, where: str) -> Image.Image:
    if not value or value.get("bytes") is None:
        raise DataError(f"{where}: image bytes are missing")
    try:
        with Image.open(io.BytesIO(value["bytes"])) as im:
            return im.convert("RGB")
    except OSError as exc:
        raise DataError(f"{where}: undecodable image ({exc})") from None


@dataclass
class RedPair:
    """One pair; the fields are the dataset columns. Images are decoded on first access."""

    pair_id: str
    source_id: str
    source_path: str
    split: str
    edits: list[dict[str, Any]]
    seed: int
    chain_id: str | None
    chain_rank: int | None
    judges: list[dict[str, Any]]
    delta: float
    delta_std: float
    reasoning: str
    width: int
    height: int
    source_edits: list[dict[str, Any]] = field(default_factory=list)
    informative: bool = True
    """``|delta| >= delta_std``: the judged difference is larger than its uncertainty."""
    source_image_data: dict[str, Any] | None = None
    edited_image_data: dict[str, Any] | None = None

    @property
    def source_image(self) -> Image.Image:
        """The source photo (as rendered, long side <= the plan's max side), decoded lazily."""
        return _decode(self.source_image_data, f"pair {self.pair_id} source_image")

    @property
    def edited_image(self) -> Image.Image:
        """The edited image, decoded lazily."""
        return _decode(self.edited_image_data, f"pair {self.pair_id} edited_image")

    @property
    def is_restoration(self) -> bool:
        """True when the source is a degraded copy of the photo (``source_edits`` non-empty)."""
        return bool(self.source_edits)


_PAIR_FIELDS = [f.name for f in fields(RedPair) if not f.name.endswith("_data")]


class RedDataset:
    """A RED dataset (optionally one split) backed by a pyarrow table."""

    def __init__(self, root: Path, table: pa.Table) -> None:
        self.root, self._table = root, table

    @property
    def table(self) -> pa.Table:
        """The pyarrow table (image columns stay encoded bytes)."""
        return self._table

    def __len__(self) -> int:
        return self._table.num_rows

    def __getitem__(self, index: int) -> RedPair:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        row = self._table.slice(index % len(self), 1).to_pylist()[0]
        return self._pair(row)

    def __iter__(self) -> Iterator[RedPair]:
        for batch in self._table.to_batches(max_chunksize=64):
            for row in batch.to_pylist():
                yield self._pair(row)

    @staticmethod
    def _pair(row: dict[str, Any]) -> RedPair:
        kwargs = {k: row[k] for k in _PAIR_FIELDS}
        return RedPair(
            **kwargs,
            source_image_data=row["source_image"],
            edited_image_data=row["edited_image"],
        )

    def splits(self) -> dict[str, int]:
        """Pairs per split."""
        counts = self._table.column("split").value_counts().to_pylist()
        return {c["values"]: int(c["counts"]) for c in counts}

    def __repr__(self) -> str:
        return f"RedDataset({str(self.root)!r}, pairs={len(self)}, splits={self.splits()})"


def load_red(path: str | Path, split: str | None = None) -> RedDataset:
    """Open the dataset folder ``path`` (``data/{split}-*.parquet`` shards).

    Raises:
        DataError: the folder is missing, has no shards, a shard is unreadable or lacks
            columns, or ``split`` is not in the dataset.
    """
    from redaes.pairs.storage import COLUMNS

    root = Path(path)
    data = root / "data"
    if not data.is_dir():
        raise DataError(f"{root}: not a RED dataset folder (no data/ directory)")
    pattern = f"{split}-*.parquet" if split else "*.parquet"
    files = sorted(data.glob(pattern))
    if not files:
        have = sorted({f.name.split("-")[0] for f in data.glob("*.parquet")})
        raise DataError(
            f"{data}: no shards for split {split!r} (splits present: {have})"
            if split
            else f"{data}: no Parquet shards"
        )
    tables = []
    needed = [n for n, _ in COLUMNS]
    for f in files:
        try:
            t = pq.read_table(f)
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{f}: not a readable Parquet shard ({exc})") from None
        if "source_edits" not in t.column_names:  # datasets built before restoration pairs
            empty = pa.array([[]] * t.num_rows, type=dict(COLUMNS)["source_edits"])
            t = t.append_column("source_edits", empty)
        if "informative" not in t.column_names:  # datasets built before the informative flag
            d = pc.abs(t.column("delta"))
            t = t.append_column("informative", pc.greater_equal(d, t.column("delta_std")))
        missing = [c for c in needed if c not in t.column_names]
        if missing:
            raise DataError(f"{f}: missing columns {missing}")
        tables.append(t.select(needed))
    return RedDataset(root, pa.concat_tables(tables))
