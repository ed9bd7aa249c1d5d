"""Resumable predictions cache: one JSONL file per model / benchmark / split.

Each line is ``{"key": <sample key>, "score": <float>}``. New predictions are appended and flushed
(and fsynced) after every batch, so an interrupted run loses at most the batch in flight. A
truncated *last* line (the process died mid-write) is tolerated: it is dropped and the file is
rewritten atomically before anything is appended. A malformed line elsewhere is a
:class:`~redaes.errors.DataError` naming the file and line.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from redaes.errors import DataError
from redaes.imageio import atomic_write_bytes


def slug(text: str) -> str:
    """A file-name-safe version of a model or benchmark name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


class PredictionCache:
    """Cached scores of one model on one benchmark split.

    Args:
        path: the JSONL file (created on the first :meth:`add`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.scores: dict[str, float] = {}
        self.dropped_partial_line = False
        self._fh: IO[str] | None = None
        self._read()

    def _read(self) -> None:
        if not self.path.exists():
            return
        text = self.path.read_text(encoding="utf-8")
        lines = text.split("\n")
        good: list[str] = []
        for i, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                key, score = str(obj["key"]), float(obj["score"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                is_last = all(not rest.strip() for rest in lines[i:])
                if is_last and not text.endswith("\n"):
                    self.dropped_partial_line = True
                    continue
                raise DataError(f"{self.path}:{i}: malformed cache line ({exc})") from None
            if not math.isfinite(score):
                raise DataError(f"{self.path}:{i}: score {score} is not finite")
            self.scores[key] = score
            good.append(raw)
        if self.dropped_partial_line:
            body = "".join(line + "\n" for line in good)
            atomic_write_bytes(self.path, body.encode("utf-8"))

    def __contains__(self, key: object) -> bool:
        return key in self.scores

    def __len__(self) -> int:
        return len(self.scores)

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys of ``keys`` without a cached score, in order, without duplicates."""
        seen: set[str] = set()
        out = []
        for k in keys:
            if k not in self.scores and k not in seen:
                seen.add(k)
                out.append(k)
        return out

    def add(self, items: Iterable[tuple[str, float]]) -> None:
        """Append ``(key, score)`` pairs and flush them to disk."""
        lines = []
        for key, score in items:
            score = float(score)
            if not math.isfinite(score):
                raise DataError(f"model returned a non-finite score {score} for {key}")
            self.scores[key] = score
            lines.append(json.dumps({"key": key, "score": score}) + "\n")
        if not lines:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write("".join(lines))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the file handle (the cache stays readable)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> PredictionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
