"""The few primitives that differ between flavours (hand-written twin: _async/_backend.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def to_thread(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking *fn* right here (the async twin runs it in a worker thread)."""
    return fn(*args, **kwargs)
