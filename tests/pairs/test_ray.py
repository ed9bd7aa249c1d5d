"""The Ray engine produces the same dataset as the local engine (one Ray runtime per module)."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from redaes.data import load_red
from redaes.pairs import build
from tests.pairs.conftest import PLUGIN, fast_plan, make_photos

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[None]:
    import ray  # the scale extra; `make test` installs every extra

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    paths = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": paths, "OMP_NUM_THREADS": "1"}},
    )
    yield
    ray.shutdown()


def _digest(folder: Path) -> dict[str, str]:
    files = [*sorted((folder / "data").glob("*.parquet")), folder / "README.md"]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_ray_equals_local(ray_runtime: None, tmp_path: Path) -> None:
    images = make_photos(tmp_path / "imgs", n=3)
    plan = fast_plan(judges=["test:brightness", "test:contrary"])
    local = build(images, tmp_path / "local", 12, plan, seed=11)
    remote = build(
        images, tmp_path / "ray", 12, plan, seed=11, engine="ray", workers=2, plugins=[PLUGIN]
    )
    assert local["pairs"] == remote["pairs"] == 12
    assert local["restoration_pairs"] == remote["restoration_pairs"] > 0
    assert _digest(tmp_path / "ray") == _digest(tmp_path / "local")
    assert load_red(tmp_path / "ray").table.column("pair_id").to_pylist() == (
        load_red(tmp_path / "local").table.column("pair_id").to_pylist()
    )
