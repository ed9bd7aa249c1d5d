"""The declarative dataset protocols of ``datasets.yml`` (like pyiqa's dataset configs).

``datasets.yml`` holds, per benchmark, the label-file and image layouts, the MOS range and
direction, the accuracy threshold and the official split (with its published counts). The
loaders in :mod:`redaes.benchmarks.aesthetic` and :mod:`redaes.benchmarks.quality` take every
such constant from here (:func:`configured` sets the class attributes), so a protocol is read
in one place instead of per-loader special cases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import yaml

from redaes.benchmarks.base import Benchmark
from redaes.errors import ConfigError

T = TypeVar("T", bound=Benchmark)


@functools.cache
def dataset_configs() -> dict[str, dict[str, Any]]:
    """Every entry of the shipped ``datasets.yml``."""
    text = resources.files("redaes.benchmarks").joinpath("datasets.yml").read_text()
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError("redaes/benchmarks/datasets.yml: expected a mapping of benchmarks")
    return data


def dataset_config(name: str) -> dict[str, Any]:
    """The protocol of benchmark ``name`` (a :class:`ConfigError` when it has none)."""
    try:
        return dataset_configs()[name]
    except KeyError:
        raise ConfigError(f"datasets.yml has no entry for benchmark {name!r}") from None


def as_list(value: Any) -> list[str]:
    """A config value that may be one string, a list, or a mapping (its values) as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    return [str(v) for v in value]


def configured(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: set a benchmark's constants from its ``datasets.yml`` entry.

    Sets ``score_range``, ``higher_is_better``, ``gt_threshold`` (``threshold``),
    ``image_dirs``, ``default_test_fraction`` (``split.hash_test_fraction``) and ``protocol``
    (the whole entry).
    """

    def apply(cls: type[T]) -> type[T]:
        cfg = dataset_config(name)
        lo, hi = cfg["score_range"]
        cls.score_range = (float(lo), float(hi))
        cls.higher_is_better = bool(cfg.get("higher_is_better", True))
        if cfg.get("threshold") is not None:
            cls.gt_threshold = float(cfg["threshold"])
        cls.image_dirs = tuple(as_list(cfg.get("image_dirs", [""])))
        split = cfg.get("split") or {}
        if split.get("hash_test_fraction") is not None:
            cls.default_test_fraction = float(split["hash_test_fraction"])
        cls.protocol = cfg
        return cls

    return apply
