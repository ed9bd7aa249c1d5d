"""Kill -9 a build in the middle, re-run it, and get exactly the uninterrupted dataset."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from redaes.data import load_red
from redaes.pairs import build
from tests.pairs.conftest import PLUGIN, fast_plan, make_photos

REPO = Path(__file__).resolve().parents[2]
N = 10


def _cmd(images: Path, out: Path, plan: Path) -> list[str]:
    code = "import sys; from redaes.cli import main; sys.exit(main(sys.argv[1:]))"
    return [
        sys.executable, "-c", code, "pairs", "build", "--images", str(images), "--out", str(out),
        "--pairs", str(N), "--seed", "5", "--plan", str(plan), "--plugin", PLUGIN, "--quiet",
    ]  # fmt: skip


def _digest(folder: Path) -> dict[str, str]:
    return {
        f.name: hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted((folder / "data").glob("*.parquet"))
    }


def test_sigkill_then_resume(tmp_path: Path) -> None:
    images = make_photos(tmp_path / "imgs", n=4)
    plan = fast_plan(judges=["test:slow"], block_size=1, chain_length=0)
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(plan.to_yaml())
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(_cmd(images, out, plan_file), cwd=REPO, env=env)
    work = out / ".work"
    deadline = time.monotonic() + 120
    while not list(work.glob("block-*.parquet")):
        assert proc.poll() is None, "build ended before the first block was written"
        assert time.monotonic() < deadline, "no block written in time"
        time.sleep(0.02)
    time.sleep(0.3)  # land somewhere in the middle of a later block
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "build_state.json").exists()
    finished = sorted(work.glob("block-*.parquet"))
    assert 1 <= len(finished) < N
    # debris a crash can leave: a partial temp file and a garbage block file
    (work / ".block-000007.parquet.abc123.tmp").write_bytes(b"PAR1 half written")
    (work / "block-000008.parquet").write_bytes(b"garbage")

    rerun = subprocess.run(_cmd(images, out, plan_file), cwd=REPO, env=env, timeout=300)
    assert rerun.returncode == 0
    ds = load_red(out)
    ids = ds.table.column("pair_id").to_pylist()
    assert len(ids) == N == len(set(ids))
    assert not work.exists()

    clean = tmp_path / "clean"
    build(images, clean, N, plan, seed=5, plugins=[PLUGIN])
    assert _digest(out) == _digest(clean)
