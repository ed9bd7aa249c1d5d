"""The prior's self-consistency laws, as properties over every op and several photos.

* antisymmetry: ``delta(a -> b) = -delta(b -> a)`` with the op context reversed (a plain pair
  reversed is the same op with the opposite strength; a restoration pair reversed has the
  edited image as its source, recorded at the net degradation);
* a correction toward the original never scores below zero;
* along a restoration chain the verdict peaks at the member nearest the full undo.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from redaes.edits import EDIT_OPS, EditChain, create_edit
from redaes.judges import PairContext
from redaes.judges.prior import PriorJudge
from redaes.judges.prior.judge import UNDO_SCALE
from tests.conftest import natural_like

RESTORE_OPS = ("exposure", "gamma", "contrast", "saturation", "temperature", "tint", "haze")


@pytest.fixture(scope="module")
def photos(photo: Image.Image) -> list[Image.Image]:
    """Three different small photos: the astronaut, a warm crop of it, a synthetic texture."""
    astro = photo.resize((128, 128), Image.Resampling.LANCZOS)
    crop = photo.crop((256, 100, 512, 292)).resize((128, 96), Image.Resampling.LANCZOS)
    warm = Image.fromarray(
        np.clip(np.asarray(crop, np.float32) * [1.1, 0.95, 0.75], 0, 255).astype(np.uint8)
    )
    tex = natural_like(96, 128, seed=5).permute(1, 2, 0).numpy()
    return [astro, warm, Image.fromarray((tex * 255 + 0.5).astype(np.uint8))]


@pytest.fixture(scope="module")
def judge() -> PriorJudge:
    return PriorJudge(perturb=False)


def _delta(j: PriorJudge, src: Image.Image, out: Image.Image, ctx: PairContext) -> float:
    res = j.judge(src, out, ctx)
    assert res.ok and res.delta is not None
    return float(res.delta)


@pytest.mark.parametrize("name", EDIT_OPS.names())
def test_antisymmetry_for_every_op(name: str, photos: list[Image.Image], judge: PriorJudge) -> None:
    op = create_edit(name)
    for k, src in enumerate(photos):
        s = 0.6 if k % 2 == 0 or not op.info.signed else -0.6
        chain = EditChain([f"{name}={s}"])
        out = chain.apply_pil(src, seed=k)
        back = EditChain([f"{name}={-s if op.info.signed else s}"])
        fwd = _delta(judge, src, out, PairContext(chain, seed=k))
        rev = _delta(judge, out, src, PairContext(back, seed=k))
        assert fwd == pytest.approx(-rev, abs=0.05), (name, k, fwd, rev)


@pytest.mark.parametrize("name", RESTORE_OPS)
def test_restoration_laws(name: str, photos: list[Image.Image], judge: PriorJudge) -> None:
    scale = UNDO_SCALE.get(name, 1.0)
    for k, photo in enumerate(photos[:2]):
        base = 0.6 if k == 0 else -0.6
        if name in ("contrast", "saturation", "haze"):
            base = -0.6 if name != "haze" else 0.6
        src = EditChain([f"{name}={base}"]).apply_pil(photo)
        record = {"source_edits": [{"op": name, "strength": base}]}
        fractions = (0.3, 0.6, 0.9, 1.0, 1.15, 1.5)
        deltas = []
        for f in fractions:
            s = max(-1.0, min(1.0, -base * f * scale))
            chain = EditChain([f"{name}={s}"])
            out = chain.apply_pil(src)
            d = _delta(judge, src, out, PairContext(chain, meta=record))
            deltas.append(d)
            net = base + s / scale
            if abs(net) < abs(base):  # a correction toward the original is never below zero
                assert d >= 0.0, (name, f, d)
            # reversed restoration: the edited image as source, recorded at the net strength
            rev = PairContext(
                EditChain([f"{name}={-s}"]), meta={"source_edits": [{"op": name, "strength": net}]}
            )
            assert _delta(judge, out, src, rev) == pytest.approx(-d, abs=0.05)
        # the chain peaks at the member nearest the full undo (fraction 1.0)
        assert int(np.argmax(deltas)) == fractions.index(1.0), (name, deltas)


def test_plain_chains_are_transitive(photos: list[Image.Image], judge: PriorJudge) -> None:
    """Potentials add up: a -> b -> c equals a -> c before the final squashing (up to the
    pair-level scene intent, which may differ between the pairs)."""
    src = photos[0]
    a, b = EditChain(["exposure=-0.3"]), EditChain(["saturation=0.4"])
    mid = a.apply_pil(src)
    end = b.apply_pil(mid)
    both = EditChain(["exposure=-0.3", "saturation=0.4"])

    def raw(d: float) -> float:
        return float(5.0 * np.arctanh(d / 5.0))

    d1, d2 = _delta(judge, src, mid, PairContext(a)), _delta(judge, mid, end, PairContext(b))
    assert raw(_delta(judge, src, end, PairContext(both))) == pytest.approx(
        raw(d1) + raw(d2), abs=0.35
    )
