"""redaes: image aesthetic assessment from relative, edit-induced differences (RED-Aes).

Scores are on one range everywhere: 0-10, higher is better.
"""

from redaes.errors import ImageLoadError, RedaesError
from redaes.imageio import load_image

__version__ = "0.1.0"

__all__ = ["ImageLoadError", "RedaesError", "__version__", "load_image"]
