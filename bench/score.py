"""End-to-end scoring speed of 1920 px JPEG files on this CPU, against the bare decode limit.

    python bench/score.py --images /tmp/corpus [--files 200] [--model PATH] [--out bench/results]
        [--baseline-src OLD/src]

Makes ``--files`` 1920 px (long side) JPEG files (quality 90) from the photos of ``--images``
(repeated as needed), then measures in one run:

* the limit: bare JPEG decode + resize to the model input, full decode and DCT-domain draft
  decode (``redaes.imageio.load_image(draft=...)``), 2 decode threads as ``redaes score`` uses;
* ``redaes score DIR``'s own code path (``score_cmds.score_files``: decode overlap, batches of
  32) for each runtime (torch, onnx, onnx-int8), images/s and the ratio to the draft limit;
* one real ``redaes score DIR --json`` subprocess (start-up and model load included; the
  cached ONNX export means it never imports torch) and, as the baseline, the same command in a
  process that imports torch first (the start-up before the torch-free path), and with
  ``--baseline-src OLD/src`` the command of that older tree (``git archive REV src | tar -x -C
  OLD``, then ``python -m compileall OLD``: without .pyc files its start-up would include
  compiling); the start-up of each on one file;
* the accuracy cost of each step against torch on full decodes of the same files: draft decode,
  ONNX fp32, ONNX int8 (mean / max absolute score difference).

Writes ``OUT/score.md`` and ``OUT/score.json`` with the machine and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def make_files(src: Path, n: int, out: Path) -> list[Path]:
    """``n`` 1920 px JPEG files (quality 90) from the photos under ``src``."""
    photos = sorted(p for p in src.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if not photos:
        raise SystemExit(f"{src}: no photos")
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(n):
        dst = out / f"{i:04d}.jpg"
        if not dst.is_file():
            with Image.open(photos[i % len(photos)]) as im:
                im = im.convert("RGB")
                scale = 1920 / max(im.size)
                im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
                im.save(dst, quality=90)
        files.append(dst)
    return files


def limit(files: list[Path], size: int, draft: bool) -> float:
    """Images/s of decode + resize to ``size`` with 2 threads."""
    from redaes.imageio import load_image

    def one(f: Path) -> None:
        img = load_image(f, draft=(size, size) if draft else None)
        img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, files))
    return len(files) / (time.perf_counter() - t0)


CLI = [str(Path(sys.executable).with_name("redaes"))]
# the same command with torch imported first: the start-up before `redaes score` avoided torch
CLI_MAIN = "import sys; from redaes.cli import main; sys.exit(main(sys.argv[1:]))"
CLI_TORCH = [sys.executable, "-c", "import torch; " + CLI_MAIN]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one subprocess run (it must succeed)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--images", type=Path, required=True, help="source photos")
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--model", type=Path, default=None, help="weights (default: shipped)")
    ap.add_argument("--out", type=Path, default=Path("bench/results"))
    ap.add_argument("--baseline-src", type=Path, default=None, help="an older tree's src/")
    args = ap.parse_args(argv)

    import torch

    from redaes.cli.score_cmds import score_files
    from redaes.imageio import load_image
    from redaes.models import CompactAssessor, default_weights_path

    torch.set_num_threads(2)
    weights = args.model or default_weights_path()
    load0 = os.getloadavg()[0]
    work = Path(tempfile.gettempdir()) / "redaes-bench-score"
    files = make_files(args.images, args.files, work)
    res: dict[str, Any] = {"files": len(files), "weights": str(weights)}
    size = CompactAssessor(weights, runtime="torch").input_size
    res["limit_full"] = limit(files, size, draft=False)
    res["limit_draft"] = limit(files, size, draft=True)
    scores: dict[str, list[float]] = {}
    for rt in ("torch", "onnx", "onnx-int8"):
        model = CompactAssessor(weights, runtime=rt)
        score_files(model, files[:32], 32, progress=False)  # warm-up (ONNX export cached)
        t0 = time.perf_counter()
        rows, _ = score_files(model, files, 32, progress=False)
        res[f"score_{rt}"] = len(rows) / (time.perf_counter() - t0)
        scores[rt] = [r["score"] for r in rows]
    # accuracy: torch on full decodes is the reference
    ref_model = CompactAssessor(weights, runtime="torch")
    ref = [s for s, _ in ref_model.score_with_std([load_image(f) for f in files])]
    acc = {}
    for name, vals in (
        ("draft decode (torch)", scores["torch"]),
        ("draft + onnx fp32", scores["onnx"]),
        ("draft + onnx int8", scores["onnx-int8"]),
    ):
        d = np.abs(np.asarray(vals) - np.asarray(ref))
        acc[name] = {"mean_abs": float(d.mean()), "max_abs": float(d.max())}
    res["accuracy_vs_torch_full_decode"] = acc
    model_args = ["--model", str(weights)] if args.model else []
    runs = [("cli_subprocess", CLI, None), ("cli_subprocess_torch", CLI_TORCH, None)]
    if args.baseline_src is not None:
        res["baseline_src"] = str(args.baseline_src)
        runs.append(("cli_subprocess_baseline", [*CLI_TORCH[:2], CLI_MAIN], args.baseline_src))
    for key, prefix, src in runs:
        env = {**os.environ, "PYTHONPATH": str(src.resolve())} if src is not None else None
        res[key] = len(files) / timed([*prefix, "score", str(work), "--json", *model_args], env)
        one = [*prefix, "score", str(files[0]), "--json", *model_args]
        res[f"{key}_one_file_s"] = timed(one, env)
    res["machine"] = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_1min_start": load0,
        "load_1min_end": os.getloadavg()[0],
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "score.json").write_text(json.dumps(res, indent=2) + "\n")
    lim = res["limit_draft"]
    lines = [
        f"# Scoring speed: {len(files)} JPEG files at 1920 px, {Path(str(weights)).name}",
        "",
        f"Machine: {json.dumps(res['machine'])}. Reproduce: `python bench/score.py --images DIR`.",
        "",
        "| path | images/s | / draft limit |",
        "|---|---:|---:|",
        f"| limit: decode + resize, full decode | {res['limit_full']:.1f} | "
        f"{res['limit_full'] / lim:.2f} |",
        f"| limit: decode + resize, draft decode | {lim:.1f} | 1.00 |",
    ]
    for rt in ("torch", "onnx", "onnx-int8"):
        v = res[f"score_{rt}"]
        lines.append(f"| `redaes score` path, runtime {rt} | {v:.1f} | {v / lim:.2f} |")
    for key, label in (
        ("cli_subprocess", "`redaes score DIR --json` subprocess (start-up included)"),
        ("cli_subprocess_torch", "same, torch imported first"),
        ("cli_subprocess_baseline", f"same, baseline tree {res.get('baseline_src')}"),
    ):
        if key in res:
            v = res[key]
            lines.append(f"| {label} | {v:.1f} | {v / lim:.2f} |")
    lines += [
        "",
        "| `redaes score ONE.jpg --json` (start-up + model load + 1 image) | seconds |",
        "|---|---:|",
        f"| torch-free (cached ONNX export) | {res['cli_subprocess_one_file_s']:.2f} |",
        f"| torch imported first | {res['cli_subprocess_torch_one_file_s']:.2f} |",
    ]
    if "cli_subprocess_baseline_one_file_s" in res:
        lines.append(f"| baseline tree | {res['cli_subprocess_baseline_one_file_s']:.2f} |")
    lines += [
        "",
        "| accuracy cost vs torch on full decodes | mean abs | max abs |",
        "|---|---:|---:|",
    ]
    lines += [f"| {k} | {a['mean_abs']:.3f} | {a['max_abs']:.3f} |" for k, a in acc.items()]
    (args.out / "score.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
