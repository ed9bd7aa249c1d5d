"""Judges: quantify how an edit changed aesthetics. Created by name with :func:`create_judge`.

Registered judges: ``prior`` (photographic rules on measured statistics), ``iqa`` (BRISQUE/NIQE),
``model`` (any assessor, also as ``"model:NAME"``) and ``vlm`` (an OpenAI-compatible endpoint).
:func:`aggregate` combines several verdicts on one pair.
"""

from redaes.judges import iqa, model, prior, vlm  # noqa: F401  (register the judges)
from redaes.judges.base import JUDGES, Judge, JudgeResult, PairContext, create_judge
from redaes.judges.consensus import Consensus, MultiJudge, aggregate

__all__ = [
    "JUDGES",
    "Consensus",
    "Judge",
    "JudgeResult",
    "MultiJudge",
    "PairContext",
    "aggregate",
    "create_judge",
]
