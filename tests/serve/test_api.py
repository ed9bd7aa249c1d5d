"""The API in-process: shapes (the CLI's JSON fields), errors as one-line JSON, limits, token."""

from __future__ import annotations

import base64
import io
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from redaes.models import compare
from redaes.serve import ServeSettings, create_app


def test_score_multipart_and_json_agree_with_the_model(client, assessor, crops):
    files = [("image", (f"c{i}.jpg", data, "image/jpeg")) for i, data in enumerate(crops[:3])]
    rows = client.post("/v1/score", files=files).json()
    assert [r["path"] for r in rows] == ["c0.jpg", "c1.jpg", "c2.jpg"]
    direct = assessor.score_with_std([Image.open(io.BytesIO(d)).convert("RGB") for d in crops[:3]])
    for r, (s, sd) in zip(rows, direct, strict=True):
        assert set(r) == {"path", "score", "std"}
        assert r["score"] == pytest.approx(s, abs=1e-5) and r["std"] == pytest.approx(sd, abs=1e-5)
    body = {"images": [{"name": "x", "data": base64.b64encode(crops[0]).decode()}]}
    (row,) = client.post("/v1/score", json=body).json()
    assert row["path"] == "x" and row["score"] == pytest.approx(rows[0]["score"], abs=1e-6)
    assert len({round(r["score"], 4) for r in rows}) > 1  # the tiny model tells images apart


def test_compare_explain_suggest_shapes(client, assessor, crops):
    a, b = crops[0], crops[5]
    view = client.post("/v1/compare", files={"a": ("a.jpg", a), "b": ("b.jpg", b)}).json()
    ref = compare(
        assessor, Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    )
    assert view["a"] == "a.jpg" and view["p_b_better"] == pytest.approx(ref["p_b_better"], abs=1e-5)
    ex = client.post("/v1/explain", files={"image": ("p.jpg", a)}).json()
    assert set(ex) == {"path", "score", "std", "effects", "text"} and ex["effects"]
    sg = client.post("/v1/suggest", files={"image": ("p.jpg", a)}, data={"top": "2"}).json()
    assert set(sg) == {"path", "score", "suggestions"} and len(sg["suggestions"]) <= 2
    for s in sg["suggestions"]:
        assert s["gain"] > 0 and s["preview"].startswith("data:image/jpeg;base64,")
        Image.open(io.BytesIO(base64.b64decode(s["preview"].split(",", 1)[1]))).verify()


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"files": {"image": ("t.txt", b"hello, not an image")}}, 400, "bad_image"),
        ({"files": {"image": ("t.jpg", b"")}}, 400, "bad_image"),
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "bad_json",
        ),
        ({"json": {"images": [{"data": "@@@not base64"}]}}, 400, "bad_base64"),
        ({"json": {"images": []}}, 422, "invalid_request"),
        ({"content": b"raw", "headers": {"content-type": "text/plain"}}, 400, "bad_request"),
        ({"files": {"other": ("t.jpg", b"x")}}, 400, "bad_form"),
    ],
)
def test_bad_inputs_are_one_line_json(client, kwargs, status, code):
    res = client.post("/v1/score", **kwargs)
    body = res.json()
    assert res.status_code == status and body["error"] == code and body["status"] == status
    assert "\n" not in body["message"] and "Traceback" not in body["message"]
    assert client.get("/health").json()["status"] == "ok"  # still serving


def test_truncated_jpeg_bomb_unknown_model_and_oversize(client, crops):
    res = client.post("/v1/score", files={"image": ("cut.jpg", crops[0][: len(crops[0]) // 2])})
    assert res.status_code == 400 and "cut.jpg" in res.json()["message"]
    buf = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buf, format="PNG")  # 48 MP of zeros, ~50 kB
    res = client.post("/v1/score", files={"image": ("bomb.png", buf.getvalue())})
    assert res.status_code == 400 and "exceeds the limit" in res.json()["message"]
    res = client.post("/v1/score", files={"image": ("a.jpg", crops[0])}, data={"model": "nope"})
    assert res.status_code == 404 and "tiny" in res.json()["message"]
    res = client.post("/v1/score", files={"image": ("big.jpg", b"\0" * 3_000_000)})
    assert res.status_code == 413 and res.json()["error"] == "too_large"
    assert (
        client.post(
            "/v1/explain", files={"image": ("a.jpg", crops[0])}, data={"strength": "3"}
        ).status_code
        == 422
    )


def test_token_models_and_page(assessor, crops):
    app = create_app({"tiny": assessor}, ServeSettings(token="s3cret"))
    with TestClient(app) as c:
        assert c.post("/v1/score", files={"image": ("a.jpg", crops[0])}).status_code == 401
        ok = c.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).json()
        assert ok["models"][0]["name"] == "tiny" and ok["models"][0]["default"]
        assert c.get("/health").status_code == 200
        page = c.get("/").text
        assert '<input type="file"' in page and "/static/app.js" in page
        assert "fetch(" in c.get("/static/app.js").text


def test_timeout_is_504(assessor, crops):
    slow = create_app({"tiny": assessor}, ServeSettings(timeout_s=0.2))
    original = assessor.score_with_std

    def sleepy(images):
        time.sleep(0.5)
        return original(images)

    assessor.score_with_std = sleepy  # type: ignore[method-assign]
    try:
        with TestClient(slow) as c:
            res = c.post("/v1/score", files={"image": ("a.jpg", crops[0])})
            assert res.status_code == 504 and res.json()["error"] == "timeout"
    finally:
        del assessor.score_with_std


def test_streamed_oversize_body_is_413(client, crops):
    def chunks():
        for _ in range(40):
            yield b"\0" * 100_000

    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    for path in ("/v1/score", "/v1/compare"):
        res = client.post(path, content=chunks(), headers=headers)
        assert res.status_code == 413 and res.json()["error"] == "too_large"
    assert client.post("/v1/score", files={"image": ("a.jpg", crops[0])}).status_code == 200


def test_cli_refuses_open_host_without_token(capsys, monkeypatch):
    from redaes.cli import main

    monkeypatch.delenv("REDAES_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "--token" in capsys.readouterr().err
