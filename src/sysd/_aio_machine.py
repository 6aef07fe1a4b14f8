"""``sysd.aio.machine``: the asyncio twin of :mod:`sysd.machine`, with the same names.

::

    import sysd.aio

    async with await sysd.aio.machine.connect() as md:
        print(await md.machines())
"""

from __future__ import annotations

from ._async.machine import AsyncMachine as Machine
from ._async.machine import AsyncMachined as Machined
from ._async.machine import connect
from ._core.machine import KILL_WHOM, ImageInfo, MachineInfo, MachineStatus

__all__ = [
    "KILL_WHOM",
    "ImageInfo",
    "Machine",
    "MachineInfo",
    "MachineStatus",
    "Machined",
    "connect",
]
