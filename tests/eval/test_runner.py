"""Runner, predictions cache, reports and the ``redaes eval`` command end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from redaes.cli import main
from redaes.errors import ConfigError, DataError
from redaes.evaluation import PredictionCache, Target, evaluate, write_report
from redaes.evaluation.plots import scatter_png
from tests.eval import fakes
from tests.eval.conftest import write_image

N = 12


def make_ava(root: Path, n: int = N, missing: int = 0) -> Path:
    """An AVA root in the authors' format; image i has brightness and mean score rising with i.

    Every image is in the test list; the last ``missing`` images are not written to disk.
    """
    lines = []
    for i in range(n):
        votes = [n - i] + [0] * 8 + [i + 1]  # mean score (n - i + 10 (i + 1)) / (n + 1)
        lines.append(" ".join(str(v) for v in [i + 1, 500 + i, *votes, 0, 0, 1]))
        if i < n - missing:
            write_image(root / "images" / f"{500 + i}.jpg", 0.1 + 0.8 * i / n)
    (root / "AVA.txt").write_text("\n".join(lines) + "\n")
    (root / "generic_test.jpgl").write_text("".join(f"{500 + i}\n" for i in range(n)))
    return root


def make_tad(root: Path, n: int = N) -> Path:
    merge = root / "labels" / "merge"
    merge.mkdir(parents=True)
    rows = ["image,score"]
    for i in range(n):
        rows.append(f"t{i}.png,{1 + 9 * (n - i) / n:.3f}")  # score falls with brightness
        write_image(root / "images" / f"t{i}.png", 0.1 + 0.8 * i / n)
    (merge / "test.csv").write_text("\n".join(rows) + "\n")
    return root


def make_flickr(root: Path, n: int = N) -> Path:
    names = [f"f{i}.jpg" for i in range(n)]
    lines = "".join(f"{name} {1 + 4 * i / n:.3f}\n" for i, name in enumerate(names))
    (root / "40K").mkdir(parents=True)
    (root / "FLICKR-AES_image_score.txt").write_text(lines)
    (root / "test.txt").write_text("\n".join(names) + "\n")
    for i, name in enumerate(names):
        write_image(root / "40K" / name, 0.1 + 0.8 * ((i * 5) % n) / n)  # a shuffled order
    return root


def test_evaluate_api_metrics_and_cache(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    (res,) = evaluate(
        "tests.eval.fakes:counting_brightness",
        [Target("ava", root)],
        tmp_path / "out",
        batch_size=5,
        n_resamples=30,
    )
    assert sum(fakes.CALLS) == N and max(fakes.CALLS) == 5
    m = res.summary["metrics"]
    assert m["srcc"]["value"] == pytest.approx(1.0)  # brightness and score rise together
    assert m["pairwise"]["value"] == pytest.approx(1.0)
    assert res.summary["thresholds"]["prediction"] == pytest.approx(40 / 9)
    cache = PredictionCache(res.summary["cache"])
    assert len(cache) == N and set(cache.scores) == {f"{500 + i}.jpg" for i in range(N)}


def test_resume_scores_only_the_rest(tmp_path: Path) -> None:
    root, out = make_ava(tmp_path / "ava"), tmp_path / "out"
    model = "tests.eval.fakes:counting_brightness"
    (first,) = evaluate(model, [Target("ava", root)], out, batch_size=4, n_resamples=20)
    path = Path(first.summary["cache"])
    lines = path.read_text().splitlines(keepends=True)
    k = 5
    path.write_text("".join(lines[:k]) + lines[k][: len(lines[k]) // 2])  # killed mid-write
    fakes.CALLS.clear()
    (second,) = evaluate(model, [Target("ava", root)], out, batch_size=4, n_resamples=20)
    assert sum(fakes.CALLS) == N - k
    assert second.pred == pytest.approx(first.pred)
    assert len(path.read_text().splitlines()) == N  # the partial line was dropped, not kept
    fakes.CALLS.clear()
    evaluate(model, [Target("ava", root)], out, batch_size=4, n_resamples=20)
    assert fakes.CALLS == []  # everything cached


def test_cache_rejects_a_corrupt_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"key": "a", "score": 1.0}\nnot json\n{"key": "b", "score": 2.0}\n')
    with pytest.raises(DataError, match=r"c\.jsonl:2: malformed cache line"):
        PredictionCache(path)


def test_limit_is_a_deterministic_subset(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    runs = [
        evaluate(
            fakes.brightness.__module__ + ":brightness",
            [Target("ava", root)],
            tmp_path / f"o{i}",
            limit=5,
            seed=seed,
            n_resamples=10,
        )[0]
        for i, seed in enumerate([0, 0, 1])
    ]
    keys = [set(PredictionCache(r.summary["cache"]).scores) for r in runs]
    assert len(keys[0]) == 5 and keys[0] == keys[1] and keys[0] != keys[2]


def test_missing_images_are_counted_and_reported(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava", missing=3)
    (res,) = evaluate(
        "tests.eval.fakes:brightness", [Target("ava", root)], tmp_path / "out", n_resamples=10
    )
    prov = res.summary["provenance"]
    assert prov["n_labelled"] == N and prov["n_images_missing"] == 3
    assert res.summary["n_scored"] == N - 3
    assert all("images" in p for p in prov["missing_examples"])


def test_unreadable_image_costs_only_itself(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    (root / "images" / "503.jpg").write_bytes(b"not a jpeg")
    (res,) = evaluate(
        "tests.eval.fakes:brightness",
        [Target("ava", root)],
        tmp_path / "out",
        batch_size=4,
        n_resamples=10,
    )
    assert res.summary["n_unreadable"] == 1 and res.summary["n_scored"] == N - 1
    assert "503.jpg" in next(iter(res.summary["unreadable_examples"].values()))


def test_cli_end_to_end_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ava, tad, out = make_ava(tmp_path / "ava"), make_tad(tmp_path / "tad"), tmp_path / "rep"
    flickr = make_flickr(tmp_path / "flickr")
    names = "ava,tad66k,flickr-aes"
    roots = ["--root", f"tad66k={tad}", "--root", str(ava), "--root", str(flickr)]
    argv = ["eval", "--model", "tests.eval.fakes:brightness", "--benchmark", names, *roots]
    argv += ["--out", str(out), "--bootstrap", "40", "--batch-size", "3", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "ava: n=12" in printed and "mean over 3 benchmarks" in printed
    report = json.loads((out / "report.json").read_text())
    assert {"date", "versions", "machine", "model", "config", "benchmarks", "mean"} <= set(report)
    assert {"redaes", "torch", "numpy"} <= set(report["versions"])
    by = {b["benchmark"]: b for b in report["benchmarks"]}
    assert by["ava"]["metrics"]["srcc"]["value"] == pytest.approx(1.0)
    assert by["tad66k"]["metrics"]["srcc"]["value"] == pytest.approx(-1.0)
    flickr_srcc = by["flickr-aes"]["metrics"]["srcc"]["value"]
    assert -0.9 < flickr_srcc < 0.9  # shuffled brightness: neither agreement nor reversal
    assert report["mean"]["srcc"] == pytest.approx(flickr_srcc / 3)
    assert report["mean"]["benchmarks"] == ["ava", "tad66k", "flickr-aes"]
    assert by["ava"]["provenance"]["root"] == str(ava.resolve())
    assert len(by["tad66k"]["provenance"]["label_files"][0]["sha256"]) == 64
    for b in by.values():
        assert set(b["metrics"]["srcc"]) == {"value", "ci_low", "ci_high"}
        with Image.open(out / b["plot"]) as im:
            im.verify()
            assert im.format == "PNG"
    md = (out / "report.md").read_text()
    assert "| **tests.eval.fakes:brightness** (this run)" in md
    assert "TANet (published)" in md and "RED-Aes (RED-20k) (published)" in md
    assert "## Cross-dataset (PLCC/SRCC)" in md and "0.751/0.738" in md
    red_row = next(x for x in md.splitlines() if x.startswith("| RED-Aes (RED-20k) (published;"))
    # the mean3 is computed from the per-benchmark values (the paper prints .647; issue 7)
    assert red_row.endswith("0.663/0.646 |")
    cross = md.split("## Cross-dataset")[1].split("## Published results under other")[0]
    assert "TANet" not in cross and "UNIAA" not in cross  # in-domain rows are not cross-dataset
    assert "| UNIAA + MOS head | ava | 0.838/0.840 | trained on AVA (in-domain) |" in md


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--benchmark", "avaa"], "Did you mean 'ava'"),
        (["--benchmark", "ava,tad66k"], "need one --root each"),
        (["--benchmark", "ava", "--set", "nope=1"], "BENCHMARK.OPTION=VALUE"),
    ],
)
def test_cli_user_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    base = [
        "eval",
        "--model",
        "tests.eval.fakes:brightness",
        "--root",
        str(tmp_path),
        "--out",
        str(tmp_path / "o"),
        "--no-progress",
    ]
    assert main(base + argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_cli_bad_label_file_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_ava(tmp_path / "ava")
    text = (root / "AVA.txt").read_text().splitlines()
    text[6] = text[6].replace(" 0 ", " five ", 1)
    (root / "AVA.txt").write_text("\n".join(text))
    argv = [
        "eval",
        "-m",
        "tests.eval.fakes:brightness",
        "-b",
        "ava",
        "-r",
        str(root),
        "-o",
        str(tmp_path / "o"),
        "--no-progress",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "AVA.txt:7:" in err and "five" in err and len(err.strip().splitlines()) == 1


def test_constant_model_gives_nan_not_a_crash(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    results = evaluate(
        "tests.eval.fakes:constant", [Target("ava", root)], tmp_path / "o", n_resamples=10
    )
    report = write_report(
        results,
        tmp_path / "o",
        {"name": "constant"},
        {"split": "test", "n_resamples": 10, "seed": 0},
    )
    m = report["benchmarks"][0]["metrics"]
    assert m["srcc"]["value"] is None and m["pairwise"]["value"] == pytest.approx(0.5)
    assert "n/a" in (tmp_path / "o" / "report.md").read_text()


def test_plots_need_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"redaes\[eval\]"):
        scatter_png([1.0, 2.0], [1.0, 2.0], None, "t")


def test_another_root_gets_its_own_cache(tmp_path: Path) -> None:
    model, out = "tests.eval.fakes:counting_brightness", tmp_path / "out"
    one, two = make_ava(tmp_path / "a"), make_ava(tmp_path / "b", n=6)
    evaluate(model, [Target("ava", one)], out, n_resamples=5)
    evaluate(model, [Target("ava", two)], out, n_resamples=5)
    assert sum(fakes.CALLS) == N + 6  # same keys, other images: nothing reused
    assert len(list((out / "cache").rglob("ava-test-*.jsonl"))) == 2


def test_progress_bar_and_all_split(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    (res,) = evaluate(
        "tests.eval.fakes:brightness",
        [Target("ava", root)],
        tmp_path / "o",
        split="all",
        n_resamples=5,
        progress=True,
    )
    assert res.split == "all" and res.summary["n_scored"] == N


def test_cli_generic_benchmark_with_set_options(tmp_path: Path) -> None:
    rows = ["photo,stars"]
    for i in range(6):
        write_image(tmp_path / "pics" / f"g{i}.png", 0.1 + 0.15 * i)
        rows.append(f"g{i}.png,{1 + 0.5 * i}")
    (tmp_path / "stars.csv").write_text("\n".join(rows) + "\n")
    opts = [
        "labels=stars.csv",
        "image_column=photo",
        "score_column=stars",
        "image_dir=pics",
        "score_range=[1, 5]",
    ]
    sets = [arg for o in opts for arg in ("--set", f"generic.{o}")]
    argv = [
        "eval",
        "-m",
        "tests.eval.fakes:brightness",
        "-b",
        "generic",
        "-r",
        str(tmp_path),
        "-o",
        str(tmp_path / "rep"),
        "--split",
        "all",
        "--bootstrap",
        "10",
        "--no-progress",
    ]
    assert main([*argv, *sets, "--no-plots"]) == 0
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    (b,) = report["benchmarks"]
    assert b["n_scored"] == 6 and b["metrics"]["srcc"]["value"] == pytest.approx(1.0)
    assert b["provenance"]["score_range"] == [1.0, 5.0] and "plot" not in b
    assert b["thresholds"]["ground_truth"] == pytest.approx(3.0)
    assert report["config"]["benchmarks"]["generic"]["options"]["score_range"] == [1, 5]
