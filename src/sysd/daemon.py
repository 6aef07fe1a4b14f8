"""The daemon side: talk to the service manager that started you (sd-daemon, in Python).

No D-Bus and no asyncio here: a service tells systemd it is ready with one datagram on
``$NOTIFY_SOCKET`` and receives its sockets as inherited file descriptors.  This is
systemd 252's ``sd-daemon.c`` behaviour, in Python::

    from sysd import daemon

    daemon.notify(status="loading configuration")
    ...
    daemon.notify(ready=True, status="serving")

* :func:`notify` sends ``READY=1``, ``RELOADING=1``, ``STOPPING=1``, ``STATUS=``, ``ERRNO=``,
  ``BUSERROR=``, ``MAINPID=``, ``WATCHDOG=1``/``trigger``, ``WATCHDOG_USEC=``,
  ``EXTEND_TIMEOUT_USEC=`` and file descriptors for the store (``FDSTORE=1``, ``FDNAME=``,
  ``FDPOLL=0``, ``FDSTOREREMOVE=1``).  It returns False when ``$NOTIFY_SOCKET`` is unset (not
  started by systemd, or no ``Type=notify``/``NotifyAccess=``) and True once the datagram is
  queued: that is not proof systemd acted on it (use :func:`notify_barrier` for that).
* :func:`listen_fds` returns the inherited file descriptors with their names
  (``$LISTEN_FDS``, ``$LISTEN_FDNAMES``; ``FileDescriptorName=`` and the fd store's
  ``FDNAME=``), :func:`listen_sockets` the sockets among them as :class:`socket.socket`.
* :func:`watchdog_enabled`, :func:`watchdog_timeout`, :func:`watchdog_interval` and the
  thread-free :class:`Watchdog` helper for ``WatchdogSec=``.
* :func:`booted` says whether the host runs systemd (``sd_booted()``).

Errors (they will join :mod:`sysd.errors`)::

    SysdError
    ├── InvalidNotifyError            (ValueError)   bad input, refused before anything is sent
    ├── InvalidDaemonEnvironmentError (ValueError)   malformed $LISTEN_* / $WATCHDOG_*
    └── NotifyError                   (OSError)      the datagram could not be sent
        └── NotifyTimeoutError        (TimeoutError) ... before the deadline / barrier unanswered

What systemd 252 does not do (and sysd therefore does not pretend to): ``MONOTONIC_USEC=``
with ``RELOADING=1`` (253+), ``BUSERROR=`` is sent but 252's manager ignores it, and
``$NOTIFY_SOCKET`` must be an absolute path or an ``@abstract`` name (``vsock:`` is 254+).
"""

from __future__ import annotations

import array
import errno as _errno
import math
import operator
import os
import re
import select
import socket as _socket
import stat
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Literal, NamedTuple, Protocol

from ._bus.address import booted
from .errors import (
    InvalidDaemonEnvironmentError,
    InvalidNotifyError,
    NotifyError,
    NotifyTimeoutError,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "LISTEN_FDS_START",
    "NOTIFY_MESSAGE_MAX",
    "InvalidDaemonEnvironmentError",
    "InvalidNotifyError",
    "ListenFd",
    "NotifyError",
    "NotifyTimeoutError",
    "Watchdog",
    "booted",
    "listen_fds",
    "listen_sockets",
    "notify",
    "notify_barrier",
    "watchdog_enabled",
    "watchdog_interval",
    "watchdog_timeout",
]

LISTEN_FDS_START = 3
"""The first passed file descriptor (SD_LISTEN_FDS_START)."""

NOTIFY_MESSAGE_MAX = 4096
"""Bytes: systemd 252 reads notifications up to PIPE_BUF (NOTIFY_BUFFER_MAX), drops longer."""

DEFAULT_TIMEOUT = 25.0
"""Seconds :func:`notify` waits for room in the manager's queue (sd_notify waits forever)."""

FDNAME_MAX = 255
ERRNO_MAX = 4095
SCM_MAX_FD = 253  # the kernel refuses more fds in one message
_PID_MAX = 2**31 - 1
_INT_MAX = 2**31 - 1
_USEC_INFINITY = 2**64 - 1
_DIGITS = re.compile(r"[0-9]+")


