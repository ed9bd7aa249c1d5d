"""Benchmark: ``/v1/score`` requests/s and p50/p95/p99 latency at 1, 8 and 32 concurrent
clients on loopback, against the CLI's batch throughput measured in the same run.

    python bench/serve.py [--model FILE.safetensors] [--before REV] [--threads 0,1]
                          [--side 1920] [--requests 96] [--rounds 2] [--out bench/results]
                          [--stem serve]

Each server is a real ``redaes serve`` process. ``--before REV`` also serves the ``src/`` of git
revision ``REV`` (``git archive``, run with ``PYTHONPATH``) and measures it interleaved with the
working tree, round by round, so both see the same machine load. ``--threads`` lists values of
``REDAES_THREADS`` (ONNX Runtime intra-op threads; 0 = the default, one per core); the CLI
baseline and every server run under each. Every request sends one JPEG (the bundled photo
resized to ``--side`` px, quality 90), as every CLI image is that file.

The client is deliberately lean (pre-encoded multipart body, raw HTTP/1.1 keep-alive over asyncio
streams): it shares the CPU with the server, and httpx costs 2.5-8 ms of CPU per request here.
Client and server CPU per request are reported. Rows are medians over rounds. Writes
``OUT/STEM.md`` and ``OUT/STEM.json`` with the machine and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "src" / "redaes" / "assets" / "astronaut.jpg"
CLIENTS = (1, 8, 32)


def make_photo(side: int) -> bytes:
    """The bundled photo resized to ``side`` px (Lanczos), as JPEG quality 90."""
    with Image.open(PHOTO) as im:
        img = im.convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def cli_throughput(weights: Path, photo: bytes, n: int, folder: Path) -> float:
    """Images/s of ``redaes score``'s path (draft decode overlap, batch 16) over ``n`` copies."""
    from redaes.cli.score_cmds import score_files
    from redaes.models import load_assessor

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        f = folder / f"p{i}.jpg"
        f.write_bytes(photo)
        files.append(f)
    model = load_assessor(weights)  # reads REDAES_THREADS when its engine is built
    score_files(model, files[:16], 16, progress=False)  # warm-up (engine, caches)
    start = time.perf_counter()
    score_files(model, files, 16, progress=False)
    return n / (time.perf_counter() - start)


