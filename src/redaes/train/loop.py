"""Compact training, top to bottom: one function per stage, nanoGPT style.

``train_compact(cfg, stages)`` loads the RED splits once, then for each stage: builds the network
(stage 1 from ImageNet weights, later stages from the previous stage's weights), resumes from
``OUT/stageN/ckpt.pt`` if present, runs ``steps`` optimisation steps with warmup + cosine, logs
to ``log.jsonl``, validates, checkpoints, anchors the score level and writes
``OUT/stageN/model.safetensors``; ``OUT/model.safetensors`` is the last stage run with its stds
scaled by one factor fitted on the validation split (``calibrate_std``,
:func:`redaes.train.evaluate.calibrate_std`; fit and coverage in ``OUT/std_calibration.json``).

Determinism: step ``t`` of stage ``k`` draws its batch, crops, flips and dropout masks from
``numpy.random.default_rng([seed, k, t])``, so a resumed run makes exactly the draws an
uninterrupted one would; the checkpoint holds the weights, the optimiser state and the step.

Data parallelism: under ``accelerate launch --num_processes N --cpu`` every process draws the
same batch (same generator), keeps its shard (pairs or groups ``rank::N``) for the forward and
backward pass, and the gradients are averaged across processes before clipping and the
optimiser step, so the weights stay identical everywhere. Shard losses are rescaled by their
share of the batch's weight, so stages 1 and 2 follow the 1-process run with the same global
batch up to float summation order (dropout masks aside: use ``dropout=0`` to compare); stage 3
averages per-shard group rewards. Only the main process validates, logs, checkpoints, anchors
and writes weights. A plain ``python``/``redaes`` run (``WORLD_SIZE`` unset or 1) is unchanged.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from redaes.errors import ConfigError, DataError
from redaes.imageio import atomic_write_bytes
from redaes.models.net import CompactNet, ModelConfig
from redaes.models.weights import load_weights, save_weights
from redaes.train import losses
from redaes.train.config import StageConfig, TrainConfig
from redaes.train.data import PairTensors, load_pairs
from redaes.train.evaluate import anchor, validate, write_calibrated
from redaes.train.inputs import WHOLE, CachedInputs, Inputs, PixelInputs, view_boxes
from redaes.train.parallel import Dist
from redaes.train.report import plot_log, read_log


def lr_at(step: int, sc: StageConfig) -> float:
    """Linear warmup to ``lr``, then cosine decay to ``lr * min_lr_ratio`` at ``steps``."""
    if sc.warmup_steps and step < sc.warmup_steps:
        return sc.lr * (step + 1) / sc.warmup_steps
    span = max(1, sc.steps - sc.warmup_steps)
    progress = min(1.0, (step - sc.warmup_steps) / span)
    floor = sc.lr * sc.min_lr_ratio
    return floor + 0.5 * (sc.lr - floor) * (1.0 + math.cos(math.pi * progress))


def model_config(cfg: TrainConfig) -> ModelConfig:
    m = cfg.model
    return ModelConfig(
        backbone=m.backbone,
        input_size=m.input_size,
        scaling=m.scaling,
        pretrained=m.pretrained,
        dropout=m.dropout,
        min_std=m.min_std,
        anchor={"method": "none", "value": cfg.anchor_value, "offset": cfg.anchor_value},
    )


def set_train_mode(net: CompactNet, freeze_bn: bool, train_last: int | None = None) -> None:
    """Train mode, except BatchNorm (``freeze_bn``) and the frozen blocks (as at inference)."""
    net.train()
    if freeze_bn:
        for mod in net.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.eval()
    if train_last is not None:
        for block in net.backbone.blocks()[: net.backbone.first_trained(train_last)]:
            block.eval()


def stage_loss(
    net: CompactNet,
    stage: int,
    data: PairTensors,
    inputs: Inputs,
    cfg: TrainConfig,
    sc: StageConfig,
    rng: np.random.Generator,
    dist: Dist | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Draw one batch with ``rng`` and return the stage's loss and its parts.

    With ``dist`` of N > 1 processes the whole batch is drawn (so every process makes the same
    draws) and only this process's shard goes through the network; the shard's loss is scaled
    by its share of the batch so the mean of the N gradients is the full-batch gradient.
    """
    rank, world = (dist.rank, dist.world) if dist is not None else (0, 1)
    share = level_share = 1.0  # this shard's part of the batch's main and level terms
    extra: dict[str, float] = {}
    if stage in (1, 2):
        pick = rng.choice(len(data), size=min(sc.batch_size, len(data)), replace=False)
        views = [inputs.draw([data.src[p], data.edt[p]], rng) for p in pick]
        if world > 1:
            w_all = data.weight[pick] * (
                1.0 if stage == 1 else (np.abs(data.delta[pick]) >= sc.tie_eps)
            )
            n_all, w_mine = len(pick), w_all[rank::world]
            pick, views = pick[rank::world], views[rank::world]
            share = world * float(w_mine.sum() / w_all.sum()) if w_all.sum() > 0 else 1.0
            level_share = world * len(pick) / n_all
        s, sd = inputs.forward(net, torch.cat(views))
        sd = sd.detach() if sc.freeze_std_head else sd
        s_a, s_b, sd_a, sd_b = s[0::2], s[1::2], sd[0::2], sd[1::2]
        d, v = s_b - s_a, sd_a**2 + sd_b**2
        delta, w = torch.from_numpy(data.delta[pick]), torch.from_numpy(data.weight[pick])
        if stage == 1:
            main = losses.delta_nll(d, v, delta, w)
        else:
            main = losses.bradley_terry(d, delta, w, sc.margin_scale, sc.margin_max, sc.tie_eps)
        level = ((s_a - cfg.anchor_value) ** 2).mean()
    else:
        n_groups = min(sc.groups_per_batch, len(data.groups))
        views, tgt, tsd, gid, is_src, wts = [], [], [], [], [], []
        for g in rng.choice(len(data.groups), size=n_groups, replace=False):
            s_img, pairs = data.groups[int(g)]
            take = np.sort(
                rng.choice(pairs, size=min(sc.group_size - 1, len(pairs)), replace=False)
            )
            views.append(inputs.draw([s_img, *data.edt[take].tolist()], rng))
            tgt += [0.0, *data.delta[take].tolist()]
            tsd += [0.0, *data.delta_std[take].tolist()]
            gid += [int(g)] * (len(take) + 1)
            is_src += [True] + [False] * len(take)
            wts += [0.0, *data.weight[take].tolist()]
        if world > 1:  # this process's groups; the draws above were made for all of them
            drawn = list(dict.fromkeys(gid))  # group ids in draw order, one per view
            mine = [i for i, g in enumerate(gid) if drawn.index(g) % world == rank]
            share = level_share = world * len(views[rank::world]) / len(views)
            views = views[rank::world]
            tgt, tsd = [tgt[i] for i in mine], [tsd[i] for i in mine]
            gid, is_src = [gid[i] for i in mine], [is_src[i] for i in mine]
            wts = [wts[i] for i in mine]
        s, sd = inputs.forward(net, torch.cat(views))
        sd = sd.detach() if sc.freeze_std_head else sd
        target = torch.tensor(tgt)
        main = losses.listwise_loss(
            s, sd**2, target, gid, torch.tensor(tsd), form=sc.reward, tie=sc.tie
        )
        if sc.nll_weight > 0:
            nll = losses.group_delta_nll(s, sd, target, is_src, torch.tensor(wts))
            extra["nll"] = nll.item()
            main = main + sc.nll_weight * nll
        level = ((s[torch.tensor(is_src)] - cfg.anchor_value) ** 2).mean()
    loss = main + sc.level_reg * level
    parts = {"loss": loss.item(), "main": main.item(), "level": level.item(), **extra}
    if world > 1:
        loss = share * main + sc.level_reg * level_share * level
    return loss, parts


