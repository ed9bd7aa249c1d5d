"""Assessors: score images on the 0-10 scale. Created by name with :func:`create_assessor`."""

from redaes.assessors.base import (
    ASSESSORS,
    Assessor,
    CallableAssessor,
    create_assessor,
    import_object,
)

__all__ = ["ASSESSORS", "Assessor", "CallableAssessor", "create_assessor", "import_object"]
