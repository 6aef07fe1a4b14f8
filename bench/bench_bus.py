"""Bus latency and throughput of sysd against dbus-fast, pystemd and a C sd-bus floor.

Run it the documented way, ``bash bench/run.sh``: that prepares ``bench/.env``
and ``bench/build/floor`` (``bench/setup.sh``), boots a throwaway systemd
(``python -m sysd sandbox run``), runs this script inside it as root, and
writes the "Bus (foundation)" section of ``bench/RESULTS.md``.

Inside the sandbox this script

1. starts a transient ``sleep infinity`` service (the unit every Get/GetAll
   asks about) and enough transient slices that ``ListUnits`` returns ~1150
   units;
2. measures every case for every contender, each measurement in a fresh
   process (connection opened and warmed up before the clock starts),
   ``--reps`` repetitions with the contenders' order rotated every repetition,
   and reports the median per-call time and its ratio to the C floor's median
   in the same run;
3. times one-shot processes ("print the ActiveState of one unit") by
   wall clock, ``--oneshot-runs`` runs each, interleaved, median;
4. profiles sysd (cProfile) on the cases whose target was missed;
5. stops what it started, prints a markdown table and writes a JSON file.

``python bench/bench_bus.py render bench/bus.json --results bench/RESULTS.md``
(re)writes the "## Bus (foundation)" section from a JSON file, leaving the
other sections alone.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pycache import use_bytecode_cache
from results_md import replace_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FLOOR = HERE / "build" / "floor"
ANALYSIS = HERE / "bus_analysis.md"
SECTION = "## Bus (foundation)"
COMMAND = "bash bench/run.sh"

DEST = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_IFACE = "org.freedesktop.systemd1.Manager"
UNIT_IFACE = "org.freedesktop.systemd1.Unit"
SERVICE_IFACE = "org.freedesktop.systemd1.Service"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
PRIVATE_ADDRESS = "unix:path=/run/systemd/private"

UNIT = "sysdbench.service"  # the transient `sleep infinity` every Get / GetAll reads
FILLER = "sysdbenchfill{:04d}.slice"  # no '-': each slice's parent is -.slice
UNITS_WANTED = 1150
WINDOW = 64  # calls in flight per connection (RELIABILITY.md item 42)
WARMUP = 20

C = "C sd-bus"
SYSD = "sysd"
SYSD_AIO = "sysd.aio"
SYSD_MANY = "sysd get_property_many"  # the batch API, blocking (pipelined cases only)
SYSD_AIO_MANY = "sysd.aio get_property_many"
DBUS_FAST = "dbus-fast"
PYSTEMD = "pystemd"
CONTENDERS = (C, SYSD, SYSD_AIO, DBUS_FAST, PYSTEMD)


@dataclass
class Case:
    key: str
    op: str  # get | listunits | getall | pipelined
    bus: str  # system | private
    n: int  # calls per measurement
    label: str
    target: float | None = None  # max ratio to the C floor (None: for information)
    contenders: tuple[str, ...] = CONTENDERS
    window: int = WINDOW
    absent: dict[str, str] = field(default_factory=dict)  # contender -> why not measured


NOT_PIPELINED = {
    SYSD: "one call at a time (its batch is the get_property_many row)",
    PYSTEMD: "no asynchronous calls (sd_bus_call only)",
}
SYSD_NAMES = (SYSD, SYSD_AIO, SYSD_MANY, SYSD_AIO_MANY)  # the rows a target applies to
PIPELINED = (C, SYSD_AIO, SYSD_AIO_MANY, SYSD_MANY, DBUS_FAST)


CASES = (
    Case("get", "get", "system", 2000, "Properties.Get, system bus (mean of 2000)", 1.25),
    Case(
        "get_private", "get", "private", 2000, "Properties.Get, private socket (mean of 2000)", 1.6
    ),
    Case("listunits", "listunits", "system", 20, "Manager.ListUnits, system bus", 1.0),
    Case("getall", "getall", "system", 200, "GetAll(systemd1.Service), system bus", 1.1),
    Case(
        "pipelined",
        "pipelined",
        "system",
        1000,
        "1000 Gets pipelined, system bus (whole batch)",
        1.0,
        PIPELINED,
        absent=NOT_PIPELINED,
    ),
    # for information: the same on the private socket, where no bus daemon limits
    # the calls in flight; the C floor also sends all 1000 at once there.
    Case("listunits_private", "listunits", "private", 20, "Manager.ListUnits, private socket"),
    Case("getall_private", "getall", "private", 200, "GetAll(systemd1.Service), private socket"),
    Case(
        "pipelined_private",
        "pipelined",
        "private",
        1000,
        "1000 Gets pipelined, private socket (whole batch)",
        None,
        PIPELINED,
        absent=NOT_PIPELINED,
    ),
    Case(
        "pipelined_unbounded",
        "pipelined",
        "system",
        1000,
        "1000 Gets pipelined, system bus, all sent at once",
        None,
        (C,),
        0,
    ),
    Case(
        "pipelined_private_unbounded",
        "pipelined",
        "private",
        1000,
        "1000 Gets pipelined, private socket, all sent at once",
        None,
        (C,),
        0,
    ),
)


# ============================================================== the workers
# Each measurement runs in a fresh interpreter: `bench_bus.py worker CONTENDER OP BUS N`.


Timing = tuple[float, float]  # wall seconds, this process's CPU seconds


# set by `bench_bus.py profile ...`: profiles the measured loop only (no imports, no connect)
PROFILER: cProfile.Profile | None = None


def _clock() -> Timing:
    if PROFILER is not None:
        PROFILER.enable()
    return time.perf_counter(), time.process_time()


def _since(start: Timing) -> Timing:
    took = time.perf_counter() - start[0], time.process_time() - start[1]
    if PROFILER is not None:
        PROFILER.disable()
    return took


def _timed(op: Callable[[], object], n: int) -> Timing:
    for _ in range(WARMUP):
        op()
    start = _clock()
    for _ in range(n):
        op()
    return _since(start)


async def _timed_async(op: Callable[[], Any], n: int) -> Timing:
    for _ in range(WARMUP):
        await op()
    start = _clock()
    for _ in range(n):
        await op()
    return _since(start)


async def _pipelined(call: Callable[[], Any], n: int, window: int) -> Timing:
    """Gather n calls; ``window`` > 0 bounds them with a semaphore (for dbus-fast)."""
    if window:
        sem = asyncio.Semaphore(window)

        async def bounded() -> Any:
            async with sem:
                return await call()

        make = bounded
    else:
        make = call
    await asyncio.gather(*(make() for _ in range(min(n, 64))))  # warm-up
    start = _clock()
    await asyncio.gather(*(make() for _ in range(n)))
    return _since(start)


def worker_sysd(op: str, bus: str, n: int) -> Timing:
    import sysd

    with sysd.connect(private=bus == "private") as sd:
        path = sd.call(None, MANAGER_PATH, MANAGER_IFACE, "GetUnit", "s", (UNIT,))
        if op == "get":
            return _timed(lambda: sd.get_property(path, UNIT_IFACE, "ActiveState"), n)
        if op == "listunits":
            return _timed(lambda: sd.call(None, MANAGER_PATH, MANAGER_IFACE, "ListUnits"), n)
        if op == "getall":
            return _timed(lambda: sd.get_all(path, SERVICE_IFACE), n)
        if op == "pipelined_many":  # the batch API: pipelined by the blocking connection
            batch = [(path, UNIT_IFACE, "ActiveState")] * n
            sd.get_property_many(batch[:64])  # warm-up
            start = _clock()
            sd.get_property_many(batch)
            return _since(start)
    raise SystemExit(f"sysd: no case {op}")


async def worker_sysd_aio(op: str, bus: str, n: int) -> Timing:
    import sysd.aio

    async with sysd.aio.connect(private=bus == "private") as sd:
        path = await sd.call(None, MANAGER_PATH, MANAGER_IFACE, "GetUnit", "s", (UNIT,))
        if op == "get":
            return await _timed_async(lambda: sd.get_property(path, UNIT_IFACE, "ActiveState"), n)
        if op == "listunits":
            return await _timed_async(
                lambda: sd.call(None, MANAGER_PATH, MANAGER_IFACE, "ListUnits"), n
            )
        if op == "getall":
            return await _timed_async(lambda: sd.get_all(path, SERVICE_IFACE), n)
        if op == "pipelined":
            # sysd keeps at most 64 calls in flight per connection by itself
            return await _pipelined(lambda: sd.get_property(path, UNIT_IFACE, "ActiveState"), n, 0)
        if op == "pipelined_many":  # the batch API: no task per call
            batch = [(path, UNIT_IFACE, "ActiveState")] * n
            await sd.get_property_many(batch[:64])  # warm-up
            start = _clock()
            await sd.get_property_many(batch)
            return _since(start)
    raise SystemExit(f"sysd.aio: no case {op}")


async def worker_dbus_fast(op: str, bus: str, n: int) -> Timing:
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    if bus == "private":
        # MessageBus always says Hello first; systemd's private socket is no bus and
        # answers it with an UnknownObject error, after which connect() often hangs
        try:
            mbus = await asyncio.wait_for(MessageBus(bus_address=PRIVATE_ADDRESS).connect(), 5)
        except TimeoutError:
            raise SystemExit(
                "MessageBus.connect() hung: it always sends Hello, which systemd's private "
                "socket answers with UnknownObject (no peer-to-peer mode)"
            ) from None
        dest = None
    else:
        mbus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        dest = DEST

    async def call(path: str, iface: str, member: str, sig: str = "", body: Any = ()) -> Any:
        reply = await mbus.call(
            Message(
                destination=dest,
                path=path,
                interface=iface,
                member=member,
                signature=sig,
                body=list(body),
            )
        )
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{reply.error_name}: {reply.body}")
        return reply.body

    try:
        (path,) = await call(MANAGER_PATH, MANAGER_IFACE, "GetUnit", "s", (UNIT,))

        async def get() -> Any:
            return (await call(path, PROPS_IFACE, "Get", "ss", (UNIT_IFACE, "ActiveState")))[
                0
            ].value

        if op == "get":
            return await _timed_async(get, n)
        if op == "listunits":
            return await _timed_async(lambda: call(MANAGER_PATH, MANAGER_IFACE, "ListUnits"), n)
        if op == "getall":
            return await _timed_async(
                lambda: call(path, PROPS_IFACE, "GetAll", "s", (SERVICE_IFACE,)), n
            )
        if op == "pipelined":
            # dbus-fast does not bound calls in flight; over 128 the bus refuses them
            return await _pipelined(get, n, WINDOW)
    finally:
        mbus.disconnect()
    raise SystemExit(f"dbus-fast: no case {op}")


def worker_pystemd(op: str, bus: str, n: int) -> Timing:
    from pystemd.dbuslib import DBus, DBusAddress
    from pystemd.systemd1 import Manager, Unit

    dbus = DBusAddress(PRIVATE_ADDRESS.encode(), True) if bus == "private" else DBus()
    dbus.open()
    try:
        unit = Unit(UNIT.encode(), bus=dbus)
        unit.load()
        if op == "get":
            return _timed(lambda: unit.Unit.ActiveState, n)
        if op == "listunits":
            manager = Manager(bus=dbus)
            manager.load()
            return _timed(manager.Manager.ListUnits, n)
        if op == "getall":
            return _timed(lambda: unit.Properties.GetAll(SERVICE_IFACE.encode()), n)
    finally:
        dbus.close()
    raise SystemExit(f"pystemd: no case {op}")


def run_worker(contender: str, op: str, bus: str, n: int) -> Timing:
    if contender == SYSD:
        return worker_sysd(op, bus, n)
    if contender == SYSD_AIO:
        return asyncio.run(worker_sysd_aio(op, bus, n))
    if contender == SYSD_MANY:
        return worker_sysd(f"{op}_many", bus, n)
    if contender == SYSD_AIO_MANY:
        return asyncio.run(worker_sysd_aio(f"{op}_many", bus, n))
    if contender == DBUS_FAST:
        return asyncio.run(worker_dbus_fast(op, bus, n))
    if contender == PYSTEMD:
        return worker_pystemd(op, bus, n)
    raise SystemExit(f"no contender {contender}")


def measure(contender: str, case: Case) -> dict[str, Any]:
    """One measurement in a fresh process: {"seconds": ...} or {"error": ...}."""
    if contender == C:
        cmd = [str(FLOOR), case.op, case.bus, str(case.n)]
        if case.op == "pipelined":
            cmd.append(str(case.window))
        if case.op != "listunits":
            cmd.append(UNIT)
    else:
        cmd = [sys.executable, __file__, "worker", contender, case.op, case.bus, str(case.n)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "no result within 120 s"}
    if proc.returncode != 0:
        lines = proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}"
        return {"error": lines.splitlines()[-1][:300]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "seconds": out["seconds"],
        "cpu_seconds": out["cpu_seconds"],
        "errors": out.get("errors", 0),
    }


# ============================================================ the one-shots

ONESHOT_SCRIPTS: dict[str, str] = {
    "python -c pass": "pass",
    "sysd (default: private socket as root)": f"""
