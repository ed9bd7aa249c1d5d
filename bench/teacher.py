"""How trustworthy is the prior teacher? Reproduces the issue-8 review's figures on a photo folder.

Usage::

    .venv/bin/redaes corpus build /tmp/corpus
    .venv/bin/python bench/teacher.py --images /tmp/corpus --label after       # this tree
    .venv/bin/python bench/teacher.py --images /tmp/corpus --src /tmp/redaes-base/src --label before

Flags: ``--src`` (tree whose ``redaes`` and prior are measured; default this checkout's ``src``),
``--label`` (result file suffix), ``--data`` (dataset folder, default
``/tmp/redaes-teacher/LABEL-COMMIT``; reused when complete), ``--pairs`` 1500, ``--chains`` 4,
``--workers`` 2, ``--photos`` 24 (colour-intent photos), ``--kadid-photos`` 8,
``--check-limit`` 300 (pairs given to the reasoning checker), ``--neutral`` 0.1,
``--skip-kadid``, ``--out`` (default ``bench/results``). The runtime is dominated by the tree's
prior (pairs build, KADID judgements): about 5 minutes for the 32c72cf prior on the shared
2-core machine; per-step wall times are in the result.

For the prior judge of one source tree (``--src``, default this checkout's ``src``) it builds, or
reuses, a RED dataset with ``redaes pairs build`` (``--pairs`` 1500, ``--chains`` 4, plan
defaults of that tree) and measures:

1. restoration law: share of restoration pairs whose edit undoes 0.8-1.2 of the degradation
   that are rated < 0, and in restoration chains the share where the member nearest the full
   undo is rated best;
2. colour intent on the original photos: saturation -30 %, cooling -30 mired and the reverse
   (+30 %, warming +30 mired) rendered directly and judged: share rated an improvement;
3. balance on plain (non-restoration) pairs: share of non-neutral labels (``|delta| >= 0.1``)
   that are negative; share of all positive labels that come from restorations;
4. share of label variance explained by op and strength alone: R^2 of a mean per (op,
   strength bin of 0.25, and the degradation's op and bin) model, in-sample and 2-fold by photo;
5. reasoning claim checks: ``redaes.pairs.reasoning.check_reasoning(row)`` when the tree has it
   ("no checker" otherwise), plus text checks that need no checker;
6. KADID-10k calibration types: cross-type SRCC/PLCC and within-type SRCC of the prior against
   human cell means (:mod:`redaes.judges.anchor`, loaded from this checkout by path so it also
   runs against older trees).

Writes ``bench/results/teacher[-LABEL].md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from teacher_metrics import (  # noqa: E402  (bench/ is not a package)
    balance,
    colour_intent,
    reasoning_checks,
    restoration_law,
    variance_explained,
)

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--images", type=Path, default=Path("/tmp/corpus"), help="photo folder")
    p.add_argument("--src", type=Path, default=ROOT / "src", help="source tree with the prior")
    p.add_argument("--label", default="", help="suffix of the result files (before, after)")
    p.add_argument("--data", type=Path, default=None, help="RED dataset folder (built/reused)")
    p.add_argument("--pairs", type=int, default=1500)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--photos", type=int, default=24, help="photos for the colour-intent run")
    p.add_argument("--kadid-photos", type=int, default=8, help="photos for the KADID run")
    p.add_argument("--neutral", type=float, default=0.1, help="|delta| below this is neutral")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    p.add_argument("--check-limit", type=int, default=300, help="rows given to the checker")
    p.add_argument("--skip-kadid", action="store_true")
    return p.parse_args(argv)


def load_tree(src: Path) -> tuple[ModuleType, ModuleType]:
    """Import ``redaes`` from ``src``; load this checkout's kadid/anchor harness beside it."""
    sys.path.insert(0, str(src.resolve()))
    import redaes
    import redaes.judges

    if Path(redaes.__file__).resolve().parents[1] != src.resolve():
        raise SystemExit(f"redaes imported from {redaes.__file__}, not from {src}")
    mods = []
    for name in ("kadid", "anchor"):
        full = f"redaes.judges.{name}"
        path = ROOT / "src" / "redaes" / "judges" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(full, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
        mods.append(mod)
    return mods[0], mods[1]


def tree_version(src: Path) -> str:
    def git(*a: str) -> str:
        r = subprocess.run(["git", "-C", str(src), *a], capture_output=True, text=True, check=False)
        return r.stdout.strip()

    dirty = " (uncommitted changes)" if git("status", "--porcelain", "--", ".") else ""
    return f"{git('rev-parse', '--short', 'HEAD') or 'unknown'}{dirty}"


def photo_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXT)
    if not files:
        raise SystemExit(f"no photos in {folder}")
    return files


