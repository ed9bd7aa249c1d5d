"""Generative edit ops: every library instruction as the edit op ``gen:<id>``.

The ops are registered in :data:`redaes.edits.EDIT_OPS` only by :func:`register_generative_ops`
(the pair engine calls it when a plan names ``generative_pipeline``), so the default registry,
``redaes ops`` and default builds are unchanged. Strength follows the edit-op contract:

* ``s = 0`` is the identity (the pipeline is not called);
* ``s > 0`` renders the instruction's text, ``s < 0`` its counterpart's text (signed ops are
  the instructions that have a counterpart; the others accept ``[0, 1]`` only);
* ``|s|`` sets the pipeline controls through the adapter's :class:`StrengthMapping`;
* image ``i`` uses its own seed (``torch.Generator``), so a pair re-renders exactly on the same
  weights; images with the same strength are edited in one batched call.

Which pipeline renders the ops is set by :func:`configure_generative` (per process) or per op
with ``create_edit("gen:golden_hour", pipeline="FOLDER")``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from redaes.edits.base import EDIT_OPS, EditOp, OpInfo
from redaes.edits.generative.adapters import (
    EditControls,
    PipelineAdapter,
    StrengthMapping,
    load_adapter,
)
from redaes.edits.generative.library import (
    OP_FAMILY,
    Instruction,
    InstructionLibrary,
    load_library,
)
from redaes.errors import EditError

PREFIX = "gen:"


@dataclass
class GenerativeConfig:
    """Which pipeline renders the generative ops in this process, and how."""

    folder: str
    mapping: StrengthMapping = field(default_factory=StrengthMapping)
    adapter: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)


_ACTIVE: list[GenerativeConfig] = []
_ADAPTERS: dict[tuple[Any, ...], PipelineAdapter] = {}


def is_generative(name: str) -> bool:
    """True for a generative op name (``gen:<id>``)."""
    return name.startswith(PREFIX)


def configure_generative(
    folder: str | Path,
    mapping: StrengthMapping | None = None,
    *,
    adapter: str = "auto",
    **options: Any,
) -> None:
    """Set the pipeline folder (and mapping, adapter, device options) used by the ``gen:`` ops."""
    _ACTIVE[:] = [GenerativeConfig(str(folder), mapping or StrengthMapping(), adapter, options)]


def active_config() -> GenerativeConfig | None:
    """The configuration set by :func:`configure_generative`, or ``None``."""
    return _ACTIVE[0] if _ACTIVE else None


def get_adapter(config: GenerativeConfig | None = None) -> PipelineAdapter:
    """The adapter of ``config`` (default: the active one), loaded once per process."""
    cfg = config or active_config()
    if cfg is None:
        raise EditError(
            "generative ops need a pipeline: set generative_pipeline in the plan, or call "
            "redaes.edits.generative.configure_generative(FOLDER)"
        )
    key = (
        str(Path(cfg.folder).resolve()),
        cfg.mapping,
        cfg.adapter,
        tuple(sorted(cfg.options.items())),
    )
    if key not in _ADAPTERS:
        if len(_ADAPTERS) >= 2:  # pipelines are large: keep the most recent ones only
            _ADAPTERS.pop(next(iter(_ADAPTERS)))
        _ADAPTERS[key] = load_adapter(cfg.folder, cfg.mapping, adapter=cfg.adapter, **cfg.options)
    return _ADAPTERS[key]


class GenerativeOp(EditOp):
    """Base of the ``gen:<id>`` ops (one subclass per instruction, made by
    :func:`register_generative_ops`).

    Args:
        pipeline: a pipeline folder overriding :func:`configure_generative` for this op.
    """

    info: ClassVar[OpInfo]
    instruction: ClassVar[Instruction]
    counterpart: ClassVar[Instruction | None]
    library_version: ClassVar[str]

    def __init__(self, pipeline: str | Path | None = None) -> None:
        base = active_config()
        self._config = (
            GenerativeConfig(
                str(pipeline),
                base.mapping if base else StrengthMapping(),
                base.adapter if base else "auto",
                dict(base.options) if base else {},
            )
            if pipeline is not None
            else None
        )

    def adapter(self) -> PipelineAdapter:
        """The adapter rendering this op (loaded on first use)."""
        return get_adapter(self._config)

    def side(self, strength: float) -> Instruction:
        """The instruction rendered at ``strength`` (the counterpart below zero)."""
        if strength < 0 and self.counterpart is not None:
            return self.counterpart
        return self.instruction

    def describe(self, strength: float) -> str:
        """The explanation template of the rendered side, with its degree word."""
        return self.side(strength).explain(strength)

    def controls(self, strength: float) -> EditControls:
        """The pipeline controls at ``strength``."""
        return self.adapter().controls(abs(float(strength)))

    def apply(self, x: torch.Tensor, s: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        out = x.clone()
        values = [round(float(v), 6) for v in s.detach().cpu()]
        for value in sorted(set(values)):
            if value == 0.0:
                continue  # identity
            idx = [i for i, v in enumerate(values) if v == value]
            adapter = self.adapter()
            edited = adapter.edit(
                x[idx].detach().cpu(),
                self.side(value).text,
                adapter.controls(abs(value)),
                [seeds[i] for i in idx],
            )
            out[idx] = edited.to(device=x.device, dtype=x.dtype)
        return out

    def record(self, strength: float, seed: int, step: int = 0) -> dict[str, Any]:
        """What a pair row stores about this step to re-render it exactly."""
        adapter = self.adapter()
        side = self.side(strength)
        return {
            "step": int(step),
            "op": self.info.name,
            "instruction_id": side.id,
            "instruction": side.text,
            "library_version": self.library_version,
            "pipeline_class": adapter.pipeline_class,
            "weights_id": adapter.weights_id,
            "seed": int(seed),
            "controls": adapter.controls(abs(float(strength))).to_dict(),
        }


def _make_op(item: Instruction, library: InstructionLibrary) -> type[GenerativeOp]:
    other = library.get(item.counterpart) if item.counterpart else None
    signed = other is not None
    info = OpInfo(
        name=item.op_name,
        family=OP_FAMILY[item.family],
        unit="instruction strength",
        description=f"generative ({item.family}): {item.text}"
        + (f" / at s < 0: {other.text}" if other else ""),
        identity=0.0,
        at_minus_one=-1.0 if signed else 0.0,
        at_plus_one=1.0,
        template=item.template.replace("{degree}", "{direction}"),
        verbs=("clearly", "clearly"),
        differentiable=False,
        stochastic=True,
        signed=signed,
    )
    attrs = {
        "info": info,
        "instruction": item,
        "counterpart": other,
        "library_version": library.version,
        "__doc__": f"Generative edit: {item.text!r}.",
    }
    return type(f"Gen_{item.id}", (GenerativeOp,), attrs)


def register_generative_ops(library: InstructionLibrary | None = None) -> list[str]:
    """Register ``gen:<id>`` for every library entry (idempotent); return the op names."""
    lib = library or load_library()
    names = []
    for item in lib.instructions:
        if item.op_name not in EDIT_OPS:
            EDIT_OPS.add(item.op_name, _make_op(item, lib))
        names.append(item.op_name)
    return names


def unregister_generative_ops() -> None:
    """Remove every ``gen:`` op from the registry (tests; a process switching plans)."""
    factories = EDIT_OPS._factories  # the registry has no public removal: ops are permanent
    for name in [n for n in factories if is_generative(n)]:
        del factories[name]


def generative_records(edits: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The :meth:`GenerativeOp.record` of every generative step of an edit chain with ``seed``
    (step ``k`` of a chain uses seed ``seed + k``, as :class:`~redaes.edits.EditChain` does)."""
    out = []
    for k, step in enumerate(edits):
        if is_generative(str(step["op"])) and float(step["strength"]) != 0.0:
            op = EDIT_OPS.create(str(step["op"]))
            assert isinstance(op, GenerativeOp)
            out.append(op.record(float(step["strength"]), seed + k, k))
    return out


