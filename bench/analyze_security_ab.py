"""sysd.analyze's security overview: one batch against two round trips per service.

The A/B behind ``security()`` reading every loaded service in one pipelined batch (a
GetAll of Service and three Unit properties each) instead of two round trips per service
(kept here as ``security_one_by_one``).  Both must return the same reports; medians of 21
alternated runs on one open connection, private socket and system bus.  Inside a
sandbox, as root::

    .venv/bin/python -m sysd sandbox run -- .venv/bin/python bench/analyze_security_ab.py

Results: bench/RESULTS.md, "Analyze: the security overview in one batch".
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import sysd.aio
from sysd._async import analyze
from sysd._core import unitname
from sysd._core.analyze_security import assess, security_info
from sysd._core.systemd1 import SERVICE_INTERFACE, UNIT_INTERFACE


async def security_one_by_one(sd: Any) -> list[Any]:
    known = analyze._syscall_resolver()
    rows = await sd.manager_call("ListUnits")
    out = []
    for name in sorted(r[0] for r in rows if r[0].endswith(".service") and r[2] == "loaded"):
        path = unitname.to_dbus_path(name)
        props = dict(await sd.get_all(path, SERVICE_INTERFACE))
        if props.get("Type") == "oneshot":
            continue
        props["LoadState"] = "loaded"
        unit_props = ("Id", "FragmentPath", "DefaultDependencies")
        values = await sd.get_property_many([(path, UNIT_INTERFACE, p) for p in unit_props])
        props.update(zip(unit_props, values, strict=True))
        out.append(assess(security_info(props), known))
    return out


async def ab(
    label: str, old: Callable[[], Awaitable[Any]], new: Callable[[], Awaitable[Any]]
) -> str:
    for _ in range(40):  # the same result, once the freshly booted units settle
        if await old() == await new():
            break
        await asyncio.sleep(0.5)
    else:
        raise SystemExit(f"{label}: the two ways kept giving different results")
    before: list[float] = []
    batched: list[float] = []
    for _ in range(21):
        t = time.perf_counter()
        await old()
        before.append(time.perf_counter() - t)
        t = time.perf_counter()
        await new()
        batched.append(time.perf_counter() - t)
    a, b = statistics.median(before), statistics.median(batched)
    return (
        f"{label}: one call after another {a * 1e3:.2f} ms, batched {b * 1e3:.2f} ms, {a / b:.2f}x"
    )


async def main() -> None:
    for private in (True, False):
        async with sysd.aio.connect(private=private) as sd:
            where = "private socket" if private else "system bus"
            services = sum(
                1 for r in await sd.manager_call("ListUnits") if r[0].endswith(".service")
            )
            print(f"{where} ({services} services listed):")
            line = await ab(
                "security()", lambda: security_one_by_one(sd), lambda: analyze.security(sd)
            )
            print(f"  {line}")


if __name__ == "__main__":
    asyncio.run(main())
