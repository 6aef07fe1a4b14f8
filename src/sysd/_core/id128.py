"""128-bit IDs as systemd 252 reads, writes and derives them (sd-id128.c, id128-util.c).

Pure: strings and bytes in, :class:`uuid.UUID` out.  The file and keyring reading is in
:mod:`sysd.id128`.

* :func:`parse` is ``sd_id128_from_string()``: 32 hex digits, or the UUID form with its
  four dashes in their places; nothing else (no braces, no ``urn:uuid:``, no spaces).
* :func:`format` is ``sd_id128_to_string()`` (plain, lower case) or
  ``sd_id128_to_uuid_string()``.
* :func:`parse_file` is ``id128_read_fd()``: what ``/etc/machine-id`` (plain only) and
  ``/proc/sys/kernel/random/boot_id`` (UUID only) may contain.
* :func:`app_specific` is ``sd_id128_get_machine_app_specific()``'s derivation:
  HMAC-SHA256 keyed with the base ID over the app ID, the first 16 bytes made a v4 UUID.
* :func:`make_v4` is ``id128_make_v4_uuid()``; :func:`from_random_bytes` what
  ``sd_id128_randomize()`` does with 16 random bytes.
"""

from __future__ import annotations

import errno as _errno
import hashlib
import hmac
import uuid
from typing import Literal

from ..errors import Id128Error, InvalidId128Error

__all__ = [
    "NULL",
    "Id128Like",
    "app_specific",
    "coerce",
    "format",
    "from_random_bytes",
    "is_valid",
    "make_v4",
    "parse",
    "parse_file",
    "parse_keyring_description",
]

NULL = uuid.UUID(int=0)
"""SD_ID128_NULL: systemd's "no ID" (a machine-id of all zeros is refused)."""

PLAIN_LENGTH = 32  # SD_ID128_STRING_MAX - 1
UUID_LENGTH = 36  # SD_ID128_UUID_STRING_MAX - 1
_HEX = frozenset("0123456789abcdefABCDEF")
_DASHES = (8, 13, 18, 23)

Id128Like = uuid.UUID | str | bytes
"""What the functions here accept as an ID: a UUID, its text in either form, or 16 bytes."""


def parse(text: str) -> uuid.UUID:
    """An ID from 32 hex digits or the UUID form (``sd_id128_from_string()``).

    Upper and lower case are both accepted; nothing around the digits is.  Raises
    :class:`~sysd.errors.InvalidId128Error` (a ValueError) otherwise.
    """
    if not isinstance(text, str):
        raise InvalidId128Error(
            f"an ID is a string of 32 hex digits or a UUID, not {type(text).__name__}",
            value=repr(text),
        )
    n = len(text)
    if n == PLAIN_LENGTH:
        ok = all(c in _HEX for c in text)
    elif n == UUID_LENGTH:
        ok = all((c == "-") if i in _DASHES else (c in _HEX) for i, c in enumerate(text))
    else:
        ok = False
    if not ok:
        raise InvalidId128Error(
            f"{text!r} is not a 128-bit ID",
            value=text,
            hint="use 32 hex digits (systemd-id128 new) or the UUID form "
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
        )
    return uuid.UUID(hex=text.replace("-", ""))


def is_valid(text: str) -> bool:
    """True when :func:`parse` would accept ``text`` (``id128_is_valid()``)."""
    try:
        parse(text)
    except InvalidId128Error:
        return False
    return True


