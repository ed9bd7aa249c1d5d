"""Tiny deterministic judges for the pair-engine tests (imported by workers via --plugin)."""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from redaes.judges.base import JUDGES, Judge, JudgeResult, PairContext


def _luma(img: Image.Image) -> float:
    return float(np.asarray(img.convert("L"), dtype=np.float64).mean() / 255.0)


class BrightnessJudge(Judge):
    """delta = 10 x (mean luma of edited - source) + 0.3 (crop bonus): fully measurable."""

    name = "test:brightness"

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        return JudgeResult(self.name, 10.0 * (_luma(edited) - _luma(source)), 0.9, "luma")


class ContraryJudge(Judge):
    """Disagrees in sign with BrightnessJudge on pairs with an odd seed (drives the filter)."""

    name = "test:contrary"

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        d = 10.0 * (_luma(edited) - _luma(source))
        if ctx.seed % 2:
            d = -d - (1.0 if d >= 0 else -1.0)
        return JudgeResult(self.name, d, 0.8, "contrary")


class SlowJudge(BrightnessJudge):
    """BrightnessJudge that takes 0.25 s per pair (for the kill-and-resume test)."""

    name = "test:slow"

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        time.sleep(0.25)
        return super().judge(source, edited, ctx)


class VlmLikeJudge(BrightnessJudge):
    """Looks like a VLM judge (name starts with 'vlm') and gives a rationale."""

    name = "vlm:test"

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        r = super().judge(source, edited, ctx)
        r.judge, r.rationale = self.name, "The VLM looked closely at the light."
        return r


for _cls in (BrightnessJudge, ContraryJudge, SlowJudge, VlmLikeJudge):
    if _cls.name not in JUDGES:
        JUDGES.add(_cls.name, _cls)


class BrokenJudge(Judge):
    """Always raises (an endpoint that is down)."""

    name = "test:broken"

    def judge(self, source: Image.Image, edited: Image.Image, ctx: PairContext) -> JudgeResult:
        raise ConnectionError("endpoint unreachable")


if BrokenJudge.name not in JUDGES:
    JUDGES.add(BrokenJudge.name, BrokenJudge)
