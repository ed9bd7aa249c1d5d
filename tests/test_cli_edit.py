"""``redaes ops``, ``redaes edit`` and ``redaes demo``: outputs, and one-line errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redaes.cli import main
from redaes.edits import EDIT_OPS, EditChain, list_edits
from redaes.imageio import load_image

REDAES = Path(sys.executable).parent / "redaes"


@pytest.fixture
def small_png(tmp_path: Path, small_photo: Image.Image) -> Path:
    path = tmp_path / "in.png"
    small_photo.save(path)
    return path


def _one_line_error(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("error:")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_ops_json_lists_every_op(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ops", "--json"]) == 0
    ops = json.loads(capsys.readouterr().out)
    assert sorted(o["name"] for o in ops) == EDIT_OPS.names()
    exposure = next(o for o in ops if o["name"] == "exposure")
    assert (exposure["at_minus_one"], exposure["at_plus_one"], exposure["unit"]) == (-2, 2, "EV")


def test_ops_family_filter_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ops", "--json", "--family", "tone"]) == 0
    tone = json.loads(capsys.readouterr().out)
    assert tone and {o["family"] for o in tone} == {"tone"}
    assert len(tone) == len(list_edits("tone"))
    assert main(["ops", "--family", "tone"]) == 0
    table = capsys.readouterr().out
    assert "exposure" in table and "-2 .. 2 EV" in table
    assert main(["ops", "--family", "tones"]) == 2
    _one_line_error(capsys.readouterr().err, "Did you mean 'tone'")


def test_edit_writes_the_chain_result(
    tmp_path: Path, small_png: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "out.png"
    assert main(["edit", str(small_png), str(out), "--op", "exposure=0.5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    record = json.loads(lines[0])
    assert record["chain"] == [{"op": "exposure", "strength": 0.5}]
    assert lines[1] == "- brightened the exposure by 1.00 EV"
    expected = EditChain(["exposure=0.5"]).apply_pil(load_image(small_png))
    np.testing.assert_array_equal(np.asarray(load_image(out)), np.asarray(expected))
    assert np.asarray(expected).mean() > np.asarray(load_image(small_png)).mean() + 10


def test_edit_chain_file_then_ops(
    tmp_path: Path, small_png: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = tmp_path / "chain.json"
    chain.write_text(json.dumps({"chain": [{"op": "exposure", "strength": -0.25}]}))
    out = tmp_path / "out.png"
    args = ["edit", str(small_png), str(out), "--chain", str(chain), "--op", "exposure=0.75"]
    assert main(args) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert [s["strength"] for s in record["chain"]] == [-0.25, 0.75]
    expected = EditChain(["exposure=-0.25", "exposure=0.75"]).apply_pil(load_image(small_png))
    np.testing.assert_array_equal(np.asarray(load_image(out)), np.asarray(expected))


def test_edit_quality_and_seed(tmp_path: Path, small_png: Path) -> None:
    sizes = {}
    for q in (10, 95):
        out = tmp_path / f"q{q}.jpg"
        assert main(["edit", str(small_png), str(out), "--op", "exposure=0.1", "-q", str(q)]) == 0
        sizes[q] = out.stat().st_size
    assert sizes[10] < sizes[95] / 2

    noisy = sorted((i.family != "artefact", i.name) for i in list_edits() if i.stochastic)
    assert noisy, "expected at least one stochastic op (noise/grain)"
    op = f"{noisy[0][1]}=1"
    outs = []
    for seed in (1, 1, 2):
        out = tmp_path / f"seed{len(outs)}.png"
        assert main(["edit", str(small_png), str(out), "--op", op, "--seed", str(seed)]) == 0
        outs.append(np.asarray(load_image(out)))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])


@pytest.mark.parametrize(
    "extra,needles",
    [
        (["--op", "exposre=0.5"], ["Did you mean 'exposure'"]),
        (["--op", "exposure=3"], ["exposure", "[-1, 1]"]),
        (["--op", "exposure"], ["NAME=STRENGTH"]),
        ([], ["nothing to do"]),
    ],
)
def test_edit_bad_ops(
    tmp_path: Path,
    small_png: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    needles: list[str],
) -> None:
    out = tmp_path / "out.png"
    assert main(["edit", str(small_png), str(out), *extra]) == 2
    _one_line_error(capsys.readouterr().err, *needles)
    assert not out.exists()


def test_edit_bad_files(
    tmp_path: Path, small_png: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.png"
    missing = tmp_path / "missing.jpg"
    assert main(["edit", str(missing), str(out), "--op", "exposure=0.5"]) == 2
    _one_line_error(capsys.readouterr().err, str(missing), "no such file")

    fake = tmp_path / "fake.jpg"
    fake.write_text("not an image")
    assert main(["edit", str(fake), str(out), "--op", "exposure=0.5"]) == 2
    _one_line_error(capsys.readouterr().err, str(fake), "not a recognised image")

    bad_chain = tmp_path / "chain.json"
    bad_chain.write_text("[{'op': oops")
    assert main(["edit", str(small_png), str(out), "--chain", str(bad_chain)]) == 2
    _one_line_error(capsys.readouterr().err, str(bad_chain), "not valid JSON")

    assert main(["edit", str(small_png), str(out), "--chain", str(tmp_path / "no.json")]) == 2
    _one_line_error(capsys.readouterr().err, "no.json", "no such chain file")

    assert main(["edit", str(small_png), str(tmp_path / "x.xyz"), "--op", "exposure=0.1"]) == 2
    _one_line_error(capsys.readouterr().err, "x.xyz", "unsupported output type")

    assert main(["edit", str(small_png), str(tmp_path), "--op", "exposure=0.1"]) == 2
    assert not out.exists()


def test_demo_contact_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "out"), "--cell", "48"]) == 0
    printed = capsys.readouterr().out
    sheet_path = tmp_path / "out" / "contact_sheet.png"
    assert str(sheet_path) in printed
    meta = json.loads((tmp_path / "out" / "contact_sheet.json").read_text())
    infos = list_edits()
    assert [r["op"] for r in meta["rows"]] == [i.name for i in infos]
    assert meta["strengths"] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    for row, info in zip(meta["rows"], infos, strict=True):
        for cell, s in zip(row["cells"], meta["strengths"], strict=True):
            if not info.signed and s < 0:
                assert cell is None
                continue
            assert cell["chain"] == [{"op": info.name, "strength": s}]
            assert cell["amount"] == pytest.approx(EDIT_OPS.create(info.name).physical(s))
    with Image.open(sheet_path) as sheet:
        assert sheet.height > len(infos) * 48 and sheet.width > 5 * 48
        arr = np.asarray(sheet.convert("RGB"))
    assert arr.std() > 20  # photos were pasted, not a blank canvas


def test_demo_with_image_and_bad_image(
    tmp_path: Path, small_png: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    assert main(["demo", "--out", str(out), "--image", str(small_png), "--cell", "40"]) == 0
    meta = json.loads((out / "contact_sheet.json").read_text())
    assert meta["image"] == str(small_png) and meta["size"] == [40, 33]
    capsys.readouterr()
    assert main(["demo", "--out", str(out), "--image", str(tmp_path / "nope.png")]) == 2
    _one_line_error(capsys.readouterr().err, "nope.png")


def test_console_script_errors_are_one_line(tmp_path: Path, small_png: Path) -> None:
    assert REDAES.exists(), REDAES
    missing = tmp_path / "missing.jpg"
    proc = subprocess.run(
        [str(REDAES), "edit", str(missing), str(tmp_path / "o.png"), "--op", "exposure=0.5"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "60"},
    )
    assert proc.returncode == 2, proc.stderr
    _one_line_error(proc.stderr, str(missing))
    assert proc.stdout == ""
