"""Benchmark: RED pair building throughput (pairs/s) per judge and engine.

Builds datasets from real photos (the bundled astronaut + scikit-image / scikit-learn sample
photos when installed) at 512 px with the ``prior`` judge and the ``iqa`` judge, local engine with
1 and 2 workers and the Ray engine, and writes a Markdown table to ``bench/results/pairs.md``.

    python bench/pairs.py [--pairs 1200] [--iqa-pairs 60] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image

from redaes.pairs import PairPlan, build

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "pairs.md"


def collect_photos(folder: Path) -> int:
    """Copy the bundled photo and the sample photos of installed packages into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "src" / "redaes" / "assets" / "astronaut.jpg", folder / "astronaut.jpg")
    try:
        import skimage.data as skd

        for name in ("chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right"):
            try:
                arr = getattr(skd, name)()
            except Exception:  # a sample that needs a download: skip it
                continue
            if getattr(arr, "ndim", 0) == 3:
                Image.fromarray(arr[..., :3]).save(folder / f"{name}.png")
    except ImportError:
        pass
    try:
        from sklearn.datasets import load_sample_images

        for i, arr in enumerate(load_sample_images().images):
            Image.fromarray(arr).save(folder / f"sklearn_{i}.png")
    except ImportError:
        pass
    return len(list(folder.iterdir()))


def _cpu_seconds() -> float:
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(images: Path, judge: str, n: int, engine: str, workers: int) -> tuple[float, float, float]:
    """Build ``n`` pairs; return (seconds, pairs/s, CPU seconds per pair; NaN for Ray)."""
    plan = PairPlan(judges=[judge], max_side=512, chain_length=4, block_size=8)
    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = _cpu_seconds(), time.perf_counter()
        build(images, Path(tmp) / "ds", n, plan, seed=0, workers=workers, engine=engine)
        dt, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    return dt, n / dt, (cpu / n if engine == "local" else float("nan"))


def warm_cpu_cost(images: Path, n: int) -> float:
    """CPU ms per pair of a warm, single-threaded, in-process build with the prior judge.

    Unlike wall time this barely depends on other jobs sharing the machine.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    plan = PairPlan(judges=["prior"], max_side=512, chain_length=4, block_size=8)
    with tempfile.TemporaryDirectory() as tmp:
        build(images, Path(tmp) / "warm", 16, plan, seed=1)
        t0 = time.process_time()
        build(images, Path(tmp) / "ds", n, plan, seed=0)
        cost = 1000 * (time.process_time() - t0) / n
    torch.set_num_threads(threads)
    return cost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", type=int, default=1200)
    ap.add_argument("--iqa-pairs", type=int, default=60)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from redaes.judges import JUDGES

    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        images = Path(tmp) / "photos"
        n_photos = collect_photos(images)
        warm = warm_cpu_cost(images, args.pairs)
        configs = [("local", 1), ("local", 2)] + ([] if args.no_ray else [("ray", 2)])
        for judge, n in (("prior", args.pairs), ("iqa", args.iqa_pairs)):
            if judge not in JUDGES:
                rows.append(f"| {judge} | - | - | - | - | - | - | judge not registered |")
                continue
            for engine, workers in configs:
                load = os.getloadavg()[0]
                dt, rate, cpu = run(images, judge, n, engine, workers)
                print(f"{judge:6s} {engine:5s} w={workers}: {n} pairs in {dt:.1f} s = {rate:.1f}/s")
                note = "includes Ray start-up" if engine == "ray" else ""
                cpu_ms = "n/a" if cpu != cpu else f"{1000 * cpu:.0f}"
                rows.append(
                    f"| {judge} | {engine} | {workers} | {n} | {rate:.1f} | {cpu_ms} | "
                    f"{load:.1f} | {note} |"
                )
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.python_version()}"
    text = (
        "# RED pair building throughput\n\n"
        f"Machine: {machine} (no GPU). {n_photos} photos, 512 px long side, JPEG q95, chains of "
        "4 with probability 0.3, wall time of `redaes.pairs.build` including process start-up "
        "and the final Parquet shards. `OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}`.\n\n"
        "CPU ms/pair = process + worker CPU time per published pair (an estimate of the "
        "throughput on idle cores: 2 cores ~ 2000 / (CPU ms/pair) pairs/s). 'load' is the 1-min "
        "load average when the run started (other jobs shared the machine when it is > 2).\n\n"
        f"Warm single-threaded in-process CPU cost with the prior judge: **{warm:.0f} ms/pair**, "
        f"i.e. about {2000 / warm:.0f} pairs/s on 2 idle cores with 2 workers (ignoring worker "
        "start-up of a few seconds).\n\n"
        "| judge | engine | workers | pairs | pairs/s | CPU ms/pair | load | note |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
