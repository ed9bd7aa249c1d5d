"""Issue 7 hardening of ``redaes pairs build`` and the error printer (items 9-13, 15, 18)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tests.pairs.judges_for_tests  # noqa: F401  (registers the test judges)
from redaes.cli import main
from redaes.errors import ConfigError, DataError
from redaes.judges.base import JUDGES, Judge
from redaes.pairs.build import build, scan_sources
from tests.pairs.conftest import PLUGIN, fast_plan, make_photos

REPO = Path(__file__).resolve().parents[2]


def _cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    code = "import sys; from redaes.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_below_one_refused_in_one_line(tmp_path: Path, workers: str) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    args = ["pairs", "build", "--images", str(images), "--out", str(tmp_path / "o")]
    res = _cli([*args, "--pairs", "2", "--workers", workers], timeout=60)
    assert res.returncode == 2
    assert res.stderr.strip() == f"error: --workers must be >= 1, got {workers}"
    assert not (tmp_path / "o").exists()


def test_workers_below_one_refused_by_the_api(tmp_path: Path) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    with pytest.raises(ConfigError, match="--workers must be >= 1, got 0"):
        build(images, tmp_path / "o", 2, fast_plan(), workers=0)


def test_pairs_checked_before_the_progress_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    args = ["pairs", "build", "--images", str(images), "--out", str(tmp_path / "o")]
    assert main([*args, "--pairs", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no progress bar drawn
    assert err.strip() == "error: --pairs must be >= 1, got 0"


def test_error_text_printed_verbatim(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Square brackets are not rich markup: file names and values survive."""
    bad = tmp_path / "holiday[bold].jpg"
    bad.write_bytes(b"not an image")
    assert main(["edit", str(bad), str(tmp_path / "o.jpg"), "--op", "exposure=0.5"]) == 2
    assert f"{bad}: " in capsys.readouterr().err
    photo = make_photos(tmp_path / "imgs", n=1) / "p0.jpg"
    for value in ("inf", "nan", "-inf"):
        assert main(["edit", str(photo), str(tmp_path / "o.jpg"), "--op", f"exposure={value}"]) == 2
        assert f"got {value}" in capsys.readouterr().err
    assert not (tmp_path / "o.jpg").exists()


def test_print_error_keeps_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    from redaes.cli import print_error

    print_error("the 'brisque' package is not installed (pip install 'redaes[iqa]') [bold]x[/]")
    err = capsys.readouterr().err
    assert "pip install 'redaes[iqa]'" in err and "[bold]x[/]" in err


@pytest.mark.parametrize("inside", [False, True])
def test_out_equal_or_inside_images_refused(tmp_path: Path, inside: bool) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    out = images / "ds" if inside else images
    with pytest.raises(ConfigError, match="photo folder"):
        build(images, out, 2, fast_plan())
    assert sorted(p.name for p in images.iterdir()) == ["p0.jpg", "p1.jpg"]  # nothing written
    args = ["pairs", "build", "--images", str(images), "--out", str(out), "--pairs", "2"]
    assert main([*args, "--quiet"]) == 2
    assert sorted(p.name for p in images.iterdir()) == ["p0.jpg", "p1.jpg"]


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"ops": {"exposre": 1.0}}, "Did you mean 'exposure'"),
        ({"restore_ops": ["jpeg"], "restore_prob": 0.5}, "restore_ops"),
        ({"judges": ["no_such_judge"]}, "no_such_judge"),
    ],
)
def test_failed_validation_writes_nothing(
    tmp_path: Path, changes: dict[str, object], needle: str
) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    with pytest.raises((ConfigError, KeyError), match=needle):
        build(images, tmp_path / "out", 2, fast_plan(**changes))
    assert not (tmp_path / "out").exists()  # no .work/spec.json left behind


def test_unknown_engine_writes_nothing(tmp_path: Path) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    with pytest.raises(ConfigError, match="unknown engine"):
        build(images, tmp_path / "out", 2, fast_plan(), engine="spark")
    assert not (tmp_path / "out").exists()