def coerce(value: Id128Like, what: str = "ID") -> uuid.UUID:
    """A UUID from a UUID, its text (either form) or 16 raw bytes."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        return parse(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) != 16:
            raise InvalidId128Error(
                f"a 128-bit {what} is 16 bytes, not {len(raw)}", value=repr(raw)
            )
        return uuid.UUID(bytes=raw)
    raise InvalidId128Error(
        f"the {what} must be a uuid.UUID, a string or 16 bytes, not {type(value).__name__}",
        value=repr(value),
    )


def format(value: Id128Like, *, uuid: bool = False) -> str:
    """``sd_id128_to_string()`` (32 lower-case hex digits) or, with ``uuid=True``,
    ``sd_id128_to_uuid_string()`` (``8-4-4-4-12``)."""
    ident = coerce(value)
    return str(ident) if uuid else ident.hex


def make_v4(value: uuid.UUID) -> uuid.UUID:
    """``id128_make_v4_uuid()``: set the version (4) and variant (DCE) bits."""
    raw = bytearray(value.bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return _uuid(bytes(raw))


def from_random_bytes(raw: bytes) -> uuid.UUID:
    """What ``sd_id128_randomize()`` makes of 16 random bytes: a v4 UUID."""
    if len(raw) != 16:
        raise InvalidId128Error(f"need 16 random bytes, not {len(raw)}")
    return make_v4(_uuid(raw))


def app_specific(base: Id128Like, app_id: Id128Like) -> uuid.UUID:
    """The ID derived for one application from ``base`` (a machine or boot ID).

    ``sd_id128_get_machine_app_specific()`` / ``..._boot_app_specific()``: HMAC-SHA256
    with the base ID's 16 bytes as the key over the app ID's 16 bytes; the first half of
    the digest, made a v4 UUID.  The base cannot be recovered from the result.
    """
    key = coerce(base, "base ID")
    app = coerce(app_id, "app ID")
    digest = hmac.new(key.bytes, app.bytes, hashlib.sha256).digest()
    return make_v4(_uuid(digest[:16]))


def parse_file(
    data: bytes, *, accept: Literal["plain", "uuid", "any"] = "any", path: str | None = None
) -> uuid.UUID:
    """The ID in a file's first bytes (``id128_read_fd()``; read at most 38 of them).

    32 hex digits (``accept="plain"`` or ``"any"``) or a UUID (``"uuid"`` or ``"any"``),
    optionally followed by one newline and nothing else.  Raises
    :class:`~sysd.errors.Id128Error` with errno ``ENOMEDIUM`` for an empty file,
    ``ENOPKG`` for ``uninitialized`` (a machine-id not committed yet) and ``EINVAL``
    for anything else.
    """
    n = len(data)
    where = f" in {path}" if path else ""
    if n == 0:
        raise Id128Error(f"no ID{where}: the file is empty", errno=_errno.ENOMEDIUM, path=path)
    if n in (13, 14):  # "uninitialized" with or without its newline
        if b"uninitialized\n"[:n] == data:
            raise Id128Error(
                f"no ID{where}: it is 'uninitialized' (first boot not complete)",
                errno=_errno.ENOPKG,
                path=path,
            )
        raise _bad(data, where, path)
    text = data[:-1] if n in (PLAIN_LENGTH + 1, UUID_LENGTH + 1) else data
    if len(text) != n and data[-1:] != b"\n":
        raise _bad(data, where, path)
    if len(text) == PLAIN_LENGTH and accept == "uuid":
        raise _bad(data, where, path)
    if len(text) == UUID_LENGTH and accept == "plain":
        raise _bad(data, where, path)
    if len(text) not in (PLAIN_LENGTH, UUID_LENGTH):
        raise _bad(data, where, path)
    try:
        return parse(text.decode("ascii"))
    except (UnicodeDecodeError, InvalidId128Error):
        raise _bad(data, where, path) from None


def parse_keyring_description(description: bytes) -> tuple[int, int, int]:
    """``(uid, gid, perm)`` from a key's ``KEYCTL_DESCRIBE`` text
    (``type;uid;gid;perm;description``), as get_invocation_from_keyring() reads it."""
    text = description.rstrip(b"\0").decode("ascii", "replace")
    parts = text.rsplit(";", 4)
    if len(parts) != 5:
        raise Id128Error(
            f"unexpected key description {text!r} for the invocation ID", errno=_errno.EIO
        )
    _type, uid, gid, perm, _desc = parts
    try:
        return int(uid), int(gid), int(perm, 16)
    except ValueError:
        raise Id128Error(
            f"unexpected key description {text!r} for the invocation ID", errno=_errno.EIO
        ) from None


#: KEY_POS_VIEW|KEY_POS_READ|KEY_POS_SEARCH|KEY_USR_VIEW|KEY_USR_READ|KEY_USR_SEARCH
KEYRING_MAX_PERMS = 0x01000000 | 0x02000000 | 0x08000000 | 0x00010000 | 0x00020000 | 0x00080000


def keyring_key_trusted(uid: int, gid: int, perm: int) -> bool:
    """Whether systemd 252 trusts an ``invocation_id`` key: owned by root:root, and no
    permission beyond view/read/search for possessor and user (so only PID 1 wrote it)."""
    return uid == 0 and gid == 0 and perm & ~KEYRING_MAX_PERMS == 0


def _uuid(raw: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=raw)


def _bad(data: bytes, where: str, path: str | None) -> Id128Error:
    shown = data[:40].decode("ascii", "backslashreplace")
    return Id128Error(f"no valid ID{where}: {shown!r}", errno=_errno.EINVAL, path=path)
