"""redaes: image aesthetic assessment from relative, edit-induced differences (RED-Aes).

Scores are on one range everywhere: 0-10, higher is better.

Heavy modules (torch, kornia) load on first use, so ``import redaes`` and ``redaes --help`` stay
fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from redaes.errors import ImageLoadError, RedaesError

if TYPE_CHECKING:
    from redaes.imageio import load_image
    from redaes.models import load_assessor

__version__ = "0.1.0"

__all__ = ["ImageLoadError", "RedaesError", "__version__", "load_assessor", "load_image"]


def __getattr__(name: str) -> Any:
    if name == "load_image":
        from redaes.imageio import load_image

        return load_image
    if name == "load_assessor":
        from redaes.models import load_assessor

        return load_assessor
    raise AttributeError(f"module 'redaes' has no attribute {name!r}")
