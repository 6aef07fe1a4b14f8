"""Shared by tests/core/test_status.py and tests/systemd/test_schema.py: load the recorded
``GetAll`` fixtures and check a converted value against a snapshot field's declared type.

Loaded by path (``load_helper()`` in each test module): the test folders are not packages.
"""

from __future__ import annotations

import ast
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sysd._core.convert import Field
from sysd._core.status import Snapshot

HERE = Path(__file__).resolve().parent


def fixtures() -> dict[str, dict[str, dict[str, Any]]]:
    """name -> {interface: GetAll dict}, every ``*.getall`` file here."""
    return {path.stem: ast.literal_eval(path.read_text()) for path in sorted(HERE.glob("*.getall"))}


def declared_types(cls: type[Snapshot]) -> dict[str, Any]:
    """snake field -> the type the class declares for it (the ``T`` of ``Field[T]``)."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if not any(isinstance(v, Field) for v in vars(klass).values()):
            continue
        hints = typing.get_type_hints(klass)
        for name, value in vars(klass).items():
            if isinstance(value, Field):
                out[name] = typing.get_args(hints[name])[0]
    return out


def conforms(value: Any, tp: Any) -> bool:
    """Whether ``value`` is of type ``tp`` (the subset of typing the schema uses)."""
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, a) for a in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(
            conforms(v, a) for v, a in zip(value, args, strict=True)
        )
    if origin is frozenset:
        return isinstance(value, frozenset) and all(conforms(v, args[0]) for v in value)
    if origin in (Mapping, typing.Mapping):
        return isinstance(value, Mapping) and all(
            conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items()
        )
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, float)
    return isinstance(value, tp)
