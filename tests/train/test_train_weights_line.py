"""``redaes train compact`` names the weights it wrote once, from rank 0 only."""

from __future__ import annotations

import hashlib

from redaes import __version__
from redaes.cli import main
from tests.train.conftest import CONFIG, tiny_sets


def _train(tiny_red, out, capsys):
    sets = tiny_sets(tiny_red, out, steps=2, eval_every=2, ckpt_every=2)
    args = ["train", "compact", "--config", str(CONFIG), "--stage", "1"]
    for s in sets:
        args += ["--set", s]
    code = main(args)
    cap = capsys.readouterr()
    return code, cap.out, [x for x in cap.err.splitlines() if x.startswith("weights:")]


def test_train_prints_the_weights_line_once(tiny_red, tmp_path, capsys):
    code, out, lines = _train(tiny_red, tmp_path / "a", capsys)
    final = tmp_path / "a" / "model.safetensors"
    sha = hashlib.sha256(final.read_bytes()).hexdigest()[:12]
    assert code == 0 and "weights:" not in out
    want = f"weights: {final} (sha256 {sha}, redaes-compact v1, redaes {__version__}, stage 1)"
    assert lines == [want]


def test_train_is_quiet_off_rank_zero(tiny_red, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    code, _, lines = _train(tiny_red, tmp_path / "b", capsys)
    assert code == 0 and lines == []
