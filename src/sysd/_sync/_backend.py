"""The few primitives that differ between flavours (hand-written twin: _async/_backend.py)."""

from __future__ import annotations

import time


def sleep(seconds: float) -> None:
    time.sleep(seconds)
