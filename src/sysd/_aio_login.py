"""``sysd.aio.login``: the asyncio twin of :mod:`sysd.login`, with the same names.

::

    import sysd.aio

    async with await sysd.aio.login.connect() as lg:
        print(await lg.sessions())
    async with sysd.aio.login.inhibit("sleep", who="backup", why="copying"):
        ...
"""

from __future__ import annotations

from ._async.login import AsyncInhibitor as Inhibitor
from ._async.login import AsyncLogin as Login
from ._async.login import connect
from ._bus.wire import DEFAULT
from ._core.login import (
    INHIBIT_MODES,
    INHIBIT_WHAT,
    InhibitorInfo,
    PowerAction,
    SeatInfo,
    SeatStatus,
    SessionInfo,
    SessionStatus,
    UserInfo,
    UserStatus,
)

__all__ = [
    "INHIBIT_MODES",
    "INHIBIT_WHAT",
    "Inhibitor",
    "InhibitorInfo",
    "Login",
    "PowerAction",
    "SeatInfo",
    "SeatStatus",
    "SessionInfo",
    "SessionStatus",
    "UserInfo",
    "UserStatus",
    "connect",
    "inhibit",
]


def inhibit(
    what: str = "sleep:shutdown",
    *,
    who: str | None = None,
    why: str = "Unknown reason",
    mode: str = "block",
    timeout: float | None = DEFAULT,
    interactive: bool = False,
) -> Inhibitor:
    """An inhibitor lock on the local system bus (``async with``): see
    :func:`sysd.login.inhibit`."""
    return Inhibitor(what, who=who, why=why, mode=mode, timeout=timeout, interactive=interactive)
