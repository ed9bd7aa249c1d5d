"""The prior's source-side cache saves work without changing any verdict."""

from __future__ import annotations

from PIL import Image

from redaes.edits import EditChain
from redaes.judges.base import PairContext
from redaes.judges.prior import PriorJudge
from redaes.judges.prior.judge import SOURCE_CACHE_SIZE


def _pair(src: Image.Image, op: str) -> tuple[Image.Image, Image.Image, PairContext]:
    chain = EditChain([op])
    return src, chain.apply_pil(src, seed=0), PairContext(edits=chain)


def test_warm_cache_gives_the_cold_verdicts(photo: Image.Image) -> None:
    small = photo.resize((160, 160))
    other = small.transpose(Image.Transpose.FLIP_LEFT_RIGHT).point(lambda v: min(255, v + 30))
    ops = ("exposure=0.4", "gaussian_noise=0.5")
    pairs = [_pair(im, op) for im in (small, other) for op in ops]
    warm = PriorJudge()
    for src, ed, ctx in pairs + pairs:  # the second round hits the cache for every source
        cold = PriorJudge().judge(src, ed, ctx)
        hot = warm.judge(src, ed, ctx)
        assert hot.delta == cold.delta
        assert hot.extra["estimates"] == cold.extra["estimates"]
        assert hot.extra["source_stats"] == cold.extra["source_stats"]
    assert len(warm._sources) == 2  # two distinct sources, keyed by content


def test_cache_is_bounded(photo: Image.Image) -> None:
    judge = PriorJudge(perturb=False)
    base = photo.resize((64, 64))
    for i in range(SOURCE_CACHE_SIZE + 5):
        src = base.point(lambda v, i=i: min(255, v + i))
        judge.judge(*_pair(src, "exposure=0.2"))
    assert len(judge._sources) == SOURCE_CACHE_SIZE
