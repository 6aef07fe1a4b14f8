"""Journal files on disk: finding them, spotting damaged ones, and reading what is left.

sd-journal refuses a truncated file outright (its header promises more than the file
holds: ``-ENODATA``) and silently leaves it out of a directory.  So that a reader gets
the entries up to the damage and then a typed error, :func:`scan` checks every file's
header first, and :func:`readable_copy` gives sd-journal a private copy whose header
describes only what is really there.  Layout: ``src/libsystemd/sd-journal/
journal-def.h`` (``struct Header``).

A file damaged *under* a reader (truncated, zeroed) is dropped by sd-journal without a
word (``real_journal_next()``: "Can't iterate through %s, ignoring"), so a reader
checks its files again when they may have changed: :class:`Health` remembers each
file's inode, size and mtime and reads again only the headers of files that changed.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Final, NamedTuple

from .._interrupt import CriticalSection

__all__ = [
    "Damage",
    "Health",
    "default_files",
    "directory_files",
    "make_workdir",
    "readable_copy",
    "remove_workdir",
    "scan",
]

SIGNATURE: Final = b"LPKSHHRH"
_HEADER_MIN: Final = 208  # HEADER_SIZE_MIN: up to and including n_data
_HEADER_READ: Final = 272
_OFF_STATE: Final = 16
_STATE_ONLINE: Final = 1  # being written: its tail may be half-made
_OFF_HEADER_SIZE: Final = 88
_OFF_ARENA_SIZE: Final = 96
_OFF_TAIL_OBJECT: Final = 136
_MACHINE_DIR: Final = re.compile(r"[0-9a-f]{32}(\.[A-Za-z0-9_.-]+)?")


class Damage(NamedTuple):
    """A journal file sd-journal would refuse or misread."""

    path: str
    problem: str  # "truncated", "bad header", "bad tail object"
    size: int  # bytes on disk
    expected: int  # bytes the header describes


def _is_journal(name: str) -> bool:
    return name.endswith((".journal", ".journal~"))


def directory_files(path: str) -> Iterator[str]:
    """The files ``sd_journal_open_directory(path)`` reads: journals in it and in
    machine-id subdirectories."""
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return
    for name in names:
        full = os.path.join(path, name)
        if _is_journal(name):
            yield full
        elif _MACHINE_DIR.fullmatch(name) and os.path.isdir(full):
            try:
                inner = sorted(os.listdir(full))
            except OSError:
                continue
            yield from (os.path.join(full, n) for n in inner if _is_journal(n))


def _machine_id() -> str | None:
    try:
        with open("/etc/machine-id", encoding="ascii") as f:
            return f.read().strip() or None
    except OSError:
        return None


def default_files() -> Iterator[str]:
    """This machine's journal files under /run/log/journal and /var/log/journal."""
    machine = _machine_id()
    if machine is None:
        return
    for root in ("/run/log/journal", "/var/log/journal"):
        base = os.path.join(root, machine)
        try:
            names = sorted(os.listdir(base))
        except OSError:
            continue
        yield from (os.path.join(base, n) for n in names if _is_journal(n))


def check_header(
    header: bytes, size: int, path: str = "", tail_object: bytes | None = None
) -> Damage | None:
    """Why sd-journal would refuse a file with this header and size (None: it would not).

    ``tail_object``: the 16 bytes at the header's tail object offset, when read
    (:func:`tail_offset`): zeros there (a file zeroed from some point on) are damage too.
    """
    if len(header) < _HEADER_MIN or header[:8] != SIGNATURE:
        return Damage(path, "bad header", size, 0)
    header_size, arena_size = struct.unpack_from("<QQ", header, _OFF_HEADER_SIZE)
    (tail,) = struct.unpack_from("<Q", header, _OFF_TAIL_OBJECT)
    if header_size < _HEADER_MIN or header_size > size:
        return Damage(path, "bad header", size, header_size)
    expected = header_size + arena_size
    if expected > size or tail > expected:
        return Damage(path, "truncated", size, expected)
    if tail_object is not None and tail:
        kind = tail_object[0] if tail_object else 0
        (length,) = struct.unpack_from("<Q", tail_object, 8) if len(tail_object) >= 16 else (0,)
        if not 1 <= kind <= 7 or length < 16 or tail + length > size:  # OBJECT_DATA..TAG
            return Damage(path, "bad tail object", size, expected)
    return None


def tail_offset(header: bytes) -> int:
    """Where the tail object is, for files not being written (0: do not check it)."""
    if len(header) < _HEADER_MIN or header[_OFF_STATE] == _STATE_ONLINE:
        return 0
    (tail,) = struct.unpack_from("<Q", header, _OFF_TAIL_OBJECT)
    return int(tail)


