"""machined's records and rules, without I/O (systemd 252's src/machine).

* :func:`check_machine_name` / :func:`check_image_name`: what machined would refuse
  (``machine_name_is_valid()``, ``image_name_is_valid()``), refused before sending.
* :class:`MachineStatus`: ``GetAll`` of ``org.freedesktop.machine1.Machine``, typed.
* :class:`MachineInfo`: one machine as ``sd.machines()`` lists it (``ListMachines`` plus the
  machine's properties, its addresses and its os-release), :class:`ImageInfo`: one row of
  ``ListImages``.
* :func:`addresses`, :func:`os_release_pair`: ``GetMachineAddresses``/``GetMachineOSRelease``
  as Python values.
"""

from __future__ import annotations

import ipaddress
import signal as _signal
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

from ..errors import InvalidMachineCallError
from .convert import Field, timestamp
from .status import Snapshot

__all__ = [
    "IMAGE_INTERFACE",
    "KILL_WHOM",
    "MACHINE_BUS_NAME",
    "MACHINE_INTERFACE",
    "MANAGER_INTERFACE",
    "MANAGER_PATH",
    "ImageInfo",
    "MachineInfo",
    "MachineStatus",
    "addresses",
    "check_image_name",
    "check_kill",
    "check_machine_name",
    "image_rows",
    "machine_info",
]

MACHINE_BUS_NAME = "org.freedesktop.machine1"
MANAGER_PATH = "/org/freedesktop/machine1"
MANAGER_INTERFACE = "org.freedesktop.machine1.Manager"
MACHINE_INTERFACE = "org.freedesktop.machine1.Machine"
IMAGE_INTERFACE = "org.freedesktop.machine1.Image"

#: what Kill's ``who`` takes (kill_who_from_string() of 252)
KILL_WHOM = ("leader", "all")

HOST_NAME_MAX = 64
_LDH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def hostname_is_valid(name: str, *, dot_host: bool = False) -> bool:
    """systemd 252's ``hostname_is_valid()`` (without a trailing dot)."""
    if not name:
        return False
    if name == ".host":
        return dot_host
    dot = hyphen = True
    for ch in name:
        if ch == ".":
            if dot or hyphen:
                return False
            dot, hyphen = True, False
        elif ch == "-":
            if dot:
                return False
            dot, hyphen = False, True
        else:
            if ch not in _LDH:
                return False
            dot = hyphen = False
    if dot or hyphen:
        return False
    return len(name.encode()) <= HOST_NAME_MAX


def image_name_is_valid(name: str) -> bool:
    """systemd 252's ``image_name_is_valid()``: a valid file name without control
    characters, not a temporary file (``.#``)."""
    if not name or "/" in name or name in (".", ".."):
        return False
    if len(name.encode()) > 255:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return False
    return not name.startswith(".#")


def check_machine_name(name: object, *, field: str = "name", host: bool = True) -> str:
    """The name, or :class:`~sysd.errors.InvalidMachineCallError` when machined would
    refuse it (``machine_name_is_valid()``: a host name, or ``.host`` for the host)."""
    if not isinstance(name, str):
        raise InvalidMachineCallError(
            f"a machine name is a string, not {type(name).__name__}", field=field
        )
    if not hostname_is_valid(name, dot_host=host):
        raise InvalidMachineCallError(
            f"invalid machine name {name!r}",
            field=field,
            hint="letters, digits and '-', in labels joined by '.', at most 64 characters",
        )
    return name


def check_image_name(name: object, *, field: str = "name") -> str:
    if not isinstance(name, str):
        raise InvalidMachineCallError(
            f"an image name is a string, not {type(name).__name__}", field=field
        )
    if not image_name_is_valid(name):
        raise InvalidMachineCallError(
            f"invalid image name {name!r}",
            field=field,
            hint="a file name: no '/', not hidden, not ending in '~'",
        )
    return name


def check_kill(whom: object, signal: object) -> tuple[str, int]:
    """(who, signal number) for ``Kill``/``KillMachine``, checked as machined does."""
    if whom not in KILL_WHOM:
        raise InvalidMachineCallError(
            f"invalid whom={whom!r}: machined takes 'leader' or 'all'", field="whom"
        )
    if isinstance(signal, bool) or not isinstance(signal, int):
        raise InvalidMachineCallError(
            f"a signal is an int (or signal.Signals), not {type(signal).__name__}",
            field="signal",
        )
    if not 1 <= int(signal) < _signal.NSIG:
        raise InvalidMachineCallError(f"invalid signal number {int(signal)}", field="signal")
    return str(whom), int(signal)


