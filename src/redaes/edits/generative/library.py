"""The instruction library: versioned, validated instructions for the generative edit ops.

The library ships as ``instructions.yaml`` beside this module. Each entry becomes the edit op
``gen:<id>`` (see :mod:`redaes.edits.generative.ops`). :func:`load_library` validates every entry
(family, direction, text and template present; ids and texts unique; counterparts exist and are
mutual) and raises :class:`~redaes.errors.ConfigError` naming the first problem.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from redaes.errors import ConfigError

LIBRARY_FILE = Path(__file__).with_name("instructions.yaml")
INSTRUCTION_FAMILIES = (
    "lighting",
    "colour_grading",
    "composition",
    "clutter",
    "background",
    "weather_time",
    "style",
)
"""Families of instructions, in display order."""

OP_FAMILY = {
    "lighting": "tone",
    "colour_grading": "colour",
    "composition": "composition",
    "clutter": "composition",
    "background": "composition",
    "weather_time": "style",
    "style": "style",
}
"""The edit-op family (:data:`redaes.edits.FAMILIES`) each instruction family is listed under."""

DIRECTIONS = ("improve", "degrade", "depends")
EFFECT_KINDS = (
    "brightness",
    "contrast",
    "saturation",
    "warmth",
    "tint",
    "haze",
    "detail",
    "horizon",
)
"""Measured kinds (:data:`redaes.pairs.reasoning.KINDS`) an entry's ``expects`` may name."""
EFFECT_DIRECTIONS = {"up": 1, "down": -1}
_REQUIRED = ("id", "family", "text", "direction", "template")
_KNOWN = (*_REQUIRED, "counterpart", "expects")