def build_net(cfg: TrainConfig, stage: int, init: Path | None) -> CompactNet:
    """Stage ``stage``'s starting network: ``init``'s weights, or a fresh one (seeded)."""
    torch.manual_seed(cfg.seed * 1009 + stage)
    if init is None:
        return CompactNet(model_config(cfg))
    net = load_weights(init)
    net.config.std_scale = 1.0  # trained uncalibrated; the fit comes after the last stage
    net.config.dropout = cfg.model.dropout
    net.dropout.p = cfg.model.dropout
    return net


def pixel_inputs(
    cfg: TrainConfig, train: PairTensors, val: PairTensors | None
) -> tuple[Inputs, Inputs | None]:
    """Augmented pixels for training, whole images for validation."""
    size = cfg.model.input_size
    val_in = PixelInputs(val.images, size, cfg.augment) if val is not None else None
    return PixelInputs(train.images, size, cfg.augment, cfg.seed), val_in


def cached_inputs(
    cfg: TrainConfig,
    train: PairTensors,
    val: PairTensors | None,
    first_stage: int,
    init: Path | None,
    progress: Any = None,
) -> tuple[Inputs, Inputs | None]:
    """Trunk features of the training images under the fixed views (and of the validation
    images, whole), computed with the trunk ``first_stage`` starts from, cached on disk (the
    trunk is frozen, so every later stage has the same one)."""
    net = build_net(cfg, first_stage, init)
    assert cfg.model.train_last_blocks  # checked by the config
    n_tail = min(cfg.model.train_last_blocks, len(net.backbone.blocks()))  # all: caches pixels
    size, where = cfg.model.input_size, Path(cfg.out_dir) / "trunk_cache"
    boxes = view_boxes(cfg.augment.views, cfg.augment, cfg.seed)
    train_in = CachedInputs(
        net, train.images, size, boxes, n_tail, where, train.fingerprint, progress
    )
    val_in = None
    if val is not None:
        val_in = CachedInputs(
            net, val.images, size, [WHOLE], n_tail, where, val.fingerprint, progress
        )
    return train_in, val_in


