"""What a batch call would save: 1000 pipelined Gets three ways, against the C floor.

A prototype for issue 11's "1000 pipelined Gets <= 1.0x" (not an API of sysd): it reaches
into ``AsyncConnection`` to send the calls without a coroutine or a task per call, the
way a ``call_many`` would, and compares that with the public API's ``asyncio.gather`` of
``get_property`` and with the C floor (``bench/build/floor``, sd_bus_call_method_async,
a window of 64), alternated in one process tree. Run it inside a sandbox as root::

    .venv/bin/python -m sysd sandbox run --bind "$PWD" -- .venv/bin/python bench/proto_call_many.py

Prints the median of ``--reps`` batches per way and its ratio to the C floor's median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import sysd.aio  # noqa: E402
from sysd._bus.wire import DEFAULT, reply_value  # noqa: E402

UNIT = "systemd-journald.service"
UNIT_IFACE = "org.freedesktop.systemd1.Unit"
PROPS = "org.freedesktop.DBus.Properties"
MANAGER = ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")
N = 1000


async def ways(reps: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"gather of get_property": [], "batch (prototype)": []}
    async with sysd.aio.connect(private=False) as sd:  # the system bus, as the floor
        path = await sd.call(None, *MANAGER, "GetUnit", "s", (UNIT,))
        conn = sd.bus
        dest = sd.destination

        async def gather() -> None:
            await asyncio.gather(
                *(sd.get_property(path, UNIT_IFACE, "ActiveState") for _ in range(N))
            )

        async def batch() -> None:
            sent = [
                conn._send_call(
                    dest, path, PROPS, "Get", "ss", (UNIT_IFACE, "ActiveState"), DEFAULT, False
                )
                for _ in range(N)
            ]
            for serial, fut, timeout in sent:
                try:
                    msg = await fut
                finally:
                    conn._call_done(serial, timeout)
                reply_value(msg, PROPS, "Get")

        runs = {"gather of get_property": gather, "batch (prototype)": batch}
        for run in runs.values():
            await run()  # warm-up
        for _ in range(reps):
            for name, run in runs.items():
                t = time.perf_counter()
                await run()
                times[name].append(time.perf_counter() - t)
    return times


def floor(reps: int) -> list[float]:
    exe = os.path.join(HERE, "build", "floor")
    out = []
    for _ in range(reps):
        r = subprocess.run(
            [exe, "pipelined", "system", str(N), "64", UNIT],
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(float(json.loads(r.stdout)["seconds"]))
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    all_times: dict[str, list[float]] = {}
    for _ in range(a.rounds):  # alternate the C floor and the Python ways
        c = floor(a.reps)
        py: dict[str, Any] = asyncio.run(ways(a.reps))
        all_times.setdefault("C sd-bus (window 64)", []).extend(c)
        for k, v in py.items():
            all_times.setdefault(k, []).extend(v)
    base = statistics.median(all_times["C sd-bus (window 64)"])
    for name, ts in all_times.items():
        med = statistics.median(ts)
        print(f"{name}: {med * 1e3:.2f} ms ({med / base:.2f}x), min {min(ts) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
