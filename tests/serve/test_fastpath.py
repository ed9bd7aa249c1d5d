"""The scoring fast path: draft decode as ``redaes score``, the bounded decode pool, and a
batcher that waits only for requests on their way."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from redaes.cli.score_cmds import score_files
from redaes.imageio import load_image
from redaes.serve import MicroBatcher, ServeSettings, create_app
from redaes.serve import app as app_module
from tests.serve.conftest import jpeg


@pytest.fixture(scope="module")
def large(photo: Image.Image) -> bytes:
    """A 400x320 JPEG: the 48 px tiny model gets it DCT-downscaled by 1/4 in draft mode."""
    return jpeg(photo.resize((400, 320)))


def test_score_decodes_like_the_cli_and_compare_like_compare(client, assessor, large, tmp_path):
    path = tmp_path / "large.jpg"
    path.write_bytes(large)
    (cli,), _ = score_files(assessor, [path], 16, progress=False)
    (row,) = client.post("/v1/score", files={"image": ("large.jpg", large)}).json()
    assert row["score"] == pytest.approx(cli["score"], abs=1e-5)
    assert row["std"] == pytest.approx(cli["std"], abs=1e-5)
    draft = load_image(path, draft=(48, 48))
    assert draft.size == (100, 80)  # the draft really decoded a smaller image
    ((s_draft, _),) = assessor.score_with_std([draft])
    ((s_full, _),) = assessor.score_with_std([load_image(path)])
    assert abs(s_draft - s_full) > 1e-4  # so the two checks below can tell the paths apart
    assert row["score"] == pytest.approx(s_draft, abs=1e-5)
    view = client.post("/v1/compare", files={"a": ("a.jpg", large), "b": ("b.jpg", large)})
    assert view.json()["score_a"] == pytest.approx(s_full, abs=1e-5)  # as `redaes compare`


def test_many_images_in_one_request_keep_their_order(client, assessor, crops, large):
    datas = [*crops, large]
    files = [("image", (f"i{i}.jpg", d, "image/jpeg")) for i, d in enumerate(datas)]
    rows = client.post("/v1/score", files=files).json()
    assert [r["path"] for r in rows] == [f"i{i}.jpg" for i in range(len(datas))]
    for r, d in zip(rows, datas, strict=True):
        (one,) = client.post("/v1/score", files={"image": ("x.jpg", d)}).json()
        assert r["score"] == pytest.approx(one["score"], abs=1e-5)  # batched == single


def test_decodes_run_in_the_bounded_pool(assessor, crops, monkeypatch):
    lock, state = threading.Lock(), {"now": 0, "most": 0, "threads": set()}
    original = app_module.decode_image

    def counting(*args: object, **kwargs: object) -> Image.Image:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            state["threads"].add(threading.current_thread().name)
        time.sleep(0.02)  # long enough for concurrent requests to overlap
        try:
            return original(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(app_module, "decode_image", counting)
    app = create_app({"tiny": assessor}, ServeSettings(decode_threads=2))
    with TestClient(app) as c:

        def one(i: int) -> int:
            res = c.post("/v1/score", files={"image": ("a.jpg", crops[i % 8])})
            return res.status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(one, range(24))) == {200}
    assert state["most"] == 2  # never more decodes at once than decode threads
    assert all(name.startswith("redaes-decode") for name in state["threads"])


def _recording() -> tuple[list[int], MicroBatcher]:
    calls: list[int] = []

    def forward(items: list[int]) -> list[tuple[float, float]]:
        calls.append(len(items))
        return [(float(x), 0.0) for x in items]

    b = MicroBatcher(forward, prepare=lambda x: x, wait_ms=400, wait_only_incoming=True)
    return calls, b


def test_a_lone_request_does_not_wait():
    calls, b = _recording()
    b.start()
    try:
        t = time.monotonic()
        assert b.score([1], timeout=5) == [(1.0, 0.0)]
        assert time.monotonic() - t < 0.3  # well under the 400 ms wait
    finally:
        b.stop()
    assert calls == [1]


def test_an_announced_request_joins_the_same_pass():
    calls, b = _recording()
    b.start()
    try:
        with b.incoming():  # a second request is still decoding ...
            first = b.submit([1])
            time.sleep(0.1)  # ... while the worker holds the first one
            assert not first.done()
            second = b.submit_prepared([2])
        assert first.result(5) == [(1.0, 0.0)] and second.result(5) == [(2.0, 0.0)]
    finally:
        b.stop()
    assert calls == [2]  # one forward pass for both


def test_default_batcher_still_waits():
    calls: list[int] = []

    def forward(items: list[int]) -> list[tuple[float, float]]:
        calls.append(len(items))
        return [(0.0, 0.0)] * len(items)

    b = MicroBatcher(forward, prepare=lambda x: x, wait_ms=150)  # nobody announces: it waits
    b.start()
    try:
        first = b.submit([1])
        time.sleep(0.03)
        second = b.submit([2])
        assert first.result(5) and second.result(5)
    finally:
        b.stop()
    assert calls == [2]