import sysd
from sysd.unitname import to_dbus_path
with sysd.connect() as sd:
    print(sd.get_property(to_dbus_path({UNIT!r}), {UNIT_IFACE!r}, "ActiveState"))
""",
    "sysd, system bus": f"""
import sysd
from sysd.unitname import to_dbus_path
with sysd.connect(private=False) as sd:
    print(sd.get_property(to_dbus_path({UNIT!r}), {UNIT_IFACE!r}, "ActiveState"))
""",
    "pystemd (system bus)": f"""
from pystemd.systemd1 import Unit
unit = Unit({UNIT.encode()!r})
unit.load()
print(unit.Unit.ActiveState.decode())
""",
    "dbus-fast (system bus)": f"""
import asyncio
from dbus_fast import BusType, Message
from dbus_fast.aio import MessageBus

async def main():
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    reply = await bus.call(Message(
        destination={DEST!r},
        path="/org/freedesktop/systemd1/unit/sysdbench_2eservice",
        interface={PROPS_IFACE!r}, member="Get", signature="ss",
        body=[{UNIT_IFACE!r}, "ActiveState"]))
    print(reply.body[0].value)
    bus.disconnect()

asyncio.run(main())
""",
}

ONESHOT_C = {
    "C sd-bus, private socket": [str(FLOOR), "oneshot", "private", UNIT],
    "C sd-bus, system bus": [str(FLOOR), "oneshot", "system", UNIT],
}

MODULES_PROBE = """
import sys, json
print(json.dumps({m: m in sys.modules for m in (
    "asyncio", "threading", "dbus_fast.aio", "dbus_fast.message_bus", "concurrent.futures")}))
