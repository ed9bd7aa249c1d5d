"""Configuration of compact training: dataclasses read from YAML, strict about unknown keys.

``configs/compact-default.yaml`` is the reference recipe. ``--set a.b.c=VALUE`` overrides any
field (VALUE parsed as YAML). ``stages`` maps the stage number (1, 2, 3) to its settings; a stage
inherits every field it does not set from :class:`StageConfig`'s defaults.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from redaes.errors import ConfigError

STAGES = (1, 2, 3)


@dataclass
class DataConfig:
    """Where the RED dataset is and which splits to use."""

    root: str = "red"
    train_split: str = "train"
    val_split: str = "validation"
    max_pairs: int | None = None  # use only the first N training pairs (smoke runs)


@dataclass
class ModelSettings:
    """The network to train (see :class:`redaes.models.ModelConfig`)."""

    backbone: str = "efficientnet-lite0"
    input_size: int = 224
    scaling: str = "tf"
    pretrained: bool = True
    dropout: float = 0.2
    min_std: float = 0.05
    freeze_bn: bool = True  # BatchNorm statistics stay at their ImageNet values
    train_last_blocks: int | None = None  # None: the whole backbone; N: only its last N blocks
    # compute the frozen blocks once per image and view (needs augment.views, freeze_bn and
    # train_last_blocks): a step then costs only the trained tail (train/inputs.py)
    cache_trunk: bool = False


@dataclass
class AugmentConfig:
    """Paired augmentation: one crop box and one flip for every image of a pair or group."""

    crop_min: float = 0.8  # smallest crop side as a fraction of the (square) image
    hflip: bool = True
    load_margin: float = 1.15  # training images are cached at input_size * load_margin
    # 0: a fresh random crop per draw; K > 0: K fixed views per image (view 0 the whole image,
    # view 1 its mirror, then seeded crops), one drawn per pair or group
    views: int = 0


@dataclass
class StageConfig:
    """Optimisation settings of one stage."""

    steps: int = 300
    batch_size: int = 16  # pairs per step (stages 1-2)
    lr: float = 1e-3
    backbone_lr_mult: float = 0.1
    weight_decay: float = 1e-4
    warmup_steps: int = 20
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    eval_every: int = 100
    ckpt_every: int = 100
    log_every: int = 10
    level_reg: float = 1e-3  # pulls source scores towards the anchor level (not a label)
    tie_eps: float = 0.05  # |delta| below this is a tie (stage 2 skips it, metrics too)
    margin_scale: float = 0.5  # stage 2: margin = margin_scale * |judged delta|
    margin_max: float = 2.0
    reward: str = "fidelity-delta"  # stage 3: redaes.rewards form
    tie: float = 0.5
    groups_per_batch: int = 4  # stage 3
    group_size: int = 6  # stage 3: the source plus up to group_size - 1 of its edits
    # stage 3 trains the ranking, not the spread; these keep the predicted std honest (both off
    # by default, so older recipes reproduce):
    # freeze_std_head: the std output is detached from the ranking loss and the head's std row
    # (weight and bias) is not updated, weight decay included
    freeze_std_head: bool = False
    # nll_weight: add nll_weight * stage 1's Gaussian NLL on the (source, edit) pair deltas of
    # the group members, confidence-weighted
    nll_weight: float = 0.0


@dataclass
class TrainConfig:
    """The whole recipe."""

    out_dir: str = "runs/compact"
    seed: int = 0
    anchor_value: float = 5.0  # median score of the training sources after anchoring
    threads: int = 2
    progress: bool = True
    calibrate_std: bool = field(
        default=True,
        metadata={
            "help": "after the last stage, scale every predicted std by one factor fitted "
            "(closed-form Gaussian NLL) on the validation split so the pair intervals cover "
            "the judged deltas; stored as std_scale in the weights"
        },
    )
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelSettings = field(default_factory=ModelSettings)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    stages: dict[int, StageConfig] = field(
        default_factory=lambda: {s: StageConfig() for s in STAGES}
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-able form (stored in checkpoints and weights files as the recipe)."""
        d = asdict(self)
        d["stages"] = {int(k): v for k, v in d["stages"].items()}
        return d


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    names = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{where}: unknown keys {unknown} (known: {sorted(names)})")
    return cls(**data)