def rerender_row(
    row: dict[str, Any],
    images_root: str | Path | None = None,
    max_side: int = 512,
    config: GenerativeConfig | None = None,
) -> torch.Tensor:
    """Re-render the edited image of a pair row; returns ``(3, H, W)`` in ``[0, 1]``.

    The source is rebuilt from the original photo (``images_root/source_path``, resized to
    ``max_side`` and degraded by ``source_edits`` as the build does), or, without
    ``images_root``, decoded from the stored ``source_image`` (exact for PNG builds). Generative
    steps use the row's recorded instruction, controls and seed on the pipeline of ``config``
    (default: the active one), whose weights must hash to the recorded ``weights_id``.
    """
    from redaes.edits.base import create_edit
    from redaes.edits.chain import EditChain
    from redaes.imageio import load_image, pil_to_tensor, resize_long_side, tensor_to_pil

    if images_root is not None:
        img = resize_long_side(load_image(Path(images_root) / row["source_path"]), max_side)
        if row.get("source_edits"):
            img = tensor_to_pil(EditChain(row["source_edits"])(pil_to_tensor(img), 0))
        x = pil_to_tensor(img)
    else:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(row["source_image"]["bytes"])) as im:
            x = pil_to_tensor(im.convert("RGB"))
    records = {int(r["step"]): r for r in row.get("generative") or []}
    seed = int(row["seed"])
    for k, step in enumerate(row["edits"]):
        name, strength = str(step["op"]), float(step["strength"])
        if is_generative(name) and strength != 0.0:
            rec = records.get(k)
            if rec is None:
                raise EditError(f"pair {row.get('pair_id')}: no generative record for step {k}")
            adapter = get_adapter(config)
            if adapter.weights_id != rec["weights_id"]:
                raise EditError(
                    f"pair {row.get('pair_id')} was rendered with weights {rec['weights_id']}, "
                    f"the pipeline in {adapter.folder} has {adapter.weights_id}"
                )
            raw = rec["controls"]  # a dict, or its JSON text as stored in the Parquet rows
            controls = EditControls.from_dict(json.loads(raw) if isinstance(raw, str) else raw)
            x = adapter.edit(x[None], rec["instruction"], controls, [int(rec["seed"])])[0]
        else:
            x = create_edit(name)(x, strength, seed + k)
    return x


