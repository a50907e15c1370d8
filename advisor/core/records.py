"""``@dataclass`` for the core's record classes, at a fraction of the import cost.

The standard decorator compiles six methods from generated source for every frozen class, which
made defining the core's classes the largest share of importing it. This one lets
:mod:`dataclasses` read the fields (so ``dataclasses.fields``, ``replace`` and ``asdict`` work
as before) and compiles only ``__init__``; equality, hashing, ``repr`` and the frozen
``__setattr__`` are shared functions that read the field names from the class. Instances
behave as the standard decorator's: same constructor, same ``==``, same ``hash``, same
``repr``, ``FrozenInstanceError`` on assignment to a frozen one.
"""

from __future__ import annotations

import dataclasses
from _thread import get_ident
from collections.abc import Callable
from operator import attrgetter
from typing import Any, dataclass_transform, overload

_MISSING = dataclasses.MISSING
_HAS_FACTORY = object()  # the default of an argument whose field has a default_factory


@overload
def dataclass[T](cls: type[T], /) -> type[T]: ...


@overload
def dataclass[T](*, frozen: bool = False, eq: bool = True) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass[T](
    cls: type[T] | None = None, /, *, frozen: bool = False, eq: bool = True
) -> type[T] | Callable[[type[T]], type[T]]:
    """Make ``cls`` a dataclass (``frozen`` and ``eq`` as in :func:`dataclasses.dataclass`)."""

    def wrap(cls: type[T]) -> type[T]:
        return _process(cls, frozen=frozen, eq=eq)

    return wrap if cls is None else wrap(cls)


def _process[T](cls: type[T], *, frozen: bool, eq: bool) -> type[T]:
    # Let dataclasses collect the fields and nothing else (no generated methods).
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    every: dict[str, dataclasses.Field[Any]] = getattr(cls, "__dataclass_fields__")  # noqa: B009
    fields = [f for f in every.values() if f._field_type is dataclasses._FIELD]  # type: ignore[attr-defined]
    names = frozenset(f.name for f in fields)
    setattr(cls, "__init__", _init(cls, fields, frozen))  # noqa: B010
    shown = tuple(f.name for f in fields if f.repr)
    cls.__repr__ = _repr(shown)  # type: ignore[assignment,method-assign]
    if eq:
        compared = tuple(f.name for f in fields if f.compare)
        setattr(cls, "__eq__", _eq(cls, compared))  # noqa: B010
        if frozen:
            hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
            cls.__hash__ = _hash(hashed)  # type: ignore[assignment,method-assign]
        else:
            cls.__hash__ = None  # type: ignore[assignment]
    if frozen:
        setattr(cls, "__setattr__", _frozen_setattr(cls, names))  # noqa: B010
        setattr(cls, "__delattr__", _frozen_delattr(cls, names))  # noqa: B010
    return cls


def _init(cls: type, fields: list[dataclasses.Field[Any]], frozen: bool) -> Callable[..., None]:
    """Compile ``__init__`` as dataclasses would write it (fields set straight into __dict__)."""
    scope: dict[str, Any] = {"_HAS_FACTORY": _HAS_FACTORY}
    params: list[str] = []
    body: list[str] = []
    for f in fields:
        default = f"_default_{f.name}"
        if f.init:
            if f.default_factory is not _MISSING:
                scope[default] = f.default_factory
                params.append(f"{f.name}=_HAS_FACTORY")
                value = f"{default}() if {f.name} is _HAS_FACTORY else {f.name}"
            elif f.default is not _MISSING:
                scope[default] = f.default
                params.append(f"{f.name}={default}")
                value = f.name
            else:
                params.append(f.name)
                value = f.name
        elif f.default_factory is not _MISSING:
            scope[default] = f.default_factory
            value = f"{default}()"
        else:
            continue  # reads fall back to the class attribute, as with dataclasses
        body.append(f"    _d[{f.name!r}] = {value}" if frozen else f"    self.{f.name} = {value}")
    if frozen:
        body.insert(0, "    _d = self.__dict__")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    exec(source, scope)
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    running: set[tuple[int, int]] = set()

    def __repr__(self: Any) -> str:
        key = (id(self), get_ident())
        if key in running:
            return "..."  # as reprlib.recursive_repr, which dataclasses uses
        running.add(key)
        try:
            inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        finally:
            running.discard(key)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _eq(cls: type, names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        # dataclasses' ``self.a == other.a and self.b == other.b ...``
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        result: Any = True
        for name in names:
            result = getattr(self, name) == getattr(other, name)
            if not result:
                return result
        return result

    return __eq__


def _hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _values(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """Return a function giving an instance's values of ``names`` as a tuple."""
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names)


def _frozen_setattr(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_delattr(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__
