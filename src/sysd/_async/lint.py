"""``sysd.analyze.verify()``: the offline unit-file linter, reading the files.

``src/sysd/_sync/lint.py`` is generated from this file by ``tools/unasync.py``: write async code
here, never edit the generated twin.  The parsing is :mod:`sysd._core.lint` (no I/O); this
module reads each file (off the event loop in the asyncio flavour) and turns what can go wrong
with it into typed errors naming the file.  No manager, bus or root is needed.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable

from .._core.lint import MAX_FILE_SIZE, LintFinding, LintReport, lint, masked_message, unit_type_of
from .._core.unitfiles import error_from_os
from ..errors import InvalidUnitFileError, UnitFileError
from ._backend import to_thread

__all__ = ["verify"]

StrPath = str | os.PathLike[str]


def _read(path: str) -> bytes | None:
    """The file's bytes; None for a mask (a symlink to /dev/null)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise _directory(path) from None
        raise error_from_os(exc, "read", path) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _directory(path)
        if stat.S_ISCHR(st.st_mode) and os.path.realpath(path) == os.devnull:
            return None
        if not stat.S_ISREG(st.st_mode):
            raise UnitFileError(
                f"cannot read {path}: not a regular file", path=path, errno=errno.EINVAL
            )
        if st.st_size > MAX_FILE_SIZE:
            raise InvalidUnitFileError(
                f"{path}: too large for a unit file ({st.st_size} bytes, at most {MAX_FILE_SIZE})"
            )
        chunks = []
        left = MAX_FILE_SIZE + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        if isinstance(exc, UnitFileError):
            raise
        raise error_from_os(exc, "read", path) from None
    finally:
        os.close(fd)


def _directory(path: str) -> UnitFileError:
    return UnitFileError(
        f"cannot read {path}: it is a directory",
        path=path,
        errno=errno.EISDIR,
        hint="give the unit files in it (e.g. DIR/*.service), or a drop-in's .conf files",
    )


def _paths(paths: StrPath | Iterable[StrPath]) -> list[str]:
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    if isinstance(paths, bytes):
        raise InvalidUnitFileError("unit file paths must be str or os.PathLike, not bytes")
    out = []
    for p in paths:
        if not isinstance(p, str | os.PathLike):
            raise InvalidUnitFileError(
                f"unit file paths must be str or os.PathLike, not {type(p).__name__} ({p!r})"
            )
        out.append(os.fspath(p))
    return out


def _verify(paths: list[str], strict: bool) -> LintReport:
    findings = []
    for path in paths:
        if os.path.isdir(path):
            raise _directory(path)
        unit_type_of(path)  # a name that is no unit file's: refused before reading it
        data = _read(path)
        if data is None:
            findings.append(LintFinding(path, 0, "error", None, None, masked_message(path)))
            continue
        findings += lint(path, data)
    return LintReport(tuple(findings), tuple(paths), strict)


async def verify(paths: StrPath | Iterable[StrPath], strict: bool = False) -> LintReport:
    """Check unit files and drop-ins offline, as systemd 252 parses them when it loads them.

    ``paths``: one path or several -- unit files (``foo.service``, ``bar@.timer``) and drop-ins
    (``foo.service.d/override.conf``, whose directory says the unit type).  Each
    :class:`~sysd.analyze.LintFinding` is one message systemd 252 logs for the file (unknown
    key or section, a value its parser refuses, a bad specifier, ...), at the same line; see
    docs/analyze.md for what is checked and where sysd is stricter.  ``strict=True``: the
    report is not ``ok`` when there is any warning (systemd only warns about an unknown key).

    No manager, bus or root is needed.  A path that cannot be linted raises a typed error
    naming it: :class:`~sysd.errors.UnitFileNotFoundError`,
    :class:`~sysd.errors.UnitFilePermissionError`, :class:`~sysd.errors.UnitFileError` (a
    directory, a FIFO), :class:`~sysd.errors.InvalidUnitFileError` (no unit file name, binary
    data, more than 4 MiB).
    """
    return await to_thread(_verify, _paths(paths), strict)
