"""RED test splits as a benchmark: relative, edit-induced differences.

The root is a RED dataset folder read by ``redaes.data.load_red(path, split=None)`` (imported
lazily), which yields pairs with ``pair_id, source_id, split, source_image, edited_image, delta,
chain_id, chain_rank`` (images are PIL, loaded lazily). A model is scored on the source and the
edited image of each pair; the metrics (see :func:`redaes.metrics.red_metrics`) are the pairwise
direction accuracy, the correlation of predicted and recorded deltas, and the chain ranking SRCC.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redaes.benchmarks.base import BENCHMARKS, Benchmark, BenchmarkData, sha256_file
from redaes.errors import DataError

RedLoader = Callable[..., Iterable[Any]]
"""``loader(path, split=None) -> iterable of RedPair-like objects``."""


def _edits_json(edits: Any) -> str:
    """Canonical JSON of a pair's ``source_edits`` ("" when the source is the photo itself)."""
    return json.dumps(edits, sort_keys=True) if edits else ""


@dataclass
class RedItem:
    """One pair of a RED split, as the evaluation runner needs it."""

    pair_id: str
    source_id: str
    delta: float
    chain_id: str | None
    chain_rank: int | None
    pair: Any
    """The loader's pair object (``source_image`` / ``edited_image`` are read from it lazily)."""
    source_edits: str = ""
    """JSON of the degradation that made a restoration pair's source ("" = the photo itself)."""

    @property
    def source_key(self) -> str:
        """One key per distinct source image: a degraded copy is not the original photo."""
        if not self.source_edits:
            return f"source/{self.source_id}"
        tag = hashlib.sha256(self.source_edits.encode()).hexdigest()[:12]
        return f"source/{self.source_id}/{tag}"

    @property
    def edited_key(self) -> str:
        return f"edited/{self.pair_id}"


@dataclass
class RedData:
    """The pairs of one RED split with provenance."""

    root: Path
    split: str | None
    items: list[RedItem]
    skipped: int
    label_files: list[Path]

    def provenance(self) -> dict[str, Any]:
        return {
            "benchmark": "red",
            "root": str(self.root),
            "split": self.split,
            "label_files": [{"path": str(p), "sha256": sha256_file(p)} for p in self.label_files],
            "label_format": "RED pairs (redaes.data.load_red)",
            "n_pairs": len(self.items),
            "n_pairs_skipped_no_delta": self.skipped,
            "n_sources": len({i.source_id for i in self.items}),
            "n_chains": len({i.chain_id for i in self.items if i.chain_id is not None}),
        }


def _default_loader() -> RedLoader:
    try:
        from redaes.data import load_red
    except ImportError as exc:
        raise DataError(f"the red benchmark needs redaes.data.load_red ({exc})") from None
    loader: RedLoader = load_red
    return loader


@BENCHMARKS.register("red")
class RedBenchmark(Benchmark):
    """RED pairs of a dataset folder (default split ``test``); scores are deltas on 0-10.

    Args:
        loader: replaces ``redaes.data.load_red`` (tests, other storage).
    """

    name = "red"
    kind = "pairs"
    score_range = (-10.0, 10.0)

    def __init__(self, loader: RedLoader | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.loader = loader

    def load(self, root: str | Path) -> BenchmarkData:
        raise DataError("the red benchmark holds pairs: use load_pairs(root, split)")

    def load_pairs(self, root: str | Path, split: str | None = "test") -> RedData:
        """Pairs of ``split`` (``None`` / ``"all"``: every split); pairs without delta skipped."""
        r = Path(root).expanduser().resolve()
        if not r.exists():
            raise DataError(f"{r}: RED dataset not found")
        loader = self.loader or _default_loader()
        want = None if split in (None, "all") else split
        items, skipped = [], 0
        for p in loader(r, split=want):
            if want is not None and getattr(p, "split", want) != want:
                continue
            delta = getattr(p, "delta", None)
            if delta is None:
                skipped += 1
                continue
            items.append(
                RedItem(
                    pair_id=str(p.pair_id),
                    source_id=str(p.source_id),
                    delta=float(delta),
                    chain_id=None if p.chain_id is None else str(p.chain_id),
                    chain_rank=None if p.chain_rank is None else int(p.chain_rank),
                    pair=p,
                    source_edits=_edits_json(getattr(p, "source_edits", None)),
                )
            )
        files = sorted(x for x in r.rglob("*.parquet")) if r.is_dir() else [r]
        return RedData(r, want, items, skipped, files)
