"""Registry contents and plan defaults read from the package sources, without importing them.

``redaes ops`` and ``redaes list`` only print metadata, but the modules that register edit ops,
judges and assessors import torch (about 2 s). This module parses those modules with :mod:`ast`
instead: it follows the top-level imports of a package (the modules Python would load), collects

* edit ops: classes decorated with ``@register_op`` and their literal ``info = OpInfo(...)``;
* judges / assessors / benchmarks: ``@JUDGES.register("name")`` (and ``REG.add("name", ...)``);
* the :class:`~redaes.pairs.plan.PairPlan` field defaults (for the ``pairs build`` help).

Anything it cannot read as literals makes the function return ``None``; callers then import the
live registry (correct, only slower). ``tests/cli/test_static_meta.py`` proves the static
answers equal the live registries.
"""

from __future__ import annotations

import ast
import contextlib
from functools import lru_cache
from pathlib import Path
from typing import Any

PKG_DIR = Path(__file__).resolve().parents[1]
REGISTRIES = {"judges": "JUDGES", "assessors": "ASSESSORS", "benchmarks": "BENCHMARKS"}


class _Unreadable(Exception):
    """The sources use a form this reader does not understand (fall back to importing)."""


def _file_of(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] != "redaes":
        return None
    base = PKG_DIR.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=64)
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run at import time (descending into ``if``/``try``, not into defs)."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                out += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            out += _top_level(node.body) + _top_level(node.orelse) + _top_level(node.finalbody)
    return out


def _imported(module: str, path: Path) -> set[str]:
    """``redaes`` modules that importing ``module`` loads directly (parents included)."""
    found: set[str] = set()
    for node in _top_level(_parse(path).body):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if path.name == "__init__.py" else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                name = ".".join(parts[:i])
                if _file_of(name) is not None:
                    found.add(name)
    return found


def loaded_modules(root: str) -> list[str]:
    """Every ``redaes`` module that ``import root`` loads (by following top-level imports)."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        path = _file_of(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        todo.extend(_imported(name, path) - seen)
    return sorted(seen)


_ARITH: dict[type[ast.operator], Any] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _literal(node: ast.expr) -> Any:
    """A literal, or ``+ - * /`` of numeric literals (``1.0 / 1.5``), as Python computes it."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        left, right = _literal(node.left), _literal(node.right)
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)):
            return _ARITH[type(node.op)](left, right)
    raise _Unreadable(ast.unparse(node))


def _registered_names(registry: str, modules: list[str]) -> list[str]:
    names: list[str] = []
    for module in modules:
        path = _file_of(module)
        assert path is not None
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            target = node.func.value
            is_ours = isinstance(target, ast.Name) and target.id == registry
            if is_ours and node.func.attr in ("register", "add"):
                if not node.args:
                    raise _Unreadable(f"{registry}.{node.func.attr}() without a name")
                names.append(str(_literal(node.args[0])))
    return sorted(names)


def registry_names(kind: str) -> list[str] | None:
    """Names in the ``kind`` registry (``judges``, ``assessors``, ``benchmarks``), or ``None``."""
    if kind == "edits":
        infos = edit_infos()
        return None if infos is None else sorted(i["name"] for i in infos)
    try:
        return _registered_names(REGISTRIES[kind], loaded_modules(f"redaes.{kind}"))
    except (_Unreadable, OSError, SyntaxError):
        return None


def _class(tree: ast.Module, name: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise _Unreadable(f"class {name}")


def _opinfo_fields() -> list[tuple[str, Any]]:
    """``(field, default or ...)`` of :class:`redaes.edits.base.OpInfo`, in order."""
    cls = _class(_parse(PKG_DIR / "edits" / "base.py"), "OpInfo")
    out: list[tuple[str, Any]] = []
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.append((node.target.id, ... if node.value is None else _literal(node.value)))
    return out


def _families() -> tuple[str, ...]:
    for node in _parse(PKG_DIR / "edits" / "base.py").body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "FAMILIES" for t in node.targets
        ):
            return tuple(_literal(node.value))
    raise _Unreadable("FAMILIES")


