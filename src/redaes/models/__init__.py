"""The compact assessor: EfficientNet-Lite (or a tiny test CNN) with score and uncertainty heads.

* :mod:`redaes.models.backbones`: the backbone registry (:func:`create_backbone`).
* :mod:`redaes.models.net`: :class:`CompactNet`, :class:`ModelConfig`, the pair view.
* :mod:`redaes.models.weights`: safetensors weights files that carry their JSON config.
* :mod:`redaes.models.scoring`: ``(score, std)`` and the pair view under any assessor.
* :mod:`redaes.models.explain`: counterfactual explanations through the edit engine.
* :mod:`redaes.models.suggest`: beam search of edit chains that raise the score.
* :mod:`redaes.models.assessor`: :class:`CompactAssessor` (registered as the ``compact``
  assessor) and :func:`load_assessor`.
"""

from __future__ import annotations

from redaes.models.assessor import CompactAssessor, default_weights_path, load_assessor
from redaes.models.backbones import BACKBONES, Backbone, create_backbone
from redaes.models.explain import EXPLAIN_OPS, explain
from redaes.models.net import CompactNet, ModelConfig, pair_view
from redaes.models.scoring import compare, scores_with_std
from redaes.models.suggest import SUGGEST_OPS, suggest
from redaes.models.weights import load_weights, read_config, save_weights

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
