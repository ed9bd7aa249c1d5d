#!/usr/bin/env bash
# Time one generative instruction edit at 512 px on one GPU (issue 12's GPU check).
#
#   scripts/gpu_generative.sh [OUT_JSON]      (default: bench/results/generative-gpu.json)
#
# Builds an InstructPix2Pix-size pipeline (Stable Diffusion 1.5 UNet with 8 input channels,
# SD VAE, CLIP ViT-L/14 text encoder; about 1.07 B parameters) from its configs with RANDOM
# weights (nothing is downloaded), saves it in float16, loads it through
# redaes.edits.generative.load_adapter like a build does, and times gen:golden_hour at strength
# 0.5 (20 steps, image guidance 1.5, text guidance 6.0 with the default mapping) on a 512x512
# image: cold first edit, then warm edits at batch 1 and batch 4, and one edit with
# enable_model_cpu_offload. Everything must end within 5 minutes (timeout 300).
#
# Needs a CUDA GPU, torch, diffusers, transformers, kornia, scikit-image. Packages missing on an
# offline machine are installed from .whl/ when that folder exists (see the message printed).
# GEN_BENCH_DRY_RUN=1 runs a tiny version on the CPU (checks the script itself, no timings).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
OUT_JSON="${1:-bench/results/generative-gpu.json}"
DRY="${GEN_BENCH_DRY_RUN:-0}"

if [ "$DRY" != "1" ] && ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)' 2>/dev/null; then
  echo "gpu_generative.sh: no CUDA GPU visible to $PY (torch.cuda.is_available() is False);" \
    "run it on the GPU machine (GEN_BENCH_DRY_RUN=1 checks the script on a CPU)" >&2
  exit 3
fi

