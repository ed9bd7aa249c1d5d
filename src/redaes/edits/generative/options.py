"""Validation of a plan's generative settings, shared by plan files and command-line flags.

``generative_mapping`` (:class:`~redaes.edits.generative.adapters.StrengthMapping` overrides) and
``generative_options`` (adapter choice and :class:`~redaes.edits.generative.adapters.
PipelineAdapter` options) are checked here before a build writes anything, with "did you
mean" for misspelt names and values. The ``KEY=VALUE`` parsers back the ``redaes pairs build``
flags ``--generative-mapping`` and ``--generative-option``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from redaes.errors import ConfigError

MAPPING_KEYS = ("image_guidance", "text_guidance", "steps", "denoise")
"""Controls of the strength mapping, each ``[value at |s| -> 0, value at |s| = 1]``."""
OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "adapter": ("auto", "instruct-pix2pix", "generic"),
    "device": ("auto", "cuda", "cpu"),
    "dtype": ("auto", "float32", "float16", "bfloat16"),
}
OPTION_INTS = ("batch_size", "cpu_threads")
OPTION_BOOLS = ("offload",)
OPTION_KEYS = (*OPTION_CHOICES, *OPTION_BOOLS, *OPTION_INTS)
"""Every key of ``generative_options``."""
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """``" Did you mean 'x'?"`` for the closest of ``known`` (empty when none is close)."""
    close = difflib.get_close_matches(name, list(known), n=2, cutoff=0.6)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _unknown(what: str, name: str, known: Sequence[str]) -> ConfigError:
    return ConfigError(
        f"{what} {name!r} is unknown.{did_you_mean(name, known)} Known: {', '.join(known)}"
    )


def check_mapping(mapping: Mapping[str, Any], what: str = "generative_mapping") -> None:
    """Raise :class:`ConfigError` for an unknown control or a value that is not a usable span:
    two finite numbers, steps >= 1, guidance >= 0, denoise in ``[0, 1]``."""
    for key, span in mapping.items():
        if key not in MAPPING_KEYS:
            raise _unknown(f"{what}: control", str(key), MAPPING_KEYS)
        ok = isinstance(span, (list, tuple)) and len(span) == 2
        values = []
        for v in span if ok else ():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                ok = False
            else:
                values.append(float(v))
        if not ok:
            raise ConfigError(f"{what} {key!r}: need two numbers [value at 0, value at 1]")
        if key == "steps" and (min(values) < 1 or any(v != int(v) for v in values)):
            raise ConfigError(f"{what} 'steps': need whole numbers >= 1, got {span}")
        if key == "denoise" and not all(0.0 <= v <= 1.0 for v in values):
            raise ConfigError(f"{what} 'denoise': values must be in [0, 1], got {span}")
        if key in ("image_guidance", "text_guidance") and min(values) < 0:
            raise ConfigError(f"{what} {key!r}: values must be >= 0, got {span}")


def check_options(options: Mapping[str, Any], what: str = "generative_options") -> None:
    """Raise :class:`ConfigError` for an unknown option or an invalid value."""
    for key, value in options.items():
        if key not in OPTION_KEYS:
            raise _unknown(f"{what}: option", str(key), OPTION_KEYS)
        if key in OPTION_CHOICES:
            if value not in OPTION_CHOICES[key]:
                raise _unknown(f"{what} {key!r}: value", str(value), OPTION_CHOICES[key])
        elif key in OPTION_BOOLS:
            if not isinstance(value, bool):
                raise ConfigError(f"{what} {key!r}: must be true or false, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{what} {key!r}: must be a whole number >= 1, got {value!r}")


def parse_mapping_flags(
    items: Sequence[str], flag: str = "--generative-mapping"
) -> dict[str, list[float]]:
    """``["steps=10,30", "text_guidance=3,7.5"]`` -> ``{"steps": [10, 30], ...}``, checked."""
    out: dict[str, list[float]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        parts = raw.split(",")
        try:
            span = [float(p) for p in parts] if sep and len(parts) == 2 else []
        except ValueError:
            span = []
        key = key.strip()
        if key and key not in MAPPING_KEYS:
            raise _unknown(f"{flag} {item!r}: control", key, MAPPING_KEYS)
        if not key or len(span) != 2:
            raise ConfigError(f"{flag} {item!r}: expected CONTROL=LOW,HIGH (e.g. steps=10,30)")
        value = [int(v) if key == "steps" and v == int(v) else v for v in span]
        check_mapping({key: value}, flag)
        out[key] = value
    return out


def parse_option_flags(items: Sequence[str], flag: str = "--generative-option") -> dict[str, Any]:
    """``["offload=true", "batch_size=2", "adapter=generic"]`` -> typed options, checked."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = (p.strip() for p in item.partition("="))
        if not key or not sep or not raw:
            raise ConfigError(f"{flag} {item!r}: expected KEY=VALUE (e.g. offload=true)")
        if key not in OPTION_KEYS:
            raise _unknown(f"{flag} {item!r}: option", key, OPTION_KEYS)
        value: Any = raw
        if key in OPTION_BOOLS:
            low = raw.lower()
            if low not in _TRUE + _FALSE:
                raise ConfigError(f"{flag} {item!r}: {key} must be true or false")
            value = low in _TRUE
        elif key in OPTION_INTS:
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"{flag} {item!r}: {key} must be a whole number >= 1") from None
        check_options({key: value}, flag)
        out[key] = value
    return out
