"""The pair plan: which edits to apply to which source photo, as a pure function of the config.

A dataset is built from a stream of *candidate units*. Unit ``u`` is planned from its own
``numpy.random.default_rng([seed, u])``, so it never depends on workers, timing or other units:

* a **single** unit is one pair: one source, one op chain (one op, or 2..``max_ops`` distinct ops
  with probability ``multi_op_prob``), each op with a signed strength;
* a **chain** unit (probability ``chain_prob`` when ``chain_length >= 2``) is ``chain_length``
  pairs of the same source and the same op at distinct strengths. They share a ``chain_id`` and
  ``chain_rank`` is the rank of the strength inside the chain in ascending order:
  ``0`` = the weakest (most negative) strength, ``k - 1`` = the strongest (most positive). This
  gives a known order for ranking supervision. If the sign filter drops a member, the remaining
  members keep their planned ranks (ranks may then have gaps, the order stays valid).

* a **restoration** unit (probability ``restore_prob``, decided from a separate stream
  ``default_rng([seed, unit, RESTORE_STREAM])``) first applies a *base degradation* (one signed
  op of ``restore_ops`` at a strength from :data:`RESTORE_RANGES`) to the original photo; that
  degraded image is the pair's SOURCE and the pair's edit is the same op with the opposite sign,
  undoing part or all of it, sometimes overshooting (see :mod:`redaes.pairs.restore`).
  A restoration unit is a chain (``k`` correcting strengths, ranked as above) with probability
  ``chain_prob``. Units that are not restorations are planned exactly as with
  ``restore_prob = 0``, and with ``restore_prob = 0`` the fingerprint (hence every pair id) is
  the one of a plan without the restoration fields.

Sources are visited round-robin through a per-epoch seeded permutation, so every photo gets about
the same number of pairs. Everything needed to re-render a pair exactly is recorded: the source
sha256, the base degradation ``source_edits`` (applied with seed 0: restoration ops are
deterministic; the result is rounded to 8 bits, as stored), the op chain
``[{"op", "strength"}]`` and the pair seed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from redaes.errors import ConfigError
from redaes.pairs.restore import RESTORE_RANGES, RESTORE_STREAM, draw_restoration, restore_ops

SPLITS = ("train", "validation", "test")


def _default_grid() -> list[float]:
    return [-1.0, -0.75, -0.5, -0.25, 0.25, 0.5, 0.75, 1.0]


def _default_ratios() -> dict[str, float]:
    return {"train": 0.8, "validation": 0.1, "test": 0.1}


def _default_judges() -> list[str]:
    return ["prior"]


def _default_restore_ops() -> list[str]:
    return sorted(RESTORE_RANGES)


def _default_ops() -> dict[str, float]:
    return {
        "aspect": 0.6,
        "black_point": 1.0,
        "clarity": 1.5,
        "contrast": 1.0,
        "crop_centre": 0.6,
        "crop_thirds": 1.0,
        "defocus": 0.35,
        "downscale": 0.35,
        "exposure": 1.0,
        "film_grain": 0.35,
        "gamma": 1.0,
        "gaussian_blur": 0.35,
        "gaussian_noise": 0.35,
        "haze": 1.2,
        "highlights": 1.0,
        "hue": 0.5,
        "jpeg": 0.35,
        "motion_blur": 0.35,
        "poisson_noise": 0.35,
        "rotate": 0.6,
        "saturation": 1.0,
        "shadows": 1.0,
        "sharpen": 1.5,
        "temperature": 1.0,
        "tint": 0.6,
        "vibrance": 1.5,
        "vignette": 0.5,
    }


def _default_op_strength() -> dict[str, list[float]]:
    return {
        "black_point": [0.15, 0.7],
        "contrast": [0.15, 0.7],
        "exposure": [0.1, 0.45],
        "gamma": [0.15, 0.6],
        "highlights": [0.15, 0.7],
        "hue": [0.1, 0.35],
        "rotate": [0.1, 0.5],
        "saturation": [0.15, 0.6],
        "shadows": [0.15, 0.7],
        "temperature": [0.15, 0.5],
        "tint": [0.15, 0.6],
        "vibrance": [0.15, 0.8],
    }


def _default_op_positive_prob() -> dict[str, float]:
    return {"clarity": 0.7, "haze": 0.3, "sharpen": 0.7, "shadows": 0.65, "vibrance": 0.7}


_RESTORE_FIELDS = ("restore_prob", "restore_ops")
_GENERATIVE_FIELDS = (
    "generative_pipeline",
    "generative_ops",
    "generative_share",
    "generative_mapping",
    "generative_options",
    "guard_min_ssim",
    "guard_side",
)
"""Left out of the fingerprint without a ``generative_pipeline`` (default ids unchanged)."""
_OPTIONAL_FIELDS: dict[str, object] = {
    "op_strength": {},
    "op_positive_prob": {},
    "drop_uninformative": False,
}
"""Fields left out of the fingerprint at these values (ids of plans from before they existed)."""


@dataclass
class PairPlan:
    """Configuration of a RED pair dataset (YAML-loadable with :meth:`from_yaml`)."""

    ops: dict[str, float] = field(
        default_factory=_default_ops,
        metadata={
            "help": "op name -> sampling weight; empty = every registered op, weight 1. The "
            "default favours ops that can correct a photo (sharpen, clarity, vibrance, haze, "
            "tone) over pure damage (blur, noise, JPEG: 0.35 each), so that plain pairs both "
            "improve and worsen"
        },
    )
    op_strength: dict[str, list[float]] = field(
        default_factory=_default_op_strength,
        metadata={
            "help": "op name -> [min |s|, max |s|] overriding min/max_abs_strength for that op "
            "(uniform sampling); the default keeps tone and colour edits gentle but visible "
            "(exposure 0.2-0.9 EV, hue 6-21 degrees, temperature 15-50 mired, rotate 1-5 deg)"
        },
    )
    multi_op_prob: float = field(
        default=0.15, metadata={"help": "probability that a single pair uses 2..max_ops ops"}
    )
    max_ops: int = field(default=3, metadata={"help": "most ops in a multi-op chain"})
    strength_sampling: str = field(
        default="uniform", metadata={"help": "'uniform' in min..max |s| or 'grid'"}
    )
    strength_grid: list[float] = field(
        default_factory=_default_grid, metadata={"help": "strengths for 'grid' sampling"}
    )
    min_abs_strength: float = field(
        default=0.15, metadata={"help": "smallest |strength| (uniform sampling)"}
    )
    max_abs_strength: float = field(
        default=1.0, metadata={"help": "largest |strength| (uniform sampling)"}
    )
    positive_prob: float = field(
        default=0.5, metadata={"help": "probability of a positive strength for signed ops"}
    )
    op_positive_prob: dict[str, float] = field(
        default_factory=_default_op_positive_prob,
        metadata={
            "help": "op name -> probability of a positive strength, overriding positive_prob; "
            "the default leans the ops with a usual correcting direction that way (sharpen, "
            "clarity, vibrance, shadows up; haze down: 0.7 / 0.3), both directions stay common"
        },
    )
    chain_length: int = field(
        default=0, metadata={"help": "k strengths of one op per chain; 0 or 1 = no chains"}
    )
    chain_prob: float = field(
        default=0.3, metadata={"help": "probability that a unit is a chain (chain_length >= 2)"}
    )
    restore_prob: float = field(
        default=0.3,
        metadata={
            "help": "probability that a unit is a restoration: the source is a degraded copy "
            "(a restore_ops op) and the edit undoes it; 0 = no restoration pairs"
        },
    )
    restore_ops: list[str] = field(
        default_factory=_default_restore_ops,
        metadata={"help": "signed, deterministic ops usable as base degradation + correction"},
    )
    max_side: int = field(default=512, metadata={"help": "long side of rendered images (px)"})
    image_format: str = field(default="JPEG", metadata={"help": "'JPEG' (q=jpeg_quality) or 'PNG'"})
    jpeg_quality: int = field(default=95, metadata={"help": "JPEG quality of stored images"})
    split_ratios: dict[str, float] = field(
        default_factory=_default_ratios,
        metadata={"help": "train/validation/test fractions of SOURCE photos (sum 1)"},
    )
    judges: list[str] = field(
        default_factory=_default_judges, metadata={"help": "judge names (redaes.judges)"}
    )
    require_sign_agreement: bool = field(
        default=True, metadata={"help": "drop pairs whose judges disagree on the sign"}
    )
    min_judges: int = field(default=1, metadata={"help": "fewer ok judges -> pair dropped"})
    sign_eps: float = field(
        default=0.25, metadata={"help": "|delta| below this is neutral in the sign-agreement test"}
    )
    drop_uninformative: bool = field(
        default=False,
        metadata={
            "help": "drop pairs whose |delta| is below their delta_std (informative = False)"
        },
    )
    neutral_threshold: float = field(
        default=0.1, metadata={"help": "|delta| below this counts as 'barely changes'"}
    )
    block_size: int = field(
        default=8, metadata={"help": "candidate units per work block (resume granularity)"}
    )
    rows_per_shard: int = field(default=500, metadata={"help": "rows per final Parquet shard"})
    generative_pipeline: str = field(
        default="",
        metadata={
            "help": "local diffusers editing pipeline folder that renders the generative "
            "instruction ops gen:<id> (pip install 'redaes[generative]'); '' = none"
        },
    )
    generative_ops: dict[str, float] = field(
        default_factory=dict,
        metadata={"help": "gen:<id> -> weight among generative ops; empty = all, weight 1"},
    )
    generative_share: float = field(
        default=0.3, metadata={"help": "probability that a drawn op is a generative op"}
    )
    generative_mapping: dict[str, list[float]] = field(
        default_factory=dict,
        metadata={
            "help": "strength -> pipeline controls overrides ([value at |s| = 0, at 1]): "
            "image_guidance, text_guidance, steps, denoise (see docs/generative.md)"
        },
    )
    generative_options: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "adapter options: adapter, device, offload, batch_size, dtype"},
    )
    guard_min_ssim: float = field(
        default=0.35,
        metadata={
            "help": "content guard: drop generative pairs whose luminance SSIM (source vs "
            "edited, downscaled) is below this; -1 = keep all"
        },
    )
    guard_side: int = field(default=64, metadata={"help": "long side (px) of the guard's SSIM"})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid field."""

        def bad(name: str, why: str) -> ConfigError:
            return ConfigError(f"plan field {name!r}: {why}")

        for name in ("multi_op_prob", "positive_prob", "chain_prob", "restore_prob"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise bad(name, "must be a probability in [0, 1]")
        if not 0.0 <= self.min_abs_strength <= self.max_abs_strength <= 1.0:
            raise bad("min_abs_strength", "need 0 <= min_abs_strength <= max_abs_strength <= 1")
        if self.strength_sampling not in ("uniform", "grid"):
            raise bad("strength_sampling", "must be 'uniform' or 'grid'")
        if self.strength_sampling == "grid" and (
            not self.strength_grid or any(abs(s) > 1 for s in self.strength_grid)
        ):
            raise bad("strength_grid", "needs at least one strength in [-1, 1]")
        if self.max_ops < 1:
            raise bad("max_ops", "must be >= 1")
        if self.chain_length < 0 or self.chain_length > 32:
            raise bad("chain_length", "must be in 0..32")
        if self.max_side < 16:
            raise bad("max_side", "must be >= 16")
        if self.image_format.upper() not in ("JPEG", "PNG"):
            raise bad("image_format", "must be 'JPEG' or 'PNG'")
        if set(self.split_ratios) - set(SPLITS) or any(v < 0 for v in self.split_ratios.values()):
            raise bad("split_ratios", f"keys must be among {SPLITS} with values >= 0")
        if abs(sum(self.split_ratios.values()) - 1.0) > 1e-6:
            raise bad("split_ratios", "must sum to 1")
        if not self.judges:
            raise bad("judges", "needs at least one judge")
        if self.block_size < 1 or self.rows_per_shard < 1:
            raise bad("block_size", "block_size and rows_per_shard must be >= 1")
        if any(w < 0 for w in self.ops.values()):
            raise bad("ops", "weights must be >= 0")
        if any(not 0.0 <= float(v) <= 1.0 for v in self.op_positive_prob.values()):
            raise bad("op_positive_prob", "values must be probabilities in [0, 1]")
        for name, span in self.op_strength.items():
            ok = isinstance(span, (list, tuple)) and len(span) == 2
            if not ok or not 0.0 <= float(span[0]) <= float(span[1]) <= 1.0:
                raise bad("op_strength", f"{name!r} needs [min, max] with 0 <= min <= max <= 1")
        if not isinstance(self.restore_ops, list) or not all(
            isinstance(o, str) for o in self.restore_ops
        ):
            raise bad("restore_ops", "must be a list of op names")
        if not 0.0 <= float(self.generative_share) <= 1.0:
            raise bad("generative_share", "must be a probability in [0, 1]")
        if not -1.0 <= float(self.guard_min_ssim) <= 1.0 or self.guard_side < 8:
            raise bad("guard_min_ssim", "needs -1 <= guard_min_ssim <= 1 and guard_side >= 8")
        if any(w < 0 for w in self.generative_ops.values()):
            raise bad("generative_ops", "weights must be >= 0")

    # -- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field."""
        return asdict(self)

    def to_yaml(self) -> str:
        """YAML text that :meth:`from_yaml` reads back to an equal plan."""
        return yaml.safe_dump(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "plan") -> PairPlan:
        """Build from a dict; unknown keys raise :class:`ConfigError` naming the key."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(f"{origin}: unknown plan key {key!r} (known: {sorted(known)})")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise ConfigError(f"{origin}: {exc}") from None
            raise ConfigError(f"{origin}: {exc}") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> PairPlan:
        """Load a plan from a YAML mapping file."""
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: no such plan file") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: invalid YAML ({exc})".replace("\n", " ")) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: a plan must be a YAML mapping of field: value")
        return cls.from_dict(data, origin=str(p))

    def fingerprint(self) -> str:
        """Short hash of the plan (part of every pair id and of the resume check)."""
        data = self.to_dict()
        if not self.restore_prob:  # no restoration: the same ids as a plan without the fields
            for name in _RESTORE_FIELDS:
                data.pop(name)
        if not self.generative_pipeline:
            for name in _GENERATIVE_FIELDS:
                data.pop(name)
        for name, value in _OPTIONAL_FIELDS.items():
            if data.get(name) == value:
                data.pop(name)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Source:
    """One source photo: its path relative to the image folder and the sha256 of its bytes."""

    path: str
    sha256: str

    def split(self, ratios: dict[str, float]) -> str:
        """Deterministic split from the sha256 (the same photo is always in the same split)."""
        u = int(self.sha256[:12], 16) / float(16**12)
        acc = 0.0
        for name in SPLITS:
            acc += ratios.get(name, 0.0)
            if u < acc:
                return name
        return next(n for n in reversed(SPLITS) if ratios.get(n, 0.0) > 0)


@dataclass(frozen=True)
class PlannedPair:
    """One planned candidate pair (everything needed to render and record it)."""

    unit: int
    member: int
    source: int
    steps: tuple[tuple[str, float], ...]
    seed: int
    chain_id: str | None
    chain_rank: int | None
    base: tuple[tuple[str, float], ...] = ()

    def edits(self) -> list[dict[str, Any]]:
        """The op chain as ``[{"op", "strength"}]``."""
        return [{"op": op, "strength": s} for op, s in self.steps]

    def source_edits(self) -> list[dict[str, Any]]:
        """The base degradation that makes the source (``[]`` for a plain pair)."""
        return [{"op": op, "strength": s} for op, s in self.base]


class Planner:
    """Plans candidate units for a fixed (plan, sources, seed).

    Args:
        plan: the configuration.
        sources: sources sorted by path (deduplicated by sha256).
        seed: the dataset seed.
        op_info: ``name -> signed`` for the registered ops (defaults to :mod:`redaes.edits`).

    Restoration ops are ``plan.restore_ops`` that the plan's ``ops`` allow (all of them when
    ``ops`` is empty), weighted like in ``ops``; none left means no restoration units.
    """

    def __init__(
        self,
        plan: PairPlan,
        sources: list[Source],
        seed: int,
        op_info: dict[str, bool] | None = None,
    ) -> None:
        if not sources:
            raise ConfigError("no usable source photos to plan pairs from")
        if op_info is None:
            from redaes.edits import list_edits

            op_info = {i.name: i.signed for i in list_edits() if not i.name.startswith("gen:")}
        weights = plan.ops or dict.fromkeys(op_info, 1.0)
        if plan.generative_pipeline:  # the gen:<id> ops join with generative_share of the mass
            from redaes.edits.generative import generative_weights

            gen_info, weights = generative_weights(plan, weights)
            op_info = op_info | gen_info
        for name in [*weights, *plan.op_strength, *plan.op_positive_prob]:
            if name not in op_info:
                from redaes.edits import EDIT_OPS

                EDIT_OPS.get(name)  # UnknownNameError with "did you mean"
        names = sorted(n for n, w in weights.items() if w > 0)
        if not names:
            raise ConfigError("plan field 'ops': no op with a positive weight")
        self.plan, self.sources, self.seed = plan, sources, int(seed)
        self.op_names = names
        self.signed = {n: op_info[n] for n in names}
        w = np.array([weights[n] for n in names], dtype=np.float64)
        self.op_p = w / w.sum()
        self.fingerprint = plan.fingerprint()
        self._perms: dict[int, np.ndarray] = {}
        self.restore_names, self.restore_p = restore_ops(plan.restore_ops, op_info, weights)

    def _source_for(self, unit: int) -> int:
        n = len(self.sources)
        epoch = unit // n
        if epoch not in self._perms:
            self._perms[epoch] = np.random.default_rng([self.seed, 0x5EED, epoch]).permutation(n)
        return int(self._perms[epoch][unit % n])

    def _strength(self, rng: np.random.Generator, op: str) -> float:
        p, signed = self.plan, self.signed[op]
        if p.strength_sampling == "grid":
            grid = [s for s in p.strength_grid if signed or s > 0] or [abs(p.strength_grid[0])]
            return float(grid[int(rng.integers(len(grid)))])
        lo, hi = p.op_strength.get(op, (p.min_abs_strength, p.max_abs_strength))
        mag = float(rng.uniform(float(lo), float(hi)))
        positive = p.op_positive_prob.get(op, p.positive_prob)
        sign = 1.0 if (not signed or rng.random() < positive) else -1.0
        return round(sign * mag, 4)

    def _restoration(self, unit: int, source: int) -> list[PlannedPair] | None:
        """The pairs of a restoration unit, or ``None`` when ``unit`` is a plain unit."""
        p = self.plan
        if not p.restore_prob or not self.restore_names:
            return None
        rng = np.random.default_rng([self.seed, unit, RESTORE_STREAM])
        if rng.random() >= p.restore_prob:
            return None
        op, base, strengths = draw_restoration(rng, p, self.restore_names, self.restore_p)
        k = len(strengths)
        chain_id = f"{self.fingerprint}-{self.seed}-{unit:08d}" if k > 1 else None
        return [
            PlannedPair(
                unit,
                m,
                source,
                ((op, s),),
                int(rng.integers(2**31)),
                chain_id,
                m if k > 1 else None,
                ((op, base),),
            )
            for m, s in enumerate(strengths)
        ]

    def plan_unit(self, unit: int) -> list[PlannedPair]:
        """The pairs of candidate unit ``unit`` (1 pair, or ``chain_length`` for a chain)."""
        p = self.plan
        source = self._source_for(unit)
        restored = self._restoration(unit, source)
        if restored is not None:
            return restored
        rng = np.random.default_rng([self.seed, unit])
        is_chain = p.chain_length >= 2 and rng.random() < p.chain_prob
        if is_chain:
            op = self.op_names[int(rng.choice(len(self.op_names), p=self.op_p))]
            values: set[float] = set()
            for _ in range(1000):
                values.add(self._strength(rng, op))
                if len(values) == p.chain_length:
                    break
            strengths = sorted(values)
            chain_id = f"{self.fingerprint}-{self.seed}-{unit:08d}"
            return [
                PlannedPair(
                    unit, rank, source, ((op, s),), int(rng.integers(2**31)), chain_id, rank
                )
                for rank, s in enumerate(strengths)
            ]
        n_ops = 1
        if p.max_ops >= 2 and len(self.op_names) >= 2 and rng.random() < p.multi_op_prob:
            n_ops = int(rng.integers(2, min(p.max_ops, len(self.op_names)) + 1))
        idx = rng.choice(len(self.op_names), size=n_ops, replace=False, p=self.op_p)
        steps = tuple(
            (self.op_names[int(i)], self._strength(rng, self.op_names[int(i)])) for i in idx
        )
        return [PlannedPair(unit, 0, source, steps, int(rng.integers(2**31)), None, None)]

    def plan_block(self, block: int) -> list[PlannedPair]:
        """All pairs of work block ``block`` (units ``block * block_size ...``), in order."""
        bs = self.plan.block_size
        return [pp for u in range(block * bs, (block + 1) * bs) for pp in self.plan_unit(u)]

    def pair_id(self, pp: PlannedPair) -> str:
        """Deterministic, unique pair id."""
        key = (
            f"{self.fingerprint}:{self.seed}:{pp.unit}:{pp.member}:{self.sources[pp.source].sha256}"
        )
        return hashlib.sha256(key.encode()).hexdigest()[:20]
