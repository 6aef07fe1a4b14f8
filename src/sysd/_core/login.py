"""logind's records and rules, without I/O (systemd 252's src/login).

* Rows of ``ListSessions``/``ListUsers``/``ListSeats``/``ListInhibitors`` as named tuples.
* Snapshots of a session, a user and a seat (``GetAll`` of ``org.freedesktop.login1.Session``,
  ``.User``, ``.Seat``): typed snake_case fields, D-Bus names reachable with ``raw()``/``[]``
  and ``.dbus`` (the :class:`~sysd._core.status.Snapshot` machinery of unit status).
* :func:`check_inhibit` refuses what ``method_inhibit()`` would refuse, before sending.
* :data:`POWER_ACTIONS`: the methods behind ``power_off()``/``reboot()``/``suspend()``...
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, NamedTuple

from ..errors import InvalidLoginCallError
from .convert import Field
from .status import Snapshot

__all__ = [
    "INHIBIT_MODES",
    "INHIBIT_WHAT",
    "LOGIN_BUS_NAME",
    "MANAGER_INTERFACE",
    "MANAGER_PATH",
    "POWER_ACTIONS",
    "InhibitorInfo",
    "PowerAction",
    "SeatInfo",
    "SeatStatus",
    "SessionInfo",
    "SessionStatus",
    "UserInfo",
    "UserStatus",
    "check_inhibit",
    "power_flags",
]

LOGIN_BUS_NAME = "org.freedesktop.login1"
MANAGER_PATH = "/org/freedesktop/login1"
MANAGER_INTERFACE = "org.freedesktop.login1.Manager"
SESSION_INTERFACE = "org.freedesktop.login1.Session"
USER_INTERFACE = "org.freedesktop.login1.User"
SEAT_INTERFACE = "org.freedesktop.login1.Seat"

#: inhibit_what_from_string() of 252, in its order
INHIBIT_WHAT = (
    "shutdown",
    "sleep",
    "idle",
    "handle-power-key",
    "handle-suspend-key",
    "handle-hibernate-key",
    "handle-lid-switch",
    "handle-reboot-key",
)
INHIBIT_MODES = ("block", "delay")  # "block-weak" is 254+

#: SD_LOGIND_ROOT_CHECK_INHIBITORS, SD_LOGIND_REBOOT_VIA_KEXEC (login-util.h)
ROOT_CHECK_INHIBITORS = 1 << 0
REBOOT_VIA_KEXEC = 1 << 1


# ----------------------------------------------------------------------------- list rows


class SessionInfo(NamedTuple):
    """One row of ``ListSessions``: what ``loginctl list-sessions`` shows."""

    id: str
    uid: int
    user: str
    seat: str  # "" when the session has no seat
    path: str


class UserInfo(NamedTuple):
    """One row of ``ListUsers``."""

    uid: int
    name: str
    path: str


class SeatInfo(NamedTuple):
    """One row of ``ListSeats``."""

    id: str
    path: str


class InhibitorInfo(NamedTuple):
    """One row of ``ListInhibitors`` (``systemd-inhibit --list``)."""

    what: str
    who: str
    why: str
    mode: str
    uid: int
    pid: int


def session_rows(rows: Any) -> list[SessionInfo]:
    return [SessionInfo(str(a), int(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]


def user_rows(rows: Any) -> list[UserInfo]:
    return [UserInfo(int(a), str(b), str(c)) for a, b, c in rows]


def seat_rows(rows: Any) -> list[SeatInfo]:
    return [SeatInfo(str(a), str(b)) for a, b in rows]


def inhibitor_rows(rows: Any) -> list[InhibitorInfo]:
    return [
        InhibitorInfo(str(a), str(b), str(c), str(d), int(e), int(f)) for a, b, c, d, e, f in rows
    ]


# ------------------------------------------------------------------------------ snapshots


class _LoginSnapshot(Snapshot):
    def __repr__(self) -> str:
        key = self.raw("Id") if "Id" in self else self.raw("Name")
        return f"<{type(self).__name__} {key!r}>"


class SessionFields:
    """``org.freedesktop.login1.Session`` (logind-session-dbus.c)."""

    __slots__ = ()
    INTERFACE: ClassVar[str] = SESSION_INTERFACE
    _SOURCE: ClassVar[str] = "_props"

    id: Field[str] = Field("Id", "s", "raw", "")
    user: Field[tuple[int, str] | None] = Field("User", "(uo)", "freeze")
    name: Field[str | None] = Field("Name", "s", "raw")
    timestamp: Field[datetime | None] = Field("Timestamp", "t", "timestamp")
    timestamp_monotonic: Field[timedelta | None] = Field("TimestampMonotonic", "t", "monotonic")
    vt_nr: Field[int | None] = Field("VTNr", "u", "raw")
    seat: Field[tuple[str, str] | None] = Field("Seat", "(so)", "freeze")
    tty: Field[str | None] = Field("TTY", "s", "raw")
    display: Field[str | None] = Field("Display", "s", "raw")
    remote: Field[bool | None] = Field("Remote", "b", "raw")
    remote_host: Field[str | None] = Field("RemoteHost", "s", "raw")
    remote_user: Field[str | None] = Field("RemoteUser", "s", "raw")
    service: Field[str | None] = Field("Service", "s", "raw")
    desktop: Field[str | None] = Field("Desktop", "s", "raw")
    scope: Field[str | None] = Field("Scope", "s", "raw")
    leader: Field[int | None] = Field("Leader", "u", "pid")
    audit: Field[int | None] = Field("Audit", "u", "raw")
    type: Field[str | None] = Field("Type", "s", "raw")
    class_: Field[str | None] = Field("Class", "s", "raw")
    active: Field[bool | None] = Field("Active", "b", "raw")
    state: Field[str | None] = Field("State", "s", "raw")
    idle_hint: Field[bool | None] = Field("IdleHint", "b", "raw")
    idle_since_hint: Field[datetime | None] = Field("IdleSinceHint", "t", "timestamp")
    idle_since_hint_monotonic: Field[timedelta | None] = Field(
        "IdleSinceHintMonotonic", "t", "monotonic"
    )
    locked_hint: Field[bool | None] = Field("LockedHint", "b", "raw")


class UserFields:
    """``org.freedesktop.login1.User`` (logind-user-dbus.c)."""

    __slots__ = ()
    INTERFACE: ClassVar[str] = USER_INTERFACE
    _SOURCE: ClassVar[str] = "_props"

    uid: Field[int | None] = Field("UID", "u", "raw")
    gid: Field[int | None] = Field("GID", "u", "raw")
    name: Field[str] = Field("Name", "s", "raw", "")
    timestamp: Field[datetime | None] = Field("Timestamp", "t", "timestamp")
    timestamp_monotonic: Field[timedelta | None] = Field("TimestampMonotonic", "t", "monotonic")
    runtime_path: Field[str | None] = Field("RuntimePath", "s", "raw")
    service: Field[str | None] = Field("Service", "s", "raw")
    slice: Field[str | None] = Field("Slice", "s", "raw")
    display: Field[tuple[str, str] | None] = Field("Display", "(so)", "freeze")
    state: Field[str | None] = Field("State", "s", "raw")
    sessions: Field[tuple[tuple[str, str], ...] | None] = Field("Sessions", "a(so)", "freeze")
    idle_hint: Field[bool | None] = Field("IdleHint", "b", "raw")
    idle_since_hint: Field[datetime | None] = Field("IdleSinceHint", "t", "timestamp")
    idle_since_hint_monotonic: Field[timedelta | None] = Field(
        "IdleSinceHintMonotonic", "t", "monotonic"
    )
    linger: Field[bool | None] = Field("Linger", "b", "raw")


class SeatFields:
    """``org.freedesktop.login1.Seat`` (logind-seat-dbus.c; ``CanMultiSession`` is hidden
    from ``GetAll`` in 252, always true, and left out)."""

    __slots__ = ()
    INTERFACE: ClassVar[str] = SEAT_INTERFACE
    _SOURCE: ClassVar[str] = "_props"

    id: Field[str] = Field("Id", "s", "raw", "")
    active_session: Field[tuple[str, str] | None] = Field("ActiveSession", "(so)", "freeze")
    can_tty: Field[bool | None] = Field("CanTTY", "b", "raw")
    can_graphical: Field[bool | None] = Field("CanGraphical", "b", "raw")
    sessions: Field[tuple[tuple[str, str], ...] | None] = Field("Sessions", "a(so)", "freeze")
    idle_hint: Field[bool | None] = Field("IdleHint", "b", "raw")
    idle_since_hint: Field[datetime | None] = Field("IdleSinceHint", "t", "timestamp")
    idle_since_hint_monotonic: Field[timedelta | None] = Field(
        "IdleSinceHintMonotonic", "t", "monotonic"
    )


class SessionStatus(SessionFields, _LoginSnapshot):
    """A login session: ``loginctl show-session``'s properties, typed.  ``class_`` is
    ``Class`` (``user``, ``greeter``, ...); ``user`` is ``(uid, object path)``, ``seat``
    ``(seat id, object path)`` (``("", "/")`` without a seat)."""


class UserStatus(UserFields, _LoginSnapshot):
    """A logged-in or lingering user: ``loginctl show-user``'s properties, typed."""


