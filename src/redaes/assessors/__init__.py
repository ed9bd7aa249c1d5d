"""Assessors: score images on the 0-10 scale. Created by name with :func:`create_assessor`.

Registered here: ``brisque`` and ``niqe`` (classical quality models, see
:mod:`redaes.assessors.classical`).
"""

from redaes.assessors import classical  # noqa: F401  (registers brisque and niqe)
from redaes.assessors.base import (
    ASSESSORS,
    Assessor,
    CallableAssessor,
    create_assessor,
    import_object,
)

__all__ = ["ASSESSORS", "Assessor", "CallableAssessor", "create_assessor", "import_object"]
