"""Blocking Properties.Get in a loop, private socket and system bus: wall and CPU per call,
and how often the process slept (voluntary context switches).

Run it inside a sandbox as root, once on an idle machine and once beside a busy loop that
only soaks up idle time (``nice -n 19 sh -c 'while :; do :; done'``)::

    .venv/bin/python -m sysd sandbox run --bind "$PWD" -- .venv/bin/python bench/vcpu_idle.py

On this 2-vCPU VM the idle case is 4-5x slower per call for every Python client (each call
sleeps, and waking a halted vCPU is expensive); see bench/bus_analysis.md.
"""

from __future__ import annotations

import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import sysd

MANAGER = ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")
UNIT = "systemd-journald.service"
N = 2000


def run(private: bool) -> None:
    with sysd.connect(private=private) as sd:
        path = sd.call(None, *MANAGER, "GetUnit", "s", (UNIT,))
        for _ in range(200):
            sd.get_property(path, "org.freedesktop.systemd1.Unit", "ActiveState")
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        for _ in range(N):
            sd.get_property(path, "org.freedesktop.systemd1.Unit", "ActiveState")
        dt = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(
        f"private={private}: {dt / N * 1e6:.1f} us/call, CPU {cpu / N * 1e6:.1f} us/call, "
        f"slept {r1.ru_nvcsw - r0.ru_nvcsw} times in {N} calls"
    )


if __name__ == "__main__":
    for private in (True, False, True):
        run(private)
