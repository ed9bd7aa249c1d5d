"""Micro-batching: concurrent groups share forward passes, batched == single, bounded queue."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from redaes.serve import MicroBatcher, batcher_for
from redaes.serve.settings import BusyError


def test_concurrent_requests_share_forward_passes(assessor, crops):
    images = [Image.open(io.BytesIO(d)).convert("RGB") for d in crops]
    single = [assessor.score_with_std([im])[0] for im in images]
    batcher = batcher_for(assessor, max_batch=32, wait_ms=20)
    calls: list[int] = []
    forward = batcher.forward
    batcher.forward = lambda items: calls.append(len(items)) or forward(items)  # type: ignore[func-returns-value]
    batcher.start()
    try:
        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(lambda i: batcher.score([images[i % 8]])[0], range(32)))
    finally:
        batcher.stop()
    assert sum(calls) == 32 and len(calls) < 16  # 32 requests, far fewer forward passes
    for i, (s, sd) in enumerate(got):
        assert s == pytest.approx(single[i % 8][0], abs=1e-5)
        assert sd == pytest.approx(single[i % 8][1], abs=1e-5)


def test_full_queue_is_busy_and_model_errors_reach_every_caller():
    gate = threading.Event()

    def slow(items):
        gate.wait(5)
        return [(1.0, 0.1)] * len(items)

    b = MicroBatcher(slow, prepare=lambda x: x, queue_size=2, wait_ms=0)
    b.start()
    first = b.submit([1])
    time.sleep(0.05)  # the worker holds the first group
    queued = [b.submit([2]), b.submit([3])]
    with pytest.raises(BusyError):
        b.submit([4])
    gate.set()
    assert first.result(5) == [(1.0, 0.1)] and all(f.result(5) for f in queued)
    b.stop()

    def broken(items):
        raise RuntimeError("boom")

    bad = MicroBatcher(broken, prepare=lambda x: x)
    bad.start()
    with pytest.raises(RuntimeError):
        bad.score([1], timeout=5)
    assert bad.score([], timeout=5) == []
    bad.stop()
