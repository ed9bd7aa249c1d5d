"""Counterfactual explanations: effects equal re-scored edits, sorted, with the right signs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from redaes.assessors import CallableAssessor
from redaes.edits import create_edit
from redaes.errors import EditError
from redaes.imageio import as_pil
from redaes.models import CompactAssessor, CompactNet, ModelConfig, explain


def brightness(images):
    """10 x mean luma: a transparent assessor whose reactions to edits are known."""
    return [10.0 * float(np.asarray(as_pil(im).convert("L")).mean()) / 255.0 for im in images]


def test_effects_match_rescoring_and_signs(small_photo):
    model = CallableAssessor(brightness, name="brightness")
    out = explain(model, small_photo, ops=["exposure", "gaussian_blur", "saturation"])
    assert set(out) == {"path", "score", "std", "effects", "text"}
    probes = {(e["op"], e["strength"]) for e in out["effects"]}
    assert probes == {
        ("exposure", 0.25),
        ("exposure", -0.25),
        ("gaussian_blur", 0.25),
        ("saturation", 0.25),
        ("saturation", -0.25),
    }  # blur is unsigned
    base = brightness([small_photo])[0]
    for e in out["effects"]:
        edited = create_edit(e["op"]).apply_pil(small_photo, e["strength"], seed=0)
        assert e["delta"] == pytest.approx(brightness([edited])[0] - base, abs=1e-9)
        assert e["delta_std"] == 0.0
    deltas = [abs(e["delta"]) for e in out["effects"]]
    assert deltas == sorted(deltas, reverse=True)
    top = out["effects"][0]
    assert top["op"] == "exposure"  # brightness reacts most to exposure
    assert "+0.5 EV of exposure would raise" in out["text"] or "-0.5 EV" in out["text"]
    up = next(e for e in out["effects"] if e["op"] == "exposure" and e["strength"] > 0)
    assert up["delta"] > 0


def test_compact_model_gives_uncertainty(small_photo):
    torch.manual_seed(0)
    net = CompactNet(ModelConfig(backbone="tiny-cnn", input_size=32, scaling="unit", dropout=0))
    out = CompactAssessor(net=net).explain(small_photo, ops=["contrast"])
    assert len(out["effects"]) == 2 and all(e["delta_std"] > 0 for e in out["effects"])
    with pytest.raises(EditError):
        explain(CompactAssessor(net=net), small_photo, strength=0.0)