def _save_ckpt(path: Path, payload: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def _log(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def run_stage(
    cfg: TrainConfig,
    stage: int,
    train: PairTensors,
    val: PairTensors | None,
    init: Path | None,
    progress: Any = None,
    dist: Dist | None = None,
    inputs: tuple[Inputs, Inputs | None] | None = None,
) -> Path:
    """Train one stage (resuming if a checkpoint exists); return its weights file.

    ``inputs`` are the (train, validation) network inputs; default: :class:`PixelInputs`.
    """
    dist = dist or Dist()
    train_in, val_in = inputs or pixel_inputs(cfg, train, val)
    sc = cfg.stages[stage]
    sdir = Path(cfg.out_dir) / f"stage{stage}"
    sdir.mkdir(parents=True, exist_ok=True)
    ckpt, log, final = sdir / "ckpt.pt", sdir / "log.jsonl", sdir / "model.safetensors"
    net = build_net(cfg, stage, init)
    recipe = cfg.to_dict()
    post = ("calibrate_std",)  # post-training options: they do not change a stage's training
    net.backbone.train_last(cfg.model.train_last_blocks)
    params = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    pinned = net.std_head_state() if sc.freeze_std_head else None
    head = [p for n, p in params if not n.startswith("backbone.")]
    body = [p for n, p in params if n.startswith("backbone.")]
    opt = torch.optim.AdamW(
        [{"params": body, "lr_mult": sc.backbone_lr_mult}, {"params": head, "lr_mult": 1.0}],
        lr=sc.lr,
        weight_decay=sc.weight_decay,
    )
    step = 0
    if ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        if (
            {k: v for k, v in (state.get("recipe") or {}).items() if k not in post}
            != {k: v for k, v in recipe.items() if k not in post}
            or state.get("init") != (str(init) if init else None)
            or state.get("data", train.fingerprint) != train.fingerprint  # relabelled pairs
        ):
            raise ConfigError(
                f"{ckpt}: checkpoint of a different recipe or data; use another out_dir "
                "or delete the stage folder"
            )
        net.load_state_dict(state["model"], strict=False)
        net.config.anchor = state["anchor"]
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
        kept = [r for r in read_log(log) if r.get("step", 0) <= step]
        if dist.main:
            log.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))
    elif dist.main:
        log.unlink(missing_ok=True)
    dist.barrier()  # no process writes before every process has read the checkpoint
    task = progress.add_task(f"stage {stage}", total=sc.steps, completed=step) if progress else None
    t0 = time.perf_counter()
    while step < sc.steps:
        rng = np.random.default_rng([cfg.seed, stage, step])
        torch.manual_seed(int(rng.integers(2**62)))
        for group in opt.param_groups:
            group["lr"] = lr_at(step, sc) * group["lr_mult"]
        set_train_mode(net, cfg.model.freeze_bn, cfg.model.train_last_blocks)
        loss, parts = stage_loss(net, stage, train, train_in, cfg, sc, rng, dist)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        dist.mean_grads([p for _, p in params])
        gnorm = float(torch.nn.utils.clip_grad_norm_(net.parameters(), sc.grad_clip))
        opt.step()
        if pinned is not None:  # AdamW's weight decay moves it even with a zero gradient
            net.restore_std_head(pinned)
        step += 1
        last = step == sc.steps
        if step % sc.log_every == 0 or last:
            parts = dist.mean(parts)
        if dist.main and (step % sc.log_every == 0 or last):
            _log(
                log,
                {
                    "stage": stage,
                    "step": step,
                    "lr": lr_at(step - 1, sc),
                    "grad_norm": gnorm,
                    **parts,
                    "seconds": round(time.perf_counter() - t0, 3),
                    **({"processes": dist.world} if dist.world > 1 else {}),
                },
            )
        if (
            dist.main
            and val is not None
            and val_in is not None
            and (step % sc.eval_every == 0 or last)
        ):
            _log(log, {"stage": stage, "step": step, "val": validate(net, val, val_in, sc)})
        if dist.main and (step % sc.ckpt_every == 0 or last):
            _save_ckpt(
                ckpt,
                {
                    "model": net.state_dict(),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "recipe": recipe,
                    "anchor": net.config.anchor,
                    "init": str(init) if init else None,
                    "data": train.fingerprint,
                },
            )
        if progress is not None:
            progress.update(
                task, completed=step, description=f"stage {stage} loss {parts['loss']:.3f}"
            )
    anchor(net, train, cfg)
    net.config.recipe = {**recipe, "stage": stage, "init": str(init) if init else None}
    net.config.data = {"train": train.fingerprint, "validation": val.fingerprint if val else None}
    net.config.pretrained = False
    if dist.main:
        save_weights(net, final)
        plot_log(log, sdir / "loss.png")
    dist.barrier()  # the next stage reads these weights on every process
    return final


