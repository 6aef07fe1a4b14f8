"""logind from Python: sessions, users, seats, inhibitor locks, power actions (blocking).

The asyncio twin is :mod:`sysd.aio.login`, with the same names::

    from sysd import login

    with login.connect() as lg:
        for s in lg.sessions():                 # SessionInfo(id, uid, user, seat, path)
            print(s.id, s.user, lg.session(s.id).state)
        print(lg.can_power_off())               # "yes", "no", "challenge" or "na"
        print(lg.power_off(dry_run=True))       # what would be called; nothing is

    with login.inhibit("sleep:shutdown", who="backup", why="copying files"):
        ...                                     # no suspend or shutdown until the block ends

Records: :class:`SessionInfo`, :class:`UserInfo`, :class:`SeatInfo`, :class:`InhibitorInfo`
(list rows); :class:`SessionStatus`, :class:`UserStatus`, :class:`SeatStatus` (typed
properties, D-Bus names reachable with ``status["Name"]``); :class:`PowerAction`.
Errors: :class:`~sysd.errors.NoSuchSessionError`, :class:`~sysd.errors.NoSuchUserError`,
:class:`~sysd.errors.NoSuchSeatError` (LookupErrors), :class:`~sysd.errors.InvalidLoginCallError`
(bad arguments, before sending), :class:`~sysd.errors.AccessDeniedError` and
:class:`~sysd.errors.InteractiveAuthorizationRequiredError` (PermissionErrors).
"""

from __future__ import annotations

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
from ._sync.login import Inhibitor, Login, connect

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
    """An inhibitor lock on the local system bus, as a context manager (see
    :class:`Inhibitor`): a connection is opened for the ``Inhibit()`` call only — the lock
    is its file descriptor, held until the block ends."""
    return Inhibitor(what, who=who, why=why, mode=mode, timeout=timeout, interactive=interactive)
