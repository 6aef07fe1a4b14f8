"""Ctrl-C held back while sysd counts something and registers its undo, or undoes it.

In blocking code Python raises KeyboardInterrupt right after whichever call
returns when SIGINT arrives.  Where that lands between counting a piece of
lifecycle state (a subscription holder, a watch entry, a pin) and the ``try``
that undoes it — a lock's ``__exit__``, a with-statement's boundary, between
``holders += 1`` and the marker the ``except`` reads — the state is left behind
for good (issue 11: one holder and its 4 match rules in about 1 run in 6).

``CriticalSection`` closes those windows where they are, the way trio's
KeyboardInterrupt protection does (``trio/_core/_ki.py``): the interrupt is not
refused, it is *deferred*.  While a section runs in the main thread, SIGINT's
handler is one that only remembers the signal; at the end of the outermost
section the program's own handler is put back and, if a SIGINT came, called
then (the default one raises KeyboardInterrupt there, where everything
counted is covered by its undo).  Unlike trio's, which is installed for the
whole run, the deferring handler is in place only during a section, so:

* outside sysd's sections SIGINT behaves exactly as the program set it up, and a
  program's own handler (not only the default) is the one called, once, late;
* a blocking call inside a section that is interrupted by the signal is resumed
  by Python (PEP 475) after the deferring handler ran: the section completes;
* a *second* SIGINT while the first waits goes to the program's handler at once
  (an undo stuck on a hung bus must not make Ctrl-C useless; then it may leave
  state behind, as before);
* in other threads a section does nothing: Python runs signal handlers in the
  main thread only, so KeyboardInterrupt from SIGINT is never raised elsewhere;
* SIG_IGN, SIG_DFL or a handler installed outside Python: nothing to defer
  (no KeyboardInterrupt can come from it), the section only counts its depth.

What it does not cover: CPython also checks for signals when a function starts
and after each call, so the few bytecodes between the last such check before a
section and the handler swap (a ``finally:`` before its section, a function's
first instruction) stay open; sysd puts its sections first in its ``__exit__``
and ``finally`` blocks so that this is a handful of instructions, not a call
that does I/O.  And a KeyboardInterrupt raised by a handler of another signal
(SIGALRM, say) is not deferred: only SIGINT's handler is.

The asyncio flavour uses ``AsyncCriticalSection``, which does nothing: there
KeyboardInterrupt arrives through the event loop (``asyncio.run`` turns SIGINT
into the cancellation of the main task, at an ``await``), sysd's undo paths
already handle cancellation, and swapping a handler across awaits would hand
the swap from one task to another.

Cost: two ``sigaction`` calls per outermost section in the main thread
(bench/bench_interrupt.py, numbers in bench/RESULTS.md).
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

# The C functions under ``signal``'s wrappers, which convert to and from enums through an
# exception: ~10x the time of the sigaction itself.  (Imported by name: no stubs for _signal.)
_signal = importlib.import_module("_signal")
getsignal: Callable[[int], Any] = _signal.getsignal
signal: Callable[[int, Any], Any] = _signal.signal
SIGINT: int = _signal.SIGINT

__all__ = ["AsyncCriticalSection", "CriticalSection", "close_socket"]

# Closes a socket in C: ``_socket.socket.close`` itself, no Python frame (socket.py's
# close() is Python, and a Ctrl-C at its first line would leave the socket to the garbage
# collector).  For ``finally`` blocks; not for sockets with makefile() files open.
close_socket: Callable[[Any], None] = importlib.import_module("_socket").socket.close

_MAIN = threading.main_thread().ident
_get_ident = threading.get_ident


class _State:
    __slots__ = ("depth", "pending", "saved")

    def __init__(self) -> None:
        self.depth = 0  # sections entered in the main thread, nested
        self.saved: Any = None  # the program's SIGINT handler while ours is in place
        self.pending = False  # a SIGINT came during the section


_state = _State()


def _defer(signum: int, frame: FrameType | None) -> None:
    """SIGINT's handler during a section: remember it (a second one goes through)."""
    state = _state
    if state.pending and callable(state.saved):
        state.saved(signum, frame)
        return
    state.pending = True


class CriticalSection:
    """``with CriticalSection():`` defers SIGINT to the end of the block (main thread).

    Re-entrant; put the counting *and* the marker its undo reads inside it, and the
    block itself inside the ``try`` that undoes it (the deferred KeyboardInterrupt is
    raised as the block ends).
    """

    __slots__ = ()

    def __enter__(self) -> None:
        if _get_ident() != _MAIN:
            return
        state = _state
        if state.depth:
            state.depth += 1
            return
        handler = getsignal(SIGINT)
        if callable(handler) and handler is not _defer:
            try:
                signal(SIGINT, _defer)
            except ValueError:  # not the main interpreter: signals are not ours to set
                handler = None
            else:
                state.saved = handler
        # from here on (no call in between) a SIGINT only sets ``pending``
        state.depth = 1

    def __exit__(self, *exc: object) -> None:
        if _get_ident() != _MAIN:
            return
        state = _state
        state.depth -= 1
        if state.depth:
            return
        handler, state.saved = state.saved, None
        if handler is None:
            return
        signal(SIGINT, handler)
        if state.pending:
            state.pending = False
            handler(SIGINT, sys._getframe())


class AsyncCriticalSection:
    """Does nothing: in asyncio an interrupt arrives as a cancellation, at an await."""

    __slots__ = ()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass
