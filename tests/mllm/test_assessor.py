"""The MLLM assessor with a tiny random Qwen2-VL: fast and reasoning modes, spec parsing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from redaes.assessors import create_assessor
from redaes.errors import ConfigError
from redaes.mllm.assessor import MllmAssessor

PIX = "min_pixels=3136&max_pixels=3136"


def _images(n: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [
        Image.fromarray(rng.integers(0, 255, (48 + 8 * i, 64, 3), dtype=np.uint8)) for i in range(n)
    ]


def test_fast_mode_is_deterministic_in_range_and_batch_invariant(tiny_mllm: Path) -> None:
    a = create_assessor(f"mllm:{tiny_mllm}?mode=fast&{PIX}")
    assert isinstance(a, MllmAssessor) and a.mode == "fast"
    imgs = _images(3)
    batch = a.score(imgs)
    single = [a.score_one(img) for img in imgs]
    assert all(0.0 <= s <= 10.0 for s in batch)
    np.testing.assert_allclose(batch, single, atol=1e-4)
    assert a.score(imgs) == batch


def test_reasoning_mode_counts_parse_failures_without_replacing(tiny_mllm: Path) -> None:
    a = create_assessor(f"mllm:{tiny_mllm}?max_new_tokens=6&{PIX}")
    scores = a.score(_images(2))
    # a random model does not write the format: NaN and counted, never a default number
    assert all(math.isnan(s) for s in scores)
    assert a.report() == {"mode": "reasoning", "scored": 2, "parse_failures": 2}
    assert len(a.last_completions) == 2


def test_reasoning_mode_parses_a_well_formed_generation(
    tiny_mllm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    a = MllmAssessor(tiny_mllm, max_new_tokens=8, min_pixels=3136, max_pixels=3136)
    tok = a._processor.tokenizer
    answer = tok.encode(
        "<think> good light </think> <answer> 7 </answer>", add_special_tokens=False
    )

    def fake_generate(**inputs: Any) -> torch.Tensor:
        ids = inputs["input_ids"]
        tail = torch.tensor([answer] * ids.shape[0])
        return torch.cat([ids, tail], dim=1)

    monkeypatch.setattr(a._model, "generate", fake_generate)
    assert a.score(_images(2)) == [7.0, 7.0]
    assert a.parse_failures == 0


def test_bad_specs_are_one_line_errors(tiny_mllm: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mode"):
        create_assessor(f"mllm:{tiny_mllm}?mode=slow")
    with pytest.raises(ConfigError, match="unknown mllm option"):
        create_assessor(f"mllm:{tiny_mllm}?temperature=1")
    with pytest.raises(ConfigError, match="integer"):
        create_assessor(f"mllm:{tiny_mllm}?max_new_tokens=many")
    with pytest.raises(ConfigError, match="cannot load MLLM"):
        create_assessor(f"mllm:{tmp_path / 'missing'}")
    with pytest.raises(ConfigError, match="needs a model path"):
        create_assessor("mllm:")


def test_score_cli_with_the_mllm_assessor(
    tiny_mllm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from redaes.cli import main

    path = tmp_path / "x.png"
    _images(1)[0].save(path)
    direct = create_assessor(f"mllm:{tiny_mllm}?mode=fast&{PIX}").score_one(path)
    assert main(["score", "--model", f"mllm:{tiny_mllm}?mode=fast&{PIX}", str(path)]) == 0
    assert f"{direct:.2f}" in capsys.readouterr().out
