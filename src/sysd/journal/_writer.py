"""Writing to the journal over journald's native protocol (``sd_journal_sendv()``).

One datagram to ``/run/systemd/journal/socket`` per entry: ``NAME=value\\n`` per field,
or ``NAME\\n`` + 64-bit little-endian length + value + ``\\n`` for a value holding a
newline.  When the kernel refuses the datagram as too large, the same payload goes
into a sealed memfd whose descriptor is passed instead (``SCM_RIGHTS``), as
``src/libsystemd/sd-journal/journal-send.c`` does.  Field names are checked
beforehand (``InvalidJournalFieldError``); unlike libsystemd, a missing journald is an
error (``JournalNotFoundError``), not silence.
"""

from __future__ import annotations

import array
import atexit
import errno as _errno
import os
import socket
import struct
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .._interrupt import CriticalSection
from ._errors import (
    InvalidJournalFieldError,
    JournalError,
    JournalNotFoundError,
    JournalPermissionError,
)
from ._query import PRIORITY_NAMES, field_valid

__all__ = ["JOURNAL_SOCKET", "encode", "send", "send_fields"]

JOURNAL_SOCKET: Final = "/run/systemd/journal/socket"
_SNDBUF: int = 8 * 1024 * 1024  # SNDBUF_SIZE in journal-send.c
_TOO_BIG: Final = frozenset({_errno.EMSGSIZE, _errno.ENOBUFS, _errno.EAGAIN})

FieldValue = str | bytes | int | float
Fields = Mapping[str, FieldValue | Iterable[FieldValue]] | Iterable[tuple[str, FieldValue]]


def _value_bytes(name: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidJournalFieldError(
            f"field {name}: a value must be str, bytes or a number, not {type(value).__name__}",
            field=name,
        )
    return str(value).encode()


def _pairs(fields: Fields) -> list[tuple[str, bytes]]:
    """``(NAME, value)`` pairs, checked; a list value gives the field several times."""
    items: Iterable[tuple[str, Any]]
    items = fields.items() if isinstance(fields, Mapping) else fields
    out: list[tuple[str, bytes]] = []
    for pair in items:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise InvalidJournalFieldError(f"expected (NAME, value) pairs, got {pair!r}") from None
        if not isinstance(name, str) or not field_valid(name, allow_protected=False):
            raise InvalidJournalFieldError(
                f"invalid journal field name {name!r}: 1-64 characters of A-Z, 0-9 and _, "
                "not starting with a digit or _ (those are journald's)",
                field=str(name),
            )
        if isinstance(value, (list, tuple)):
            out.extend((name, _value_bytes(name, v)) for v in value)
        else:
            out.append((name, _value_bytes(name, value)))
    return out


def encode(fields: Fields) -> bytes:
    """The native-protocol payload for ``fields`` (no implicit fields added).

    >>> encode([("MESSAGE", "hi"), ("X", b"a\\nb")])
    b'MESSAGE=hi\\nX\\n\\x03\\x00\\x00\\x00\\x00\\x00\\x00\\x00a\\nb\\n'
    """
    parts: list[bytes] = []
    for name, value in _pairs(fields):
        key = name.encode("ascii")
        if b"\n" in value:
            parts += [key, b"\n", struct.pack("<Q", len(value)), value, b"\n"]
        else:
            parts += [key, b"=", value, b"\n"]
    return b"".join(parts)


def _identifier() -> str | None:
    """What libsystemd adds as SYSLOG_IDENTIFIER: the program's short name."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else sys.executable
    name = os.path.basename(argv0 or "") or "python"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return None
    return name


class _Socket:
    """One datagram socket per process (re-created after fork), shared by threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._pid = -1

    def get(self) -> socket.socket:
        pid = os.getpid()
        sock = self._sock
        if sock is not None and self._pid == pid:
            return sock
        with self._lock:
            if self._sock is not None and self._pid == pid:
                return self._sock
            if self._sock is not None:  # the parent's, inherited through fork(): our copy
                self._sock.close()
            sock = None
            try:  # a Ctrl-C in here closes the socket, not the garbage collector
                with CriticalSection():
                    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                for option in (socket.SO_SNDBUF, getattr(socket, "SO_SNDBUFFORCE", 32)):
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, option, _SNDBUF)
                    except OSError:
                        pass
            except BaseException:
                if sock is not None:
                    sock.close()
                raise
            if self._pid == -1:  # a process-lifetime socket: closed at exit, not collected
                atexit.register(self.reset)
            self._sock, self._pid = sock, pid
            return sock

    def reset(self) -> None:
        with self._lock:
            if self._sock is not None and self._pid == os.getpid():
                self._sock.close()
            self._sock = None


