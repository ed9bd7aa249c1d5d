"""Model fingerprints: what the predictions cache is keyed on.

A cached score may only be reused when it came from the same model. The fingerprint hashes

* the model's name and class (``module.qualname``) and the redaes version;
* its code: the source files of the assessor's class (and, for a wrapped function, of the
  function), so editing ``mymodel.py`` gives a new fingerprint;
* its configuration: the JSON-able public attributes of the instance (``max_side``,
  ``patch_size``..., i.e. preprocessing); attributes that name an existing file (weights) are
  hashed by content;
* whatever the assessor's own :meth:`~redaes.assessors.Assessor.fingerprint` hook returns
  (weights digests, remote model versions...).

Anything not covered (a model that reads a file it does not name in an attribute, a remote
endpoint whose weights change) should report it through the hook.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from pathlib import Path
from typing import Any

from redaes.assessors import Assessor, CallableAssessor
from redaes.benchmarks.base import sha256_file

MAX_HASHED_FILE = 4 << 30
"""Files larger than this (4 GiB) are fingerprinted by size and mtime instead of content."""


def _source_file(obj: Any) -> Path | None:
    try:
        name = inspect.getsourcefile(obj)
    except (TypeError, OSError):
        return None
    return Path(name) if name else None


def _file_digest(path: Path) -> str:
    st = path.stat()
    if st.st_size > MAX_HASHED_FILE:
        return f"size={st.st_size},mtime={st.st_mtime_ns}"
    return sha256_file(path)


def _jsonable(value: Any) -> Any:
    """``value`` as JSON (files by digest), or None when it has no stable JSON form."""
    if isinstance(value, bool | int | str) or value is None:
        if isinstance(value, str) and len(value) < 4096:
            p = Path(value)
            if p.is_file():
                return {"file": value, "sha256": _file_digest(p)}
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Path):
        return (
            {"file": str(value), "sha256": _file_digest(value)} if value.is_file() else str(value)
        )
    if isinstance(value, list | tuple):
        items = [_jsonable(v) for v in value]
        lost = any(i is None and v is not None for i, v in zip(items, value, strict=True))
        return None if lost else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v) for k, v in sorted(value.items())}
    return None


def _config(assessor: Assessor) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in sorted(vars(assessor).items()):
        if key.startswith("_") or callable(value):
            continue
        j = _jsonable(value)
        if j is not None or value is None:
            out[key] = j
    return out


def _code(assessor: Assessor) -> dict[str, str]:
    objs: list[Any] = [type(assessor)]
    if isinstance(assessor, CallableAssessor):
        objs.append(assessor.fn)
    code: dict[str, str] = {}
    for obj in objs:
        for cls in inspect.getmro(obj) if isinstance(obj, type) else [obj]:
            if getattr(cls, "__module__", "") in ("abc", "builtins"):
                continue
            path = _source_file(cls)
            module = str(getattr(cls, "__module__", path))
            if path is not None and path.is_file() and module not in code:
                code[module] = sha256_file(path)  # by module name: a moved checkout still hits
    return code


def model_fingerprint(assessor: Assessor, name: str) -> dict[str, Any]:
    """The parts of ``assessor``'s identity and their combined ``sha256`` (see the module doc)."""
    import redaes

    fn = assessor.fn if isinstance(assessor, CallableAssessor) else None
    parts: dict[str, Any] = {
        "name": name,
        "class": f"{type(assessor).__module__}.{type(assessor).__qualname__}",
        "function": None if fn is None else f"{fn.__module__}.{fn.__qualname__}",
        "redaes": redaes.__version__,
        "score_range": list(assessor.score_range),
        "config": _config(assessor),
        "code": _code(assessor),
        "hook": _jsonable(assessor.fingerprint()),
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return {"sha256": digest, "parts": parts}
