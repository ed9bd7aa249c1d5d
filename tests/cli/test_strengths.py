"""Non-finite strengths are refused with the value shown (issue 7 item 10), CLI and API."""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image

from redaes.edits import EditChain, EditStep, create_edit
from redaes.errors import EditError

BAD = [float("nan"), float("inf"), float("-inf")]


@pytest.mark.parametrize("value", BAD)
def test_chain_refuses_non_finite(value: float) -> None:
    shown = str(value)
    for steps in ([f"exposure={shown}"], [{"op": "exposure", "strength": value}]):
        with pytest.raises(EditError, match=f"got {shown}"):
            EditChain(steps)
    with pytest.raises(EditError, match="finite"):
        EditStep("contrast", value)


@pytest.mark.parametrize("value", BAD)
def test_op_refuses_non_finite(value: float) -> None:
    op = create_edit("exposure")
    x = torch.rand(2, 3, 8, 8)
    with pytest.raises(EditError, match="finite"):
        op(x, value)
    with pytest.raises(EditError, match="finite"):
        op(x, torch.tensor([0.5, value]))
    with pytest.raises(EditError, match="finite"):
        op.apply_pil(Image.new("RGB", (8, 8)), value)


def test_finite_strengths_still_work() -> None:
    op = create_edit("exposure")
    out = op(torch.full((3, 4, 4), 0.25), 0.5)
    assert torch.isfinite(out).all() and out.mean() > 0.25
    assert math.isclose(EditChain(["exposure=-1"]).steps[0].strength, -1.0)
