"""The few primitives that differ between flavours (hand-written twin: _sync/_backend.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


async def sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def to_thread(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking *fn* (file I/O) in a worker thread, off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)