def generative_weights(
    plan: Any, weights: dict[str, float]
) -> tuple[dict[str, bool], dict[str, float]]:
    """Planner support: ``(name -> signed, weights)`` with the plan's generative ops added.

    ``plan.generative_ops`` (``gen:<id>`` or ``<id>`` -> weight; empty = every library entry
    at weight 1) is scaled so that generative ops get ``plan.generative_share`` of the total
    sampling mass of ``weights`` (``share = 1``: generative ops only). Pure: no pipeline loaded.
    """
    library = load_library()
    chosen = plan.generative_ops or dict.fromkeys(library.ids(), 1.0)
    raw: dict[str, float] = {}
    info: dict[str, bool] = {}
    for key, w in chosen.items():
        item = library.get(str(key))
        raw[item.op_name] = float(w)
        info[item.op_name] = item.counterpart is not None
    share = float(plan.generative_share)
    base = {k: float(v) for k, v in weights.items() if not is_generative(k)}
    total_base, total_gen = sum(base.values()), sum(raw.values())
    if total_gen <= 0 or share <= 0:
        return info, base
    if share >= 1 or total_base <= 0:
        return info, raw | dict.fromkeys(base, 0.0)
    scale = share / (1 - share) * total_base / total_gen
    return info, base | {k: v * scale for k, v in raw.items()}