def _read(path: str) -> tuple[bytes, os.stat_result, bytes | None]:
    """A file's header, its stat, and its tail object's first 16 bytes (None: not read)."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        header = f.read(_HEADER_READ)
        tail = tail_offset(header)
        tail_object = os.pread(f.fileno(), 16, tail) if 0 < tail < st.st_size else None
    return header, st, tail_object


def scan(paths: Iterable[str]) -> list[Damage]:
    """The damaged files among ``paths`` (unreadable ones are not damage: skipped)."""
    damaged = []
    for path in paths:
        try:
            header, st, tail_object = _read(path)
        except OSError:
            continue
        problem = check_header(header, st.st_size, path, tail_object)
        if problem is not None:
            damaged.append(problem)
    return damaged


def _archived_name(path: str) -> bool:
    """journald never creates these in place: renamed from a complete file."""
    name = os.path.basename(path)
    return "@" in name or name.endswith("~")


class Health:
    """The state of the journal files a reader reads, to notice damage as it happens.

    :meth:`check` lists the files (``list_paths``), stats them, and reads the header of
    those whose inode, size or mtime changed since the last check; it returns the damage
    not returned before.  The first check returns every damaged file.  Later, a file
    that was healthy and is damaged now (truncated, zeroed under the reader) is returned;
    a new file that looks damaged is too, except a small active one (``system.journal``
    shorter than a header): journald creates those in place and writes the header a
    moment later.
    """

    def __init__(self, list_paths: Callable[[], Iterable[str]]) -> None:
        self._list = list_paths
        # (st_dev, st_ino) -> ((size, mtime_ns), damaged)
        self._known: dict[tuple[int, int], tuple[tuple[int, int], bool]] = {}
        self._reported: set[tuple[int, int]] = set()
        self._first = True
        self.checks = 0

    def check(self) -> list[Damage]:
        # bounded local I/O whose file objects a Ctrl-C must not cut loose (between an
        # open() and its with-block: an unclosed file and a ResourceWarning, seen with a
        # report fetched under Ctrl-C): the interrupt waits the few milliseconds
        with CriticalSection():
            return self._check()

    def _check(self) -> list[Damage]:
        first, self._first = self._first, False
        self.checks += 1
        found: list[Damage] = []
        seen: dict[tuple[int, int], tuple[tuple[int, int], bool]] = {}
        for path in self._list():
            try:
                st = os.stat(path)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            sig = (st.st_size, st.st_mtime_ns)
            previous = self._known.get(key)
            if previous is not None and previous[0] == sig:
                seen[key] = previous
                continue
            try:
                header, st, tail_object = _read(path)
            except OSError:
                continue
            sig = (st.st_size, st.st_mtime_ns)
            damage = check_header(header, st.st_size, path, tail_object)
            seen[key] = (sig, damage is not None)
            if damage is None or key in self._reported:
                continue
            was_healthy = previous is not None and not previous[1]
            creating = st.st_size < _HEADER_MIN and not _archived_name(path)
            if first or was_healthy or not creating:
                self._reported.add(key)
                found.append(damage)
        self._known = seen
        self._reported &= set(seen)
        return found


def patch_header(data: bytearray) -> bool:
    """Make a truncated file's header describe the bytes present; False if hopeless."""
    if len(data) < _HEADER_MIN or data[:8] != SIGNATURE:
        return False
    header_size = struct.unpack_from("<Q", data, _OFF_HEADER_SIZE)[0]
    if header_size < _HEADER_MIN or header_size > len(data):
        return False
    arena = (len(data) - header_size) // 8 * 8
    struct.pack_into("<Q", data, _OFF_ARENA_SIZE, arena)
    (tail,) = struct.unpack_from("<Q", data, _OFF_TAIL_OBJECT)
    if tail > header_size + arena:
        struct.pack_into("<Q", data, _OFF_TAIL_OBJECT, 0)
    return True


def readable_copy(path: str, workdir: str) -> int | None:
    """A read-only descriptor of a copy of ``path`` in ``workdir`` with its header fixed up.

    None if that cannot help.  (sd-journal refuses descriptors of deleted files, memfds
    included, so the copy is a real file: remove ``workdir`` once the journal is closed.)
    """
    try:
        with open(path, "rb") as f:
            data = bytearray(f.read())
    except OSError:
        return None
    if not patch_header(data):
        return None
    copy = os.path.join(workdir, f"{len(os.listdir(workdir))}-{os.path.basename(path)}")
    try:
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return os.open(copy, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def make_workdir() -> str:
    """A private directory for fixed-up copies (on tmpfs when /dev/shm is usable)."""
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None
    return tempfile.mkdtemp(prefix="sysd-journal-", dir=base)


def remove_workdir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
