"""``redaes pairs build`` / ``redaes pairs info`` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from redaes.cli import main
from tests.pairs.conftest import PLUGIN, make_photos

REPO = Path(__file__).resolve().parents[2]


def test_missing_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    code = "import sys; from redaes.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["pairs", "build", "--images", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
    res = subprocess.run(
        [sys.executable, "-c", code, *args, "--pairs", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope" in lines[0] and "Traceback" not in res.stderr


def _run(argv: list[str]) -> int:
    return main(argv)


def test_build_and_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = make_photos(tmp_path / "imgs", n=3)
    plan = tmp_path / "plan.yaml"
    plan.write_text("ops: {exposure: 1.0, contrast: 1.0}\nblock_size: 2\n")
    out = tmp_path / "ds"
    argv = ["pairs", "build", "--images", str(images), "--out", str(out), "--pairs", "6"]
    opts = ["--chains", "3", "--judge", "test:brightness", "--plan", str(plan)]
    opts += ["--restore-prob", "0"]
    assert _run([*argv, *opts, "--max-side", "64", "--plugin", PLUGIN]) == 0
    shown = capsys.readouterr().out
    assert "judge agreement" in shown and "op exposure" in shown
    assert "restoration pairs" in shown
    assert _run(["pairs", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pairs"] == 6 and info["judges"] == ["test:brightness"]
    assert info["restoration_pairs"] == 0  # --restore-prob 0
    written = (out / "plan.yaml").read_text()
    assert "chain_length: 3" in written and "max_side: 64" in written
    assert "restore_prob: 0.0" in written


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--engine", "spark"], "unknown engine 'spark'"),
        (["--judge", "prio"], "Did you mean 'prior'"),
        (["--pairs", "0"], "--pairs must be >= 1"),
    ],
)
def test_user_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    argv = ["pairs", "build", "--images", str(images), "--out", str(tmp_path / "o")]
    if "--pairs" not in extra:
        argv += ["--pairs", "2"]
    assert _run([*argv, *extra, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_bad_plan_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("max_sides: 3\n")
    images = make_photos(tmp_path / "imgs", n=1)
    argv = ["pairs", "build", "--images", str(images), "--out", str(tmp_path / "o")]
    assert _run([*argv, "--pairs", "2", "--plan", str(plan)]) == 2
    assert "max_sides" in capsys.readouterr().err


def test_info_on_non_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["pairs", "info", str(tmp_path)]) == 2
    assert "not a RED dataset folder" in capsys.readouterr().err


def test_bad_plugin_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = make_photos(tmp_path / "imgs", n=1)
    argv = ["pairs", "build", "--images", str(images), "--out", str(tmp_path / "o")]
    assert _run([*argv, "--pairs", "2", "--plugin", "no_such_module_xyz"]) == 2
    assert "no_such_module_xyz" in capsys.readouterr().err
