"""The controllable edit engine: parametric photo edits with signed, physical strengths.

>>> from redaes.edits import create_edit, EditChain
>>> op = create_edit("exposure")          # +1 = +2 EV
>>> chain = EditChain(["exposure=0.25", "contrast=-0.2"])

Generative instruction edits (``gen:<id>``, ``redaes[generative]``) live in
:mod:`redaes.edits.generative`; they are registered only on request
(``register_generative_ops()``, or a plan naming ``generative_pipeline``), so this package does
not import them and the default registry holds the parametric ops only.
"""

from redaes.edits import artefact, colour, composition, detail, style, tone  # noqa: F401  (register)
from redaes.edits.base import (
    EDIT_OPS,
    FAMILIES,
    EditOp,
    OpInfo,
    create_edit,
    list_edits,
    register_op,
)
from redaes.edits.chain import EditChain, EditStep

__all__ = [
    "EDIT_OPS",
    "FAMILIES",
    "EditChain",
    "EditOp",
    "EditStep",
    "OpInfo",
    "create_edit",
    "list_edits",
    "register_op",
]