missing() {
  "$PY" - <<'EOF'
import importlib.util
need = {"diffusers": "diffusers", "transformers": "transformers", "kornia": "kornia",
        "skimage": "scikit-image", "yaml": "pyyaml", "cv2": "opencv-python-headless"}
print(" ".join(pip for mod, pip in need.items() if importlib.util.find_spec(mod) is None))
EOF
}
gaps="$(missing)"
if [ -n "$gaps" ] && [ -d .whl ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
  gaps="$(missing)"
fi
if [ -n "$gaps" ]; then
  echo "gpu_generative.sh: missing Python packages: $gaps. On a machine with network access," \
    "put their wheels (and kornia_rs for kornia) in .whl/ (pip download --no-deps" \
    "--only-binary=:all: -d .whl NAME==VERSION) and carry .whl" >&2
  exit 4
fi
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
mkdir -p "$(dirname "$OUT_JSON")"

timeout 300 "$PY" - "$OUT_JSON" "$DRY" <<'EOF'
import json, platform, sys, tempfile, time
from pathlib import Path

import torch

out_json, dry = sys.argv[1], sys.argv[2] == "1"
t_start = time.perf_counter()
import diffusers
import transformers
from diffusers import (AutoencoderKL, EulerAncestralDiscreteScheduler,
                       StableDiffusionInstructPix2PixPipeline, UNet2DConditionModel)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from redaes.edits import create_edit
from redaes.edits.generative import (StrengthMapping, configure_generative, get_adapter,
                                     load_adapter, register_generative_ops)

device = "cpu" if dry else "cuda"
size = 64 if dry else 512
mapping = StrengthMapping(steps=(2, 3)) if dry else StrengthMapping()
work = Path(tempfile.mkdtemp(prefix="redaes-gen-bench-"))


def tokenizer_dir(folder: Path) -> Path:
    """A character-level CLIP vocabulary (the real one would need a download)."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in map(chr, cs):
        vocab.setdefault(c, len(vocab)); vocab.setdefault(c + "</w>", len(vocab))
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder


t0 = time.perf_counter()
with torch.device(device):
    if dry:
        unet = UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=1,
            sample_size=8, in_channels=8, out_channels=4, cross_attention_dim=16,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=4,
            norm_num_groups=8)
        vae = AutoencoderKL(block_out_channels=(8, 16), latent_channels=4, norm_num_groups=8,
            down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2, layers_per_block=1)
        text_cfg = dict(hidden_size=16, intermediate_size=32, num_attention_heads=2,
                        num_hidden_layers=2, projection_dim=16)
    else:  # the InstructPix2Pix (Stable Diffusion 1.5) architecture
        unet = UNet2DConditionModel(sample_size=64, in_channels=8, out_channels=4,
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
            cross_attention_dim=768, attention_head_dim=8)
        vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), latent_channels=4,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, sample_size=512,
            scaling_factor=0.18215)
        text_cfg = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                        num_hidden_layers=12, projection_dim=768, hidden_act="quick_gelu")
    text = CLIPTextModel(CLIPTextConfig(vocab_size=49408, max_position_embeddings=77,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1,
                                        **text_cfg))
tokenizer = CLIPTokenizer.from_pretrained(str(tokenizer_dir(work / "tok")),
                                          model_max_length=77, local_files_only=True)
scheduler = EulerAncestralDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                            beta_schedule="scaled_linear", steps_offset=1)
pipe = StableDiffusionInstructPix2PixPipeline(unet=unet, vae=vae, text_encoder=text,
    tokenizer=tokenizer, scheduler=scheduler, safety_checker=None, feature_extractor=None,
    requires_safety_checker=False)
params = sum(p.numel() for m in (unet, vae, text) for p in m.parameters())
if not dry:
    pipe.to(torch.float16)
folder = work / "ip2p"
pipe.save_pretrained(str(folder), safe_serialization=True)
del pipe, unet, vae, text
if not dry:
    torch.cuda.empty_cache()
build_s = time.perf_counter() - t0


def sync() -> None:
    if not dry:
        torch.cuda.synchronize()


register_generative_ops()
t0 = time.perf_counter()
configure_generative(folder, mapping, device=device, offload=False, batch_size=4)
adapter = get_adapter()
load_s = time.perf_counter() - t0
op = create_edit("gen:golden_hour")
g = torch.Generator().manual_seed(0)
x = torch.rand(4, 3, size, size, generator=g)
controls = adapter.controls(0.5)

t0 = time.perf_counter(); y = op(x[:1], 0.5, seed=1); sync(); cold_s = time.perf_counter() - t0
warm = []
for seed in (2, 3, 4):
    t0 = time.perf_counter(); op(x[:1], 0.5, seed=seed); sync(); warm.append(time.perf_counter() - t0)
t0 = time.perf_counter(); yb = op(x, 0.5, seed=[5, 6, 7, 8]); sync(); batch4_s = time.perf_counter() - t0
again = op(x[:1], 0.5, seed=1)
peak = torch.cuda.max_memory_allocated() / 2**30 if not dry else 0.0

offload_s = None
if not dry:
    del adapter
    configure_generative(folder, mapping, device="cuda", offload=True, batch_size=4)
    off = get_adapter()
    op(x[:1], 0.5, seed=1); sync()  # first call moves the models
    t0 = time.perf_counter(); op(x[:1], 0.5, seed=2); sync(); offload_s = time.perf_counter() - t0

warm_mean = sum(warm) / len(warm)
result = {
    "what": "one generative edit (gen:golden_hour, strength 0.5) at 512x512, InstructPix2Pix "
            "architecture with random float16 weights, through redaes.edits.generative",
    "dry_run": dry,
    "device": torch.cuda.get_device_name(0) if not dry else "cpu (dry run, tiny pipeline)",
    "image_px": size,
    "parameters": params,
    "controls": controls.to_dict(),
    "seconds_build_and_save": round(build_s, 2),
    "seconds_load_adapter": round(load_s, 2),
    "seconds_first_edit": round(cold_s, 3),
    "seconds_per_edit_warm": round(warm_mean, 3),
    "seconds_per_edit_warm_runs": [round(v, 3) for v in warm],
    "seconds_batch4": round(batch4_s, 3),
    "seconds_per_edit_in_batch4": round(batch4_s / 4, 3),
    "seconds_per_edit_cpu_offload": None if offload_s is None else round(offload_s, 3),
    "steps_per_second_warm": round(controls.steps / warm_mean, 2),
    "deterministic_for_a_seed": bool(torch.equal(y, again)),
    "output_finite": bool(torch.isfinite(yb).all()),
    "peak_gpu_memory_gib": round(peak, 2),
    "seconds_total": round(time.perf_counter() - t_start, 1),
    "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                 "transformers": transformers.__version__, "python": platform.python_version()},
}
Path(out_json).write_text(json.dumps(result, indent=2) + "\n")
print(json.dumps(result, indent=2))
EOF
