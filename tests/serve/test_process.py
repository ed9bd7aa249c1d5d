"""The real server process on a loopback port: concurrency against the CLI's scores, bad inputs,
memory flat over 1,000 bad requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from redaes.cli import main
from redaes.models import save_weights
from tests.serve.conftest import tiny_net


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_weights(tiny_net(), tmp_path_factory.mktemp("w") / "tiny.safetensors")


@pytest.fixture(scope="module")
def server(weights: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "redaes"), "serve", "--model", str(weights)]
    cmd += ["--port", str(port), "--max-mb", "5", "--max-pixels", "4000000"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = (weights.parent / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError((weights.parent / "server.log").read_text()) from None
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("server did not start in 60 s")
    yield url, proc
    proc.terminate()
    proc.wait(10)
    log.close()


def test_200_requests_from_16_clients_match_the_cli(server, weights, crops, tmp_path, capsys):
    url, _ = server
    for i, data in enumerate(crops):
        (tmp_path / f"c{i}.jpg").write_bytes(data)
    assert main(["score", str(tmp_path), "--model", str(weights), "--json"]) == 0
    cli = {Path(r["path"]).name: r for r in json.loads(capsys.readouterr().out)}
    before = httpx.get(url + "/health").json()

    def one(i: int) -> tuple[int, dict]:
        name = f"c{i % 8}.jpg"
        with httpx.Client(timeout=30) as c:
            res = c.post(url + "/v1/score", files={"image": (name, crops[i % 8])})
        return i, res.json()[0]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(200)))
    assert len(answers) == 200
    for i, row in answers:
        ref = cli[f"c{i % 8}.jpg"]
        assert row["path"] == f"c{i % 8}.jpg"
        assert row["score"] == pytest.approx(ref["score"], abs=1e-5)
        assert row["std"] == pytest.approx(ref["std"], abs=1e-5)
    after = httpx.get(url + "/health").json()
    assert after["items"] - before["items"] == 200
    assert after["batches"] - before["batches"] < 200  # some requests shared a forward pass


def test_bad_inputs_and_flat_memory(server, crops):
    url, proc = server
    with httpx.Client(base_url=url, timeout=30) as c:
        big = c.post("/v1/score", files={"image": ("big.jpg", b"\0" * 50_000_000)})
        assert big.status_code == 413 and big.json()["error"] == "too_large"
        cut = c.post("/v1/score", files={"image": ("cut.jpg", crops[1][:300])})
        assert cut.status_code == 400 and "cut.jpg" in cut.json()["message"]
        unknown = c.post("/v1/score", files={"image": ("a.jpg", crops[0])}, data={"model": "x"})
        assert unknown.status_code == 404
        bad = [
            {"files": {"image": ("t.txt", b"plain text, not a photo")}},
            {"content": b"{oops", "headers": {"content-type": "application/json"}},
            {"json": {"images": [{"data": "!!"}]}},
        ]
        rss = psutil.Process(proc.pid)
        for i in range(200):  # warm-up: allocator pools, caches
            assert c.post("/v1/score", **bad[i % 3]).status_code == 400
        start = rss.memory_info().rss
        for i in range(1000):
            assert c.post("/v1/score", **bad[i % 3]).status_code == 400
        grown = rss.memory_info().rss - start
        assert grown < 15 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MiB"
        assert c.post("/v1/score", files={"image": ("a.jpg", crops[0])}).status_code == 200


def test_server_names_its_weights_once_at_start_up(server, weights):
    log = (weights.parent / "server.log").read_text()
    assert log.count("weights: ") == 1
    assert "tiny.safetensors (sha256 " in log
