"""Training of the compact assessor with relative supervision only (``redaes train compact``).

* :mod:`redaes.train.config`: the recipe (YAML, strict keys).
* :mod:`redaes.train.data`: RED splits as tensors, groups, paired augmentation.
* :mod:`redaes.train.losses`: stage 1 Gaussian NLL, stage 2 Bradley-Terry, stage 3 listwise
  (:mod:`redaes.rewards`).
* :mod:`redaes.train.loop`: the loop (:func:`train_compact`).
* :mod:`redaes.train.evaluate`: validation, anchoring, the post-training std calibration.
"""

from __future__ import annotations

from redaes.train.config import TrainConfig, load_config
from redaes.train.loop import train_compact

__all__ = ["TrainConfig", "load_config", "train_compact"]
