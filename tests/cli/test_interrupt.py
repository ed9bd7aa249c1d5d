"""Ctrl-C during ``redaes pairs build --workers 2`` prints one line (issue 7 item 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pairs.conftest import PLUGIN, make_photos

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
@pytest.mark.parametrize("delay", [2.0, 8.0])
def test_ctrl_c_with_workers_prints_one_line(tmp_path: Path, delay: float) -> None:
    images = make_photos(tmp_path / "imgs", n=3)
    out = tmp_path / "ds"
    code = "import sys; from redaes.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["pairs", "build", "--images", str(images), "--out", str(out), "--pairs", "200"]
    args += ["--judge", "test:slow", "--plugin", PLUGIN, "--workers", "2", "--chains", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 150
        # the build has started; the spawned workers are still starting (importing torch):
        # before the fix each of them printed a traceback
        while not (out / ".work" / "spec.json").exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the build did not start in time"
            time.sleep(0.1)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) <= 2, err
    assert lines and lines[-1] == "interrupted", err