class _UncreatableJudge(Judge):
    name = "test:uncreatable"

    def __init__(self) -> None:
        raise ImportError("No module named 'some_judge_backend'")

    def judge(self, source: object, edited: object, ctx: object) -> object:  # type: ignore[override]
        raise AssertionError("never created")


if _UncreatableJudge.name not in JUDGES:
    JUDGES.add(_UncreatableJudge.name, _UncreatableJudge)


def test_judge_that_cannot_be_created_fails_at_once(tmp_path: Path) -> None:
    images = make_photos(tmp_path / "imgs", n=2)
    with pytest.raises(ConfigError, match="some_judge_backend"):
        build(images, tmp_path / "out", 2, fast_plan(judges=["test:uncreatable"]))
    assert not (tmp_path / "out").exists()


def test_judge_failing_on_every_pair_is_named_and_stops_early(tmp_path: Path) -> None:
    """The iqa judge without its package: the error is named and the build stops early."""
    images = make_photos(tmp_path / "imgs", n=3)
    plan = fast_plan(judges=["test:broken"], chain_length=0, restore_prob=0.0)
    with pytest.raises(DataError) as info:
        build(images, tmp_path / "out", 50, plan)
    msg = str(info.value)
    assert "test:broken" in msg and "endpoint unreachable" in msg
    n_failed = int(msg.split("failed on all ")[1].split()[0])
    assert n_failed < 50, "should stop long before 50 x --pairs candidates"
    assert not (tmp_path / "out" / ".work").exists()  # failed verdicts are not resumed


def test_judge_errors_counted_in_summary(tmp_path: Path) -> None:
    images = make_photos(tmp_path / "imgs", n=3)
    plan = fast_plan(judges=["test:brightness", "test:broken"], chain_length=0)
    summary = build(images, tmp_path / "out", 4, plan)
    errors = summary["judge_errors"]
    assert summary["judge_failures"] == 0  # min_judges=1: the pairs are kept
    assert errors == {}  # only dropped pairs count as judge failures
    strict = fast_plan(judges=["test:brightness", "test:broken"], chain_length=0, min_judges=2)
    with pytest.raises(DataError, match="test:broken: ConnectionError: endpoint unreachable"):
        build(images, tmp_path / "strict", 2, strict)


def test_truncated_jpegs_found_when_scanning(tmp_path: Path) -> None:
    folder = make_photos(tmp_path / "imgs", n=3)
    for p in folder.iterdir():
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    sources, bad = scan_sources(folder)
    assert sources == [] and bad == ["p0.jpg", "p1.jpg", "p2.jpg"]
    with pytest.raises(DataError, match="no usable images found \\(3 unreadable\\)"):
        build(folder, tmp_path / "out", 2, fast_plan())
    assert not (tmp_path / "out").exists()


def test_resumed_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = make_photos(tmp_path / "imgs", n=3)
    out = tmp_path / "ds"
    plan = fast_plan(chain_length=0)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt  # interrupted after the first block

    with pytest.raises(KeyboardInterrupt):
        build(images, out, 12, plan, progress=stop)
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(plan.to_yaml())
    args = ["pairs", "build", "--images", str(images), "--out", str(out), "--pairs", "12"]
    args += ["--plan", str(plan_file), "--plugin", PLUGIN, "--quiet"]
    assert main(args) == 0
    shown = capsys.readouterr().out
    resumed = int(shown.split("resumed ")[1].split()[0])
    assert 0 < resumed < 12 and "of 12 pairs from an earlier run" in shown
    assert "resumed_pairs" not in (out / "README.md").read_text()  # the card stays stable
    assert main(args) == 0  # complete: everything is resumed
    assert "resumed 12 of 12 pairs" in capsys.readouterr().out


def test_help_shows_plan_defaults() -> None:
    from redaes.pairs.plan import PairPlan

    res = _cli(["pairs", "build", "--help"])
    text = " ".join(res.stdout.replace("│", " ").split())
    d = PairPlan()
    assert f"plan's chain_length, {d.chain_length})" in text
    assert f"plan's restore_prob, {d.restore_prob:g})" in text
    assert f"plan's max_side, {d.max_side})" in text
    assert f"plan's judges, {', '.join(d.judges)})" in text