def train_compact(cfg: TrainConfig, stages: Sequence[int] = (1, 2, 3)) -> Path:
    """Run ``stages`` in order; return the last stage's weights (also copied to OUT/)."""
    dist = Dist.from_env()
    for k in stages:
        sc = cfg.stages[k]
        if min(sc.batch_size, sc.groups_per_batch) < dist.world:
            raise ConfigError(f"stage {k}: batch smaller than the {dist.world} processes")
    torch.set_num_threads(max(1, cfg.threads))
    load = max(cfg.model.input_size, round(cfg.model.input_size * cfg.augment.load_margin))
    train = load_pairs(
        cfg.data.root,
        cfg.data.train_split,
        load,
        cfg.data.max_pairs,
        anchor_size=cfg.model.input_size,
    )
    try:
        val = load_pairs(cfg.data.root, cfg.data.val_split, cfg.model.input_size)
    except DataError:
        val = None  # a tiny build may lack a validation split: trained without validation
    out = Path(cfg.out_dir)
    init: Path | None = None
    first = min(stages)
    if first > 1:
        init = out / f"stage{first - 1}" / "model.safetensors"
        if not init.is_file():
            raise ConfigError(
                f"stage {first} starts from stage {first - 1}'s weights, but "
                f"{init} does not exist: run stage {first - 1} first"
            )
    from rich.progress import Progress

    with Progress(disable=not (cfg.progress and dist.main), transient=True) as progress:
        if cfg.model.cache_trunk:
            inputs = cached_inputs(cfg, train, val, first, init, progress)
        else:
            inputs = pixel_inputs(cfg, train, val)
        for stage in sorted(stages):
            init = run_stage(cfg, stage, train, val, init, progress, dist, inputs)
    assert init is not None
    final = out / "model.safetensors"
    if dist.main:
        if cfg.calibrate_std and val is not None:  # OUT/std_calibration.json: fit, coverage
            write_calibrated(init, final, val, cfg, out / "std_calibration.json")
        else:
            final.write_bytes(init.read_bytes())
    dist.barrier()
    return final
