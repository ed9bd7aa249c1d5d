"""One small registry per kind of thing (edit ops, judges, assessors, benchmarks, rewards).

Every component kind owns a :class:`Registry`. Components register under a name with
:meth:`Registry.register` and are created with ``create_*(name, **overrides)``. Typos get a
"did you mean" hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from redaes.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> factory mapping for one kind of component.

    Args:
        kind: what the registry holds, used in error messages ("edit op", "judge", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering a class or factory function under ``name``."""

        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._factories[name] = factory
            return factory

        return decorator

    def add(self, name: str, factory: Callable[..., T]) -> None:
        """Register ``factory`` under ``name`` (non-decorator form)."""
        self.register(name)(factory)

    def create(self, name: str, **overrides: Any) -> T:
        """Create the component registered as ``name`` with keyword ``overrides``."""
        return self.get(name)(**overrides)

    def get(self, name: str) -> Callable[..., T]:
        """Return the factory registered as ``name``; raise :class:`UnknownNameError` if absent."""
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.suggest(name), self.names()) from None

    def suggest(self, name: str) -> list[str]:
        """Closest registered names to ``name`` (for "did you mean")."""
        return difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._factories)
