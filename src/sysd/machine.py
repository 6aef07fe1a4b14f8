"""machined from Python: registered containers and VMs, and images (blocking).

The asyncio twin is :mod:`sysd.aio.machine`, with the same names::

    from sysd import machine

    with machine.connect() as md:
        for m in md.machines():             # MachineInfo(name, class_, service, leader, ...)
            print(m.name, m.class_, m.leader, m.os, m.version)
        with md.machine("web") as web:       # NoSuchMachineError when none is registered
            web.copy_to("/etc/motd", "/tmp/motd")
            web.terminate()

``sd.machines()`` and ``sd.machine(name)`` do the same from a manager connection; a
command runs inside with ``sysd.connect(machine="web").run([...], capture_output=True)``
(docs/containers.md).

Records: :class:`MachineInfo` (a listed machine), :class:`MachineStatus` (its properties,
typed), :class:`ImageInfo` (an image).  Errors: :class:`~sysd.errors.NoSuchMachineError`,
:class:`~sysd.errors.NoSuchImageError` (LookupErrors),
:class:`~sysd.errors.MachineExistsError`, :class:`~sysd.errors.InvalidMachineCallError`
(bad arguments, before sending).
"""

from __future__ import annotations

from ._core.machine import KILL_WHOM, ImageInfo, MachineInfo, MachineStatus
from ._sync.machine import Machine, Machined, connect

__all__ = [
    "KILL_WHOM",
    "ImageInfo",
    "Machine",
    "MachineInfo",
    "MachineStatus",
    "Machined",
    "connect",
]
