"""The contract every registered edit op obeys (see redaes.edits.base)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from redaes.edits import EDIT_OPS, FAMILIES, EditChain, create_edit, list_edits
from redaes.errors import EditError, UnknownNameError
from tests.conftest import natural_like

OPS = EDIT_OPS.names()


def test_registry_size_and_families() -> None:
    assert len(OPS) >= 20
    families = {i.family for i in list_edits()}
    assert families <= set(FAMILIES)
    assert len(families) >= 6


@pytest.mark.parametrize("name", OPS)
def test_metadata_complete(name: str) -> None:
    op = create_edit(name)
    info = op.info
    assert info.name == name and info.unit and info.description and info.template
    assert op.physical(0.0) == pytest.approx(info.identity)
    assert op.physical(1.0) == pytest.approx(info.at_plus_one)
    assert isinstance(op.describe(0.5), str) and op.describe(0.5)
    if info.signed:
        assert op.physical(-1.0) == pytest.approx(info.at_minus_one)
        assert op.describe(-0.5) != op.describe(0.5)


@pytest.mark.parametrize("name", OPS)
def test_identity_at_zero(name: str, image_batch: torch.Tensor) -> None:
    out = create_edit(name)(image_batch, 0.0, seed=3)
    assert out.shape == image_batch.shape
    assert (out - image_batch).abs().max().item() <= 1.0 / 255 + 1e-6


@pytest.mark.parametrize("name", OPS)
def test_deterministic_dtype_and_range(name: str, image_batch: torch.Tensor) -> None:
    op = create_edit(name)
    a = op(image_batch, 0.7, seed=11)
    b = op(image_batch, 0.7, seed=11)
    assert torch.equal(a, b)
    assert a.dtype == image_batch.dtype
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert a.shape[:2] == image_batch.shape[:2]
    if not op.info.changes_size:
        assert a.shape == image_batch.shape
    assert not torch.equal(a, image_batch), "strength 0.7 must change the image"


@pytest.mark.parametrize("name", OPS)
def test_batched_equals_single(name: str, image_batch: torch.Tensor) -> None:
    op = create_edit(name)
    s = 0.6 if not op.info.signed else -0.6
    batched = op(image_batch, s, seed=[5, 6, 7])
    for i in range(image_batch.shape[0]):
        single = op(image_batch[i], s, seed=5 + i)
        torch.testing.assert_close(batched[i], single, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", [n for n in OPS if not create_edit(n).info.changes_size])
def test_per_sample_strengths(name: str, image_batch: torch.Tensor) -> None:
    op = create_edit(name)
    s = torch.tensor([0.0, 0.3, 0.9])
    out = op(image_batch, s, seed=1)
    torch.testing.assert_close(out[1], op(image_batch[1], 0.3, seed=1), atol=1e-5, rtol=0)
    assert (out[0] - image_batch[0]).abs().max() <= 1.0 / 255 + 1e-6


@pytest.mark.parametrize("name", OPS)
def test_pil_matches_tensor(name: str, small_photo) -> None:  # type: ignore[no-untyped-def]
    from redaes.imageio import pil_to_tensor, tensor_to_pil

    op = create_edit(name)
    via_pil = op.apply_pil(small_photo, 0.5, seed=2)
    via_tensor = tensor_to_pil(op(pil_to_tensor(small_photo), 0.5, seed=2))
    assert via_pil.tobytes() == via_tensor.tobytes()


@pytest.mark.parametrize("name", [n for n in OPS if create_edit(n).info.differentiable])
def test_differentiable_ops_pass_gradients(name: str, image_batch: torch.Tensor) -> None:
    x = image_batch.clone().requires_grad_(True)
    s = torch.tensor([0.3, 0.3, 0.3], requires_grad=True)
    out = create_edit(name)(x, s, seed=0)
    out.mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert s.grad is not None and torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0


def test_out_of_range_and_unsigned_strengths() -> None:
    x = natural_like()
    with pytest.raises(EditError):
        create_edit("exposure")(x, 1.5)
    unsigned = [n for n in OPS if not create_edit(n).info.signed]
    for name in unsigned:
        with pytest.raises(EditError):
            create_edit(name)(x, -0.5)


def test_unknown_op_suggests() -> None:
    with pytest.raises(UnknownNameError, match="exposure"):
        create_edit("exposur")


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(OPS),
    strength=st.floats(-1.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
    h=st.integers(16, 48),
    w=st.integers(16, 48),
)
def test_random_images_and_strengths(name: str, strength: float, seed: int, h: int, w: int) -> None:
    op = create_edit(name)
    if not op.info.signed:
        strength = abs(strength)
    x = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(seed))
    out = op(x, strength, seed=seed)
    assert out.shape[:2] == (2, 3) and out.ndim == 4
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_chain_roundtrip_and_rerender(image_batch: torch.Tensor) -> None:
    chain = EditChain([{"op": "exposure", "strength": 0.4}, "contrast=-0.2"])
    again = EditChain.from_json(chain.to_json())
    assert again == chain
    torch.testing.assert_close(
        chain(image_batch, seed=4), again(image_batch, seed=4), atol=0, rtol=0
    )
    assert len(chain.describe()) == 2
