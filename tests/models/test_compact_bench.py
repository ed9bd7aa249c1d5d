"""bench/compact.py pieces: interval coverage, pseudo-score targets, content keys, the RED run."""

from __future__ import annotations

import importlib.util
import io
import math
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_compact", ROOT / "bench" / "compact.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_compact"] = mod
    spec.loader.exec_module(mod)
    return mod


bench = _bench()


def test_coverage_counts_pairs_inside_the_intervals():
    # errors 0.5, 1.5, 2.5 and 0 with std 1: inside 68 % (z=1): 0.5, 0 -> 2/4; 95 %: +1.5 -> 3/4
    out = bench.coverage([0.5, 1.5, -2.5, 3.0], [1.0] * 4, [0.0, 0.0, 0.0, 3.0])
    assert out["coverage_68"] == pytest.approx(0.5)
    assert out["coverage_95"] == pytest.approx(0.75)
    assert out["mean_delta_std"] == pytest.approx(1.0)
    assert math.isnan(bench.coverage([], [], [])["coverage_68"])


def _jpeg(colour: tuple[int, int, int]) -> dict[str, bytes]:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buf, "JPEG")
    return {"bytes": buf.getvalue()}


def _pair(src, edi, delta, source_edits=()):
    return SimpleNamespace(
        source_image_data=_jpeg(src),
        edited_image_data=_jpeg(edi),
        delta=delta,
        source_edits=list(source_edits),
        source_image=Image.new("RGB", (16, 16), src),
        edited_image=Image.new("RGB", (16, 16), edi),
    )


def test_pseudo_targets_anchor_sources_once_and_skip_restorations():
    a1 = _pair((10, 10, 10), (20, 20, 20), 1.5)
    a2 = _pair((10, 10, 10), (30, 30, 30), -2.0)  # same source content as a1
    r = _pair((90, 90, 90), (40, 40, 40), 3.0, [{"op": "exposure", "strength": -0.5}])
    rows = bench.pseudo_targets([a1, a2, r])
    assert [(w, t) for _, w, t in rows] == [("source", 5.0), ("edited", 6.5), ("edited", 3.0)]
    assert bench.image_key(a1, "source") == bench.image_key(a2, "source")
    assert bench.image_key(a1, "source") != bench.image_key(r, "source")


def test_evaluate_scores_by_content_and_gets_red_metrics():
    pairs = [_pair((10, 10, 10), (10 + 20 * i, 10, 10), float(i)) for i in range(1, 6)]
    items = [SimpleNamespace(pair=p, delta=p.delta, chain_id="c") for p in pairs]

    def redness(images):  # a transparent model: (score, std) from the red channel
        return [(im.getpixel((8, 8))[0] / 25.5, 0.5) for im in images]

    out = bench.evaluate(redness, items, n_boot=0)
    assert out["direction_accuracy"]["value"] == 1.0
    assert out["delta_srcc"]["value"] == pytest.approx(1.0)
    assert out["chain_srcc"]["value"] == pytest.approx(1.0)
    assert out["n_images"] == 6  # one shared source
    assert 0.0 <= out["coverage_68"] <= out["coverage_95"] <= 1.0
