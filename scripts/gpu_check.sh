#!/usr/bin/env bash
# GPU check of the MLLM path on one H200 (untested here: no GPU was lent to the session that
# wrote it). Builds a 7B-shaped Qwen2.5-VL from its config with random weights (speed does not
# depend on the weights), times fast scoring of 448 px images and a few LoRA GRPO steps of
# stage 3 through `redaes train mllm`, and writes bench/results/gpu.json.
#   scripts/gpu_check.sh [WHEEL_DIR]   (default wheels/, made by scripts/gpu_wheels.sh)
set -euo pipefail
wheels="${1:-wheels}"
py="${PYTHON:-python}"
if ! "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_check: no CUDA GPU visible to torch; this check needs one (nothing was run)" >&2
  exit 2
fi
if ! "$py" -c 'import trl, datasets' 2>/dev/null; then
  [ -d "$wheels" ] || { echo "gpu_check: trl/datasets missing and no wheel folder $wheels (run scripts/gpu_wheels.sh)" >&2; exit 2; }
  "$py" -m pip install --no-index --find-links "$wheels" trl datasets
fi
"$py" -m pip install --no-deps -e . >/dev/null
work="$(mktemp -d)"
mkdir -p bench/results
"$py" - "$work" <<'PY'
import json, random, sys, time
from pathlib import Path
import torch
from tests.mllm.conftest import build_tiny_qwen2vl  # tokenizer/processor layout only
work = Path(sys.argv[1])
tiny = build_tiny_qwen2vl(work / "tiny")
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(tiny)
ids = {t: tok.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|im_end|>", "<|endoftext|>")}
cfg = Qwen2_5_VLConfig(  # Qwen2.5-VL-7B shapes, the tiny vocabulary
    text_config={"vocab_size": len(tok), "hidden_size": 3584, "intermediate_size": 18944,
                 "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4,
                 "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
                 "max_position_embeddings": 32768, "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"]},
    vision_config={"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
                   "out_hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2, "window_size": 112,
                   "fullatt_block_indexes": [7, 15, 23, 31]},
    image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
    vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
model_dir = work / "qwen25vl-7b-random"
with torch.device("cuda"):
    model = Qwen2_5_VLForConditionalGeneration(cfg).to(torch.bfloat16)
model.save_pretrained(model_dir)
for f in tiny.iterdir():
    if f.name not in ("config.json", "model.safetensors", "generation_config.json"):
        (model_dir / f.name).write_bytes(f.read_bytes())
del model; torch.cuda.empty_cache()
from PIL import Image
from redaes.mllm.assessor import MllmAssessor
px = 448 * 448
images = [Image.new("RGB", (448, 448), (random.randrange(256), 90, 140)) for _ in range(64)]
torch.cuda.reset_peak_memory_stats()
scorer = MllmAssessor(model_dir, mode="fast", batch_size=32, device="cuda", min_pixels=px, max_pixels=px)
scorer.score(images[:32]); torch.cuda.synchronize(); t = time.time()
scorer.score(images); torch.cuda.synchronize(); fast = len(images) / (time.time() - t)
fast_peak = torch.cuda.max_memory_allocated() / 2**30
del scorer; torch.cuda.empty_cache()
import datasets
from redaes.mllm.adapter import ADAPTERS, SCORE_PROMPT
rows = [{"images": [images[i]], "prompt": ADAPTERS["qwen2_5_vl"].messages(SCORE_PROMPT),
         "group": f"g{i // 4}", "target": float(i % 4), "target_std": 0.5, "pair_id": f"p{i}"} for i in range(32)]
data = work / "s3"
datasets.Dataset.from_list(rows).cast_column("images", datasets.Sequence(datasets.Image())).save_to_disk(str(data))
from redaes.mllm.config import load_stage_config
from redaes.mllm.train import LOG_NAME, train_stage
sc = load_stage_config("configs/mllm/stage3.yaml", sets=[f"model={model_dir}", f"data={data}", f"out_dir={work / 'run3'}",
     "max_steps=3", "save_steps=1000", f"max_pixels={px}", "max_completion_length=128"])
torch.cuda.reset_peak_memory_stats(); t = time.time()
train_stage(sc, resume=False)
log = [json.loads(l) for l in (work / "run3" / LOG_NAME).read_text().splitlines() if '"step_time"' in l]
result = {"device": torch.cuda.get_device_name(), "model": "Qwen2.5-VL-7B shapes, random bf16 weights",
          "image_px": 448, "fast_images_per_s": round(fast, 2), "fast_peak_gib": round(fast_peak, 2),
          "grpo_stage3_lora_step_s": [round(r["step_time"], 2) for r in log],
          "grpo_completion_tokens_mean": [r.get("completions/mean_length") for r in log],
          "grpo_peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
          "grpo_wall_s": round(time.time() - t, 1)}
Path("bench/results/gpu.json").write_text(json.dumps(result, indent=2) + "\n")
print(json.dumps(result, indent=2))
PY
