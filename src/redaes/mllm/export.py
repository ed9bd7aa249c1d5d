"""TRL-ready ``datasets`` from RED builds, one layout per training stage.

* stage 1 (SFT): ``images`` (source, edit), ``messages`` (user pair prompt, assistant
  ``<think>{reasoning}</think><answer>{delta:+.2f}</answer>``), ``delta``, ``delta_std``.
* stage 2 (pairwise GRPO): ``images``, ``prompt`` (conversational), ``delta``, ``delta_std``.
* stage 3 (ranking GRPO): one image per row, ``prompt``, ``group`` (edit chain, else source),
  ``target`` (known score relative to the group's source: 0 for the source, the judged delta
  for an edit) and ``target_std``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redaes.data import RedPair, load_red
from redaes.errors import ConfigError, DataError
from redaes.mllm.adapter import ADAPTERS, PAIR_PROMPT, SCORE_PROMPT, Adapter

STAGES = (1, 2, 3)


def _answer(pair: RedPair) -> str:
    return f"<think>{pair.reasoning.strip()}</think><answer>{pair.delta:+.2f}</answer>"


def stage_rows(pairs: list[RedPair], stage: int, adapter: Adapter) -> list[dict[str, Any]]:
    """The rows of one stage's dataset (images as PIL images)."""
    if stage not in STAGES:
        raise ConfigError(f"unknown MLLM training stage {stage}; expected 1, 2 or 3")
    rows: list[dict[str, Any]] = []
    if stage in (1, 2):
        for p in pairs:
            row: dict[str, Any] = {
                "images": [p.source_image, p.edited_image],
                "pair_id": p.pair_id,
                "delta": float(p.delta),
                "delta_std": float(p.delta_std),
            }
            prompt = adapter.messages(PAIR_PROMPT, n_images=2)
            if stage == 1:
                answer = {"role": "assistant", "content": [{"type": "text", "text": _answer(p)}]}
                row["messages"] = [*prompt, answer]
            else:
                row["prompt"] = prompt
            rows.append(row)
        return rows
    seen: set[str] = set()
    for p in pairs:
        group = p.chain_id or p.source_id
        prompt = adapter.messages(SCORE_PROMPT, n_images=1)
        if group not in seen:
            seen.add(group)
            rows.append(
                {
                    "images": [p.source_image],
                    "prompt": prompt,
                    "group": group,
                    "target": 0.0,
                    "target_std": 0.0,
                    "pair_id": p.pair_id,
                }
            )
        rows.append(
            {
                "images": [p.edited_image],
                "prompt": prompt,
                "group": group,
                "target": float(p.delta),
                "target_std": float(p.delta_std),
                "pair_id": p.pair_id,
            }
        )
    return rows


def export_stage(
    red_dir: str | Path,
    out: str | Path,
    stage: int,
    split: str = "train",
    family: str = "qwen2_5_vl",
) -> int:
    """Write stage ``stage``'s dataset of ``red_dir``'s ``split`` to ``out``; number of rows."""
    import datasets

    if family not in ADAPTERS:
        raise ConfigError(f"unknown model family {family!r}; supported: {', '.join(ADAPTERS)}")
    pairs = list(load_red(red_dir, split=split))
    if not pairs:
        raise DataError(f"{red_dir}: split {split!r} has no pairs")
    rows = stage_rows(pairs, stage, ADAPTERS[family])
    ds = datasets.Dataset.from_list(rows)
    ds = ds.cast_column("images", datasets.Sequence(datasets.Image()))
    ds.save_to_disk(str(out))
    return len(rows)
