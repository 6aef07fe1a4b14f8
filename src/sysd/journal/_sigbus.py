"""Surviving journal files truncated under the reader (what journalctl's sigbus_install() does).

journald 252 truncates a journal file when it archives it (``managed_journal_file_truncate``:
the fallocated tail goes, and the last entry array shrinks).  A reader whose memory map
still covers the cut-off pages gets SIGBUS when libsystemd touches them, which kills the
process.  journalctl installs a SIGBUS handler that maps a zero page over the faulting
address so that the read goes on (zeros read as the end of an entry array, or as a bad
object: libsystemd then reports or skips it).  libsystemd.so.0 does not export that
handler, so this module installs an equivalent one, once, when the first journal is
opened:

* only faults on addresses inside a mapping of a journal file (``*.journal``,
  ``*.journal~``, deleted or not, per /proc/self/maps) are handled; any other SIGBUS
  restores the previous handler and faults again, as systemd does;
* :func:`faults` counts the pages replaced, so that a follower checks its files again
  (a truncated file is reported, not silently left out: :class:`_files.Health`).

The handler is a ctypes callback: the faulting thread is inside a libsystemd call made by
sysd, so the interpreter's state is consistent (as for any callback from C).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
import threading
from typing import Any, Final

__all__ = ["faults", "install"]

SIGBUS: Final = 7
BUS_ADRERR: Final = 2
SA_SIGINFO: Final = 4
PROT_READ: Final = 1
PROT_WRITE: Final = 2
MAP_PRIVATE: Final = 2
MAP_FIXED: Final = 0x10
MAP_ANONYMOUS: Final = 0x20
_PAGE: Final = mmap.PAGESIZE
_SI_CODE: Final = 8  # siginfo_t: si_signo, si_errno, si_code, then the union
_SI_ADDR: Final = 16 if ctypes.sizeof(ctypes.c_void_p) == 8 else 12


class _Sigaction(ctypes.Structure):
    """glibc's and musl's userspace ``struct sigaction`` (handler, 1024-bit mask, flags,
    restorer) on the architectures that share the generic layout (x86, ARM, POWER, s390)."""

    _fields_ = [
        ("handler", ctypes.c_void_p),
        ("mask", ctypes.c_ulong * (128 // ctypes.sizeof(ctypes.c_ulong))),
        ("flags", ctypes.c_int),
        ("restorer", ctypes.c_void_p),
    ]


_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_lock = threading.Lock()
_state: dict[str, Any] = {"installed": False, "faults": 0}


def faults() -> int:
    """How many pages of truncated journal files were replaced by zeros so far."""
    count: int = _state["faults"]
    return count


def _journal_mapping(address: int) -> bool:
    """Whether ``address`` lies in a memory map of a journal file."""
    try:
        with open("/proc/self/maps", "rb") as maps:
            for line in maps:
                span, _, rest = line.partition(b" ")
                start, _, end = span.partition(b"-")
                if int(start, 16) <= address < int(end, 16):
                    parts = rest.split(maxsplit=4)  # perms offset dev inode [path]
                    path = parts[4].strip() if len(parts) == 5 else b""
                    if path.endswith(b" (deleted)"):
                        path = path[: -len(b" (deleted)")]
                    return path.endswith((b".journal", b".journal~"))
    except (OSError, ValueError):
        pass
    return False


def _on_sigbus(signo: int, info: int | None, context: int | None) -> None:
    libc = _state["libc"]
    code = ctypes.c_int.from_address(info + _SI_CODE).value if info else 0
    address = ctypes.c_void_p.from_address(info + _SI_ADDR).value if info else None
    if code != BUS_ADRERR or not address or not _journal_mapping(address):
        # not a journal file: back to the previous handler, and the access faults again
        libc.sigaction(SIGBUS, ctypes.byref(_state["previous"]), None)
        return
    page = address - address % _PAGE
    result = libc.mmap(
        ctypes.c_void_p(page), _PAGE, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0,
    )  # fmt: skip
    if result != page:  # cannot continue: let the previous handler have it
        libc.sigaction(SIGBUS, ctypes.byref(_state["previous"]), None)
        return
    _state["faults"] += 1


def install() -> bool:
    """Install the handler (once per process; idempotent).  False if it cannot be."""
    if _state["installed"]:
        return True
    if not sys.platform.startswith("linux"):
        return False
    with _lock:
        if _state["installed"]:
            return True
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.mmap.restype = ctypes.c_void_p
            libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_int, ctypes.c_long]  # fmt: skip
            libc.sigaction.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        except (OSError, AttributeError):
            return False
        handler = _HANDLER_TYPE(_on_sigbus)
        action = _Sigaction()
        action.handler = ctypes.cast(handler, ctypes.c_void_p).value
        action.flags = SA_SIGINFO
        previous = _Sigaction()
        if libc.sigaction(SIGBUS, ctypes.byref(action), ctypes.byref(previous)) != 0:
            return False
        _state.update(libc=libc, handler=handler, previous=previous, installed=True)
        _state["pid"] = os.getpid()
        return True
