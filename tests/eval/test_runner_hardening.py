"""Regression tests of issue 7 for the runner: stale cache, bad images/scores, early checks."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from redaes.assessors import Assessor
from redaes.cli import main
from redaes.errors import ConfigError, DataError
from redaes.evaluation import Target, evaluate
from redaes.imageio import ImageInput
from tests.eval import fakes
from tests.eval.conftest import write_image
from tests.eval.test_runner import N, make_ava

MODEL_V1 = """
import numpy as np
from redaes.imageio import as_pil

def score(images):
    return [float(np.asarray(as_pil(im)).mean() / 25.5) for im in images]
"""
MODEL_V2 = MODEL_V1.replace("mean() / 25.5)", "mean() / -25.5 + 10.0)")  # now inverted


def _eval_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> dict[str, float]:
    (tmp_path / "mymodel.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("mymodel", None)  # a new process would import the edited file
    (res,) = evaluate(
        "mymodel:score", [Target("ava", tmp_path / "ava")], tmp_path / "out", n_resamples=5
    )
    return {"srcc": res.summary["metrics"]["srcc"]["value"], "reused": res.summary["n_reused"]}


def test_changed_model_code_does_not_reuse_stale_predictions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_ava(tmp_path / "ava")
    first = _eval_module(tmp_path, monkeypatch, MODEL_V1)
    assert first == {"srcc": pytest.approx(1.0), "reused": 0}
    again = _eval_module(tmp_path, monkeypatch, MODEL_V1)
    assert again == {"srcc": pytest.approx(1.0), "reused": N}  # same code: all reused
    changed = _eval_module(tmp_path, monkeypatch, MODEL_V2)
    assert changed == {"srcc": pytest.approx(-1.0), "reused": 0}  # was +1.0 from the cache
    prints = sorted((tmp_path / "out" / "cache").glob("mymodel_score-*/fingerprint.json"))
    assert len(prints) == 2
    (res,) = evaluate(
        "mymodel:score", [Target("ava", tmp_path / "ava")], tmp_path / "out", n_resamples=5
    )
    assert len(res.summary["stale_caches_ignored"]) == 1  # the older version's cache is named


def test_changed_config_gets_a_new_cache(tmp_path: Path) -> None:
    root, out = make_ava(tmp_path / "ava"), tmp_path / "out"
    small, large = Scaled(1.0), Scaled(2.0)
    evaluate(small, [Target("ava", root)], out, n_resamples=5)
    (res,) = evaluate(large, [Target("ava", root)], out, n_resamples=5)
    assert res.summary["n_reused"] == 0
    (res,) = evaluate(Scaled(2.0), [Target("ava", root)], out, n_resamples=5)
    assert res.summary["n_reused"] == N


def test_cli_says_how_many_predictions_were_reused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_ava(tmp_path / "ava")
    argv = ["eval", "-m", "tests.eval.fakes:brightness", "-b", "ava", "-r", str(root)]
    argv += ["-o", str(tmp_path / "o"), "--no-progress", "--bootstrap", "5", "--no-plots"]
    assert main(argv) == 0
    assert "resumed" not in capsys.readouterr().out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"ava: resumed {N} of {N} predictions from the cache" in out
    md = (tmp_path / "o" / "report.md").read_text()
    assert f"{N} of {N} predictions reused from the cache" in md


class Scaled(Assessor):
    """Brightness times a configurable factor (its config is part of the fingerprint)."""

    name = "scaled"

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        return [self.factor * v for v in fakes.brightness(images)]


class OpensFiles(Assessor):
    """Opens the path itself with Pillow, like many user models (OSError on a bad file)."""

    name = "opens-files"

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        from PIL import Image

        out = []
        for im in images:
            with Image.open(im) as pil:  # type: ignore[arg-type]
                out.append(float(np.asarray(pil.convert("L")).mean()) / 25.5)
        return out


class NanFor503(Assessor):
    name = "nan-for-503"

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        return [math.nan if "503" in str(im) else fakes.brightness([im])[0] for im in images]


class TooFew(Assessor):
    name = "too-few"

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        return [1.0 for _ in images][:-1]


def test_oserror_from_a_model_that_opens_files_is_skipped_and_counted(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    (root / "images" / "503.jpg").write_bytes(b"not a jpeg")
    for _ in range(2):  # the rerun does not crash at the same file either
        (res,) = evaluate(OpensFiles(), [Target("ava", root)], tmp_path / "o", batch_size=4)
        assert res.summary["n_unreadable"] == 1 and res.summary["n_scored"] == N - 1
        assert "503.jpg" in next(iter(res.summary["unreadable_examples"]))


def test_a_nan_score_is_skipped_and_counted(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    (res,) = evaluate(NanFor503(), [Target("ava", root)], tmp_path / "o", n_resamples=5)
    assert res.summary["n_invalid"] == 1 and res.summary["n_scored"] == N - 1
    assert res.summary["invalid_examples"] == {"503.jpg": "non-finite score nan"}
    assert res.summary["metrics"]["srcc"]["value"] == pytest.approx(1.0)


def test_wrong_number_of_scores_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_ava(tmp_path / "ava")
    with pytest.raises(ConfigError, match=r"'too-few' returned 3 scores for 4 images"):
        evaluate(TooFew(), [Target("ava", root)], tmp_path / "o", batch_size=4)
    argv = ["eval", "-m", "tests.eval.test_runner_hardening:TooFew", "-b", "ava"]
    argv += ["-r", str(root), "-o", str(tmp_path / "o2"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "returned 11 scores for 12 images" in err and "Traceback" not in err


def test_every_root_is_checked_before_scoring(tmp_path: Path) -> None:
    ava = make_ava(tmp_path / "ava")
    (tmp_path / "tad").mkdir()  # a TAD66K root without label files
    with pytest.raises(DataError, match="TAD66K"):
        evaluate(
            "tests.eval.fakes:counting_brightness",
            [Target("ava", ava), Target("tad66k", tmp_path / "tad")],
            tmp_path / "o",
        )
    assert fakes.CALLS == []  # nothing was scored before the bad root was found


@pytest.mark.parametrize("split", ["val", "validation"])
def test_validation_split_has_both_names(tmp_path: Path, split: str) -> None:
    rows = ["image,score,part"]
    for i in range(8):
        write_image(tmp_path / f"g{i}.png", 0.1 + 0.1 * i)
        rows.append(f"g{i}.png,{i},{'val' if i < 5 else 'train'}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    argv = ["eval", "-m", "tests.eval.fakes:brightness", "-b", "generic", "-r", str(tmp_path)]
    argv += ["--set", "generic.labels=labels.csv", "--set", "generic.split_column=part"]
    argv += ["-o", str(tmp_path / "o"), "--split", split, "--no-progress", "--no-plots"]
    argv += ["--bootstrap", "5"]
    assert main(argv) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["benchmarks"][0]["n_scored"] == 5


def test_classical_assessors_fingerprint_their_parameter_files() -> None:
    from redaes.assessors import create_assessor
    from redaes.evaluation.fingerprint import model_fingerprint

    brisque = model_fingerprint(create_assessor("brisque"), "brisque")
    assert {"svm.txt", "normalize.pickle"} == set(brisque["parts"]["hook"])
    assert brisque["parts"]["config"] == {"max_side": None}
    other = model_fingerprint(create_assessor("brisque", max_side=512), "brisque")
    assert other["sha256"] != brisque["sha256"]  # preprocessing is part of the identity
    niqe = model_fingerprint(create_assessor("niqe"), "niqe")
    assert "niqe_image_params.mat" in niqe["parts"]["hook"]


class FailsOn503(Assessor):
    """A model bug that only one image triggers (e.g. an odd size)."""

    name = "fails-on-503"

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        if any("503" in str(im) for im in images):
            raise ZeroDivisionError("odd image")
        return fakes.brightness(images)


class AlwaysFails(Assessor):
    name = "always-fails"

    def score(self, images: Sequence[ImageInput]) -> list[float]:
        raise KeyError("logits")


def test_a_model_error_on_one_image_is_skipped_and_counted(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    (res,) = evaluate(FailsOn503(), [Target("ava", root)], tmp_path / "o", batch_size=4)
    assert res.summary["n_failed"] == 1 and res.summary["n_scored"] == N - 1
    assert res.summary["failed_examples"] == {"503.jpg": "ZeroDivisionError: odd image"}


def test_a_model_that_always_fails_is_one_clear_error(tmp_path: Path) -> None:
    root = make_ava(tmp_path / "ava")
    with pytest.raises(ConfigError, match=r"'always-fails' failed on each of the first 8 images"):
        evaluate(AlwaysFails(), [Target("ava", root)], tmp_path / "o", batch_size=4)
