"""The asyncio API: the same names as :mod:`sysd`, awaited.

::

    import sysd.aio

    async with sysd.aio.connect() as sd:
        print(await sd.version)
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ._async.events import AsyncEvents as Events
from ._async.fleet import AsyncFleet as Fleet
from ._async.fleet import fleet
from ._async.proxy import AsyncInterfaceProxy as InterfaceProxy
from ._async.proxy import AsyncProxy as Proxy
from ._async.proxy import AsyncSignals as Signals
from ._async.proxy import Signal
from ._async.run import AsyncRunningUnit as RunningUnit
from ._async.run import AsyncTriggerHandle as TriggerHandle
from ._async.systemd import AsyncSystemd
from ._async.systemd import connect as _connect
from ._bus.wire import DEFAULT, Variant
from ._core.ensure import Change
from ._core.events import (
    Event,
    JobNew,
    JobRemoved,
    Overflow,
    Reexecuted,
    Reloading,
    Resynced,
    StartupFinished,
    UnitChanged,
    UnitFilesChanged,
    UnitNew,
    UnitRemoved,
)
from ._core.fleet import FleetLogs, FleetResult, RollingReport
from ._core.hosts import Host
from ._core.report import FailureReport
from ._core.run import DEVNULL, PIPE, STDOUT, RunResult
from .executor import AsyncUnitExecutor as UnitExecutor
from .executor import async_run_function as run_function

__all__ = [
    "Change",
    "Event",
    "Events",
    "UnitChanged",
    "UnitNew",
    "UnitRemoved",
    "JobNew",
    "JobRemoved",
    "UnitFilesChanged",
    "Reloading",
    "Reexecuted",
    "StartupFinished",
    "Resynced",
    "Overflow",
    "DEFAULT",
    "DEVNULL",
    "PIPE",
    "STDOUT",
    "AsyncSystemd",
    "InterfaceProxy",
    "Proxy",
    "FailureReport",
    "RunResult",
    "RunningUnit",
    "Signal",
    "Signals",
    "TriggerHandle",
    "UnitExecutor",
    "Variant",
    "connect",
    "run_function",
    "fleet",
    "Fleet",
    "FleetResult",
    "FleetLogs",
    "RollingReport",
    "Host",
]


class _Connecting:
    """What :func:`connect` returns: await it, or use it with ``async with``."""

    __slots__ = ("_kwargs", "_sd")

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self._kwargs = kwargs
        self._sd: AsyncSystemd | None = None

    def __await__(self) -> Generator[Any, None, AsyncSystemd]:
        return _connect(**self._kwargs).__await__()

    async def __aenter__(self) -> AsyncSystemd:
        self._sd = await _connect(**self._kwargs)
        return self._sd

    async def __aexit__(self, *exc: object) -> None:
        if self._sd is not None:
            await self._sd.aclose()


def connect(
    *,
    user: bool = False,
    address: str | None = None,
    private: bool | None = None,
    host: str | None = None,
    machine: str | None = None,
    sudo: bool = False,
    ssh_config: str | None = None,
    timeout: float | None = 25.0,
    interactive: bool = False,
) -> _Connecting:
    """Connect to a systemd manager (see :func:`sysd.connect` for the arguments).

    ``sd = await sysd.aio.connect()`` or ``async with sysd.aio.connect() as sd:``.
    """
    return _Connecting(
        dict(
            user=user,
            address=address,
            private=private,
            host=host,
            machine=machine,
            sudo=sudo,
            ssh_config=ssh_config,
            timeout=timeout,
            interactive=interactive,
        )
    )


def __getattr__(name: str) -> Any:
    # sysd.aio.journal: the asyncio journal reader (follow without blocking the loop)
    if name == "journal":
        import importlib

        return importlib.import_module("sysd.journal.aio")
    if name == "login":  # sysd.aio.login: logind, the asyncio twin of sysd.login
        import importlib

        return importlib.import_module("sysd._aio_login")
    if name == "machine":  # sysd.aio.machine: machined, the asyncio twin of sysd.machine
        import importlib

        return importlib.import_module("sysd._aio_machine")
    # sysd.aio.analyze: the asyncio twins of sysd.analyze (the same names)
    if name == "analyze":
        import importlib

        return importlib.import_module("sysd._async.analyze")
    raise AttributeError(f"module 'sysd.aio' has no attribute {name!r}")