def spread(files: list[Path], n: int) -> list[Path]:
    """``n`` files spread evenly over the sorted list (mixes the corpus sources)."""
    if n >= len(files):
        return files
    return [files[round(i * (len(files) - 1) / max(1, n - 1))] for i in range(n)]


def build_dataset(args: argparse.Namespace, data: Path) -> float:
    cmd = [sys.executable, "-c", "from redaes.cli import main; main()", "pairs", "build"]
    cmd += ["--images", str(args.images), "--out", str(data), "--pairs", str(args.pairs)]
    cmd += ["--chains", str(args.chains), "--workers", str(args.workers), "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(args.src.resolve()), OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    return time.perf_counter() - t0


def read_rows(data: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    cols = ["pair_id", "source_id", "edits", "source_edits", "chain_id", "delta", "reasoning"]
    rows: list[dict[str, Any]] = []
    for f in sorted((data / "data").glob("*.parquet")):
        names = set(pq.read_schema(f).names)
        rows += pq.read_table(f, columns=[c for c in cols if c in names]).to_pylist()
    if not rows:
        raise SystemExit(f"no pairs in {data}/data")
    return rows


def timed(timings: dict[str, float], name: str, fn: Any, *a: Any) -> Any:
    """``fn(*a)``, recording its wall time under ``name``."""
    t = time.perf_counter()
    out = fn(*a)
    timings[name] = round(time.perf_counter() - t, 1)
    return out


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"no GPU; 1-min load {load:.1f} at start"
    )


def _p(v: dict[str, Any]) -> str:
    return "n/a (none)" if v["pct"] is None else f"{v['pct']:.1f} % ({v['k']} of {v['n']})"


def to_markdown(res: dict[str, Any], kadid_md: str | None) -> str:
    law, bal, var, rea, col = (
        res[k] for k in ("restoration", "balance", "variance", "reasoning", "colour_intent")
    )
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in res["timings_s"].items())
    every = f", every {rea['every']}th pair" if "every" in rea else ""
    lines = [
        f"# Teacher check: the prior judge of `{res['tree']}` ({res['version']})",
        "",
        f"{res['date']}. Machine: {res['machine']}. Photos: {res['n_photos']} from "
        f"`{res['images']}`; RED dataset `{res['data']}`: {res['n_pairs']} pairs "
        f"(`pairs build --pairs {res['args']['pairs']} --chains {res['args']['chains']} "
        f"--workers {res['args']['workers']}`, plan defaults of that tree), "
        f"{'reused (resume check ' if res.get('reused') else 'built in '}"
        f"{res['build_s']:.0f} s{')' if res.get('reused') else ''}; whole script "
        f"{res['total_s']:.0f} s ({parts}). "
        "Reproduce: `python bench/teacher.py --images DIR [--src TREE/src] [--label NAME]`.",
        "",
        "| figure | measured | review |",
        "|---|---:|---:|",
        f"| restoration pairs undoing 0.8-1.2 of the degradation rated < 0 | "
        f"{_p(law['near_full_undo_rated_negative'])} | 30 % |",
        f"| restoration chains: member nearest the full undo rated best | "
        f"{_p(law['chain_full_undo_rated_best'])} | 26 % |",
    ]
    names = {
        "saturation-0.3": "saturation -30 %",
        "temperature-0.3": "cooling -30 mired",
        "saturation+0.3": "saturation +30 %",
        "temperature+0.3": "warming +30 mired",
    }
    review = {"saturation-0.3": "11 of 22", "temperature-0.3": "9 of 22"}
    for key, label in names.items():
        lines.append(
            f"| original photos, {label}, rated an improvement (mean delta "
            f"{col[key]['mean_delta']:+.2f}) | {_p(col[key])} | {review.get(key, '-')} |"
        )
        if "above_neutral" in col[key]:
            lines.append(
                f"| same, by +0.1 or more (outside the neutral band) | "
                f"{_p(col[key]['above_neutral'])} | - |"
            )
    lines += [
        f"| plain pairs: non-neutral labels that are negative | "
        f"{_p(bal['plain_non_neutral_negative'])} | 88 % |",
        f"| positive labels that come from restorations | "
        f"{_p(bal['positive_from_restorations'])} | 68 % |",
        f"| plain pairs rated positive | {_p(bal['plain_positive'])} | - |",
        f"| label variance explained by op + strength bin (in-sample, {var['groups']} groups) | "
        f"{100 * var['r2_in_sample']:.1f} % | 80 % |",
        f"| same, 2-fold by photo (held out) | {100 * var['r2_two_fold_by_photo']:.1f} % | - |",
        f"| reasoning claim checker (`check_reasoning`{every}) failures | "
        f"{_p(rea['checker_failed']) if 'checker_failed' in rea else rea['checker']} | - |",
        f'| "crisper" in texts of noise/grain pairs | {_p(rea["crisper_on_noise"])} | 41 of 75 |',
        f'| "cleaner" in texts of blur/downscale pairs | '
        f"{_p(rea['cleaner_flat_on_blur_downscale'])} | 82 of 104 |",
        f'| "skin" in texts (corpus: mostly interiors) | {_p(rea["skin_tones_mentioned"])} '
        "| 34 % |",
        f'| "degraded copy" in restoration texts (answer leak) | '
        f"{_p(rea['degraded_copy_leak_in_restorations'])} | all |",
        f'| "no measured attribute changed" on noise/grain pairs | '
        f"{_p(rea['nothing_changed_on_noise'])} | - |",
    ]
    if rea.get("failed_claims_top"):
        top = "; ".join(f"{k} ({v})" for k, v in rea["failed_claims_top"].items())
        lines += ["", f"Most frequent failed claims: {top}."]
    if "checker_error" in rea:
        lines += ["", f"Checker error (first): `{rea['checker_error']}`."]
    if kadid_md:
        lines += ["", "## KADID-10k calibration types", "", f"Note: {res['kadid_note']}.", ""]
        lines += [kadid_md]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    _, anchor = load_tree(args.src)
    from redaes.imageio import load_image, resize_long_side
    from redaes.judges import create_judge

    version = tree_version(args.src)
    label = args.label or "current"
    data = args.data or Path("/tmp/redaes-teacher") / f"{label}-{version.split()[0]}"
    files = photo_files(args.images)
    reused = any((data / "data").glob("*.parquet")) if (data / "data").is_dir() else False
    build_s = build_dataset(args, data)
    rows = read_rows(data)
    try:
        from redaes.pairs import restore

        scale = dict(getattr(restore, "RESTORE_SCALE", {"haze": 50.0 / 90.0}))
    except ImportError:
        scale = {"haze": 50.0 / 90.0}
    try:
        from redaes.pairs import reasoning as reasoning_mod
    except ImportError:
        reasoning_mod = None
    judge = create_judge("prior")
    timings: dict[str, float] = {}
    chosen = spread(files, args.photos)
    photos = [resize_long_side(load_image(p), 512) for p in chosen]
    res: dict[str, Any] = {
        "tree": str(args.src),
        "version": version,
        "label": label,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "images": str(args.images),
        "n_photos": len(files),
        "data": str(data),
        "n_pairs": len(rows),
        "build_s": round(build_s, 1),
        "reused": reused,
        "args": vars(args)
        | {
            "src": str(args.src),
            "images": str(args.images),
            "data": str(data),
            "out": str(args.out),
        },
        "restoration": restoration_law(rows, scale),
        "balance": balance(rows, args.neutral),
        "variance": variance_explained(rows),
        "reasoning": timed(
            timings, "reasoning", reasoning_checks, rows, reasoning_mod, data, args.check_limit
        ),
        "colour_intent": timed(timings, "colour_intent", colour_intent, judge, photos),
        "colour_photos": [p.name for p in chosen],
    }
    kadid_md = None
    if not args.skip_kadid:
        kadid_files = spread(files, args.kadid_photos)
        kadid_photos = [load_image(p) for p in kadid_files]
        res["kadid_photos"] = [p.name for p in kadid_files]
        report = timed(timings, "kadid", anchor.anchor_report, judge, kadid_photos)
        res["kadid"] = report.to_dict()
        kadid_md = report.to_markdown()
        res["kadid_note"] = (
            "the judge sees each distorted photo with the nearest redaes op chain "
            "(redaes.judges.kadid.nearest_op); the types without one (Impulse_Noise, "
            "Color_Block, Jitter) reach it with an empty EditChain and meta "
            "{'kadid': type, 'level': level}, so a judge must judge them from pixels alone"
        )
    res["timings_s"] = {"build": round(build_s, 1), **timings}
    res["total_s"] = round(time.perf_counter() - t0, 1)
    stem = "teacher" + (f"-{args.label}" if args.label else "")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    (args.out / f"{stem}.md").write_text(to_markdown(res, kadid_md))
    print(f"wrote {args.out / stem}.md/.json in {res['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
