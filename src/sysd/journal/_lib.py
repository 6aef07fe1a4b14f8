"""ctypes bindings of sd-journal in ``libsystemd.so.0`` (no headers, no build step).

The prototypes are declared here from ``man/sd_journal_*.xml``.  The calls that run once
per entry or field (next, enumerate_data, the timestamps, the cursor) go through a
``PyDLL`` handle, which keeps the GIL: they only touch memory-mapped files and a
GIL release/re-acquire would cost more than the call.  Everything that may block
(open, seek, wait, process) goes through a ``CDLL`` handle, which releases it.

Data pointers returned by libsystemd are copied with a slice of a ``c_char`` array
spanning the address space: a plain ``PyBytes_FromStringAndSize`` with no foreign
call, about three times cheaper than ``ctypes.string_at``.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final

from ..errors import InvalidCallError
from . import _sigbus
from ._entry import Entry
from ._errors import (
    JournalCorruptError,
    JournalError,
    JournalNotFoundError,
    JournalPermissionError,
    LibsystemdNotFoundError,
)

__all__ = ["SD_JOURNAL_LOCAL_ONLY", "Journal", "journal_error", "lib"]

SD_JOURNAL_LOCAL_ONLY: Final = 1
SD_JOURNAL_RUNTIME_ONLY: Final = 2
SD_JOURNAL_SYSTEM: Final = 4
SD_JOURNAL_CURRENT_USER: Final = 8

SD_JOURNAL_NOP: Final = 0
SD_JOURNAL_APPEND: Final = 1
SD_JOURNAL_INVALIDATE: Final = 2

_SONAME: Final = "libsystemd.so.0"
_DAMAGE_ERRNOS: Final = frozenset(
    {_errno.EBADMSG, _errno.ENODATA, _errno.EADDRNOTAVAIL, _errno.EPROTONOSUPPORT, _errno.EIO}
)

_p = ctypes.c_void_p
_int = ctypes.c_int
_u64 = ctypes.c_uint64
_size = ctypes.c_size_t
_str = ctypes.c_char_p


class _Id128(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint8 * 16)]


# (name, restype, argtypes, hot): hot ones go through PyDLL with argtypes left unset (the
# arguments are pre-built byref objects and the handle), the others through CDLL, typed.
_PROTOTYPES: Final[list[tuple[str, Any, list[Any] | None, bool]]] = [
    ("sd_journal_open", _int, [ctypes.POINTER(_p), _int], False),
    ("sd_journal_open_directory", _int, [ctypes.POINTER(_p), _str, _int], False),
    ("sd_journal_open_files_fd", _int, [ctypes.POINTER(_p), ctypes.POINTER(_int), ctypes.c_uint,
                                        _int], False),
    ("sd_journal_close", None, [_p], False),
    ("sd_journal_set_data_threshold", _int, [_p, _size], False),
    ("sd_journal_add_match", _int, [_p, ctypes.c_char_p, _size], False),
    ("sd_journal_add_disjunction", _int, [_p], False),
    ("sd_journal_add_conjunction", _int, [_p], False),
    ("sd_journal_flush_matches", None, [_p], False),
    ("sd_journal_seek_head", _int, [_p], False),
    ("sd_journal_seek_tail", _int, [_p], False),
    ("sd_journal_seek_realtime_usec", _int, [_p, _u64], False),
    ("sd_journal_seek_cursor", _int, [_p, _str], False),
    ("sd_journal_test_cursor", _int, [_p, _str], False),
    ("sd_journal_next_skip", _int, [_p, _u64], False),
    ("sd_journal_previous_skip", _int, [_p, _u64], False),
    ("sd_journal_get_usage", _int, [_p, ctypes.POINTER(_u64)], False),
    ("sd_journal_get_fd", _int, [_p], False),
    ("sd_journal_get_timeout", _int, [_p, ctypes.POINTER(_u64)], False),
    ("sd_journal_process", _int, [_p], False),
    ("sd_journal_wait", _int, [_p, _u64], False),
    ("sd_journal_query_unique", _int, [_p, _str], False),
    ("sd_journal_enumerate_unique", _int, [_p, ctypes.POINTER(_p), ctypes.POINTER(_size)], False),
    ("sd_journal_restart_unique", None, [_p], False),
    ("sd_journal_get_catalog_for_message_id", _int, [_Id128, ctypes.POINTER(_p)], False),
    ("sd_journal_enumerate_fields", _int, [_p, ctypes.POINTER(ctypes.c_char_p)], False),
    ("sd_journal_restart_fields", None, [_p], False),
    ("sd_journal_get_cutoff_realtime_usec", _int, [_p, ctypes.POINTER(_u64),
                                                   ctypes.POINTER(_u64)], False),
    ("sd_journal_get_cutoff_monotonic_usec", _int, [_p, _Id128, ctypes.POINTER(_u64),
                                                    ctypes.POINTER(_u64)], False),
    ("sd_journal_next", _int, None, True),
    ("sd_journal_previous", _int, None, True),
    ("sd_journal_enumerate_data", _int, None, True),
    ("sd_journal_restart_data", None, None, True),
    ("sd_journal_get_data", _int, None, True),
    ("sd_journal_get_realtime_usec", _int, None, True),
    ("sd_journal_get_monotonic_usec", _int, None, True),
    ("sd_journal_get_cursor", _int, None, True),
]  # fmt: skip


class _Lib:
    """The loaded library: one attribute per function of :data:`_PROTOTYPES`."""

    def __init__(self) -> None:
        try:
            slow = ctypes.CDLL(_SONAME, use_errno=True)
            fast = ctypes.PyDLL(_SONAME)
        except OSError as exc:
            raise LibsystemdNotFoundError(
                f"cannot read the journal: {_SONAME} could not be loaded ({exc})", path=_SONAME
            ) from None
        for name, restype, argtypes, hot in _PROTOTYPES:
            try:
                func = getattr(fast if hot else slow, name)
            except AttributeError:
                raise LibsystemdNotFoundError(
                    f"{_SONAME} has no {name}() (systemd too old?)", path=_SONAME
                ) from None
            func.restype = restype
            if argtypes is not None:
                func.argtypes = argtypes
            setattr(self, name[3:], func)  # "sd_journal_next" -> self.journal_next
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "free"):  # pragma: no cover - a libc not in the global namespace
            from ctypes.util import find_library  # it imports subprocess: only here

            libc = ctypes.CDLL(find_library("c"))
        self.free = libc.free
        self.free.restype = None

    def __getattr__(self, name: str) -> Any:  # for mypy: the functions are set dynamically
        raise AttributeError(name)


_LIB: _Lib | None = None


def lib() -> _Lib:
    """The library, loaded on first use (``LibsystemdNotFoundError`` when it cannot be)."""
    global _LIB
    if _LIB is None:
        _LIB = _Lib()
    return _LIB


def catalog_for_message_id(message_id: str) -> str | None:
    """The catalog text for a MESSAGE_ID (32 hex digits), its ``@FIELD@`` unreplaced; None
    when the catalog has none (or there is no catalog database)."""
    lib_ = lib()
    mid = _Id128()
    mid.bytes[:] = list(bytes.fromhex(message_id))
    text = ctypes.c_void_p()
    r = lib_.journal_get_catalog_for_message_id(mid, ctypes.byref(text))
    if r < 0 or text.value is None:
        return None  # -ENOENT: no entry (or no database): journalctl prints nothing then
    try:
        return ctypes.string_at(text.value).decode("utf-8", "replace")
    finally:
        lib_.free(ctypes.c_void_p(text.value))


def journal_error(
    r: int, what: str, *, path: str | None = None, cursor: str | None = None
) -> JournalError:
    """The typed error for a negative errno returned by sd-journal."""
    code = -r
    text = f"{what}: {os.strerror(code)}"
    if code == _errno.ENOENT:
        return JournalNotFoundError(text, path=path, errno=code)
    if code in (_errno.EACCES, _errno.EPERM):
        return JournalPermissionError(text, path=path, errno=code)
    if code in _DAMAGE_ERRNOS:
        return JournalCorruptError(text, path=path, errno=code, cursor=cursor)
    if code == _errno.ECHILD:
        return JournalError(
            text,
            path=path,
            errno=code,
            hint="a journal opened before fork() cannot be used in the child; open it again there",
        )
    return JournalError(text, path=path, errno=code)


# A c_char array over the whole address space: ``_MEM[a:a + n]`` copies n bytes at a.
_MEM: Final[Any] = (ctypes.c_char * sys.maxsize).from_address(0) if sys.maxsize > 2**62 else None


class Journal:
    """One ``sd_journal`` handle.  Not thread-safe; closed by :meth:`close` (idempotent)."""

    def __init__(self, handle: ctypes.c_void_p, description: str, fds: Sequence[int] = ()) -> None:
        self._lib = lib()
        _sigbus.install()  # journald truncates files it archives: survive reading them
        self.handle = handle
        self.description = description
        self._fds = list(fds)  # journal files opened by fd: ours to close after the handle
        self.closed = False
        # out-parameters, allocated once; the hot calls get pre-built byref() objects
        self._ptr = (ctypes.c_uint64 * 2)()  # data pointer, size
        self._ptr_view = memoryview(self._ptr).cast("B").cast("Q")
        self._ts = (ctypes.c_uint64 * 4)()  # realtime, monotonic, boot id (16 bytes)
        self._ts_view = memoryview(self._ts).cast("B").cast("Q")
        self._boot = (ctypes.c_char * 16).from_buffer(self._ts, 16)
        self._cursor = ctypes.c_char_p()
        self._timeout = ctypes.c_uint64()
        self._timeout_ref = ctypes.byref(self._timeout)
        self._set_threshold()

    def _set_threshold(self) -> None:
        r = self._lib.journal_set_data_threshold(self.handle, 0)  # full-size values
        if r < 0:
            raise journal_error(r, "cannot set the data threshold")

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, flags: int = SD_JOURNAL_LOCAL_ONLY) -> Journal:
        """The local journal (system, and the user's own when not privileged)."""
        handle = ctypes.c_void_p()
        r = lib().journal_open(ctypes.byref(handle), flags)
        if r < 0:
            raise journal_error(r, "cannot open the journal")
        return cls(handle, "the journal")

    @classmethod
    def open_directory(cls, path: str) -> Journal:
        handle = ctypes.c_void_p()
        r = lib().journal_open_directory(ctypes.byref(handle), os.fsencode(path), 0)
        if r < 0:
            raise journal_error(r, f"cannot open the journal directory {path}", path=path)
        return cls(handle, path)

    @classmethod
    def open_fds(cls, fds: Sequence[int], description: str) -> Journal:
        """Journal files by descriptor (they stay ours: closed by :meth:`close`)."""
        handle = ctypes.c_void_p()
        array = (ctypes.c_int * len(fds))(*fds)
        r = lib().journal_open_files_fd(ctypes.byref(handle), array, len(fds), 0)
        if r < 0:
            for fd in fds:
                os.close(fd)
            raise journal_error(r, f"cannot open the journal files of {description}")
        return cls(handle, description, fds)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._lib.journal_close(self.handle)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    @property
    def _h(self) -> ctypes.c_void_p:
        """The handle, checked first: a closed one is freed memory to libsystemd."""
        if self.closed:
            raise JournalError("the journal reader is closed")
        return self.handle

    def _check(self, r: int, what: str) -> int:
        if r < 0:
            raise journal_error(r, what)
        return r

    # ------------------------------------------------------------------ matches

    def add_match(self, match: bytes) -> None:
        self._check(self._lib.journal_add_match(self._h, match, len(match)),
                    f"bad match {match[:80]!r}")  # fmt: skip

    def add_disjunction(self) -> None:
        self._check(self._lib.journal_add_disjunction(self._h), "cannot add a disjunction")

    def add_conjunction(self) -> None:
        self._check(self._lib.journal_add_conjunction(self._h), "cannot add a conjunction")

    def flush_matches(self) -> None:
        self._lib.journal_flush_matches(self._h)

    # --------------------------------------------------------------- positions

    def seek_head(self) -> None:
        self._check(self._lib.journal_seek_head(self._h), "cannot seek to the head")

    def seek_tail(self) -> None:
        self._check(self._lib.journal_seek_tail(self._h), "cannot seek to the tail")

    def seek_realtime(self, usec: int) -> None:
        self._check(self._lib.journal_seek_realtime_usec(self._h, usec), "cannot seek")

    def seek_cursor(self, cursor: str) -> None:
        r = self._lib.journal_seek_cursor(self._h, cursor.encode("utf-8", "replace"))
        if r == -_errno.EINVAL:
            raise InvalidCallError(
                f"invalid journal cursor {cursor!r}", hint="use an Entry.cursor as it is"
            )
        self._check(r, f"cannot seek to cursor {cursor!r}")

    def test_cursor(self, cursor: str) -> bool:
        r: int = self._lib.journal_test_cursor(self._h, cursor.encode())
        return r > 0

    def next(self) -> bool:
        return self._check(self._lib.journal_next(self._h), "cannot read the journal") > 0

    def previous(self) -> bool:
        return self._check(self._lib.journal_previous(self._h), "cannot read the journal") > 0

    def previous_skip(self, n: int) -> int:
        return self._check(self._lib.journal_previous_skip(self._h, n), "cannot read the journal")

    def realtime(self) -> int:
        self._check(
            self._lib.journal_get_realtime_usec(self._h, ctypes.byref(self._ts, 0)),
            "cannot read a timestamp",
        )
        return int(self._ts_view[0])

    # ----------------------------------------------------------------- reading

    def get_data(self, field: bytes) -> bytes | None:
        """The current entry's value of one field (first occurrence), None when absent."""
        lib_ = self._lib
        r = lib_.journal_get_data(
            self._h, field, ctypes.byref(self._ptr, 0), ctypes.byref(self._ptr, 8)
        )
        if r == -_errno.ENOENT:
            return None
        self._check(r, f"cannot read field {field.decode(errors='replace')}")
        address, size = self._ptr_view
        start = len(field) + 1
        return self._copy(address + start, size - start)

    def _copy(self, address: int, size: int) -> bytes:
        if _MEM is not None:
            data: bytes = _MEM[address : address + size]
            return data
        return ctypes.string_at(address, size)  # pragma: no cover - 32-bit

    def read_batch(
        self,
        limit: int,
        *,
        forward: bool = True,
        current: bool = False,
        fields: Sequence[bytes] | None = None,
        message_filter: Callable[[bytes | None], bool] | None = None,
    ) -> tuple[list[Entry], bool, JournalError | None]:
        """Up to ``limit`` entries, moving forward (or backward) from the current position.

        ``current``: the journal already stands on an entry to read before moving.
        ``fields``: read only these fields (names as bytes), else every field.
        ``message_filter``: skip entries whose raw MESSAGE (None: absent) it refuses,
        without reading their other fields; skipped entries count toward ``limit``.
        Returns ``(entries, at_end, error)``: ``at_end`` when the journal ran out before
        ``limit``; ``error`` is a damaged entry or file met after ``entries`` (the reader
        stands on the entry before it).
        """
        lib_ = self._lib
        h = self._h
        step = lib_.journal_next if forward else lib_.journal_previous
        if not current:  # first step before the set-up: an idle poll costs one call
            r = step(h)
            if r <= 0:
                return [], True, (self._damage(r, []) if r < 0 else None)
            current = True
        enum = lib_.journal_enumerate_data
        get_data = lib_.journal_get_data
        get_rt = lib_.journal_get_realtime_usec
        get_mono = lib_.journal_get_monotonic_usec
        get_cursor = lib_.journal_get_cursor
        free = lib_.free
        ptr = self._ptr
        b_data = ctypes.byref(ptr, 0)
        b_size = ctypes.byref(ptr, 8)
        view = self._ptr_view
        ts = self._ts
        b_rt = ctypes.byref(ts, 0)
        b_mono = ctypes.byref(ts, 8)
        b_boot = ctypes.byref(ts, 16)
        tsv = self._ts_view
        boot = self._boot
        cur = self._cursor
        b_cur = ctypes.byref(cur)
        mem = _MEM
        copy = self._copy
        out: list[Entry] = []
        append = out.append
        for _ in range(limit):
            if current:
                current = False
            else:
                r = step(h)
                if r <= 0:
                    if r < 0:
                        return out, True, self._damage(r, out)
                    return out, True, None
            if message_filter is not None:
                r = get_data(h, b"MESSAGE", b_data, b_size)
                if r >= 0:
                    address, size = view
                    message: bytes | None = copy(address + 8, size - 8)
                elif r == -_errno.ENOENT:
                    message = None
                else:
                    return out, False, self._damage(r, out)
                if not message_filter(message):
                    continue
            items: list[bytes] = []
            if fields is None:
                add = items.append
                while True:
                    r = enum(h, b_data, b_size)
                    if r <= 0:
                        break
                    address, size = view
                    add(mem[address : address + size] if mem is not None else copy(address, size))
                if r < 0 or not items:
                    lib_.journal_restart_data(h)
                    return out, False, self._damage(r if r < 0 else -_errno.EBADMSG, out)
            else:
                for name in fields:
                    r = get_data(h, name, b_data, b_size)
                    if r >= 0:
                        address, size = view
                        items.append(copy(address, size))
                    elif r != -_errno.ENOENT:
                        return out, False, self._damage(r, out)
            if get_cursor(h, b_cur) >= 0:  # the address (t=, m=, b=) is parsed from it
                cursor = cur.value
                free(cur)
                append(Entry(items, None, None, None, cursor))
                continue
            if get_rt(h, b_rt) < 0 or get_mono(h, b_mono, b_boot) < 0:
                return out, False, self._damage(-_errno.EBADMSG, out)
            append(Entry(items, tsv[0], tsv[1], boot.raw, None))
        return out, False, None

    def _damage(self, r: int, read: list[Entry]) -> JournalError:
        cursor = read[-1].cursor if read else None
        error = journal_error(r, f"a damaged entry in {self.description}", cursor=cursor)
        if isinstance(error, JournalNotFoundError):  # a vanished file mid-read is damage too
            error = JournalCorruptError(error.text, errno=error.errno, cursor=cursor)
        return error

    # ----------------------------------------------------------------- waiting

    def get_fd(self) -> int:
        return self._check(self._lib.journal_get_fd(self._h), "cannot watch the journal")

    def process(self) -> int:
        return self._check(self._lib.journal_process(self._h), "cannot watch the journal")

    def timeout_usec(self) -> int:
        """When sd-journal wants :meth:`process` called without an event (µs, CLOCK_MONOTONIC)."""
        self._check(
            self._lib.journal_get_timeout(self._h, self._timeout_ref),
            "cannot watch the journal",
        )
        return int(self._timeout.value)

    # ------------------------------------------------------------ information

    def usage(self) -> int:
        """Bytes of journal files open (0: none could be opened)."""
        value = ctypes.c_uint64()
        self._check(self._lib.journal_get_usage(self._h, ctypes.byref(value)), "cannot read usage")
        return int(value.value)

    def cutoff_monotonic(self, boot_id: str) -> tuple[int, int] | None:
        """The first and last monotonic timestamps of a boot in the open files."""
        boot = _Id128()
        boot.bytes[:] = list(bytes.fromhex(boot_id))
        first, last = ctypes.c_uint64(), ctypes.c_uint64()
        r = self._lib.journal_get_cutoff_monotonic_usec(
            self._h, boot, ctypes.byref(first), ctypes.byref(last)
        )
        self._check(r, "cannot read the journal's time range")
        return (int(first.value), int(last.value)) if r > 0 else None

    def field_names(self) -> list[str]:
        """Every field name used in the open files, each once, in sd-journal's order."""
        lib_ = self._lib
        name = ctypes.c_char_p()
        out: list[str] = []
        lib_.journal_restart_fields(self._h)
        while True:
            r = lib_.journal_enumerate_fields(self._h, ctypes.byref(name))
            if r <= 0:
                if r < 0 and r != -_errno.EBADMSG:
                    raise journal_error(r, "cannot list the field names")
                break
            if name.value is not None:
                out.append(name.value.decode("ascii", "replace"))
        return out

    def unique(self, field: str) -> list[bytes]:
        """Every value ``field`` has in the open files (matches are ignored)."""
        lib_ = self._lib
        self._check(lib_.journal_query_unique(self._h, field.encode()), "cannot query")
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        out: list[bytes] = []
        start = len(field) + 1
        lib_.journal_restart_unique(self._h)
        while True:
            r = lib_.journal_enumerate_unique(self._h, ctypes.byref(data), ctypes.byref(size))
            if r <= 0:
                if r < 0 and r != -_errno.EBADMSG:
                    raise journal_error(r, f"cannot list the values of {field}")
                break
            if data.value is not None:
                out.append(self._copy(data.value + start, size.value - start))
        return out
