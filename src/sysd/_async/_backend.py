"""The few primitives that differ between flavours (hand-written twin: _sync/_backend.py)."""

from __future__ import annotations

import asyncio


async def sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