"""


def oneshot_commands() -> dict[str, list[str]]:
    cmds = {name: [sys.executable, "-c", src] for name, src in ONESHOT_SCRIPTS.items()}
    cmds.update(ONESHOT_C)
    return cmds


def run_oneshots(runs: int) -> dict[str, Any]:
    cmds = oneshot_commands()
    times: dict[str, list[float]] = {name: [] for name in cmds}
    outputs: dict[str, str] = {}
    for name, cmd in cmds.items():  # one untimed run each: page cache, and check the output
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        outputs[name] = (
            (proc.stdout.strip() or proc.stderr.strip()[-200:])
            if proc.returncode == 0
            else (f"error: {proc.stderr.strip()[-300:]}")
        )
    names = list(cmds)
    for i in range(runs):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            start = time.perf_counter()
            subprocess.run(
                cmds[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
            )
            times[name].append(time.perf_counter() - start)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            ONESHOT_SCRIPTS["sysd (default: private socket as root)"] + MODULES_PROBE,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = json.loads(probe.stdout.strip().splitlines()[-1])
    importtime = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import sysd"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    total_us = 0
    own: dict[str, int] = {}
    for line in importtime.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$", line)
        if not m:
            continue
        own[m.group(4)] = int(m.group(1))
        if m.group(4) == "sysd":
            total_us = int(m.group(2))
    groups = {"sysd": 0, "dbus_fast": 0, "other (stdlib)": 0}
    for name, us in own.items():
        top = name.split(".")[0]
        groups[top if top in groups else "other (stdlib)"] += us
    return {
        "runs": runs,
        "ms": {name: [t * 1000 for t in ts] for name, ts in times.items()},
        "median_ms": {name: statistics.median(ts) * 1000 for name, ts in times.items()},
        "outputs": outputs,
        "sysd_modules_after": modules,
        "import_sysd_ms": total_us / 1000,
        "import_sysd_by_package_ms": {k: v / 1000 for k, v in groups.items()},
        "import_sysd_slowest_ms": {
            k: v / 1000 for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:6]
        },
    }


# ============================================================ the profiles


def profile_case(contender: str, case: Case) -> str:
    """cProfile of one sysd measurement (in a fresh process), top functions by own time."""
    proc = subprocess.run(
        [sys.executable, __file__, "profile", contender, case.op, case.bus, str(case.n)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else f"profile failed: {proc.stderr[-500:]}"


def run_profile(contender: str, op: str, bus: str, n: int) -> str:
    global PROFILER
    prof = PROFILER = cProfile.Profile()
    run_worker(contender, op, bus, n)
    PROFILER = None
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(14)
    text = out.getvalue()
    # keep the table only, with paths shortened
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    keep = [
        re.sub(r"/\S*/(site-packages|src|lib/python3\.\d+)/", "", line) for line in lines[start:]
    ]
    total = next((line.strip() for line in lines if "function calls" in line), "")
    waiting = sockets = 0.0
    for (_file, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if re.search(r"'(poll|select)' of 'select\.", func):
            waiting += tt
        elif re.search(r"'(send|sendmsg|recv|recvmsg)' of '_socket", func):
            sockets += tt
    whole = stats.total_tt  # type: ignore[attr-defined]
    share = (
        f"{n} calls, {whole / n * 1e6:.1f} µs each under the profiler: waiting in poll "
        f"{waiting / whole:.0%}, socket send/recv {sockets / whole:.0%}, the rest (Python: "
        f"encoding, decoding, dispatch, event loop) {1 - (waiting + sockets) / whole:.0%}"
    )
    return share + "\n" + total + "\n" + "\n".join(line for line in keep if line.strip())


# =========================================================== the unit setup


async def setup_units(wanted: int) -> dict[str, Any]:
    import sysd.aio
    from sysd.aio import Variant

    async with sysd.aio.connect(private=True) as sd:
        await stop_units(sd)  # leftovers of an interrupted run
        await sd.call(
            None,
            MANAGER_PATH,
            MANAGER_IFACE,
            "StartTransientUnit",
            "ssa(sv)a(sa(sv))",
            (
                UNIT,
                "fail",
                [
                    ["Description", Variant("s", "sysd bench: the unit every Get reads")],
                    [
                        "ExecStart",
                        Variant("a(sasb)", [["/bin/sleep", ["/bin/sleep", "infinity"], False]]),
                    ],
                ],
                [],
            ),
        )
        before = len(await sd.call(None, MANAGER_PATH, MANAGER_IFACE, "ListUnits"))
        fillers = max(0, wanted - before)
        start = time.perf_counter()
        await asyncio.gather(
            *(
                sd.call(
                    None,
                    MANAGER_PATH,
                    MANAGER_IFACE,
                    "StartTransientUnit",
                    "ssa(sv)a(sa(sv))",
                    (
                        FILLER.format(i),
                        "fail",
                        [["Description", Variant("s", f"sysd bench filler {i}")]],
                        [],
                    ),
                )
                for i in range(fillers)
            )
        )
        created_s = time.perf_counter() - start
        path = await sd.call(None, MANAGER_PATH, MANAGER_IFACE, "GetUnit", "s", (UNIT,))
        for _ in range(100):
            if await sd.get_property(path, UNIT_IFACE, "ActiveState") == "active":
                break
            await asyncio.sleep(0.05)
        else:
            raise SystemExit(f"{UNIT} did not become active")
        for _ in range(100):  # until the start jobs are done
            units = await sd.call(None, MANAGER_PATH, MANAGER_IFACE, "ListUnits")
            if not any(u[7] for u in units):
                break
            await asyncio.sleep(0.05)
        getall = await sd.get_all(path, SERVICE_IFACE)
        return {
            "units_before": before,
            "fillers": fillers,
            "fillers_created_s": created_s,
            "units": len(units),
            "getall_properties": len(getall),
            "systemd_version": await sd.version,
        }


async def stop_units(sd: Any) -> int:
    units = await sd.call(None, MANAGER_PATH, MANAGER_IFACE, "ListUnits")
    names = [u[0] for u in units if u[0] == UNIT or u[0].startswith("sysdbenchfill")]

    async def stop(name: str) -> None:
        try:
            await sd.call(None, MANAGER_PATH, MANAGER_IFACE, "StopUnit", "ss", (name, "replace"))
        except Exception as exc:  # already gone
            print(f"stopping {name}: {exc}", file=sys.stderr)

    await asyncio.gather(*(stop(n) for n in names))
    return len(names)


async def cleanup() -> int:
    import sysd.aio

    async with sysd.aio.connect(private=True) as sd:
        return await stop_units(sd)


# ================================================================ the run


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(dist: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return "not installed"

    libsystemd = subprocess.run(
        ["pkg-config", "--modversion", "libsystemd"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sysd": version("sysd"),
        "dbus-fast": version("dbus-fast"),
        "pystemd": version("pystemd"),
        "libsystemd (floor)": libsystemd,
        "gcc": subprocess.run(
            ["gcc", "-dumpfullversion"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    if os.geteuid() != 0 or not os.path.exists("/run/systemd/private"):
        raise SystemExit(
            "bench_bus.py needs root inside a systemd (the private socket); run `bash bench/run.sh`"
        )
    if not FLOOR.exists():
        raise SystemExit(f"{FLOOR} is missing: run `bash bench/setup.sh`")
    t0 = time.perf_counter()
    use_bytecode_cache()
    cases = [c for c in CASES if not args.cases or c.key in args.cases]
    setup = asyncio.run(setup_units(args.units))
    print(
        f"# {setup['units']} units loaded ({setup['fillers']} filler slices in "
        f"{setup['fillers_created_s']:.2f} s); systemd {setup['systemd_version']}",
        file=sys.stderr,
    )
    results: dict[str, dict[str, list[float]]] = {
        c.key: {k: [] for k in c.contenders} for c in cases
    }
    cpu: dict[str, dict[str, list[float]]] = {c.key: {k: [] for k in c.contenders} for c in cases}
    by_rep: dict[str, dict[str, dict[int, float]]] = {
        c.key: {k: {} for k in c.contenders} for c in cases
    }
    refused: dict[str, dict[str, int]] = {c.key: {} for c in cases}
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    errors: dict[str, dict[str, str]] = {c.key: {} for c in cases}
    try:
        for rep in range(args.reps):
            for case in cases:
                names = list(case.contenders)
                k = rep % len(names)
                for contender in names[k:] + names[:k]:
                    if contender in errors[case.key]:
                        continue
                    got = measure(contender, case)
                    if "error" in got:
                        errors[case.key][contender] = got["error"]
                        print(f"# {case.key} {contender}: {got['error']}", file=sys.stderr)
                    else:
                        results[case.key][contender].append(got["seconds"])
                        by_rep[case.key][contender][rep] = got["seconds"]
                        cpu[case.key][contender].append(got["cpu_seconds"])
                        if got["errors"]:
                            refused[case.key][contender] = max(
                                got["errors"], refused[case.key].get(contender, 0)
                            )
            print(
                f"# repetition {rep + 1}/{args.reps} done at {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
            )
        oneshot = run_oneshots(args.oneshot_runs)
        summary = summarize(cases, results, cpu, by_rep, errors)
        for key, counts in refused.items():
            for row in summary[key]["rows"]:
                if row["contender"] in counts:
                    row["refused"] = counts[row["contender"]]
        profiles: dict[str, str] = {}
        if not args.no_profile:
            for case in cases:
                for row in summary[case.key]["rows"]:
                    if row.get("met") is False:
                        case_n = case.n
                        profiles[f"{case.label} / {row['contender']}"] = profile_case(
                            row["contender"], Case(case.key, case.op, case.bus, case_n, case.label)
                        )
    finally:
        stopped = asyncio.run(cleanup())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": COMMAND,
        "machine": machine_info(),
        "setup": setup,
        "stopped_units": stopped,
        "loadavg_before": load_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "git": git_state(),
        "reps": args.reps,
        "window": WINDOW,
        "cases": summary,
        "raw_seconds": results,
        "raw_cpu_seconds": cpu,
        "oneshot": oneshot,
        "profiles": profiles,
        "elapsed_s": time.perf_counter() - t0,
    }


def git_state() -> dict[str, Any]:
    """Which sysd was measured: run.sh says (HEAD's snapshot, or the work tree)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        ).stdout

    commit = os.environ.get("BENCH_SYSD_COMMIT") or git("rev-parse", "--short=12", "HEAD").strip()
    modified = []
    if commit.endswith("+worktree"):
        modified = [
            line[3:] for line in git("status", "--porcelain", "--", "src").splitlines() if line
        ]
    sysd_module = sys.modules.get("sysd")
    return {
        "commit": commit,
        "src_modified": modified,
        "sysd_imported_from": str(Path(sysd_module.__file__).parent) if sysd_module else "",
    }


def summarize(
    cases: list[Case],
    results: dict[str, dict[str, list[float]]],
    cpu: dict[str, dict[str, list[float]]],
    by_rep: dict[str, dict[str, dict[int, float]]],
    errors: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """Medians per contender; ``ratio`` is the contender's median over the C floor's
    median in the same run.  The per-repetition ratios (contender over the C floor
    measured next to it) and their median are kept in the JSON as well."""
    summary: dict[str, Any] = {}
    for case in cases:
        floor_runs = results[case.key].get(C, [])
        floor = statistics.median(floor_runs) if floor_runs else None
        rows = []
        for contender in case.contenders:
            runs = results[case.key][contender]
            row: dict[str, Any] = {"contender": contender}
            if contender in errors[case.key]:
                row["error"] = errors[case.key][contender]
            if runs:
                med = statistics.median(runs)
                row["median_s"] = med
                row["per_call_us"] = med / case.n * 1e6
                row["min_s"] = min(runs)
                row["cpu_per_call_us"] = statistics.median(cpu[case.key][contender]) / case.n * 1e6
                floor_by_rep = by_rep[case.key].get(C, {})
                paired = [
                    t / floor_by_rep[r]
                    for r, t in by_rep[case.key][contender].items()
                    if r in floor_by_rep
                ]
                if floor:
                    row["ratio"] = med / floor
                    row["best_ratio"] = min(runs) / min(floor_runs)
                    row["paired_ratios"] = paired
                    if paired:
                        row["paired_ratio_median"] = statistics.median(paired)
                    if case.target is not None and contender in SYSD_NAMES:
                        row["met"] = row["ratio"] <= case.target
            rows.append(row)
        for contender, why in case.absent.items():
            rows.append({"contender": contender, "error": f"not applicable: {why}"})
        summary[case.key] = {**asdict(case), "rows": rows}
    return summary


# ============================================================== rendering


def _fmt_time(case: dict[str, Any], row: dict[str, Any]) -> str:
    if case["op"] == "pipelined":
        return f"{row['median_s'] * 1000:.2f} ms"
    us = row["per_call_us"]
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def render_table(data: dict[str, Any]) -> str:
    lines = [
        "| case | contender | median | ratio to C | best runs' ratio | client CPU per call "
        "| target | |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case in data["cases"].values():
        target = f"≤ {case['target']:g}x" if case["target"] is not None else "info"
        label = case["label"]
        for row in case["rows"]:
            name = row["contender"]
            if "median_s" not in row:
                why = row.get("error", "not measured")
                lines.append(f"| {label} | {name} | n/a | | | | | {why} |")
                label = ""
                continue
            ratio = f"{row['ratio']:.2f}x" if "ratio" in row else ""
            best = f"{row['best_ratio']:.2f}x" if "best_ratio" in row else ""
            notes = []
            if "met" in row:
                over = row["ratio"] / case["target"] - 1
                notes.append("met" if row["met"] else f"**missed** by {over * 100:.0f}%")
            if "error" in row:
                notes.append(f"(later runs failed: {row['error']})")
            if row.get("refused"):
                notes.append(
                    f"up to {row['refused']} of {case['n']} calls refused by the bus "
                    '("limits exceeded")'
                )
            shown_target = target if name in SYSD_NAMES else ""
            lines.append(
                f"| {label} | {name} | {_fmt_time(case, row)} | {ratio} | {best} | "
                f"{row['cpu_per_call_us']:.1f} µs | {shown_target} | {' '.join(notes)} |"
            )
            label = ""
    return "\n".join(lines)


def render_oneshot(data: dict[str, Any]) -> str:
    one = data["oneshot"]
    med = one["median_ms"]
    base = med.get("sysd (default: private socket as root)")
    lines = [
        'One-shot process, "print the ActiveState of one unit" (wall time, median of '
        f"{one['runs']} runs each, same interpreter for every Python contender, all from cached "
        "bytecode: the run sets PYTHONPYCACHEPREFIX=bench/build/pycache because this machine "
        "sets PYTHONDONTWRITEBYTECODE=1, under which editable sysd was compiled from source "
        "on every start, ~25 ms, while pip-installed pystemd and dbus-fast had bytecode):",
        "",
        "| program | median | vs sysd (default) | printed |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, ms in med.items():
        rel = f"{ms / base:.2f}x" if base else ""
        lines.append(f"| {name} | {ms:.1f} ms | {rel} | `{one['outputs'].get(name, '')}` |")
    mods = one["sysd_modules_after"]
    lines += [
        "",
        f"After the sysd one-shot: `asyncio` in sys.modules: **{mods['asyncio']}**, "
        f"`threading`: {mods['threading']}, `dbus_fast.aio`: {mods['dbus_fast.aio']}, "
        f"`concurrent.futures`: {mods['concurrent.futures']}. `import sysd` takes "
        f"{one['import_sysd_ms']:.1f} ms (`python -X importtime`, which inflates it): "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in one["import_sysd_by_package_ms"].items())
        + "; slowest modules (own time): "
        + ", ".join(f"`{k}` {v:.1f} ms" for k, v in one["import_sysd_slowest_ms"].items())
        + ".",
    ]
    return "\n".join(lines)


def render_targets(data: dict[str, Any]) -> str:
    lines = []
    for case in data["cases"].values():
        if case["target"] is None:
            continue
        for row in case["rows"]:
            if "met" not in row:
                continue
            best = f"; best runs {row['best_ratio']:.2f}x" if "best_ratio" in row else ""
            if row["met"]:
                lines.append(
                    f"- {case['label']}, {row['contender']}: **met** "
                    f"({row['ratio']:.2f}x ≤ {case['target']:g}x{best})"
                )
            else:
                over = row["ratio"] / case["target"] - 1
                lines.append(
                    f"- {case['label']}, {row['contender']}: **missed** by {over * 100:.0f}% "
                    f"({row['ratio']:.2f}x against ≤ {case['target']:g}x{best})"
                )
    return "\n".join(lines)


def _dirty(modified: list[str]) -> str:
    if not modified:
        return "."
    bus = [p for p in modified if p.startswith("src/sysd/_bus/")]
    return (
        f", with {len(modified)} files under src/ modified in the work tree at the time"
        + (f", among them {', '.join(bus)}" if bus else "; none in src/sysd/_bus/")
        + "."
    )


def render_section(data: dict[str, Any]) -> str:
    m = data["machine"]
    s = data["setup"]
    parts = [
        SECTION,
        "",
        f"Measured {data['date']} with `{data['command']}` (setup, then "
        "`bench/.env/bin/python -m sysd sandbox run --bind <repo> -- bench/.env/bin/python "
        "bench/bench_bus.py --json bench/bus.json`; raw numbers in `bench/bus.json`).",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), kernel {m['kernel']}, Python {m['python']}; "
        f"systemd {s['systemd_version']} in the sandbox (nspawn, booted for the run); "
        f"sysd {m['sysd']}, dbus-fast {m['dbus-fast']}, pystemd {m['pystemd']}, "
        f"C floor: libsystemd {m['libsystemd (floor)']} sd-bus, gcc {m['gcc']} -O2.",
        "",
        f"{s['units']} units in ListUnits ({s['units_before']} booted + {s['fillers']} transient "
        f"slices); Get/GetAll read `{UNIT}` (a transient `sleep infinity`; GetAll returns "
        f"{s['getall_properties']} properties). Each time is the median of {data['reps']} "
        "measurements, each in a fresh process on an open, warmed-up connection, the "
        "contenders' order rotated per repetition; the ratio is the contender's median over the "
        "C floor's median in the same run (the per-repetition ratios are in the JSON); the "
        "best runs' ratio compares the fastest of the repetitions, the least disturbed by other "
        "work on the machine. "
        "Client CPU is the benchmark process's own user+system time per call (the bus daemon "
        "and systemd not included). Pipelined: at most "
        f"{data['window']} calls in flight per connection for every contender (sysd does it by "
        "itself, dbus-fast through a semaphore, the C floor refills a window of 64 from its "
        "sd_bus_call_method_async callbacks): dbus-daemon refuses more than 128 unanswered "
        "calls per client (see the C floor's all-at-once row); on the private socket no "
        "daemon limits them.",
        "",
        f"Load average (1/5/15 min) before the measurements {' '.join(data['loadavg_before'])}, "
        f"after {' '.join(data['loadavg_after'])} (other sessions share this {m['nproc']}-CPU "
        f"machine). sysd measured: commit {data['git']['commit']}"
        + (
            " (a `git archive` snapshot of it, so edits in progress in the shared work tree "
            "are not measured)"
            if not data["git"]["commit"].endswith("+worktree")
            else ""
        )
        + _dirty(data["git"]["src_modified"]),
        "",
        render_table(data),
        "",
        "Targets (sysd against the C floor in the same run):",
        "",
        render_targets(data),
        "",
        render_oneshot(data),
    ]
    if data.get("profiles"):
        parts += [
            "",
            "### Where the time goes (cProfile of sysd on the missed cases, top by own time)",
            "",
            "The measured loop only (no imports, no connecting), in a fresh process each. cProfile "
            "slows Python function calls down, so the Python share is overstated; the split "
            "still shows which side of the socket the time is on.",
        ]
        for name, text in data["profiles"].items():
            first, _, rest = text.strip().partition("\n")
            parts += ["", f"`{name}`: {first}.", "", "```", rest, "```"]
    if ANALYSIS.exists():
        parts += ["", ANALYSIS.read_text().strip()]
    parts += ["", f"Whole run: {data['elapsed_s']:.0f} s in the sandbox."]
    return "\n".join(parts) + "\n"


def update_results(path: Path, section: str) -> None:
    replace_section(path, SECTION, section)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("worker", "profile"):
        _, mode, contender, op, bus, n = sys.argv[:6]
        if mode == "worker":
            wall, cpu = run_worker(contender, op, bus, int(n))
            print(json.dumps({"seconds": wall, "cpu_seconds": cpu}))
        else:
            print(run_profile(contender, op, bus, int(n)))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "render":
        p = argparse.ArgumentParser(prog="bench_bus.py render")
        p.add_argument("json", type=Path)
        p.add_argument("--results", type=Path, help="update this RESULTS.md in place")
        a = p.parse_args(sys.argv[2:])
        section = render_section(json.loads(a.json.read_text()))
        if a.results:
            update_results(a.results, section)
        else:
            print(section)
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", type=Path, default=HERE / "build" / "bus.json")
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--oneshot-runs", type=int, default=30)
    p.add_argument("--units", type=int, default=UNITS_WANTED)
    p.add_argument("--cases", nargs="*", help="only these case keys")
    p.add_argument("--no-profile", action="store_true")
    a = p.parse_args()
    data = run_all(a)
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(data, indent=1) + "\n")
    print(render_table(data))
    print()
    print(render_targets(data))
    print()
    print(render_oneshot(data))


if __name__ == "__main__":
    main()