_SOCKET = _Socket()


def _error(exc: OSError, path: str) -> JournalError:
    code = exc.errno or _errno.EIO
    if code in (_errno.ENOENT, _errno.ECONNREFUSED, _errno.ENOTDIR):
        return JournalNotFoundError(
            f"cannot write to the journal: {path}: {os.strerror(code)}", path=path, errno=code
        )
    if code in (_errno.EACCES, _errno.EPERM):
        return JournalPermissionError(
            f"cannot write to the journal: {path}: {os.strerror(code)}", path=path, errno=code,
            hint="the journal socket is not writable by this user",
        )  # fmt: skip
    return JournalError(
        f"cannot write to the journal: {path}: {os.strerror(code)}", path=path, errno=code
    )


def _send_memfd(sock: socket.socket, payload: bytes, path: str) -> None:
    import fcntl

    flags = getattr(os, "MFD_CLOEXEC", 1) | getattr(os, "MFD_ALLOW_SEALING", 2)
    fd = os.memfd_create("journal-data", flags)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        seals = 1 | 2 | 4 | 8  # F_SEAL_SEAL | SHRINK | GROW | WRITE: memfd_set_sealed()
        fcntl.fcntl(fd, getattr(fcntl, "F_ADD_SEALS", 1033), seals)
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
        sock.sendmsg([], rights, 0, path)
    finally:
        os.close(fd)


def send_fields(fields: Fields, *, socket_path: str = JOURNAL_SOCKET) -> None:
    """Write one entry made of exactly ``fields`` (``(NAME, value)`` pairs or a mapping).

    Values are str (UTF-8), bytes (anything, also binary) or numbers; a list or tuple
    value repeats the field.  ``SYSLOG_IDENTIFIER`` is added when absent, as
    ``sd_journal_sendv()`` does.  Raises ``InvalidJournalFieldError`` before sending,
    ``JournalNotFoundError`` when journald is not listening.
    """
    pairs = _pairs(fields)
    if not pairs:
        raise InvalidJournalFieldError("an entry needs at least one field")
    if not any(name == "SYSLOG_IDENTIFIER" for name, _ in pairs):
        ident = _identifier()
        if ident is not None:
            pairs.append(("SYSLOG_IDENTIFIER", ident.encode("utf-8", "surrogateescape")))
    payload = encode(pairs)
    sock = _SOCKET.get()
    try:
        try:
            sock.sendto(payload, socket_path)
            return
        except OSError as exc:
            if exc.errno not in _TOO_BIG:
                raise
        _send_memfd(sock, payload, socket_path)
    except OSError as exc:
        raise _error(exc, socket_path) from exc


def _priority(priority: int | str) -> int:
    if isinstance(priority, bool):
        raise InvalidJournalFieldError("priority must be 0-7 or a level name", field="PRIORITY")
    if isinstance(priority, int):
        if 0 <= priority <= 7:
            return priority
    elif isinstance(priority, str) and priority.lower() in PRIORITY_NAMES:
        return PRIORITY_NAMES.index(priority.lower())
    raise InvalidJournalFieldError(
        f"invalid priority {priority!r}: 0-7 or one of {', '.join(PRIORITY_NAMES)}",
        field="PRIORITY",
    )


def send(
    message: str | bytes, priority: int | str | None = 6, **fields: FieldValue | Iterable[Any]
) -> None:
    """Write an entry to the journal: ``MESSAGE``, ``PRIORITY`` and the given fields.

    Field names are upper-cased (``code_file=`` sends ``CODE_FILE``) and must be valid
    journal field names without a leading ``_``.  ``priority``: 0 (emerg) .. 7 (debug)
    or a level name; None sends no PRIORITY.

    >>> send("disk almost full", priority="warning", MOUNT="/srv")  # doctest: +SKIP
    """
    pairs: list[tuple[str, Any]] = [("MESSAGE", message)]
    if priority is not None:
        pairs.append(("PRIORITY", _priority(priority)))
    for name, value in fields.items():
        pairs.append((name.upper(), value))
    send_fields(pairs)
