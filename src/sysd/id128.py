"""128-bit IDs: the machine ID, the boot ID, a unit's invocation ID, and IDs of your own
(sd-id128, in Python; the ``systemd-id128`` tool).  No D-Bus::

    from sysd import id128

    id128.machine_id()                      # UUID('...'), from /etc/machine-id
    id128.machine_id(app_specific=MY_APP)   # the same, hashed for one application
    id128.boot_id()                         # changes at every boot
    id128.invocation_id()                   # this unit's run, None outside a unit
    id128.random()                          # a new v4 UUID (systemd-id128 new)
    id128.format(id128.boot_id(), uuid=True)

Every ID is a :class:`uuid.UUID` (as python-systemd's ``id128`` returns them): ``.hex``
is systemd's plain form, ``str()`` the UUID form.  :func:`parse` takes both forms and
nothing else; bad text raises :class:`~sysd.errors.InvalidId128Error` (a ValueError),
an unreadable ID :class:`~sysd.errors.Id128Error` (an OSError).

Use :func:`app_specific` rather than the raw machine ID in anything that leaves the
machine: systemd's documentation asks for it, the machine ID is meant to stay secret.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno as _errno
import os
import platform
import secrets
import uuid
from typing import Any

from ._core import gpt
from ._core.id128 import (
    NULL,
    Id128Like,
    coerce,
    format,
    is_valid,
    keyring_key_trusted,
    parse,
    parse_file,
    parse_keyring_description,
)
from ._core.id128 import app_specific as _app_specific
from ._core.id128 import from_random_bytes as _from_random_bytes
from .errors import Id128Error, InvalidId128Error

__all__ = [
    "BOOT_ID_PATH",
    "MACHINE_ID_PATH",
    "NULL",
    "Id128Error",
    "Id128Like",
    "InvalidId128Error",
    "app_specific",
    "boot_id",
    "format",
    "invocation_id",
    "is_valid",
    "machine_id",
    "parse",
    "partition_types",
    "random",
]

MACHINE_ID_PATH = "/etc/machine-id"
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
_READ_MAX = 38  # id128_read_fd(): a UUID, a newline, and one byte to notice more


def _read(path: str, accept: Any) -> uuid.UUID:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise Id128Error(
            f"cannot read {path}: {exc.strerror}",
            errno=exc.errno,
            path=path,
            hint="systemd-machine-id-setup creates /etc/machine-id"
            if path == MACHINE_ID_PATH and exc.errno == _errno.ENOENT
            else None,
        ) from exc
    try:
        data = b""
        while len(data) < _READ_MAX:  # loop_read(): short reads are fine
            chunk = os.read(fd, _READ_MAX - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise Id128Error(f"cannot read {path}: {exc.strerror}", errno=exc.errno, path=path) from exc
    finally:
        os.close(fd)
    return parse_file(data, accept=accept, path=path)


def app_specific(base: Id128Like, app_id: Id128Like) -> uuid.UUID:
    """The ID of ``base`` (a machine or boot ID) for one application (``app_id``): what
    ``sd_id128_get_machine_app_specific()`` returns for the machine ID.  Pure; stable
    for a given pair, and the base cannot be recovered from it."""
    return _app_specific(base, app_id)


def machine_id(*, app_specific: Id128Like | None = None) -> uuid.UUID:
    """This machine's ID (``/etc/machine-id``, 32 hex digits; ``sd_id128_get_machine()``).

    With ``app_specific=APP_ID``: the ID for that application
    (``sd_id128_get_machine_app_specific()``, ``systemd-id128 machine-id -a APP_ID``).
    Raises :class:`~sysd.errors.Id128Error` when the file is missing, empty
    (``ENOMEDIUM``), ``uninitialized`` (``ENOPKG``), all zeros or malformed.
    """
    app = None if app_specific is None else coerce(app_specific, "app ID")
    ident = _read(MACHINE_ID_PATH, "plain")
    if ident == NULL:
        raise Id128Error(
            f"the machine ID in {MACHINE_ID_PATH} is all zeros",
            errno=_errno.ENOMEDIUM,
            path=MACHINE_ID_PATH,
        )
    return ident if app is None else _app_specific(ident, app)


def boot_id(*, app_specific: Id128Like | None = None) -> uuid.UUID:
    """The ID of the running boot (``/proc/sys/kernel/random/boot_id``;
    ``sd_id128_get_boot()``), or with ``app_specific=`` its app-specific form
    (``sd_id128_get_boot_app_specific()``)."""
    app = None if app_specific is None else coerce(app_specific, "app ID")
    ident = _read(BOOT_ID_PATH, "uuid")
    return ident if app is None else _app_specific(ident, app)


def random() -> uuid.UUID:
    """A new random ID, a v4 UUID (``sd_id128_randomize()``, ``systemd-id128 new``)."""
    return _from_random_bytes(secrets.token_bytes(16))


def invocation_id() -> uuid.UUID | None:
    """The invocation ID of the unit this process runs in (``sd_id128_get_invocation()``):
    a new one every time the unit starts.

    As systemd 252: ``$INVOCATION_ID`` first (user services, and any unit), then the
    ``invocation_id`` key systemd stores in a system service's session keyring — trusted
    only when root owns it and nobody else may write it.  None when there is none (not
    in a unit, or the keyring is not reachable).  Raises
    :class:`~sysd.errors.InvalidId128Error` when ``$INVOCATION_ID`` is malformed and
    :class:`~sysd.errors.Id128Error` (``EPERM``) for an untrustworthy key.
    """
    text = os.environ.get("INVOCATION_ID")
    if text is not None and not _secure_getenv_blocked():
        try:
            return parse(text)
        except InvalidId128Error as exc:
            raise InvalidId128Error(
                f"$INVOCATION_ID={text!r} is not a 128-bit ID", value=text
            ) from exc
    return _invocation_from_keyring()


def partition_types() -> list[tuple[str, uuid.UUID]]:
    """The GPT partition types systemd knows, by name (``systemd-id128 show``) for this
    machine's architecture (``root``, ``usr``... are its native ones)."""
    return gpt.partition_types(platform.machine())


