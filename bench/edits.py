"""Benchmark: edit-op throughput (edits/s) at 512 px, against naive Pillow/NumPy baselines.

For every op registered in ``EDIT_OPS`` (whatever is registered when it runs) it measures, on
real photos resized to a 512 px long side (the bundled astronaut plus a few photos shipped by
installed packages, or ``--corpus DIR``):

* ``single``: one ``(1, 3, H, W)`` tensor per call;
* ``batch``: ``(8, 3, H, W)`` per call (8 edits, one strength per image where allowed);
* ``baseline``: a naive per-image Pillow/NumPy equivalent on ``uint8`` pixels ("n/a" where none
  makes sense);
* the mix rate: all ops round-robin, single and batched.

Tensor/PIL conversions are excluded on both sides (ops work on tensors, baselines on PIL/NumPy).
Writes a Markdown table with the machine description to ``bench/results/edits.md``.

    python bench/edits.py [--long-side 512] [--batch 8] [--min-time 0.4] [--ops a,b] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing as mp
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageFilter

from redaes.edits import EDIT_OPS, EditOp, create_edit, list_edits
from redaes.imageio import load_image, pil_to_tensor, resize_long_side

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "edits.md"
TARGET = 200.0  # edits/s over the op mix at 512 px

Baseline = Callable[[Image.Image, np.ndarray, float, np.random.Generator], object]


# ------------------------------------------------------------------ naive baselines (per image)


def _pow_exposure(im: Image.Image, a: np.ndarray, ev: float, g: np.random.Generator) -> object:
    lin = (a / 255.0) ** 2.2 * 2.0**ev
    return (np.clip(lin, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)


def _gamma(im: Image.Image, a: np.ndarray, gamma: float, g: np.random.Generator) -> object:
    return ((a / 255.0) ** gamma * 255).astype(np.uint8)


def _black_point(im: Image.Image, a: np.ndarray, bp: float, g: np.random.Generator) -> object:
    return np.clip((a.astype(np.float32) - bp) * 255 / (255 - bp), 0, 255).astype(np.uint8)


def _hue(im: Image.Image, a: np.ndarray, deg: float, g: np.random.Generator) -> object:
    h, s, v = im.convert("HSV").split()
    h = h.point(lambda x: int(x + deg / 360 * 255) % 256)
    return Image.merge("HSV", (h, s, v)).convert("RGB")


def _temperature(im: Image.Image, a: np.ndarray, mired: float, g: np.random.Generator) -> object:
    gains = np.array([1 - mired / 400, 1.0, 1 + mired / 400], np.float32)
    return np.clip(a * gains, 0, 255).astype(np.uint8)


def _noise(im: Image.Image, a: np.ndarray, sigma: float, g: np.random.Generator) -> object:
    return np.clip(a + g.normal(0, sigma, a.shape), 0, 255).astype(np.uint8)


def _poisson(im: Image.Image, a: np.ndarray, sigma: float, g: np.random.Generator) -> object:
    scale = (255.0 / max(sigma, 1e-3)) ** 2 / 255.0  # photons per level so sigma(255) = sigma
    return np.clip(g.poisson(a * scale) / scale, 0, 255).astype(np.uint8)


def _grain(im: Image.Image, a: np.ndarray, rms: float, g: np.random.Generator) -> object:
    return np.clip(a + g.normal(0, rms, a.shape[:2])[..., None], 0, 255).astype(np.uint8)


def _jpeg(im: Image.Image, a: np.ndarray, q: float, g: np.random.Generator) -> object:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=max(1, round(q)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _downscale(im: Image.Image, a: np.ndarray, f: float, g: np.random.Generator) -> object:
    small = im.resize(
        (max(1, round(im.width / f)), max(1, round(im.height / f))), Image.Resampling.BILINEAR
    )
    return small.resize(im.size, Image.Resampling.BILINEAR)


def _crop(im: Image.Image, a: np.ndarray, pct: float, g: np.random.Generator) -> object:
    k = (1 - pct / 100) ** 0.5
    w, h = round(im.width * k), round(im.height * k)
    return im.crop(
        ((im.width - w) // 2, (im.height - h) // 2, (im.width + w) // 2, (im.height + h) // 2)
    )


def _aspect(im: Image.Image, a: np.ndarray, ratio: float, g: np.random.Generator) -> object:
    w = min(im.width, round(im.height * ratio * im.width / im.height))
    return im.crop(((im.width - w) // 2, 0, (im.width + w) // 2, im.height))


def _haze(im: Image.Image, a: np.ndarray, pct: float, g: np.random.Generator) -> object:
    t = max(pct, 0) / 100
    return (a * (1 - t) + 220 * t).astype(np.uint8)


def _vignette(im: Image.Image, a: np.ndarray, stops: float, g: np.random.Generator) -> object:
    yy, xx = np.mgrid[-1 : 1 : a.shape[0] * 1j, -1 : 1 : a.shape[1] * 1j]
    mask = 2.0 ** (-stops * (xx**2 + yy**2) / 2)
    return np.clip(a * mask[..., None], 0, 255).astype(np.uint8)


def _contrast(im: Image.Image, a: np.ndarray, pct: float, g: np.random.Generator) -> object:
    return ImageEnhance.Contrast(im).enhance(1 + pct / 100)


def _saturation(im: Image.Image, a: np.ndarray, pct: float, g: np.random.Generator) -> object:
    return ImageEnhance.Color(im).enhance(1 + pct / 100)


def _blur(im: Image.Image, a: np.ndarray, sigma: float, g: np.random.Generator) -> object:
    return im.filter(ImageFilter.GaussianBlur(sigma))


def _box(im: Image.Image, a: np.ndarray, radius: float, g: np.random.Generator) -> object:
    return im.filter(ImageFilter.BoxBlur(radius))


def _unsharp(im: Image.Image, a: np.ndarray, pct: float, g: np.random.Generator) -> object:
    return im.filter(ImageFilter.UnsharpMask(2, int(max(pct, 0))))


def _clarity(im: Image.Image, a: np.ndarray, pct: float, g: np.random.Generator) -> object:
    return im.filter(ImageFilter.UnsharpMask(20, int(max(pct, 0)), 0))


def _rotate(im: Image.Image, a: np.ndarray, deg: float, g: np.random.Generator) -> object:
    return im.rotate(deg, Image.Resampling.BILINEAR)


BASELINES: dict[str, tuple[str, Baseline]] = {
    "exposure": ("numpy power 2.2", _pow_exposure),
    "gamma": ("numpy power", _gamma),
    "black_point": ("numpy levels", _black_point),
    "contrast": ("ImageEnhance.Contrast", _contrast),
    "saturation": ("ImageEnhance.Color", _saturation),
    "hue": ("PIL HSV shift", _hue),
    "temperature": ("numpy channel gains", _temperature),
    "gaussian_blur": ("ImageFilter.GaussianBlur", _blur),
    "defocus": ("ImageFilter.BoxBlur", _box),
    "sharpen": ("ImageFilter.UnsharpMask", _unsharp),
    "clarity": ("UnsharpMask radius 20", _clarity),
    "gaussian_noise": ("numpy normal", _noise),
    "poisson_noise": ("numpy poisson", _poisson),
    "film_grain": ("numpy normal (luma)", _grain),
    "jpeg": ("PIL JPEG save+load", _jpeg),
    "downscale": ("PIL resize down+up", _downscale),
    "crop_centre": ("PIL crop", _crop),
    "crop_thirds": ("PIL crop", _crop),
    "rotate": ("PIL rotate", _rotate),
    "aspect": ("PIL crop", _aspect),
    "haze": ("numpy blend", _haze),
    "vignette": ("numpy radial mask", _vignette),
}


# ------------------------------------------------------------------ measurement


def photos(long_side: int, corpus: Path | None, limit: int = 4) -> list[Image.Image]:
    """The bundled photo plus up to ``limit - 1`` others, resized to ``long_side``."""
    paths = [ROOT / "src" / "redaes" / "assets" / "astronaut.jpg"]
    if corpus is not None:
        from redaes.corpus import list_images

        paths += list_images(corpus)[: limit - 1]
    else:
        from redaes.corpus import SOURCES, SourceUnavailable, run_command

        for name in ("sklearn", "interior", "skimage"):
            try:
                paths.append(SOURCES.get(name)(Path("."), run_command)[0].path)
            except SourceUnavailable:
                continue
    return [resize_long_side(load_image(p), long_side) for p in paths[:limit]]


def strengths(op: EditOp, n: int, g: np.random.Generator) -> torch.Tensor:
    """``n`` strengths with magnitude in [0.3, 1] (signed ops get both signs)."""
    mag = g.uniform(0.3, 1.0, n)
    if op.info.signed:
        mag *= g.choice([-1.0, 1.0], n)
    return torch.tensor(mag, dtype=torch.float32)


def rate(fn: Callable[[int], int], min_time: float, windows: int = 3) -> float:
    """Edits/s of ``fn(i) -> edits done``: the best of ``windows`` windows of ``min_time / windows``
    seconds (after one warm-up call). Best-of damps the noise of other processes on the machine.
    """
    fn(0)
    i, best = 1, 0.0
    for _ in range(windows):
        done, calls, t0 = 0, 0, time.perf_counter()
        while True:
            done += fn(i)
            i, calls = i + 1, calls + 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time / windows and calls >= 2:
                best = max(best, done / elapsed)
                break
    return best


def bench_op(
    name: str,
    images: list[torch.Tensor],
    pils: list[Image.Image],
    batch: int,
    min_time: float,
    baseline: bool = True,
) -> dict[str, Any]:
    op = create_edit(name)
    g = np.random.default_rng(0)
    s_single = strengths(op, 64, g)
    batches = [im.unsqueeze(0).expand(batch, -1, -1, -1).contiguous() for im in images]
    s_batch = [strengths(op, batch, g) for _ in range(16)]

    def single(i: int) -> int:
        op(images[i % len(images)].unsqueeze(0), float(s_single[i % 64]), seed=i)
        return 1

    def batched(i: int) -> int:
        s: Any = s_batch[i % 16]
        s = float(s[0]) if op.info.changes_size else s
        op(batches[i % len(batches)], s, seed=list(range(i, i + batch)))
        return batch

    row: dict[str, Any] = {"op": name, "family": op.info.family}
    row["single"] = rate(single, min_time)
    row["batch"] = rate(batched, min_time)
    if baseline and name in BASELINES:
        label, fn = BASELINES[name]
        arrays = [np.asarray(p) for p in pils]

        def base(i: int) -> int:
            k = i % len(pils)
            fn(pils[k], arrays[k], op.physical(float(s_single[i % 64])), g)
            return 1

        row["baseline"], row["baseline_name"] = rate(base, min_time), label
    return row


def mix_rate(names: list[str], images: list[torch.Tensor], batch: int, rounds: int) -> float:
    """Edits/s applying every op in turn to batches (the workload of pair building)."""
    ops = [create_edit(n) for n in names]
    x = images[0].unsqueeze(0).expand(batch, -1, -1, -1).contiguous()
    for op in ops:  # warm-up round, not timed
        op(x, 0.6 if op.info.changes_size else torch.full((batch,), 0.6), seed=0)
    t0, done = time.perf_counter(), 0
    for r in range(rounds):
        for op in ops:
            s = 0.6 if op.info.changes_size else torch.full((batch,), 0.6)
            op(x, s, seed=r)
            done += batch
    return done / (time.perf_counter() - t0)


def _mix_worker(job: tuple[list[str], torch.Tensor, float, int]) -> float:
    """One worker process: 1 torch thread, single images, ops round-robin for ``seconds``."""
    names, image, seconds, seed = job
    torch.set_num_threads(1)
    ops = [create_edit(n) for n in names]
    x = image.unsqueeze(0)
    for op in ops:  # warm-up round, not timed
        op(x, 0.6, seed=seed)
    t0, done, r = time.perf_counter(), 0, 0
    while time.perf_counter() - t0 < seconds:
        for op in ops:
            op(x, 0.6, seed=seed + r)
            done += 1
        r += 1
    return done / (time.perf_counter() - t0)


def parallel_mix_rate(names: list[str], image: torch.Tensor, workers: int, seconds: float) -> float:
    """Edits/s of ``workers`` processes with 1 torch thread each (how `pairs build --workers`
    renders): the sum of the per-process rates measured over the same wall-clock window."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        rates = pool.map(_mix_worker, [(names, image, seconds, w) for w in range(workers)])
    return float(sum(rates))


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    import kornia
    import PIL

    return (
        f"{model}, {os.cpu_count()} cores (load average at start: {load}); "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"numpy {np.__version__}, Pillow {PIL.__version__}, kornia {kornia.__version__}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-side", type=int, default=512)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--min-time", type=float, default=0.4, help="seconds per measurement")
    parser.add_argument("--ops", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--corpus", type=Path, default=None, help="folder of photos to add")
    parser.add_argument(
        "--threads", default="", help="torch thread counts to compare, e.g. 1,2 (default: 1,N)"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    threads = [int(t) for t in args.threads.split(",") if t] or sorted({1, default_threads})

    header = machine()
    pils = photos(args.long_side, args.corpus)
    images = [pil_to_tensor(p) for p in pils]
    names = [n for n in args.ops.split(",") if n] or [i.name for i in list_edits()]
    for n in names:
        EDIT_OPS.get(n)
    rows: dict[str, dict[str, Any]] = {}
    mixes: dict[int, tuple[float, float]] = {}
    for t in threads:
        torch.set_num_threads(t)
        for n in names:
            r = bench_op(n, images, pils, args.batch, args.min_time, baseline=n not in rows)
            row = rows.setdefault(n, {k: v for k, v in r.items() if k not in ("single", "batch")})
            row[f"single@{t}"], row[f"batch@{t}"] = r["single"], r["batch"]
            print(
                f"{t}t {n:16s} single {r['single']:7.1f}/s  batch {r['batch']:7.1f}/s", flush=True
            )
        mixes[t] = (mix_rate(names, images, 1, 3), mix_rate(names, images, args.batch, 3))
    workers = os.cpu_count() or 1
    parallel = parallel_mix_rate(names, images[0], workers, max(3.0, 4 * args.min_time))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())

    sizes = ", ".join(f"{p.width}x{p.height}" for p in pils)
    mix_text = "; ".join(
        f"{t} thread{'s' if t > 1 else ''}: {b:.0f} batched, {s1:.0f} single"
        for t, (s1, b) in mixes.items()
    )
    mix_text += f"; {workers} processes x 1 thread (single images): {parallel:.0f}"
    best_mix = max(parallel, *(max(v) for v in mixes.values()))
    verdict = "meets" if best_mix >= TARGET else "MISSES"
    cols = [f"{kind} {t}t" for t in threads for kind in ("single", "batch")]
    lines = [
        "# Edit-op throughput",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {header}; load average at the end: {load}",
        f"- photos ({len(pils)}, long side {args.long_side} px): {sizes}",
        f"- batch size {args.batch}; each figure is the best of 3 windows ({args.min_time} s"
        " in all) after a warm-up;"
        " tensor/PIL conversions excluded; baselines are naive single-image Pillow/NumPy code;"
        " `Nt` = torch threads",
        f"- **op mix (all {len(names)} ops round-robin), edits/s: {mix_text}** - best "
        f"{best_mix:.0f}, {verdict} the target of {TARGET:.0f} edits/s at 512 px",
        "- on a shared machine the figures vary several-fold between runs (see the load"
        " averages): compare ops and baselines within one run, not across runs",
        "",
        "| op | family | " + " | ".join(cols) + " | baseline | best / baseline | baseline code |",
        "|---|---|" + "---:|" * len(cols) + "---:|---:|---|",
    ]
    for n in names:
        r = rows[n]
        figures = [r[f"{kind}@{t}"] for t in threads for kind in ("single", "batch")]
        base = r.get("baseline")
        ratio = f"{max(figures) / base:.2f}x" if base else "n/a"
        lines.append(
            f"| {n} | {r['family']} | "
            + " | ".join(f"{v:.0f}" for v in figures)
            + f" | {f'{base:.0f}' if base else 'n/a'} | {ratio} | {r.get('baseline_name', 'n/a')} |"
        )

    def best(n: str) -> float:
        return max(rows[n][f"{kind}@{t}"] for t in threads for kind in ("single", "batch"))

    slow = sorted(names, key=best)[:8]
    lines += ["", "Slowest ops (best edits/s): " + ", ".join(f"{n} ({best(n):.0f})" for n in slow)]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
