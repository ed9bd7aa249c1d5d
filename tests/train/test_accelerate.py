"""``redaes train compact`` under ``accelerate launch`` with 2 CPU processes (data parallel).

accelerate 1.x runs ``--cpu`` launches as one process unless given an MPI hostfile, so the test
launches through torchrun (``--multi_gpu``) and the loop's ``Accelerator(cpu=True)`` makes it a
gloo multi-CPU run. Every process draws the same batch and keeps its shard; gradients are
averaged. Stages 1 and 2 then follow the 1-process run with the same global batch (float
summation order aside); stage 3 averages per-shard group rewards, so it only stays close.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from redaes.models.weights import read_config
from redaes.train import load_config, train_compact
from redaes.train.report import read_log
from tests.train.conftest import CONFIG, tiny_sets


def _sets(red: Path, out: Path) -> list[str]:
    # dropout masks differ with the shard's shape
    return tiny_sets(red, out, dropout=0.0, steps=4, warmup_steps=1, eval_every=2, ckpt_every=2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _max_diff(a: Path, b: Path) -> float:
    ta, tb = load_file(str(a)), load_file(str(b))
    assert ta.keys() == tb.keys()
    return max(float((ta[k] - tb[k]).abs().max()) for k in ta)


def test_two_process_run_matches_one_process(tiny_red, tmp_path):
    two, one = tmp_path / "two", tmp_path / "one"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu"]
    launch += ["--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no"]
    launch += ["--dynamo_backend", "no", "--main_process_port", str(_free_port())]
    cmd = [*launch, str(Path(sys.executable).parent / "redaes"), "train", "compact"]
    cmd += ["--config", str(CONFIG)]
    for s in _sets(tiny_red, two):
        cmd += ["--set", s]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    train_compact(load_config(CONFIG, _sets(tiny_red, one)))

    for stage in (1, 2, 3):
        log = read_log(two / f"stage{stage}" / "log.jsonl")
        steps = [r["step"] for r in log if "loss" in r]
        assert steps == [1, 2, 3, 4]  # written once, by the main process only
        assert all(r["processes"] == 2 for r in log if "loss" in r)
        assert [r["step"] for r in log if "val" in r] == [2, 4]
        ref = [r for r in read_log(one / f"stage{stage}" / "log.jsonl") if "loss" in r]
        if stage < 3:  # the same global batch: the same gradients up to summation order
            got = [r["grad_norm"] for r in log if "loss" in r]
            assert all(abs(g - r["grad_norm"]) < 1e-4 for g, r in zip(got, ref, strict=True))
        ckpt = torch.load(two / f"stage{stage}" / "ckpt.pt", weights_only=False)
        assert ckpt["step"] == 4
    assert _max_diff(two / "stage1/model.safetensors", one / "stage1/model.safetensors") < 1e-4
    assert _max_diff(two / "stage2/model.safetensors", one / "stage2/model.safetensors") < 5e-3
    assert _max_diff(two / "model.safetensors", one / "model.safetensors") < 0.1
    # OUT/model.safetensors: stage 3's tensors, with the std scale fitted once by the main process
    assert _max_diff(two / "model.safetensors", two / "stage3" / "model.safetensors") == 0.0
    fitted = json.loads((two / "std_calibration.json").read_text())["std_scale"]
    assert read_config(two / "model.safetensors")["std_scale"] == fitted
