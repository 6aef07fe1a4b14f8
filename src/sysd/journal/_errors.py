"""The journal's errors (to move into :mod:`sysd.errors` with the rest of the tree)::

    SysdError
    ├── JournalError                 (OSError)           reading or writing the journal failed
    │   ├── JournalNotFoundError     (FileNotFoundError) no journal files / directory / socket
    │   ├── JournalPermissionError   (PermissionError)   journal files exist but are not readable
    │   ├── JournalCorruptError                          a journal file is damaged or truncated
    │   └── LibsystemdNotFoundError                      libsystemd.so.0 could not be loaded
    ├── InvalidJournalFieldError     (ValueError)        bad field name, match or value
    └── InvalidTimestampError        (ValueError)        a since/until text that does not parse

``JournalError`` carries ``path`` (the file, directory or socket concerned, or None)
and ``errno``/``strerror`` (the operating system's, when the error came from it).
"""

from __future__ import annotations

import os as _os
from typing import Any

from ..errors import SysdError

__all__ = [
    "InvalidJournalFieldError",
    "InvalidTimestampError",
    "JournalCorruptError",
    "JournalError",
    "JournalNotFoundError",
    "JournalPermissionError",
    "LibsystemdNotFoundError",
]


def _rebuild(cls: type[JournalError], message: str, kwargs: dict[str, Any]) -> JournalError:
    return cls(message, **kwargs)


class JournalError(SysdError, OSError):
    """Reading or writing the journal failed.

    ``path`` is the journal file, directory or socket concerned (None when there is
    no single one); ``errno`` and ``strerror`` are the operating system's (None when
    the error did not come from it).
    """

    path: str | None

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        errno: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.filename = path
        self.errno = errno
        self.strerror = _os.strerror(errno) if errno is not None else None

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"path": self.path, "errno": self.errno, "hint": self.__dict__.get("hint")}
        return (_rebuild, (type(self), self.text, kwargs))


class JournalNotFoundError(JournalError, FileNotFoundError):
    """No journal to read (no files, missing directory) or to write to (no socket)."""

    hint = "is systemd-journald running? (`systemctl status systemd-journald`)"


class JournalPermissionError(JournalError, PermissionError):
    """Journal files exist, but this process may not read them."""

    hint = "run as root, or add the user to the systemd-journal (or adm) group"


class JournalCorruptError(JournalError):
    """A journal file is damaged or truncated.

    Every entry that could be read before the damage was yielded first; ``path`` names
    the damaged file (``paths`` all of them, when several are), ``cursor`` is the
    cursor of the last entry yielded (None when there was none).
    """

    hint = "entries past the damage are lost; `journalctl --verify` shows where"

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        errno: int | None = None,
        hint: str | None = None,
        paths: tuple[str, ...] = (),
        cursor: str | None = None,
    ) -> None:
        super().__init__(message, path=path, errno=errno, hint=hint)
        self.paths = paths or ((path,) if path else ())
        self.cursor = cursor

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "path": self.path,
            "errno": self.errno,
            "hint": self.__dict__.get("hint"),
            "paths": self.paths,
            "cursor": self.cursor,
        }
        return (_rebuild, (type(self), self.text, kwargs))


class LibsystemdNotFoundError(JournalError):
    """``libsystemd.so.0`` (or a function the journal needs) could not be loaded."""

    hint = "install libsystemd0 (Debian/Ubuntu) or systemd-libs (Fedora/Arch)"


class InvalidJournalFieldError(SysdError, ValueError):
    """A journal field name, match or value is not valid (checked before anything is sent).

    ``field`` is the offending field name or match text.
    """

    field: str | None = None

    def __init__(self, message: str = "", *, field: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.field = field

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_field, (type(self), self.text, self.field, self.__dict__.get("hint")))


def _rebuild_field(
    cls: type[InvalidJournalFieldError], message: str, field: str | None, hint: str | None
) -> InvalidJournalFieldError:
    return cls(message, field=field, hint=hint)


class InvalidTimestampError(SysdError, ValueError):
    """A timestamp such as ``"2024-05-01 10:00"``, ``"-1h"`` or ``"yesterday"`` did not parse.

    ``value`` is the text that was given.
    """

    value: str | None = None

    def __init__(self, message: str = "", *, value: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_ts, (type(self), self.text, self.value, self.__dict__.get("hint")))


def _rebuild_ts(
    cls: type[InvalidTimestampError], message: str, value: str | None, hint: str | None
) -> InvalidTimestampError:
    return cls(message, value=value, hint=hint)