def _info_call(cls: ast.ClassDef) -> ast.Call:
    for node in cls.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "info" for t in node.targets)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "OpInfo"
        ):
            return node.value
    raise _Unreadable(f"{cls.name}: no literal info = OpInfo(...)")


def _is_op_registration(node: ast.AST) -> bool:
    """``register_op(...)`` or ``EDIT_OPS.add(...)`` used as a call (not as a decorator)."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Name):
        return f.id == "register_op"
    return (
        isinstance(f, ast.Attribute)
        and f.attr == "add"
        and isinstance(f.value, ast.Name)
        and f.value.id == "EDIT_OPS"
    )


def _edit_infos() -> list[dict[str, Any]]:
    fields = _opinfo_fields()
    infos: list[dict[str, Any]] = []
    for module in loaded_modules("redaes.edits"):
        path = _file_of(module)
        assert path is not None
        for node in ast.walk(_parse(path)):
            # register_op's own body (in base.py) is the only other registration allowed
            if _is_op_registration(node) and module != "redaes.edits.base":
                raise _Unreadable(f"{module}: a register_op/EDIT_OPS.add call")
            if not isinstance(node, ast.ClassDef) or not any(
                isinstance(d, ast.Name) and d.id == "register_op" for d in node.decorator_list
            ):
                continue
            call = _info_call(node)
            values: dict[str, Any] = {}
            for (name, _), arg in zip(fields, call.args, strict=False):
                values[name] = _literal(arg)
            for kw in call.keywords:
                if kw.arg is None:
                    raise _Unreadable(f"{node.name}: OpInfo(**...)")
                values[kw.arg] = _literal(kw.value)
            info: dict[str, Any] = {}
            for name, default in fields:
                if name not in values and default is ...:
                    raise _Unreadable(f"{node.name}: OpInfo field {name} missing")
                info[name] = values.get(name, default)
            infos.append(info)
    families = _families()
    return sorted(infos, key=lambda i: (families.index(i["family"]), i["name"]))


def edit_infos(family: str | None = None) -> list[dict[str, Any]] | None:
    """``OpInfo.to_dict()`` of every registered op (sorted like ``list_edits``), or ``None``."""
    try:
        infos = _edit_infos()
    except (_Unreadable, OSError, SyntaxError, ValueError):
        return None
    return [i for i in infos if family is None or i["family"] == family]


def families() -> tuple[str, ...] | None:
    """The edit families (``redaes.edits.FAMILIES``), or ``None``."""
    try:
        return _families()
    except (_Unreadable, OSError, SyntaxError):
        return None


def plan_defaults() -> dict[str, Any] | None:
    """``PairPlan`` field defaults that are literals (``default=`` or a ``default_factory``
    function returning a literal), or ``None`` when the plan's source cannot be read."""
    try:
        tree = _parse(PKG_DIR / "pairs" / "plan.py")
        factories: dict[str, Any] = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and len(node.body) == 1:
                ret = node.body[0]
                if isinstance(ret, ast.Return) and ret.value is not None:
                    with contextlib.suppress(ValueError):
                        factories[node.name] = ast.literal_eval(ret.value)
        out: dict[str, Any] = {}
        for node in _class(tree, "PairPlan").body:
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "field":
                for kw in value.keywords:
                    if kw.arg == "default":
                        out[node.target.id] = ast.literal_eval(kw.value)
                    elif isinstance(kw.value, ast.Name) and kw.value.id in factories:
                        out[node.target.id] = factories[kw.value.id]  # default_factory
            elif value is not None:
                out[node.target.id] = ast.literal_eval(value)
        return out
    except (_Unreadable, OSError, SyntaxError, ValueError):
        return None
