"""Throughput of sysd's pure systemd logic (no I/O): ``python bench/bench_core.py``.

Prints operations per second for typical inputs.  Target: time-span parsing
at >= 100k/s.  Each case runs in a tight loop for about ``SECONDS`` seconds,
best of ``REPEAT`` runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from sysd import timespan, unitname

SECONDS = 0.2
REPEAT = 3
TARGETS = {"timespan.parse": 100_000}


def _ops_per_second(func: Callable[[], object]) -> float:
    # size the batch so one batch takes ~SECONDS
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            func()
        elapsed = time.perf_counter() - start
        if elapsed >= SECONDS / 10:
            break
        n *= 4
    n = max(1, int(n * SECONDS / elapsed))
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        for _ in range(n):
            func()
        best = min(best, time.perf_counter() - start)
    return n / best


SPANS = ["5s", "1h 30min", "1.5s", "500ms", "2d 3h", "infinity", " 5s 500ms ", "1y 2month 3w"]
USECS = [5_000_000, 5_400_000_000, 1_234_567, 500_000, 183_600_000_000, 56_803_679_999_977]

CASES: list[tuple[str, str, Callable[[], object]]] = []


def case(group: str, label: str, func: Callable[[], object]) -> None:
    CASES.append((group, label, func))


for text in SPANS:
    case("timespan.parse", repr(text), partial(timespan.parse_usec, text))
case("timespan.parse", "parse -> timedelta '90s'", lambda: timespan.parse("90s"))
case("timespan.parse", "parse_nsec '1.5us'", lambda: timespan.parse_nsec("1.5us"))
for usec in USECS:
    case("timespan.format", str(usec), partial(timespan.format_usec, usec))
case(
    "timespan.format",
    "format(timedelta(minutes=90))",
    lambda: timespan.format(timedelta(minutes=90)),
)
case(
    "unitname",
    "escape('/dev/disk/by-label/My Disk')",
    lambda: unitname.escape("/dev/disk/by-label/My Disk"),
)
case(
    "unitname",
    "unescape('My\\x20Container\\x201')",
    lambda: unitname.unescape("My\\x20Container\\x201"),
)
case(
    "unitname",
    "escape_path('/home/lennart/src')",
    lambda: unitname.escape_path("/home/lennart/src"),
)
case(
    "unitname",
    "from_path('/var/lib/machines', '.mount')",
    lambda: unitname.from_path("/var/lib/machines", ".mount"),
)
case("unitname", "mangle('sshd')", lambda: unitname.mangle("sshd"))
case("unitname", "mangle('sshd.service')", lambda: unitname.mangle("sshd.service"))
case("unitname", "mangle('/dev/sda')", lambda: unitname.mangle("/dev/sda"))
case("unitname", "mangle('foo*', glob=True)", lambda: unitname.mangle("foo*", glob=True))
case("unitname", "is_valid('getty@tty1.service')", lambda: unitname.is_valid("getty@tty1.service"))
case(
    "unitname",
    "replace_instance('getty@.service', 'tty1')",
    lambda: unitname.replace_instance("getty@.service", "tty1"),
)
case(
    "unitname",
    "to_dbus_path('user@1000.service')",
    lambda: unitname.to_dbus_path("user@1000.service"),
)
case(
    "unitname",
    "from_dbus_path('.../user_401000_2eservice')",
    lambda: unitname.from_dbus_path("/org/freedesktop/systemd1/unit/user_401000_2eservice"),
)


def main() -> int:
    print(f"python {sys.version.split()[0]}, best of {REPEAT} x ~{SECONDS}s per case")
    worst: dict[str, float] = {}
    group_now = None
    for group, label, func in CASES:
        if group != group_now:
            print(f"\n{group}")
            group_now = group
        rate = _ops_per_second(func)
        worst[group] = min(worst.get(group, float("inf")), rate)
        print(f"  {label:<52} {rate:>12,.0f} ops/s")
    print()
    status = 0
    for group, target in TARGETS.items():
        ok = worst[group] >= target
        status |= not ok
        verdict = "ok" if ok else "MISSED"
        print(f"{group}: slowest {worst[group]:,.0f} ops/s, target {target:,} -> {verdict}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
