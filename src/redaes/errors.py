"""Error types raised by redaes. User-facing errors derive from :class:`RedaesError`.

The CLI prints a :class:`RedaesError` as one line and exits non-zero, without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class RedaesError(Exception):
    """Base class of every error caused by user input (bad file, bad name, bad config)."""


class UnknownNameError(RedaesError, KeyError):
    """A component name that is not in its registry."""

    def __init__(self, kind: str, name: str, suggestions: list[str], available: list[str]) -> None:
        self.kind, self.name, self.suggestions, self.available = kind, name, suggestions, available
        hint = f" Did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Available: {', '.join(available)}")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class ImageLoadError(RedaesError):
    """An image file that cannot be read: missing, not an image, truncated, or too large."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


class EditError(RedaesError, ValueError):
    """An invalid edit request (strength out of range, malformed chain, unknown op)."""


class JudgeError(RedaesError):
    """A judge could not produce a valid answer (after its retries)."""


class ConfigError(RedaesError, ValueError):
    """An invalid configuration file or option."""


class DataError(RedaesError, ValueError):
    """A malformed label file or dataset (the message names the file and line)."""