# ------------------------------------------------------------------------------ keyring


def _secure_getenv_blocked() -> bool:
    # secure_getenv() returns NULL in setuid/setgid processes (AT_SECURE).
    return os.getuid() != os.geteuid() or os.getgid() != os.getegid()


_KEYCTL_DESCRIBE = 6
_KEYCTL_READ = 11
# (request_key, keyctl) system call numbers; libc has no wrappers for them.
_SYSCALLS = {
    "x86_64": (249, 250),
    "aarch64": (218, 219),
    "riscv64": (218, 219),
    "loongarch64": (218, 219),
    "i386": (287, 288),
    "i686": (287, 288),
    "armv7l": (310, 311),
    "ppc64le": (270, 271),
    "s390x": (279, 280),
}
# ENOKEY, ERRNO_IS_NOT_SUPPORTED() and ERRNO_IS_PRIVILEGE(): "no invocation ID" (-ENXIO)
_NOT_THERE = {
    _errno.ENOKEY,
    _errno.EOPNOTSUPP,
    _errno.ENOTTY,
    _errno.ENOSYS,
    _errno.EAFNOSUPPORT,
    _errno.EPFNOSUPPORT,
    _errno.EPROTONOSUPPORT,
    _errno.ESOCKTNOSUPPORT,
    _errno.EPERM,
    _errno.EACCES,
}


def _invocation_from_keyring() -> uuid.UUID | None:
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        return None
    request_key, keyctl = numbers
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    key = syscall(
        ctypes.c_long(request_key),
        ctypes.c_char_p(b"user"),
        ctypes.c_char_p(b"invocation_id"),
        ctypes.c_char_p(None),
        ctypes.c_long(0),
    )
    if key < 0:
        code = ctypes.get_errno()
        if code in _NOT_THERE:
            return None  # no keyring support, locked down, or no key: as -ENXIO
        raise Id128Error(
            f"cannot look up the invocation ID in the keyring: {os.strerror(code)}", errno=code
        )
    size = 256
    while True:
        buf = ctypes.create_string_buffer(size)
        got = syscall(
            ctypes.c_long(keyctl),
            ctypes.c_long(_KEYCTL_DESCRIBE),
            ctypes.c_long(key),
            buf,
            ctypes.c_long(size),
        )
        if got < 0:
            code = ctypes.get_errno()
            raise Id128Error(
                f"cannot describe the invocation ID key: {os.strerror(code)}", errno=code
            )
        if got <= size:
            break
        size = got
    uid, gid, perm = parse_keyring_description(buf.raw[:got])
    if not keyring_key_trusted(uid, gid, perm):
        raise Id128Error(
            f"the invocation_id key in the keyring is not systemd's "
            f"(owner {uid}:{gid}, permissions {perm:08x})",
            errno=_errno.EPERM,
        )
    out = ctypes.create_string_buffer(16)
    got = syscall(
        ctypes.c_long(keyctl),
        ctypes.c_long(_KEYCTL_READ),
        ctypes.c_long(key),
        out,
        ctypes.c_long(16),
    )
    if got < 0:
        code = ctypes.get_errno()
        raise Id128Error(f"cannot read the invocation ID key: {os.strerror(code)}", errno=code)
    if got != 16:
        raise Id128Error(f"the invocation_id key holds {got} bytes, not 16", errno=_errno.EIO)
    return uuid.UUID(bytes=out.raw[:16])