class SeatStatus(SeatFields, _LoginSnapshot):
    """A seat: ``loginctl show-seat``'s properties, typed."""


# ------------------------------------------------------------------------------ inhibit


def check_inhibit(what: str, who: str, why: str, mode: str) -> None:
    """Refuse what logind 252's ``Inhibit()`` would refuse (``InvalidArgs``), locally."""
    for field, value in (("what", what), ("who", who), ("why", why), ("mode", mode)):
        if not isinstance(value, str):
            raise InvalidLoginCallError(
                f"{field}= must be a string, not {type(value).__name__}", field=field
            )
        if "\0" in value:
            raise InvalidLoginCallError(f"{field}= contains a NUL byte", field=field)
    words = what.split(":")  # an empty word ("sleep:", "a::b") is refused, as logind does
    unknown = [w for w in words if w not in INHIBIT_WHAT]
    if not what or unknown:
        shown = ", ".join(repr(w) for w in unknown) or "nothing"
        raise InvalidLoginCallError(
            f"invalid what={what!r}: {shown} is not a lock type",
            field="what",
            hint=f"join some of {', '.join(INHIBIT_WHAT)} with ':'",
        )
    if mode not in INHIBIT_MODES:
        raise InvalidLoginCallError(
            f"invalid mode={mode!r}: logind takes 'block' or 'delay'", field="mode"
        )
    if mode == "delay" and set(words) - {"shutdown", "sleep"}:
        raise InvalidLoginCallError(
            f"mode='delay' only works for shutdown and sleep, not {what!r}",
            field="mode",
            hint="use mode='block' for idle and the handle-* keys",
        )


