"""Assessors: score images on the 0-10 scale. Created by name with :func:`create_assessor`.

Registered here: ``brisque`` and ``niqe`` (classical quality models, see
:mod:`redaes.assessors.classical`) and ``compact`` (the trained compact model,
:mod:`redaes.models`, imported on first use; ``weights=FILE`` picks a weights file).
"""

from typing import Any

from redaes.assessors import classical  # noqa: F401  (registers brisque and niqe)
from redaes.assessors.base import (
    ASSESSORS,
    Assessor,
    CallableAssessor,
    create_assessor,
    import_object,
)


def _compact(**overrides: Any) -> Assessor:
    from redaes.models import CompactAssessor

    return CompactAssessor(**overrides)


ASSESSORS.add("compact", _compact)

__all__ = ["ASSESSORS", "Assessor", "CallableAssessor", "create_assessor", "import_object"]
