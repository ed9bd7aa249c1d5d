"""The compact assessor: EfficientNet-Lite (or a tiny test CNN) with score and uncertainty heads.

* :mod:`redaes.models.backbones`: the backbone registry (:func:`create_backbone`).
* :mod:`redaes.models.net`: :class:`CompactNet`, :class:`ModelConfig`, the pair view.
* :mod:`redaes.models.weights`: safetensors weights files that carry their JSON config.
* :mod:`redaes.models.scoring`: ``(score, std)`` and the pair view under any assessor.
* :mod:`redaes.models.explain`: counterfactual explanations through the edit engine.
* :mod:`redaes.models.suggest`: beam search of edit chains that raise the score.
* :mod:`redaes.models.assessor`: :class:`CompactAssessor` (registered as the ``compact``
  assessor) and :func:`load_assessor`.

The names below load their module on first access, so importing a torch-free submodule
(:mod:`redaes.models.runtime`'s cached ONNX path) does not import torch.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redaes.models.assessor import CompactAssessor, default_weights_path, load_assessor
    from redaes.models.backbones import BACKBONES, Backbone, create_backbone
    from redaes.models.explain import EXPLAIN_OPS, explain
    from redaes.models.net import CompactNet, ModelConfig, pair_view
    from redaes.models.scoring import compare, scores_with_std
    from redaes.models.suggest import SUGGEST_OPS, suggest
    from redaes.models.weights import load_weights, read_config, save_weights

_WHERE = {
    "assessor": ("CompactAssessor", "default_weights_path", "load_assessor"),
    "backbones": ("BACKBONES", "Backbone", "create_backbone"),
    "explain": ("EXPLAIN_OPS", "explain"),
    "net": ("CompactNet", "ModelConfig", "pair_view"),
    "scoring": ("compare", "scores_with_std"),
    "suggest": ("SUGGEST_OPS", "suggest"),
    "weights": ("load_weights", "read_config", "save_weights"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "BACKBONES",
    "EXPLAIN_OPS",
    "SUGGEST_OPS",
    "Backbone",
    "CompactAssessor",
    "CompactNet",
    "ModelConfig",
    "compare",
    "create_backbone",
    "default_weights_path",
    "explain",
    "load_assessor",
    "load_weights",
    "pair_view",
    "read_config",
    "save_weights",
    "scores_with_std",
    "suggest",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'redaes.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"redaes.models.{module}"), name)


class _Package(types.ModuleType):
    """``explain`` and ``suggest`` are functions named like their modules: importing such a
    module sets the package attribute to the module, so these two names are always looked up
    (as when this package imported them eagerly, ``redaes.models.explain`` is the function)."""

    def __getattribute__(self, name: str) -> Any:
        if name in ("explain", "suggest"):
            return getattr(importlib.import_module(f"redaes.models.{name}"), name)
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package