# -------------------------------------------------------------------------- power actions


class PowerAction(NamedTuple):
    """What ``power_off()``/``reboot()``/``suspend()``/... did, or with ``dry_run=True``
    would do: ``can`` is logind's answer to ``CanPowerOff`` & co. (``"yes"``, ``"no"``,
    ``"challenge"``: allowed after polkit asks, ``"na"``: not available here);
    ``method``/``args`` the call (``"PowerOff"``, ``(False,)``); ``called`` whether it was
    made."""

    action: str
    can: str | None
    method: str
    args: tuple[Any, ...]
    interactive: bool
    called: bool


#: action -> (the method, the Can* method): logind-dbus.c
POWER_ACTIONS: dict[str, tuple[str, str]] = {
    "power-off": ("PowerOff", "CanPowerOff"),
    "reboot": ("Reboot", "CanReboot"),
    "halt": ("Halt", "CanHalt"),
    "suspend": ("Suspend", "CanSuspend"),
    "hibernate": ("Hibernate", "CanHibernate"),
    "hybrid-sleep": ("HybridSleep", "CanHybridSleep"),
    "suspend-then-hibernate": ("SuspendThenHibernate", "CanSuspendThenHibernate"),
}


def power_flags(action: str, *, check_inhibitors: bool, kexec: bool) -> int:
    """The ``flags`` of ``...WithFlags``: SD_LOGIND_ROOT_CHECK_INHIBITORS, _REBOOT_VIA_KEXEC."""
    if kexec and action != "reboot":
        raise InvalidLoginCallError("kexec=True only goes with reboot()", field="kexec")
    return (ROOT_CHECK_INHIBITORS if check_inhibitors else 0) | (REBOOT_VIA_KEXEC if kexec else 0)


def power_call(
    action: str, *, interactive: bool, check_inhibitors: bool, kexec: bool
) -> tuple[str, str, tuple[Any, ...]]:
    """(method, signature, args) for an action: the old ``b interactive`` method as
    systemctl 252 calls it, the ``...WithFlags`` one when flags are needed."""
    if action not in POWER_ACTIONS:
        raise InvalidLoginCallError(f"unknown power action {action!r}", field="action")
    method, _can = POWER_ACTIONS[action]
    flags = power_flags(action, check_inhibitors=check_inhibitors, kexec=kexec)
    if flags:
        return f"{method}WithFlags", "t", (flags,)
    return method, "b", (bool(interactive),)
