"""The vlm judge against a scripted local OpenAI-compatible server (no network)."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from redaes.edits import EditChain
from redaes.errors import ConfigError
from redaes.judges import PairContext, create_judge
from redaes.judges.vlm import PROMPT_VERSION, VlmJudge, parse_answer

GOOD = '{"source_score": 5.5, "edited_score": 7.0, "reasoning": "brighter and clearer"}'


class Script:
    """What the server answers: queued actions first, then ``default``."""

    def __init__(self) -> None:
        self.queue: list[tuple[Any, ...]] = []
        self.default: tuple[Any, ...] = ("ok", GOOD, 0.0)
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def next(self, body: dict[str, Any]) -> tuple[Any, ...]:
        with self.lock:
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.queue.pop(0) if self.queue else self.default

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found"}}, {})
                return
            action = script.next(body)
            try:
                if action[0] == "status":
                    _, code, headers = action
                    self._send(code, {"error": {"message": f"scripted {code}"}}, headers)
                    return
                _, text, delay = action
                time.sleep(delay)
                self._send(
                    200,
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                    },
                    {},
                )
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up
            finally:
                script.done()

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    httpd.shutdown()
    httpd.server_close()


def _pair(seed: int = 0, size: tuple[int, int] = (80, 64)) -> tuple[Image.Image, Image.Image, Any]:
    rng = np.random.default_rng(seed)
    src = Image.fromarray(rng.integers(20, 120, (size[1], size[0], 3), dtype=np.uint8))
    chain = EditChain(["exposure=0.4"])
    return src, chain.apply_pil(src), PairContext(chain, source_id=f"img{seed}")


def _judge(url: str, cache: Path, **kw: Any) -> VlmJudge:
    opts: dict[str, Any] = {
        "base_url": url,
        "model": "test-vl",
        "cache_dir": cache,
        "timeout": 2.0,
        "backoff_base": 0.001,
        "backoff_max": 0.01,
        "max_retries": 3,
        "parse_retries": 1,
    }
    opts.update(kw)
    judge = create_judge("vlm", **opts)
    assert isinstance(judge, VlmJudge)
    return judge


def _images(body: dict[str, Any]) -> list[Image.Image]:
    parts = body["messages"][0]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert all(u.startswith("data:image/jpeg;base64,") for u in urls)
    return [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))) for u in urls]


def _prompt(body: dict[str, Any]) -> str:
    return " ".join(p["text"] for p in body["messages"][0]["content"] if p["type"] == "text")


def test_good_answer_both_images_and_prompt(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    src, edited, ctx = _pair(size=(300, 200))
    res = _judge(url, tmp_path, max_side=150).judge(src, edited, ctx)
    assert res.ok and res.delta == pytest.approx(1.5)
    assert (res.source_score, res.edited_score) == (5.5, 7.0)
    assert res.rationale == "brighter and clearer" and res.judge == "vlm:test-vl"
    (body,) = script.requests
    images = _images(body)
    assert len(images) == 2 and all(im.format == "JPEG" and im.size == (150, 100) for im in images)
    assert np.asarray(images[1]).mean() > np.asarray(images[0]).mean()  # 2nd is the edit
    text = _prompt(body)
    assert "SOURCE" in text and "EDITED" in text and "brightened" not in text
    _judge(url, tmp_path / "b", reveal_edit=True).judge(src, edited, ctx)
    assert "brightened the exposure" in _prompt(script.requests[-1])


def test_cache_hit_makes_no_request(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    pair = _pair()
    first = _judge(url, tmp_path).judge(*pair)
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["prompt_version"] == PROMPT_VERSION
    again = _judge(url, tmp_path)
    second = again.judge(*pair)
    assert len(script.requests) == 1
    assert second.delta == first.delta and second.extra["cached"] is True
    assert again.usage.cache_hits == 1 and again.usage.requests == 0
    _judge(url, tmp_path, model="other-vl").judge(*pair)  # another model: another key
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "bad",
    [
        '{"source_score": 5, "edited_score": ',  # malformed JSON
        "The edited image looks better overall.",  # no JSON at all
        '{"source_score": 11, "edited_score": -1, "reasoning": "x"}',  # out of range
        '{"source_score": "high", "edited_score": 3}',  # not numbers
    ],
)
def test_unparseable_answers_fail_without_inventing(
    bad: str, server: tuple[str, Script], tmp_path: Path
) -> None:
    url, script = server
    script.default = ("ok", bad, 0.0)
    judge = _judge(url, tmp_path, parse_retries=2)
    res = judge.judge(*_pair())
    assert not res.ok and res.delta is None and res.source_score is None
    assert res.extra["raw"] == bad and "unparseable" in (res.error or "")
    assert len(script.requests) == 3  # 1 + parse_retries, then stop
    assert judge.usage.parse_failures == 3 and judge.usage.failures == 1
    assert not list(tmp_path.rglob("*.json"))  # failures are not cached


def test_parse_retry_recovers_and_fenced_json(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    fenced = 'Sure!\n```json\n{"source_score": 6, "edited_score": 4.5, "reasoning": "noisy"}\n```'
    script.queue = [("ok", "I think it is nicer.", 0.0), ("ok", fenced, 0.0)]
    judge = _judge(url, tmp_path)
    res = judge.judge(*_pair())
    assert res.ok and res.delta == pytest.approx(-1.5) and res.rationale == "noisy"
    assert judge.usage.parse_failures == 1 and judge.usage.requests == 2


def test_429_and_500_are_retried(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.queue = [("status", 429, {"Retry-After": "0"}), ("status", 500, {})]
    judge = _judge(url, tmp_path)
    res = judge.judge(*_pair())
    assert res.ok and len(script.requests) == 3
    assert judge.usage.retries == 2 and judge.usage.requests == 3


def test_retry_after_is_respected(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.queue = [("status", 429, {"Retry-After": "0.4"})]
    judge = _judge(url, tmp_path)  # its own backoff is ~1 ms: the wait comes from the header
    start = time.monotonic()
    res = judge.judge(*_pair())
    assert res.ok and time.monotonic() - start >= 0.4 and judge.usage.retries == 1


def test_retries_are_bounded(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.default = ("status", 503, {})
    judge = _judge(url, tmp_path, max_retries=2)
    res = judge.judge(*_pair())
    assert not res.ok and res.delta is None and "gave up after 3 attempts" in (res.error or "")
    assert len(script.requests) == 3 and judge.usage.failures == 1


def test_client_errors_are_not_retried(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.default = ("status", 400, {})
    res = _judge(url, tmp_path).judge(*_pair())
    assert not res.ok and "HTTP 400" in (res.error or "") and len(script.requests) == 1


def test_slow_answers_time_out_and_retry(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.queue = [("ok", GOOD, 1.0)]
    judge = _judge(url, tmp_path, timeout=0.3)
    res = judge.judge(*_pair())
    assert res.ok and judge.usage.retries == 1 and len(script.requests) == 2
    script.default = ("ok", GOOD, 1.0)
    slow = _judge(url, tmp_path / "slow", timeout=0.3, max_retries=1)
    failed = slow.judge(*_pair(seed=5))
    assert not failed.ok and "Timeout" in (failed.error or "") and slow.usage.requests == 2


def test_batch_respects_concurrency_and_order(server: tuple[str, Script], tmp_path: Path) -> None:
    url, script = server
    script.default = ("ok", GOOD, 0.15)
    pairs = [_pair(seed=s) for s in range(6)]
    judge = _judge(url, tmp_path, concurrency=2)
    results = judge.judge_batch(pairs)
    assert len(results) == 6 and all(r.ok for r in results)
    assert script.max_in_flight == 2 and len(script.requests) == 6
    again = _judge(url, tmp_path, concurrency=2).judge_batch(pairs)
    assert len(script.requests) == 6 and all(r.extra["cached"] for r in again)


def test_configuration_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("REDAES_VLM_BASE_URL", "REDAES_VLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="REDAES_VLM_BASE_URL"):
        create_judge("vlm", model="m", cache_dir=tmp_path)
    monkeypatch.setenv("REDAES_VLM_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="REDAES_VLM_MODEL"):
        create_judge("vlm", cache_dir=tmp_path)
    monkeypatch.setenv("REDAES_VLM_MODEL", "qwen-vl")
    assert create_judge("vlm", cache_dir=tmp_path).name == "vlm:qwen-vl"


def test_parse_answer_rules() -> None:
    assert parse_answer('x {"a": 1} then {"source_score": 0, "edited_score": 10}') == (0, 10, "")
    for bad in (
        '{"source_score": true, "edited_score": 3}',
        '{"source_score": NaN, "edited_score": 3}',
        '{"edited_score": 3}',
        "[5, 6]",
    ):
        with pytest.raises(ValueError):
            parse_answer(bad)


def test_retry_after_header_forms() -> None:
    from types import SimpleNamespace

    from redaes.judges.vlm import _retry_after

    def exc(value: str | None) -> Exception:
        err = Exception("x")
        headers = {} if value is None else {"retry-after": value}
        err.response = SimpleNamespace(headers=headers)  # type: ignore[attr-defined]
        return err

    assert _retry_after(exc("2.5")) == 2.5 and _retry_after(exc(None)) is None
    assert _retry_after(exc("Wed, 21 Oct 2015 07:28:00 GMT")) == 0.0  # a past date: no wait
    assert _retry_after(exc("soon")) is None