def check_path(path: object, field: str) -> str:
    """An absolute path, as CopyToMachine/CopyFromMachine/BindMountMachine take."""
    import os

    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise InvalidMachineCallError(
            f"{field}= is a path (str or os.PathLike), not {type(path).__name__}", field=field
        )
    if not path.startswith("/") or "\0" in path:
        raise InvalidMachineCallError(
            f"{field}= must be an absolute path, not {path!r}",
            field=field,
            hint="machined resolves paths itself: pass them absolute",
        )
    return path


# ------------------------------------------------------------------------------ machines


class MachineFields:
    """``org.freedesktop.machine1.Machine`` (machine-dbus.c of 252)."""

    __slots__ = ()
    INTERFACE: ClassVar[str] = MACHINE_INTERFACE
    _SOURCE: ClassVar[str] = "_props"

    name: Field[str] = Field("Name", "s", "raw", "")
    id: Field[UUID | None] = Field("Id", "ay", "uuid")
    timestamp: Field[datetime | None] = Field("Timestamp", "t", "timestamp")
    timestamp_monotonic: Field[timedelta | None] = Field("TimestampMonotonic", "t", "monotonic")
    service: Field[str | None] = Field("Service", "s", "raw")
    unit: Field[str | None] = Field("Unit", "s", "raw")
    leader: Field[int | None] = Field("Leader", "u", "pid")
    class_: Field[str | None] = Field("Class", "s", "raw")
    root_directory: Field[str | None] = Field("RootDirectory", "s", "raw")
    network_interfaces: Field[tuple[int, ...] | None] = Field("NetworkInterfaces", "ai", "freeze")
    state: Field[str | None] = Field("State", "s", "raw")


class MachineStatus(MachineFields, Snapshot):
    """A machine's properties (``machinectl show NAME``), typed: ``leader`` is the PID of
    its init (as seen here), ``class_`` ``container`` or ``vm``, ``state`` ``opening``,
    ``running`` or ``closing``; D-Bus names with ``status["Leader"]``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.raw('Name')!r} {self.raw('State')!r}>"


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class MachineInfo(NamedTuple):
    """One machine: what ``machinectl list`` shows and more.  ``os_release`` is the
    machine's ``/etc/os-release`` as machined reads it (None where it cannot be read);
    ``addresses`` are empty for a machine without private networking."""

    name: str
    class_: str
    service: str
    leader: int | None
    root_directory: str
    state: str
    unit: str
    id: UUID | None
    timestamp: datetime | None
    addresses: tuple[IPAddress, ...]
    os_release: Mapping[str, str] | None
    path: str

    @property
    def os(self) -> str | None:
        """``ID=`` of its os-release (machinectl list's OS column)."""
        return None if self.os_release is None else self.os_release.get("ID")

    @property
    def version(self) -> str | None:
        """``VERSION_ID=`` of its os-release (machinectl list's VERSION column)."""
        return None if self.os_release is None else self.os_release.get("VERSION_ID")


def machine_info(
    row: tuple[str, str, str, str],
    status: MachineStatus | None,
    addrs: tuple[IPAddress, ...],
    os_release: Mapping[str, str] | None,
) -> MachineInfo:
    """A :class:`MachineInfo` from a ``ListMachines`` row and what was read about it
    (``status`` None: the machine has gone meanwhile, or its object cannot be read)."""
    name, class_, service, path = (str(v) for v in row)
    if status is None:
        return MachineInfo(
            name, class_, service, None, "", "", "", None, None, addrs, os_release, path
        )
    return MachineInfo(
        name,
        class_,
        service,
        status.leader,
        status.root_directory or "",
        status.state or "",
        status.unit or "",
        status.id,
        status.timestamp,
        addrs,
        os_release,
        path,
    )


def addresses(rows: Any) -> tuple[IPAddress, ...]:
    """``GetMachineAddresses``' ``a(iay)`` as :mod:`ipaddress` objects (others skipped)."""
    out: list[IPAddress] = []
    for family, raw in rows:
        data = bytes(raw)
        if family == socket.AF_INET and len(data) == 4:
            out.append(ipaddress.IPv4Address(data))
        elif family == socket.AF_INET6 and len(data) == 16:
            out.append(ipaddress.IPv6Address(data))
    return tuple(out)


# ------------------------------------------------------------------------------ images


class ImageInfo(NamedTuple):
    """One row of ``ListImages`` (``machinectl list-images``): ``type`` is ``directory``,
    ``subvolume``, ``raw`` or ``block``; sizes None where unknown."""

    name: str
    type: str
    read_only: bool
    created: datetime | None
    modified: datetime | None
    usage: int | None
    path: str


def _size(value: int) -> int | None:
    return None if value == 2**64 - 1 else int(value)


def image_rows(rows: Any) -> list[ImageInfo]:
    return [
        ImageInfo(str(n), str(t), bool(ro), timestamp(c), timestamp(m), _size(u), str(p))
        for n, t, ro, c, m, u, p in rows
    ]
