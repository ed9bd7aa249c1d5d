#!/usr/bin/env bash
# Prepare a local wheel folder for the offline GPU machine (which has torch, transformers,
# accelerate and peft but not trl or datasets). Run on a machine WITH network access:
#   scripts/gpu_wheels.sh [WHEEL_DIR]        (default: wheels/, not committed)
# then copy WHEEL_DIR next to the repository; the GPU check installs with --no-index.
set -euo pipefail
dest="${1:-wheels}"
py="${PYTHON:-.venv/bin/python}"
mkdir -p "$dest"
trl_v="$("$py" -c 'import trl; print(trl.__version__)')"
ds_v="$("$py" -c 'import datasets; print(datasets.__version__)')"
# only the packages the GPU machine lacks, pinned to the versions tested here
"$py" -m pip download --dest "$dest" --only-binary=:all: \
  "trl==${trl_v}" "datasets==${ds_v}" --no-deps
"$py" -m pip download --dest "$dest" --only-binary=:all: \
  pyarrow dill xxhash multiprocess fsspec
echo "wheels in $dest: $(ls "$dest" | wc -l) files"
