"""What deferring Ctrl-C costs (sysd/_interrupt.py): ``python bench/bench_interrupt.py``.

Part 1 (anywhere): the time of one ``with CriticalSection():`` -- in the main thread
with Python's default SIGINT handler (the outermost section swaps the handler twice:
two ``sigaction`` calls), nested in another section, in another thread (nothing), and
the asyncio flavour's (nothing) -- next to ``with threading.Lock():`` for scale.

Part 2 (with a systemd on the system bus, e.g. ``python -m sysd sandbox run --bind
"$PWD" -- .venv/bin/python bench/bench_interrupt.py``): how many sections one blocking
``sd.run(["true"], wait=True)`` and one ``with sd.subscribed():`` enter, and their time with the
sections as they are and with them made no-ops (same process, alternated): the ratio
is what the protection costs a real call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import sysd._interrupt as interrupt
from sysd._interrupt import AsyncCriticalSection, CriticalSection

REPEAT = 7
N = 200_000


def per_call(body: Callable[[], None], n: int = N) -> float:
    """Best of REPEAT: seconds per call of ``body``."""
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - start)
    return best / n


def loop_section(n: int = N) -> None:
    for _ in range(n):
        with CriticalSection():
            pass


def loop_async_section(n: int = N) -> None:
    for _ in range(n):
        with AsyncCriticalSection():
            pass


def loop_lock(n: int = N) -> None:
    lock = threading.Lock()
    for _ in range(n):
        with lock:
            pass


def loop_nested(n: int = N) -> None:
    with CriticalSection():
        for _ in range(n):
            with CriticalSection():
                pass


def in_thread(body: Callable[[], None]) -> float:
    out: list[float] = []
    t = threading.Thread(target=lambda: out.append(per_call(body)))
    t.start()
    t.join()
    return out[0]


def micro() -> list[tuple[str, float]]:
    rows = [
        ("with threading.Lock() (scale)", per_call(loop_lock)),
        ("CriticalSection, main thread, outermost", per_call(loop_section)),
        ("CriticalSection, main thread, nested", per_call(loop_nested)),
        ("CriticalSection, other thread", in_thread(loop_section)),
        ("AsyncCriticalSection (asyncio flavour)", per_call(loop_async_section)),
    ]
    return rows


class _Counting:
    """Counts outermost sections (wraps CriticalSection's methods)."""

    def __init__(self) -> None:
        self.count = 0
        self.enter = CriticalSection.__enter__
        self.exit = CriticalSection.__exit__

    def install(self, active: bool) -> None:
        counter = self
        enter, exit_ = self.enter, self.exit

        def counted_enter(section: CriticalSection) -> None:
            if interrupt._state.depth == 0:
                counter.count += 1
            if active:
                enter(section)
            else:  # no-op, but keep the depth so the count stays right
                interrupt._state.depth += 1

        def counted_exit(section: CriticalSection, *exc: object) -> None:
            if active:
                exit_(section, *exc)
            else:
                interrupt._state.depth -= 1

        CriticalSection.__enter__ = counted_enter  # type: ignore[method-assign]
        CriticalSection.__exit__ = counted_exit  # type: ignore[method-assign]

    def restore(self) -> None:
        CriticalSection.__enter__ = self.enter  # type: ignore[method-assign]
        CriticalSection.__exit__ = self.exit  # type: ignore[method-assign]


def on_systemd(units: int) -> list[tuple[str, float, float, float]]:
    import sysd

    rows = []
    counting = _Counting()
    with sysd.connect() as sd:

        def hold() -> None:
            with sd.subscribed():
                pass

        cases: list[tuple[str, Callable[[], object]]] = [
            ("sd.run(['true'], wait=True)", lambda: sd.run(["true"], wait=True)),
            ("with sd.subscribed(): (set up + tear down)", hold),
        ]
        for label, call in cases:
            for _ in range(5):  # warm up
                call()
            times: dict[bool, list[float]] = {True: [], False: []}
            sections = 0
            for rep in range(REPEAT * 2):
                active = rep % 2 == 0
                counting.install(active)
                counting.count = 0
                try:
                    start = time.perf_counter()
                    for _ in range(units):
                        call()
                    times[active].append((time.perf_counter() - start) / units)
                finally:
                    counting.restore()
                sections = counting.count // units
            on = statistics.median(times[True])
            off = statistics.median(times[False])
            rows.append((label, sections, on, off))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100, help="calls per repetition")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, best of {REPEAT}")
    print()
    print("| case | per call |")
    print("| --- | ---: |")
    for label, seconds in micro():
        print(f"| {label} | {seconds * 1e9:.0f} ns |")
    if not Path("/run/systemd/system").is_dir():
        print("\n(no systemd here: part 2 skipped)")
        return
    print()
    print("| call (blocking, system bus) | outermost sections | with sections | no-op | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, sections, on, off in on_systemd(args.units):
        print(
            f"| {label} | {sections} | {on * 1e3:.3f} ms | {off * 1e3:.3f} ms | {on / off:.3f}x |"
        )


if __name__ == "__main__":
    main()