@dataclass(frozen=True)
class Instruction:
    """One library entry.

    Attributes:
        id: unique snake_case name; the op is ``gen:<id>``.
        family: one of :data:`INSTRUCTION_FAMILIES`.
        text: the instruction given to the editing model.
        direction: expected aesthetic direction on a typical photo (:data:`DIRECTIONS`).
        template: explanation sentence; ``{degree}`` is replaced by a degree word.
        counterpart: id of the inverse instruction, or ``None``.
        expects: measured changes the instruction asks for, ``kind -> +1 (up) / -1 (down)``
            (kinds from :data:`EFFECT_KINDS`); the reasoning checks them against the pair's
            measurement, never states them from the library alone.
    """

    id: str
    family: str
    text: str
    direction: str
    template: str
    counterpart: str | None = None
    expects: tuple[tuple[str, int], ...] = ()

    @property
    def op_name(self) -> str:
        """The registry name of the op rendering this instruction (``gen:<id>``)."""
        return f"gen:{self.id}"

    def explain(self, strength: float) -> str:
        """The explanation sentence at ``strength`` (its magnitude picks the degree word)."""
        return self.template.format(degree=degree_word(strength))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``expects`` as ``{kind: "up" | "down"}``)."""
        out = asdict(self)
        out["expects"] = {k: "up" if v > 0 else "down" for k, v in self.expects}
        return out


def degree_word(strength: float) -> str:
    """``"slightly"`` (``|s| < 0.34``), ``"clearly"`` (``< 0.67``) or ``"strongly"``."""
    a = abs(float(strength))
    return "slightly" if a < 0.34 else "clearly" if a < 0.67 else "strongly"


@dataclass(frozen=True)
class InstructionLibrary:
    """The validated library: a version string and its entries in file order."""

    version: str
    instructions: tuple[Instruction, ...]

    def get(self, ident: str) -> Instruction:
        """The entry with id ``ident`` (or op name ``gen:<id>``); :class:`ConfigError` if absent."""
        key = ident.removeprefix("gen:")
        for item in self.instructions:
            if item.id == key:
                return item
        raise ConfigError(f"instruction {ident!r} is not in the library (version {self.version})")

    def ids(self) -> list[str]:
        """Every id, in file order."""
        return [i.id for i in self.instructions]

    def families(self) -> dict[str, list[str]]:
        """``family -> ids`` in :data:`INSTRUCTION_FAMILIES` order."""
        out: dict[str, list[str]] = {f: [] for f in INSTRUCTION_FAMILIES}
        for item in self.instructions:
            out[item.family].append(item.id)
        return out

    def __len__(self) -> int:
        return len(self.instructions)


def _entry(raw: Any, index: int, origin: str) -> Instruction:
    where = f"{origin}: instruction #{index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping of {', '.join(_KNOWN)}")
    unknown = sorted(set(raw) - set(_KNOWN))
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(_KNOWN)})")
    for name in _REQUIRED:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where} ({raw.get('id', '?')}): field {name!r} is missing or empty")
    ident = str(raw["id"])
    if not ident.replace("_", "").isalnum() or ident != ident.lower():
        raise ConfigError(f"{where}: id {ident!r} must be lower-case snake_case")
    if raw["family"] not in INSTRUCTION_FAMILIES:
        raise ConfigError(
            f"{where} ({ident}): family {raw['family']!r} is not one of "
            f"{', '.join(INSTRUCTION_FAMILIES)}"
        )
    if raw["direction"] not in DIRECTIONS:
        raise ConfigError(
            f"{where} ({ident}): direction {raw['direction']!r} is not one of "
            f"{', '.join(DIRECTIONS)}"
        )
    try:
        str(raw["template"]).format(degree="clearly")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"{where} ({ident}): template may only use {{degree}} ({type(exc).__name__}: {exc})"
        ) from None
    counterpart = raw.get("counterpart")
    if counterpart is not None and not isinstance(counterpart, str):
        raise ConfigError(f"{where} ({ident}): counterpart must be an id or null")
    return Instruction(
        id=ident,
        expects=_expects(raw.get("expects"), f"{where} ({ident})"),
        family=str(raw["family"]),
        text=str(raw["text"]).strip(),
        direction=str(raw["direction"]),
        template=str(raw["template"]).strip(),
        counterpart=counterpart,
    )


def _expects(raw: Any, where: str) -> tuple[tuple[str, int], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expects must be a mapping of KIND: up | down")
    out = []
    for kind, way in raw.items():
        if kind not in EFFECT_KINDS:
            raise ConfigError(
                f"{where}: expects names unknown kind {kind!r} (known: {', '.join(EFFECT_KINDS)})"
            )
        if way not in EFFECT_DIRECTIONS:
            raise ConfigError(f"{where}: expects {kind!r} must be 'up' or 'down', got {way!r}")
        out.append((str(kind), EFFECT_DIRECTIONS[way]))
    return tuple(out)


def parse_library(data: Any, origin: str = "instruction library") -> InstructionLibrary:
    """Validate a parsed YAML document and return the library (see the module docstring)."""
    if not isinstance(data, dict) or not isinstance(data.get("instructions"), list):
        raise ConfigError(f"{origin}: must be a mapping with 'version' and 'instructions'")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise ConfigError(f"{origin}: 'version' must be a non-empty string")
    items = [_entry(raw, i, origin) for i, raw in enumerate(data["instructions"])]
    seen_ids: set[str] = set()
    seen_texts: dict[str, str] = {}
    for item in items:
        if item.id in seen_ids:
            raise ConfigError(f"{origin}: duplicate instruction id {item.id!r}")
        seen_ids.add(item.id)
        key = " ".join(item.text.lower().split())
        if key in seen_texts:
            raise ConfigError(
                f"{origin}: {item.id!r} repeats the text of {seen_texts[key]!r}: {item.text!r}"
            )
        seen_texts[key] = item.id
    by_id = {i.id: i for i in items}
    for item in items:
        if item.counterpart is None:
            continue
        other = by_id.get(item.counterpart)
        if other is None or other.id == item.id:
            raise ConfigError(
                f"{origin}: {item.id!r} names a missing counterpart {item.counterpart!r}"
            )
        if other.counterpart != item.id:
            raise ConfigError(
                f"{origin}: counterparts must be mutual: {item.id!r} -> {other.id!r} but "
                f"{other.id!r} -> {other.counterpart!r}"
            )
        if {item.direction, other.direction} in ({"improve"}, {"degrade"}):
            raise ConfigError(
                f"{origin}: counterparts {item.id!r} and {other.id!r} cannot both be "
                f"{item.direction!r}"
            )
    return InstructionLibrary(version.strip(), tuple(items))


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> InstructionLibrary:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such instruction library") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: invalid YAML ({exc})".replace("\n", " ")) from None
    return parse_library(data, origin=str(p))


def load_library(path: str | Path | None = None) -> InstructionLibrary:
    """Load and validate the instruction library (default: the shipped ``instructions.yaml``)."""
    p = Path(path) if path is not None else LIBRARY_FILE
    try:
        mtime = p.stat().st_mtime_ns
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such instruction library") from None
    return _load_cached(str(p), mtime)