def config_from_dict(raw: dict[str, Any], where: str = "config") -> TrainConfig:
    """Build a :class:`TrainConfig`, refusing unknown keys and bad stage numbers."""
    raw = copy.deepcopy(raw or {})
    parts: dict[str, Any] = {}
    for key, cls in (("data", DataConfig), ("model", ModelSettings), ("augment", AugmentConfig)):
        parts[key] = _build(cls, raw.pop(key, {}) or {}, f"{where}: {key}")
    stages_raw = raw.pop("stages", {}) or {}
    if not isinstance(stages_raw, dict):
        raise ConfigError(f"{where}: stages must map 1/2/3 to settings")
    stages = {s: StageConfig() for s in STAGES}
    for k, v in stages_raw.items():
        try:
            num = int(k)
        except (TypeError, ValueError):
            num = -1
        if num not in STAGES:
            raise ConfigError(f"{where}: stage {k!r} is not one of {list(STAGES)}")
        stages[num] = _build(StageConfig, v or {}, f"{where}: stages.{num}")
    cfg: TrainConfig = _build(TrainConfig, {**raw, **parts, "stages": stages}, where)
    validate(cfg, where)
    return cfg


def validate(cfg: TrainConfig, where: str = "config") -> None:
    """Range checks with one-line messages."""
    a = cfg.augment
    if not 0.1 <= a.crop_min <= 1.0:
        raise ConfigError(f"{where}: augment.crop_min must be in [0.1, 1], got {a.crop_min}")
    if a.load_margin < 1.0:
        raise ConfigError(f"{where}: augment.load_margin must be >= 1")
    if cfg.model.train_last_blocks is not None and cfg.model.train_last_blocks < 0:
        raise ConfigError(f"{where}: model.train_last_blocks must be >= 0 or null")
    if a.views < 0:
        raise ConfigError(f"{where}: augment.views must be >= 0")
    m = cfg.model
    if m.cache_trunk and not (a.views > 0 and m.freeze_bn and m.train_last_blocks):
        raise ConfigError(
            f"{where}: model.cache_trunk needs augment.views > 0, model.freeze_bn and "
            "model.train_last_blocks >= 1 (only a frozen, fixed-view trunk can be cached)"
        )
    if cfg.model.input_size < 16:
        raise ConfigError(f"{where}: model.input_size must be >= 16")
    for n, s in cfg.stages.items():
        if s.steps < 0 or s.batch_size < 1 or s.lr <= 0 or s.warmup_steps < 0:
            raise ConfigError(f"{where}: stages.{n}: steps/warmup >= 0, batch_size >= 1, lr > 0")
        if s.group_size < 2 or s.groups_per_batch < 1:
            raise ConfigError(f"{where}: stages.{n}: group_size >= 2 and groups_per_batch >= 1")
        if s.nll_weight < 0:
            raise ConfigError(f"{where}: stages.{n}: nll_weight must be >= 0, got {s.nll_weight}")
        if min(s.eval_every, s.ckpt_every, s.log_every) < 1:
            raise ConfigError(f"{where}: stages.{n}: eval/ckpt/log intervals must be >= 1")


def _set(raw: dict[str, Any], dotted: str) -> None:
    key, sep, value = dotted.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set {dotted!r}: expected KEY.PATH=VALUE")
    parts = key.split(".")
    node = raw
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"--set {dotted!r}: {p!r} is not a section")
        node = nxt
    node[parts[-1]] = yaml.safe_load(value)


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML recipe (None: the defaults) and apply ``KEY.PATH=VALUE`` overrides."""
    raw: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        p = Path(path)
        where = str(p)
        if not p.is_file():
            raise ConfigError(f"{p}: config file not found")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: invalid YAML ({str(exc).splitlines()[0]})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{p}: expected a mapping at the top level")
        raw = loaded or {}
    if isinstance(raw.get("stages"), dict):
        raw["stages"] = {str(k): v for k, v in raw["stages"].items()}
    for item in overrides or []:
        _set(raw, item)
    return config_from_dict(raw, where)