# ------------------------------------------------------------------------------ errors


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


_HINTS = {
    _errno.ENOENT: "the notification socket is gone: $NOTIFY_SOCKET is stale",
    _errno.ECONNREFUSED: "nobody listens on $NOTIFY_SOCKET any more: it is stale",
    _errno.EACCES: "this process may not write to $NOTIFY_SOCKET",
    _errno.EPERM: "this process may not write to $NOTIFY_SOCKET",
    _errno.EBADF: "a file descriptor passed in fds= is not open",
}


def _check_line(field: str, value: str) -> str:
    if "\n" in value or "\0" in value:
        what = "a newline" if "\n" in value else "a NUL byte"
        raise InvalidNotifyError(
            f"{field}= must be one line: the value contains {what}",
            field=field,
            hint="systemd reads one VARIABLE=value per line",
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidNotifyError(f"{field}= is not valid UTF-8: {exc}", field=field) from exc
    return value


def _fdname_ok(name: str) -> bool:
    # fdname_is_valid(): printable ASCII except ":", at most 255 characters; "" is allowed.
    return len(name) <= FDNAME_MAX and all(" " <= c < "\x7f" and c != ":" for c in name)


def _int_field(field: str, value: int, low: int, high: int) -> int:
    number = operator.index(value)
    if isinstance(value, bool) or not low <= number <= high:
        raise InvalidNotifyError(
            f"{field}= must be an integer from {low} to {high}, not {value!r}", field=field
        )
    return number


def _usec(field: str, value: int | float | timedelta, *, seconds: bool) -> int:
    """Microseconds from a timedelta, or from a number (seconds or microseconds)."""
    if isinstance(value, timedelta):
        usec = value // timedelta(microseconds=1)
    elif isinstance(value, bool):
        raise InvalidNotifyError(f"{field}= takes a duration, not {value!r}", field=field)
    elif seconds:
        if not math.isfinite(value):
            raise InvalidNotifyError(f"{field}= must be finite, not {value!r}", field=field)
        usec = math.ceil(value * 1_000_000)
    elif isinstance(value, int):
        usec = value
    else:
        raise InvalidNotifyError(
            f"{field}= takes microseconds as an int, not {value!r}", field=field
        )
    if not 0 <= usec < _USEC_INFINITY:
        raise InvalidNotifyError(
            f"{field}= must be a duration from 0 to 2**64-2 microseconds (got {value!r})",
            field=field,
        )
    return usec


def _fd_numbers(fds: Iterable[int | _HasFileno]) -> list[int]:
    out = []
    for item in fds:
        fd = operator.index(item) if isinstance(item, int) else item.fileno()
        if fd < 0:
            raise InvalidNotifyError(
                f"file descriptors must not be negative (got {fd})", field="fds"
            )
        out.append(fd)
    if len(out) > SCM_MAX_FD:
        raise InvalidNotifyError(
            f"at most {SCM_MAX_FD} file descriptors fit in one message (got {len(out)})",
            field="fds",
            hint="send them in several notify(fdstore=True) calls",
        )
    return out


def _message(
    state: str,
    *,
    ready: bool,
    reloading: bool,
    stopping: bool,
    status: str | None,
    errno: int | None,
    buserror: str | None,
    mainpid: int | None,
    watchdog: bool | Literal["trigger"],
    watchdog_usec: int | timedelta | None,
    extend_timeout: float | timedelta | None,
    fdstore: bool,
    fdstore_remove: bool,
    fdname: str | None,
    fdpoll: bool,
    have_fds: bool,
    fields: Mapping[str, str | int] | None,
) -> bytes:
    """The datagram for notify()'s arguments, validated.  Pure."""
    lines: list[str] = []
    if mainpid is not None:
        lines.append(f"MAINPID={_int_field('MAINPID', mainpid, 1, _PID_MAX)}")
    flags = (("READY", ready), ("RELOADING", reloading), ("STOPPING", stopping))
    transitions = [name for name, on in flags if on]
    if len(transitions) > 1:
        raise InvalidNotifyError(
            f"pass only one of ready=, reloading=, stopping= (got {', '.join(transitions)}):"
            " systemd acts on the last one only",
            field=transitions[-1],
        )
    lines += [f"{name}=1" for name in transitions]
    if status is not None:
        lines.append(f"STATUS={_check_line('STATUS', status)}")
    if errno is not None:
        lines.append(f"ERRNO={_int_field('ERRNO', errno, 0, ERRNO_MAX)}")
    if buserror is not None:
        if not buserror:
            raise InvalidNotifyError("BUSERROR= must not be empty", field="BUSERROR")
        lines.append(f"BUSERROR={_check_line('BUSERROR', buserror)}")
    if watchdog == "trigger":
        lines.append("WATCHDOG=trigger")
    elif watchdog is True:
        lines.append("WATCHDOG=1")
    elif watchdog is not False:
        raise InvalidNotifyError(
            f"watchdog= takes True or 'trigger', not {watchdog!r}", field="WATCHDOG"
        )
    if watchdog_usec is not None:
        lines.append(f"WATCHDOG_USEC={_usec('WATCHDOG_USEC', watchdog_usec, seconds=False)}")
    if extend_timeout is not None:
        usec = _usec("EXTEND_TIMEOUT_USEC", extend_timeout, seconds=True)
        lines.append(f"EXTEND_TIMEOUT_USEC={usec}")

    if fdstore and fdstore_remove:
        raise InvalidNotifyError("pass fdstore= or fdstore_remove=, not both", field="FDSTORE")
    if fdname is not None:
        if not (fdstore or fdstore_remove):
            raise InvalidNotifyError(
                "fdname= goes with fdstore=True or fdstore_remove=True", field="FDNAME"
            )
        if not _fdname_ok(fdname):
            raise InvalidNotifyError(
                f"invalid FDNAME= {fdname!r}: systemd would ignore it",
                field="FDNAME",
                hint="use at most 255 printable ASCII characters, no ':'",
            )
    if fdstore:
        if not have_fds:
            raise InvalidNotifyError("fdstore=True needs the fds= to store", field="FDSTORE")
        lines.append("FDSTORE=1")
    if fdstore_remove:
        if fdname is None:
            raise InvalidNotifyError(
                "fdstore_remove=True needs fdname=: systemd removes fds by name",
                field="FDSTOREREMOVE",
            )
        lines.append("FDSTOREREMOVE=1")
    if fdname is not None:
        lines.append(f"FDNAME={fdname}")
    if not fdpoll:
        if not fdstore:
            raise InvalidNotifyError("fdpoll=False goes with fdstore=True", field="FDPOLL")
        lines.append("FDPOLL=0")

    for name, value in (fields or {}).items():
        if not name or "=" in name or name != name.strip() or "\n" in name or "\0" in name:
            raise InvalidNotifyError(f"invalid field name {name!r}", field=name)
        if name == "BARRIER":
            raise InvalidNotifyError(
                "BARRIER= cannot be mixed with other fields", field=name, hint="notify_barrier()"
            )
        text = str(value) if isinstance(value, int) else value
        lines.append(f"{name}={_check_line(name, text)}")

    if state:
        if "\0" in state:
            raise InvalidNotifyError("the state text contains a NUL byte")
        extra = [line for line in state.split("\n") if line]
        if any(line.startswith("BARRIER=") for line in extra):
            raise InvalidNotifyError(
                "BARRIER= cannot be mixed with other fields",
                field="BARRIER",
                hint="notify_barrier()",
            )
        lines += extra

    if not lines:
        raise InvalidNotifyError("nothing to send: pass at least one field")
    if have_fds and not any(line in ("FDSTORE=1", "FDSTOREREMOVE=1") for line in lines):
        raise InvalidNotifyError(
            "fds= are only kept with fdstore=True: systemd closes fds sent with anything else",
            field="fds",
        )
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    if len(data) > NOTIFY_MESSAGE_MAX:
        raise InvalidNotifyError(
            f"the message is {len(data)} bytes: systemd drops notifications over"
            f" {NOTIFY_MESSAGE_MAX} bytes",
            hint="shorten STATUS=",
        )
    return data


def _sockaddr(address: str) -> str | bytes:
    """sockaddr_un_set_path(): "@name" is abstract, "/path" a file; nothing else."""
    raw = os.fsencode(address)
    if len(raw) < 2 or raw[:1] not in (b"/", b"@") or len(raw) + 1 > 108:
        too_long = len(raw) + 1 > 108 and raw[:1] == b"/"
        raise NotifyError(
            f"$NOTIFY_SOCKET={address!r} is not usable",
            address=address,
            errno=_errno.ENAMETOOLONG if too_long else _errno.EINVAL,
            hint="it must be an absolute path or an @abstract name of at most 107 bytes",
        )
    if raw[:1] == b"@":
        return b"\0" + raw[1:]
    return raw


def _send(
    data: bytes,
    fds: list[int],
    *,
    pid: int | None,
    timeout: float | None,
) -> bool:
    """sd_pid_notify_with_fds() without the unsetting: one datagram, False when no socket."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    sockaddr = _sockaddr(address)
    ancillary: list[tuple[int, int, bytes]] = []
    if fds:
        ancillary.append((_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", fds).tobytes()))
    # Credentials go along explicitly when they differ from what the kernel attaches itself
    # (another pid, or a setuid/setgid process); the manager ignores datagrams without them.
    send_ucred = (
        (pid is not None and pid != os.getpid())
        or os.getuid() != os.geteuid()
        or os.getgid() != os.getegid()
    )
    if send_ucred:
        ucred = struct.pack("iII", pid or os.getpid(), os.getuid(), os.getgid())
        ancillary.append((_socket.SOL_SOCKET, _socket.SCM_CREDENTIALS, ucred))

    try:
        with _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM) as sock:
            # Connected, so that waiting for room in a full queue is a real wait (poll on
            # an unconnected datagram socket says "writable" at once).
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            try:
                sock.sendmsg([data], ancillary, _socket.MSG_NOSIGNAL)
            except TimeoutError:
                raise
            except OSError:
                if not send_ucred:
                    raise
                # As sd_pid_notify_with_fds(): the faked credentials were refused (EPERM
                # without CAP_SYS_ADMIN); send with our own.
                sock.sendmsg([data], ancillary[:-1], _socket.MSG_NOSIGNAL)
    except (TimeoutError, BlockingIOError) as exc:  # BlockingIOError: timeout=0
        raise NotifyTimeoutError(
            f"the service manager did not take the notification within {timeout} s",
            address=address,
            errno=_errno.ETIMEDOUT,
        ) from exc
    except OSError as exc:
        code = exc.errno
        raise NotifyError(
            f"could not notify the service manager at {address}: "
            f"{os.strerror(code) if code else exc}",
            address=address,
            errno=code,
            hint=_HINTS.get(code) if code is not None else None,
        ) from exc
    return True


def notify(
    state: str = "",
    /,
    *,
    ready: bool = False,
    reloading: bool = False,
    stopping: bool = False,
    status: str | None = None,
    errno: int | None = None,
    buserror: str | None = None,
    mainpid: int | None = None,
    watchdog: bool | Literal["trigger"] = False,
    watchdog_usec: int | timedelta | None = None,
    extend_timeout: float | timedelta | None = None,
    fdstore: bool = False,
    fdstore_remove: bool = False,
    fdname: str | None = None,
    fdpoll: bool = True,
    fds: Iterable[int | _HasFileno] = (),
    fields: Mapping[str, str | int] | None = None,
    pid: int | None = None,
    unset_environment: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> bool:
    """Tell the service manager about this service (``sd_pid_notify_with_fds()``).

    Returns False when ``$NOTIFY_SOCKET`` is unset (nothing to tell), True when the
    datagram was queued.  The arguments are validated first, also without a socket, so a
    bad ``status=`` fails in development as it would in production.

    * ``ready``, ``reloading``, ``stopping``: ``READY=1``, ``RELOADING=1``, ``STOPPING=1``
      (at most one).  A ``Type=notify`` service stays ``activating`` until ``READY=1``;
      after ``RELOADING=1`` it is ``reloading`` until the next ``READY=1``.
    * ``status``: one line of UTF-8, shown by ``systemctl status`` (``StatusText``);
      ``""`` clears it.  ``errno`` (0-4095) and ``buserror``: why the service fails.
    * ``mainpid``: ``MAINPID=``, the service's main process when systemd did not fork it.
    * ``watchdog``: True for the ``WATCHDOG=1`` keep-alive, ``"trigger"`` to have systemd act
      as if the watchdog expired.  ``watchdog_usec``: a new ``WatchdogSec=`` (microseconds
      or a timedelta).  ``extend_timeout``: ``EXTEND_TIMEOUT_USEC=`` (seconds or timedelta).
    * ``fdstore=True`` with ``fds`` (ints or objects with ``fileno()``) keeps them in the
      manager (``FileDescriptorStoreMax=`` must allow it) and hands them back through
      :func:`listen_fds` on the next start; ``fdname`` names them, ``fdpoll=False`` keeps
      systemd from dropping them on ``EPOLLHUP``.  ``fdstore_remove=True`` with ``fdname``
      drops them.
    * ``state``: raw ``VAR=value`` lines, and ``fields`` more variables (``X_...`` for your
      own), appended after the fields above.
    * ``pid``: send on behalf of another process (its credentials; falls back to ours when
      the kernel refuses them).  ``unset_environment``: remove ``$NOTIFY_SOCKET`` afterwards
      (whatever happened), so that children cannot use it.
    * ``timeout``: seconds to wait when the manager's queue is full (None: forever).

    Raises :class:`InvalidNotifyError` (a ValueError) for bad input and
    :class:`NotifyError` (an OSError) when the datagram could not be sent.
    """
    try:
        fd_list = _fd_numbers(fds)
        data = _message(
            state,
            ready=ready,
            reloading=reloading,
            stopping=stopping,
            status=status,
            errno=errno,
            buserror=buserror,
            mainpid=mainpid,
            watchdog=watchdog,
            watchdog_usec=watchdog_usec,
            extend_timeout=extend_timeout,
            fdstore=fdstore,
            fdstore_remove=fdstore_remove,
            fdname=fdname,
            fdpoll=fdpoll,
            have_fds=bool(fd_list),
            fields=fields,
        )
        if pid is not None:
            _int_field("pid", pid, 1, _PID_MAX)
        return _send(data, fd_list, pid=pid, timeout=timeout)
    finally:
        if unset_environment:
            os.environ.pop("NOTIFY_SOCKET", None)


def notify_barrier(timeout: float | None = 5.0, *, unset_environment: bool = False) -> bool:
    """Wait until the manager has processed every notification sent before
    (``sd_notify_barrier()``).

    Sends ``BARRIER=1`` with the write end of a pipe and waits for the manager to close
    it.  Returns False when ``$NOTIFY_SOCKET`` is unset, True once synchronised; raises
    :class:`NotifyTimeoutError` after ``timeout`` seconds (None waits forever).  Needed
    by processes that notify and exit at once, which systemd may otherwise fail to
    attribute to their unit.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    address = os.environ.get("NOTIFY_SOCKET")
    read_end, write_end = os.pipe()  # both O_CLOEXEC
    try:
        try:
            sent = _send(b"BARRIER=1", [write_end], pid=None, timeout=timeout)
        finally:
            os.close(write_end)
            if unset_environment:
                os.environ.pop("NOTIFY_SOCKET", None)
        if not sent:
            return False
        poller = select.poll()
        poller.register(read_end, 0)  # POLLHUP is always reported
        wait_ms = (
            None if deadline is None else max(0, math.ceil((deadline - time.monotonic()) * 1000))
        )
        if not poller.poll(wait_ms):
            raise NotifyTimeoutError(
                f"the service manager did not answer the barrier within {timeout} s",
                address=address,
                errno=_errno.ETIMEDOUT,
            )
        return True
    finally:
        os.close(read_end)


# -------------------------------------------------------------------------- listen_fds


class ListenFd(NamedTuple):
    """A file descriptor passed by the manager: a socket, a FIFO, or one from the fd store.

    ``name`` is its ``FileDescriptorName=`` (the socket unit's name by default), its
    ``FDNAME=`` (``"stored"`` by default) or ``"unknown"`` when the manager sent no names.

    It stands for its fd number wherever one is expected, as the plain ints of
    python-systemd's ``listen_fds()`` did: ``socket.socket(fileno=entry)``,
    ``os.fstat(entry)``, ``os.read(entry, n)``, ``select.select([entry], ...)``,
    ``loop.add_reader(entry, ...)``, ``int(entry)`` (``__index__`` and ``fileno()``).  It
    stays a ``(fd, name)`` pair: ``fd, name = entry``, and ``entry == 3`` is False (compare
    ``entry.fd``).
    """

    fd: int
    name: str

    def __index__(self) -> int:
        return self.fd

    def fileno(self) -> int:
        """The fd number (for select, selectors, asyncio and anything taking a file)."""
        return self.fd

    def is_socket(self) -> bool:
        return stat.S_ISSOCK(os.fstat(self.fd).st_mode)

    def socket(self) -> _socket.socket:
        """A :class:`socket.socket` owning the fd (family and type read from it).

        Raises OSError (ENOTSOCK) when the fd is not a socket.
        """
        return _socket.socket(fileno=self.fd)


def _env_number(variable: str, text: str, low: int, high: int) -> int:
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidDaemonEnvironmentError(
            f"${variable}={text!r} is not a number from {low} to {high}", variable=variable
        )
    return int(text)


def _unset(unset_environment: bool, *names: str) -> None:
    if unset_environment:
        for name in names:
            os.environ.pop(name, None)


def listen_fds(*, unset_environment: bool = False) -> list[ListenFd]:
    """The file descriptors the manager passed to this process, with their names
    (``sd_listen_fds_with_names()``); ``[]`` when none were passed to *this* process.

    They start at fd 3 and are set close-on-exec (as sd_listen_fds() does): pass them on
    explicitly if a child should have them.  ``$LISTEN_PID`` must be ours, so inherited
    variables of a parent are ignored; ``unset_environment`` removes the variables
    (whatever happened).  Raises :class:`InvalidDaemonEnvironmentError` when they are
    malformed or an fd they announce is not open.
    """
    env = os.environ
    try:
        pid_text = env.get("LISTEN_PID")
        if pid_text is None:
            return []
        if _env_number("LISTEN_PID", pid_text, 1, _PID_MAX) != os.getpid():
            return []  # for another process (we inherited its environment)
        count_text = env.get("LISTEN_FDS")
        if count_text is None:
            return []
        count = _env_number("LISTEN_FDS", count_text, 1, _INT_MAX - LISTEN_FDS_START)
        names_text = env.get("LISTEN_FDNAMES")
        names = ["unknown"] * count
        if names_text is not None:
            names = names_text.split(":") if names_text else []
            if len(names) != count:
                raise InvalidDaemonEnvironmentError(
                    f"$LISTEN_FDNAMES has {len(names)} names for {count} fds",
                    variable="LISTEN_FDNAMES",
                )
        fds = range(LISTEN_FDS_START, LISTEN_FDS_START + count)
        for fd in fds:
            try:
                os.set_inheritable(fd, False)
            except OSError as exc:
                raise InvalidDaemonEnvironmentError(
                    f"$LISTEN_FDS={count} but fd {fd} is not open ({exc.strerror})",
                    variable="LISTEN_FDS",
                    hint="something closed the passed fds before listen_fds() was called",
                ) from exc
        return [ListenFd(fd, name) for fd, name in zip(fds, names, strict=True)]
    finally:
        _unset(unset_environment, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")


def listen_sockets(
    name: str | None = None, *, unset_environment: bool = False
) -> list[_socket.socket]:
    """The passed sockets as :class:`socket.socket` objects of the right family and type,
    in order; only those named ``name`` when given.

    Each object owns its fd (closing it closes the fd).  Passed fds that are not sockets
    (FIFOs, fd-store entries) are left alone: get them from :func:`listen_fds`.
    """
    return [
        entry.socket()
        for entry in listen_fds(unset_environment=unset_environment)
        if (name is None or entry.name == name) and entry.is_socket()
    ]


# ---------------------------------------------------------------------------- watchdog


def _watchdog_usec(unset_environment: bool) -> int | None:
    """sd_watchdog_enabled(): WATCHDOG_USEC when it is for this process, else None."""
    env = os.environ
    try:
        usec_text = env.get("WATCHDOG_USEC")
        if usec_text is None:
            return None
        usec = _env_number("WATCHDOG_USEC", usec_text, 1, _USEC_INFINITY - 1)
        pid_text = env.get("WATCHDOG_PID")
        if pid_text is not None and _env_number("WATCHDOG_PID", pid_text, 1, _PID_MAX) != (
            os.getpid()
        ):
            return None
        return usec
    finally:
        _unset(unset_environment, "WATCHDOG_USEC", "WATCHDOG_PID")


def watchdog_enabled(*, unset_environment: bool = False) -> bool:
    """True when the manager expects ``WATCHDOG=1`` keep-alives from this process
    (``WatchdogSec=``; ``$WATCHDOG_USEC``, and ``$WATCHDOG_PID`` is ours or unset)."""
    return _watchdog_usec(unset_environment) is not None


def watchdog_timeout(*, unset_environment: bool = False) -> timedelta | None:
    """The watchdog period (``WatchdogSec=``) for this process, None when not enabled."""
    usec = _watchdog_usec(unset_environment)
    return None if usec is None else timedelta(microseconds=usec)


def watchdog_interval(*, unset_environment: bool = False) -> float | None:
    """Seconds between keep-alives: half the watchdog period, as systemd recommends;
    None when the watchdog is not enabled.  For ``time.sleep()`` and ``select`` timeouts."""
    usec = _watchdog_usec(unset_environment)
    return None if usec is None else usec / 2 / 1_000_000


class Watchdog:
    """``WatchdogSec=`` keep-alive bookkeeping for your own loop: no thread, no timer.

    ::

        wd = Watchdog()
        while running:
            handle_events(timeout=wd.time_left())   # None: no watchdog, wait as long as you like
            wd.ping_if_due()

    When the watchdog is not enabled, :meth:`ping_if_due` never sends and
    :meth:`time_left` is None.
    """

    def __init__(
        self, *, unset_environment: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        usec = _watchdog_usec(unset_environment)
        self.timeout: timedelta | None = None if usec is None else timedelta(microseconds=usec)
        self._clock = clock
        self._last = clock()

    def __repr__(self) -> str:
        return f"<Watchdog timeout={self.timeout} interval={self.interval}>"

    @property
    def enabled(self) -> bool:
        return self.timeout is not None

    @property
    def interval(self) -> float | None:
        """Seconds between pings (half the timeout), None when not enabled."""
        return None if self.timeout is None else self.timeout.total_seconds() / 2

    def time_left(self) -> float | None:
        """Seconds until the next ping is due (0 when overdue), None when not enabled."""
        interval = self.interval
        if interval is None:
            return None
        return max(0.0, self._last + interval - self._clock())

    def due(self) -> bool:
        return self.time_left() == 0.0

    def ping(self) -> bool:
        """Send ``WATCHDOG=1`` now; False when there is no ``$NOTIFY_SOCKET``."""
        sent = notify(watchdog=True)
        self._last = self._clock()
        return sent

    def ping_if_due(self) -> bool:
        """Ping when half the period has passed since the last one; True when it did."""
        return self.ping() if self.due() else False

    def trigger(self) -> bool:
        """``WATCHDOG=trigger``: have systemd act as if the watchdog expired."""
        return notify(watchdog="trigger")

    def set_timeout(self, timeout: timedelta) -> bool:
        """Change the period at runtime (``WATCHDOG_USEC=``); it restarts the countdown."""
        sent = notify(watchdog_usec=timeout)
        usec = timeout // timedelta(microseconds=1)
        self.timeout = timedelta(microseconds=usec) if usec > 0 else None
        self._last = self._clock()
        return sent
