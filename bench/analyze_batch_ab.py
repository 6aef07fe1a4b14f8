"""sysd.analyze's unit timestamps: two pipelined batches against one Get after the other.

The A/B behind blame, critical-chain and plot reading every unit's timestamps with
``get_property_many`` (two batches: the first timestamp of every unit, then the other
three of the units that started) instead of up to four round trips per unit in turn (what
sysd did before; kept here as ``one_by_one``).  Both must return the same rows; the
medians of 21 alternated runs on one open connection, private socket and system bus.
Inside a sandbox, as root::

    .venv/bin/python -m sysd sandbox run -- .venv/bin/python bench/analyze_batch_ab.py

Results: bench/RESULTS.md, "Analyze: unit timestamps in batches".
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import sysd.aio
from sysd._async.analyze import boot_timestamps, unit_timestamps
from sysd._core.analyze import UNIT_PROPERTIES, BootTimes, UnitTimes, unit_times
from sysd._core.systemd1 import UNIT_INTERFACE


async def one_by_one(sd: Any, boot: BootTimes) -> list[UnitTimes]:
    rows = await sd.manager_call("ListUnits")
    out = []
    first, *rest = UNIT_PROPERTIES
    for row in rows:
        name, path = row[0], row[6]
        props = {first[1]: await sd.get_property(path, UNIT_INTERFACE, first[1])}
        if not props[first[1]]:
            continue
        for _field, prop in rest:
            props[prop] = await sd.get_property(path, UNIT_INTERFACE, prop)
        t = unit_times(name, props, boot.reverse_offset)
        if t is not None:
            out.append(t)
    return out


async def main() -> None:
    for private in (True, False):
        async with sysd.aio.connect(private=private) as sd:
            boot = await boot_timestamps(sd)
            for _ in range(40):  # the same rows, once the freshly booted units settle
                if await one_by_one(sd, boot) == await unit_timestamps(sd, boot):
                    break
                await asyncio.sleep(0.5)
            else:
                raise SystemExit("the two ways kept reading different timestamps")
            before: list[float] = []
            batched: list[float] = []
            for _ in range(21):
                t = time.perf_counter()
                await one_by_one(sd, boot)
                before.append(time.perf_counter() - t)
                t = time.perf_counter()
                await unit_timestamps(sd, boot)
                batched.append(time.perf_counter() - t)
            a, b = statistics.median(before), statistics.median(batched)
            where = "private socket" if private else "system bus"
            print(f"{where}: one by one {a * 1e3:.2f} ms, batched {b * 1e3:.2f} ms, {a / b:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