def request_bytes(port: int, photo: bytes) -> bytes:
    """One keep-alive ``POST /v1/score`` with ``photo`` as multipart field ``image``."""
    req = httpx.Request(
        "POST", f"http://127.0.0.1:{port}/v1/score", files={"image": ("p.jpg", photo)}
    )
    body = req.read()
    head = f"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += f"Content-Type: {req.headers['content-type']}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _client(port: int, raw: bytes, todo: list[int], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while todo:
            todo.pop()
            t = time.perf_counter()
            writer.write(raw)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            if status != b"200":
                raise RuntimeError(f"HTTP {status.decode()}: {body[:200]!r}")
            latencies.append(time.perf_counter() - t)
    finally:
        writer.close()


async def load(port: int, raw: bytes, clients: int, requests: int) -> tuple[float, list[float]]:
    """Requests/s and per-request latencies (s) with ``clients`` concurrent connections."""
    todo, latencies = list(range(requests)), list[float]()
    start = time.perf_counter()
    await asyncio.gather(*(_client(port, raw, todo, latencies) for _ in range(clients)))
    return requests / (time.perf_counter() - start), latencies


def start_server(weights: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """A ``redaes serve`` process on a free loopback port, once healthy."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    exe = Path(sys.executable).parent / "redaes"
    cmd = [str(exe), "serve", "--model", str(weights), "--port", str(port), "--queue", "256"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def measure_server(weights: Path, env: dict[str, str], photo: bytes, n: int) -> dict[str, Any]:
    """One server: rows per client count (req/s, latency percentiles, CPU ms per request)."""
    proc, port = start_server(weights, env)
    raw = request_bytes(port, photo)
    out: dict[str, Any] = {}
    try:
        asyncio.run(load(port, raw, 2, 8))  # warm-up
        server = psutil.Process(proc.pid)
        for clients in CLIENTS:
            mine, theirs = resource.getrusage(resource.RUSAGE_SELF), server.cpu_times()
            h0 = httpx.get(f"http://127.0.0.1:{port}/health").json()
            rps, lat = asyncio.run(load(port, raw, clients, n))
            mine2, theirs2 = resource.getrusage(resource.RUSAGE_SELF), server.cpu_times()
            h1 = httpx.get(f"http://127.0.0.1:{port}/health").json()
            p50, p95, p99 = (float(np.percentile(lat, q)) * 1000 for q in (50, 95, 99))
            out[str(clients)] = {
                "rps": rps,
                "p50_ms": p50,
                "p95_ms": p95,
                "p99_ms": p99,
                "client_cpu_ms": 1000 * _cpu(mine2, mine) / n,
                "server_cpu_ms": 1000 * (sum(theirs2[:2]) - sum(theirs[:2])) / n,
                "images_per_pass": (h1["items"] - h0["items"])
                / max(1, h1["batches"] - h0["batches"]),
            }
    finally:
        proc.terminate()
        proc.wait(10)
    return out


def _cpu(after: Any, before: Any) -> float:
    return float(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


def before_tree(rev: str, folder: Path) -> Path:
    """``src/`` of git revision ``rev`` extracted under ``folder``."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def median_rows(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per client count and field, the median over rounds."""
    out: dict[str, Any] = {}
    for clients in map(str, CLIENTS):
        fields = rounds[0][clients]
        out[clients] = {k: float(np.median([r[clients][k] for r in rounds])) for k in fields}
    return out


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Every measurement, interleaved round by round; the JSON result."""
    from redaes.models import default_weights_path

    weights = args.model or default_weights_path()
    if weights is None:
        raise SystemExit("no shipped default weights: pass --model FILE.safetensors")
    photo = make_photo(args.side)
    variants: dict[str, Path | None] = {"after": None}
    if args.before:
        variants = {"before": before_tree(args.before, tmp / "before"), "after": None}
    load_start = os.getloadavg()
    results: dict[str, Any] = {}
    for threads in args.threads:
        env = {**os.environ, "REDAES_THREADS": str(threads)} if threads else dict(os.environ)
        if not threads:
            env.pop("REDAES_THREADS", None)
        cli: list[float] = []
        per: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for r in range(args.rounds):
            os.environ.clear()
            os.environ.update(env)
            cli.append(cli_throughput(Path(weights), photo, args.requests, tmp / "cli"))
            for name, src in variants.items():
                e = {**env, "PYTHONPATH": str(src)} if src else env
                per[name].append(measure_server(Path(weights), e, photo, args.requests))
            print(f"threads {threads or 'default'} round {r + 1}: cli {cli[-1]:.1f} images/s")
        results[str(threads)] = {
            "cli_images_per_s": float(np.median(cli)),
            "cli_rounds": cli,
            **{name: median_rows(rows) for name, rows in per.items()},
            "rounds": per,
        }
    return {
        "weights": Path(weights).name,
        "side": args.side,
        "photo_bytes": len(photo),
        "requests_per_row": args.requests,
        "rounds": args.rounds,
        "before": args.before,
        "results": results,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "default"),
            "load_1min_start": load_start[0],
            "load_1min_end": os.getloadavg()[0],
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        },
    }


def markdown(res: dict[str, Any]) -> str:
    """The Markdown report of :func:`run`'s result."""
    m = res["machine"]
    before = f"`before` = the service at `{res['before']}`, " if res["before"] else ""
    omp = m.get("omp_num_threads", "default")
    omp = "" if omp == "default" else f"OMP_NUM_THREADS={omp} "
    lines = [
        "# Service benchmark: `POST /v1/score` on loopback",
        "",
        f"Machine: {m['platform']}, {m['cpu_count']} CPU cores shared with other jobs "
        f"(1-min load average {m['load_1min_start']:.2f} at start, {m['load_1min_end']:.2f} at "
        f"end), Python {m['python']}, OMP_NUM_THREADS (torch) "
        f"{m.get('omp_num_threads', 'default')}, {m['date_utc']} UTC. "
        f"Model: {res['weights']} (runtime auto). Each request: one {res['side']} px JPEG "
        f"({res['photo_bytes'] // 1024} KiB); "
        f"{res['requests_per_row']} requests per row; medians of {res['rounds']} interleaved "
        f"rounds. {before}`after` = this tree. Reproduce: `{omp}python bench/serve.py"
        f"{' --before ' + res['before'] if res['before'] else ''} --side {res['side']} "
        f"--threads {','.join(res['results'])}"
        f"{'' if res.get('stem', 'serve') == 'serve' else ' --stem ' + res['stem']}`.",
        "",
    ]
    for threads, r in res["results"].items():
        label = "default (one per core)" if threads == "0" else threads
        lines += [
            f"## REDAES_THREADS = {label}",
            "",
            f"CLI batch throughput (`redaes score` path, batch 16, same run): "
            f"**{r['cli_images_per_s']:.1f} images/s** (rounds: "
            + ", ".join(f"{c:.1f}" for c in r["cli_rounds"])
            + ").",
            "",
            "| server | clients | requests/s | share of CLI | p50 ms | p95 ms | p99 ms "
            "| images/pass | server CPU ms/req | client CPU ms/req |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in ("before", "after"):
            if name not in r:
                continue
            for c in map(str, CLIENTS):
                x = r[name][c]
                lines.append(
                    f"| {name} | {c} | {x['rps']:.1f} | {x['rps'] / r['cli_images_per_s']:.0%} "
                    f"| {x['p50_ms']:.0f} | {x['p95_ms']:.0f} | {x['p99_ms']:.0f} "
                    f"| {x['images_per_pass']:.1f} | {x['server_cpu_ms']:.1f} "
                    f"| {x['client_cpu_ms']:.1f} |"
                )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``serve.md`` and ``serve.json``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="weights (default: shipped)")
    ap.add_argument("--before", default=None, help="git revision to measure as `before`")
    ap.add_argument("--threads", default="0", help="REDAES_THREADS values, comma separated")
    ap.add_argument("--side", type=int, default=1920, help="request JPEG side in px")
    ap.add_argument("--requests", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--stem", default="serve", help="file names: STEM.md, STEM.json")
    args = ap.parse_args(argv)
    args.threads = [int(t) for t in args.threads.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        res = {**run(args, Path(tmp)), "stem": args.stem}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.stem}.json").write_text(json.dumps(res, indent=2) + "\n")
    text = markdown(res)
    (args.out / f"{args.stem}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
