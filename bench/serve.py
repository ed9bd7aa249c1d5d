"""Benchmark: ``/v1/score`` requests/s and p50/p95/p99 latency at 1, 8 and 32 concurrent
clients on loopback, against the CLI's batch throughput measured in the same run.

The server is a real ``redaes serve`` process. Without ``--model`` the model is an untrained
EfficientNet-Lite0 (224 px; the same compute as trained weights). Requests send the bundled
512x512 JPEG photo. Writes ``bench/results/serve.md``.

    python bench/serve.py [--model FILE.safetensors] [--requests 96]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "serve.md"
PHOTO = ROOT / "src" / "redaes" / "assets" / "astronaut.jpg"


def default_weights(folder: Path) -> Path:
    """An untrained Lite0 compact model saved to ``folder`` (compute as the real one)."""
    from redaes.models import CompactNet, ModelConfig, save_weights

    net = CompactNet(ModelConfig(backbone="efficientnet-lite0", pretrained=False))
    return save_weights(net, folder / "lite0-untrained.safetensors")


def cli_throughput(weights: Path, n: int, folder: Path) -> float:
    """Images/s of the CLI's scoring path (load + batch-16 forward) over ``n`` copies."""
    from redaes.cli.score_cmds import score_files
    from redaes.models import load_assessor

    files = []
    for i in range(n):
        f = folder / f"p{i}.jpg"
        f.write_bytes(PHOTO.read_bytes())
        files.append(f)
    model = load_assessor(weights)
    score_files(model, files[:16], 16, progress=False)  # warm-up
    start = time.perf_counter()
    score_files(model, files, 16, progress=False)
    return n / (time.perf_counter() - start)


async def load(url: str, clients: int, requests: int) -> tuple[float, list[float]]:
    """Requests/s and per-request latencies (s) with ``clients`` concurrent clients."""
    data = PHOTO.read_bytes()
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as c:
            while not queue.empty():
                queue.get_nowait()
                t = time.perf_counter()
                res = await c.post("/v1/score", files={"image": ("p.jpg", data)})
                res.raise_for_status()
                latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return requests / (time.perf_counter() - start), latencies


def start_server(weights: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A ``redaes serve`` process on a free loopback port, once healthy."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).parent / "redaes"
    proc = subprocess.Popen(
        [str(exe), "serve", "--model", str(weights), "--port", str(port), "--queue", "256"]
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def main() -> None:
    """Run the benchmark and write the Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--requests", type=int, default=96)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.model or default_weights(Path(tmp))
        cli = cli_throughput(weights, args.requests, Path(tmp))
        proc, url = start_server(weights)
        rows = []
        try:
            asyncio.run(load(url, 1, 4))  # warm-up
            for clients in (1, 8, 32):
                rps, lat = asyncio.run(load(url, clients, args.requests))
                p50, p95, p99 = (float(np.percentile(lat, q)) * 1000 for q in (50, 95, 99))
                rows.append((clients, rps, p50, p95, p99))
                print(f"{clients:>3} clients: {rps:.1f} req/s p50 {p50:.0f} ms p95 {p95:.0f} ms")
            health = httpx.get(url + "/health").json()
        finally:
            proc.terminate()
            proc.wait(10)
    lines = [
        "# Service benchmark: `POST /v1/score` on loopback",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
        f"(shared), torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}. Model: "
        f"{'untrained EfficientNet-Lite0 224 px' if args.model is None else args.model.name}. "
        f"Each request: the bundled 512x512 JPEG; {args.requests} requests per row.",
        "",
        f"CLI batch throughput (`redaes score`, batch 16, same run): **{cli:.1f} images/s**.",
        "",
        "| clients | requests/s | share of CLI | p50 ms | p95 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, rps, p50, p95, p99 in rows:
        lines.append(
            f"| {clients} | {rps:.1f} | {rps / cli:.0%} | {p50:.0f} | {p95:.0f} | {p99:.0f} |"
        )
    lines += [
        "",
        f"Forward passes: {health['batches']} for {health['items']} images "
        f"({health['items'] / max(1, health['batches']):.1f} images per pass).",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(OUT.read_text())


if __name__ == "__main__":
    main()
