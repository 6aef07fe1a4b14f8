"""The Ctrl-C deferral itself (sysd/_interrupt.py): what the blocking flavour's critical
sections do with a SIGINT, with the default handler and with a program's own."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

import pytest

from sysd import _interrupt
from sysd._interrupt import AsyncCriticalSection, CriticalSection


@pytest.fixture(autouse=True)
def default_sigint() -> Iterator[None]:
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    assert _interrupt._state.depth == 0
    assert not _interrupt._state.pending


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.01)  # Python runs the handler at its next check: here at the latest


def test_the_interrupt_is_raised_at_the_end_of_the_section() -> None:
    reached = False
    with pytest.raises(KeyboardInterrupt), CriticalSection():
        ctrl_c()
        reached = True  # not interrupted in here
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_without_a_signal_nothing_happens_and_the_handler_is_back() -> None:
    with CriticalSection():
        assert signal.getsignal(signal.SIGINT) is _interrupt._defer
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_programs_own_handler_is_called_once_at_the_end() -> None:
    calls: list[tuple[int, bool]] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        calls.append((signum, _interrupt._state.depth == 0))

    signal.signal(signal.SIGINT, handler)
    with CriticalSection():
        ctrl_c()
        assert calls == []
    assert calls == [(signal.SIGINT, True)]
    assert signal.getsignal(signal.SIGINT) is handler
    ctrl_c()  # outside a section: as the program set it up
    assert len(calls) == 2


def test_nested_sections_defer_to_the_outermost_end() -> None:
    after_inner = False
    with pytest.raises(KeyboardInterrupt), CriticalSection():
        with CriticalSection():
            ctrl_c()
        after_inner = True
    assert after_inner


def test_a_second_ctrl_c_goes_through_at_once() -> None:
    reached = False
    with pytest.raises(KeyboardInterrupt), CriticalSection():
        ctrl_c()
        ctrl_c()  # a hung undo must not make Ctrl-C useless
        reached = True
    assert not reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_blocking_call_interrupted_by_the_signal_completes() -> None:
    timer = threading.Timer(0.02, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), CriticalSection():
        timer.start()
        time.sleep(0.2)  # EINTR: Python resumes it after the deferring handler ran
        slept = time.monotonic() - started
    timer.join()
    assert slept >= 0.2


def test_in_another_thread_a_section_does_nothing() -> None:
    seen: list[object] = []

    def body() -> None:
        with CriticalSection():
            seen.append(signal.getsignal(signal.SIGINT))
            seen.append(_interrupt._state.depth)

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen == [signal.default_int_handler, 0]


def test_an_ignored_sigint_is_left_alone() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with CriticalSection():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_the_asyncio_flavour_does_nothing() -> None:
    with pytest.raises(KeyboardInterrupt), AsyncCriticalSection():
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ctrl_c()
