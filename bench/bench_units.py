"""Unit status and unit listing: sysd's typed API against systemctl, pystemd and a C floor.

The second phase of ``bash bench/run.sh``, in the same throwaway systemd as
``bench_bus.py`` (run that way, as root inside the sandbox).  It

1. loads the same units as the bus phase (a transient ``sleep infinity``
   service, ``sysdbench.service``, and transient slices up to ~1150 units);
2. measures, each measurement in a fresh process on an open, warmed-up
   connection, ``--reps`` repetitions with the contenders' order rotated:

   * the status of one unit: ``sd.unit(NAME).status()`` (GetAll of the Unit
     interface + GetAll of the Service interface, a lazy typed snapshot) with
     five typical fields read, so their conversion is counted; the C floor makes
     the same two GetAll calls and visits every value; pystemd the idiomatic way
     (``Unit(name).load()``, then one property per attribute read) and with two
     ``Properties.GetAll``; ``systemctl show NAME`` run and parsed from Python;
   * the list of loaded units: ``sd.list_units()`` (UnitInfo named tuples)
     against ``Manager().Manager.ListUnits()`` in pystemd, ``systemctl
     list-units --all -o json`` parsed from Python and the C floor's ListUnits;

   on the system bus and on systemd's private socket (systemctl as root uses
   the private socket; ``SYSTEMCTL_FORCE_BUS=1`` sends it through dbus-daemon);
3. times one-shot processes: ``sysd status NAME`` (the CLI) against
   ``systemctl status NAME``, and a library one-shot of sysd and pystemd;
4. profiles sysd (cProfile) where a target was missed;
5. stops what it started, prints the tables and writes a JSON file.

``python bench/bench_units.py render bench/units.json --results bench/RESULTS.md``
(re)writes the "## Units (status and list_units)" section from a JSON file.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_bus as bus  # bench/ is sys.path[0] when this file runs as a script
from pycache import use_bytecode_cache
from results_md import replace_section

HERE = Path(__file__).resolve().parent
ANALYSIS = HERE / "units_analysis.md"
SECTION = "## Units (status and list_units)"
COMMAND = "bash bench/run.sh"

UNIT = bus.UNIT
UNIT_IFACE = bus.UNIT_IFACE
SERVICE_IFACE = bus.SERVICE_IFACE
MANAGER_PATH = bus.MANAGER_PATH
MANAGER_IFACE = bus.MANAGER_IFACE
PRIVATE_ADDRESS = bus.PRIVATE_ADDRESS
FLOOR = bus.FLOOR
WARMUP = 10

C = bus.C
SYSD = bus.SYSD
SYSD_AIO = bus.SYSD_AIO
PYSTEMD = "pystemd"
PYSTEMD_LOAD = "pystemd, Unit() + load() per status"
PYSTEMD_GETALL = "pystemd, 2 Properties.GetAll (raw)"
SHOW = "systemctl show NAME, parsed"
LIST_JSON = "systemctl list-units --all -o json, parsed"

# the fields a status read uses (conversion counted): sysd names, then D-Bus names
FIELDS = ("active_state", "sub_state", "main_pid", "active_enter_timestamp", "memory_current")
DBUS_FIELDS = (
    ("Unit", "ActiveState"),
    ("Unit", "SubState"),
    ("Service", "MainPID"),
    ("Unit", "ActiveEnterTimestamp"),
    ("Service", "MemoryCurrent"),
)


@dataclass
class Case:
    key: str
    op: str  # status | list
    bus: str  # system | private
    n: int  # calls per measurement (per contender: see N_FOR)
    label: str
    contenders: tuple[str, ...]
    target_c: float | None = None  # max ratio of sysd's median to the C floor's
    target_pystemd: float | None = None  # max ratio of sysd's median to pystemd's


STATUS_CONTENDERS = (C, SYSD, SYSD_AIO, PYSTEMD, PYSTEMD_LOAD, PYSTEMD_GETALL, SHOW)
LIST_CONTENDERS = (C, SYSD, SYSD_AIO, PYSTEMD, LIST_JSON)

CASES = (
    Case(
        "status",
        "status",
        "system",
        200,
        "status of one service (2 GetAll + 5 fields), system bus",
        STATUS_CONTENDERS,
        target_c=1.5,
    ),
    Case(
        "status_private",
        "status",
        "private",
        200,
        "status of one service (2 GetAll + 5 fields), private socket",
        STATUS_CONTENDERS,
        target_c=1.5,
    ),
    Case(
        "list",
        "list",
        "system",
        20,
        "list_units(), system bus",
        LIST_CONTENDERS,
        target_pystemd=0.5,
    ),
    Case(
        "list_private",
        "list",
        "private",
        20,
        "list_units(), private socket",
        LIST_CONTENDERS,
        target_pystemd=0.5,
    ),
)

# calls per measurement where one call is far dearer (a process, or an introspection)
N_FOR = {SHOW: 20, LIST_JSON: 10, PYSTEMD_LOAD: 40}


def calls(case: Case, contender: str) -> int:
    return min(case.n, N_FOR.get(contender, case.n))


# ============================================================== the workers
# Each measurement runs in a fresh interpreter: `bench_units.py worker CONTENDER OP BUS N`.

Timing = tuple[float, float]  # wall seconds, CPU seconds of this process and its children

PROFILER: cProfile.Profile | None = None  # set by `bench_units.py profile ...`


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _clock() -> Timing:
    if PROFILER is not None:
        PROFILER.enable()
    return time.perf_counter(), _cpu()


def _since(start: Timing) -> Timing:
    took = time.perf_counter() - start[0], _cpu() - start[1]
    if PROFILER is not None:
        PROFILER.disable()
    return took


def _timed(op: Callable[[], object], n: int, warmup: int = WARMUP) -> Timing:
    for _ in range(warmup):
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


def worker_sysd(op: str, where: str, n: int) -> Timing:
    import sysd

    with sysd.connect(private=where == "private") as sd:
        if op == "status":
            unit = sd.unit(UNIT)

            def status() -> tuple[Any, ...]:
                st = unit.status()
                return (
                    st.active_state,
                    st.sub_state,
                    st.main_pid,
                    st.active_enter_timestamp,
                    st.memory_current,
                )

            return _timed(status, n)
        if op == "list":
            return _timed(sd.list_units, n)
    raise SystemExit(f"sysd: no case {op}")


async def worker_sysd_aio(op: str, where: str, n: int) -> Timing:
    import sysd.aio

    async with sysd.aio.connect(private=where == "private") as sd:
        if op == "status":
            unit = await sd.unit(UNIT)

            async def status() -> tuple[Any, ...]:
                st = await unit.status()
                return (
                    st.active_state,
                    st.sub_state,
                    st.main_pid,
                    st.active_enter_timestamp,
                    st.memory_current,
                )

            return await _timed_async(status, n)
        if op == "list":
            return await _timed_async(sd.list_units, n)
    raise SystemExit(f"sysd.aio: no case {op}")


def worker_pystemd(contender: str, op: str, where: str, n: int) -> Timing:
    from pystemd.dbuslib import DBus, DBusAddress
    from pystemd.systemd1 import Manager, Unit

    dbus = DBusAddress(PRIVATE_ADDRESS.encode(), True) if where == "private" else DBus()
    dbus.open()
    try:
        if op == "list" and contender == PYSTEMD:
            manager = Manager(bus=dbus)
            manager.load()
            return _timed(manager.Manager.ListUnits, n)
        if op != "status":
            raise SystemExit(f"{contender}: no case {op}")
        name = UNIT.encode()

        def read(u: Any) -> tuple[Any, ...]:  # one Properties.Get per attribute
            return (
                u.Unit.ActiveState,
                u.Unit.SubState,
                u.Service.MainPID,
                u.Unit.ActiveEnterTimestamp,
                u.Service.MemoryCurrent,
            )

        if contender == PYSTEMD:
            unit = Unit(name, bus=dbus)
            unit.load()
            return _timed(lambda: read(unit), n)
        if contender == PYSTEMD_LOAD:

            def load_and_read() -> tuple[Any, ...]:
                u = Unit(name, bus=dbus)
                u.load()
                return read(u)

            return _timed(load_and_read, n)
        if contender == PYSTEMD_GETALL:
            unit = Unit(name, bus=dbus)
            unit.load()
            unit_iface, service_iface = UNIT_IFACE.encode(), SERVICE_IFACE.encode()
            probe = unit.Properties.GetAll(unit_iface)
            bytes_keys = isinstance(next(iter(probe)), bytes)
            keys = [(i, k.encode() if bytes_keys else k) for i, k in DBUS_FIELDS]

            def getall() -> tuple[Any, ...]:
                props = {
                    "Unit": unit.Properties.GetAll(unit_iface),
                    "Service": unit.Properties.GetAll(service_iface),
                }
                return tuple(props[i][k] for i, k in keys)

            return _timed(getall, n)
    finally:
        dbus.close()
    raise SystemExit(f"{contender}: no case {op}")


def _systemctl_env(where: str) -> dict[str, str]:
    env = dict(os.environ, SYSTEMD_PAGER="", SYSTEMD_COLORS="0", LC_ALL="C.UTF-8")
    if where == "system":
        env["SYSTEMCTL_FORCE_BUS"] = "1"  # through dbus-daemon, not the private socket
    else:
        env.pop("SYSTEMCTL_FORCE_BUS", None)
    return env


def _timestamp(text: str) -> datetime | None:
    """systemctl show's timestamps ("Fri 2026-11-27 08:41:03 UTC") as aware datetimes."""
    if not text:
        return None
    try:
        return datetime.strptime(text, "%a %Y-%m-%d %H:%M:%S %Z").replace(tzinfo=UTC)
    except ValueError:
        return None


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def worker_systemctl(contender: str, op: str, where: str, n: int) -> Timing:
    systemctl = shutil.which("systemctl") or "/bin/systemctl"
    env = _systemctl_env(where)
    if contender == SHOW and op == "status":

        def show() -> tuple[Any, ...]:
            out = subprocess.run(
                [systemctl, "show", UNIT], capture_output=True, text=True, check=True, env=env
            ).stdout
            props = dict(line.partition("=")[::2] for line in out.splitlines())
            return (
                props["ActiveState"],
                props["SubState"],
                _int_or_none(props["MainPID"]),
                _timestamp(props["ActiveEnterTimestamp"]),
                _int_or_none(props["MemoryCurrent"]),
            )

        return _timed(show, n, warmup=2)
    if contender == LIST_JSON and op == "list":

        def list_json() -> list[dict[str, str]]:
            out = subprocess.run(
                [systemctl, "list-units", "--all", "-o", "json"],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
            rows: list[dict[str, str]] = json.loads(out)
            return rows

        return _timed(list_json, n, warmup=2)
    raise SystemExit(f"{contender}: no case {op}")


def run_worker(contender: str, op: str, where: str, n: int) -> Timing:
    if contender == SYSD:
        return worker_sysd(op, where, n)
    if contender == SYSD_AIO:
        return asyncio.run(worker_sysd_aio(op, where, n))
    if contender in (PYSTEMD, PYSTEMD_LOAD, PYSTEMD_GETALL):
        return worker_pystemd(contender, op, where, n)
    if contender in (SHOW, LIST_JSON):
        return worker_systemctl(contender, op, where, n)
    raise SystemExit(f"no contender {contender}")


def measure(contender: str, case: Case) -> dict[str, Any]:
    """One measurement in a fresh process: {"seconds": ...} or {"error": ...}."""
    n = calls(case, contender)
    if contender == C:
        if case.op == "status":
            cmd = [str(FLOOR), "status", case.bus, str(n), UNIT]
        else:
            cmd = [str(FLOOR), "listunits", case.bus, str(n)]
    else:
        cmd = [sys.executable, __file__, "worker", contender, case.op, case.bus, str(n)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "no result within 300 s"}
    if proc.returncode != 0:
        lines = proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}"
        return {"error": lines.splitlines()[-1][:300]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"seconds": out["seconds"], "cpu_seconds": out["cpu_seconds"], "n": n}


# ============================================================ the one-shots

ONESHOT_SYSD_LIB = f"""
import sysd
with sysd.connect() as sd:
    st = sd.unit({UNIT!r}).status()
    print(st.active_state, st.sub_state, st.main_pid, st.active_enter_timestamp)
"""

ONESHOT_PYSTEMD = f"""
from pystemd.systemd1 import Unit
u = Unit({UNIT.encode()!r})
u.load()
print(u.Unit.ActiveState.decode(), u.Unit.SubState.decode(), u.Service.MainPID,
      u.Unit.ActiveEnterTimestamp)
"""


def oneshot_commands() -> dict[str, list[str]]:
    systemctl = shutil.which("systemctl") or "/bin/systemctl"
    sysd_cli = Path(sys.executable).parent / "sysd"
    cli = [str(sysd_cli)] if sysd_cli.exists() else [sys.executable, "-m", "sysd"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        f"sysd status {UNIT}": [*cli, "status", UNIT],
        f"systemctl status {UNIT}": [systemctl, "status", UNIT],
        f"sysd status -n0 {UNIT}": [*cli, "status", "-n0", UNIT],
        f"systemctl status -n0 {UNIT}": [systemctl, "status", "-n0", UNIT],
        "sysd library: connect, unit(), status(), print": [sys.executable, "-c", ONESHOT_SYSD_LIB],
        "pystemd: Unit(), load(), print": [sys.executable, "-c", ONESHOT_PYSTEMD],
    }


def _importtime(cmd: list[str]) -> dict[str, Any]:
    """`python -X importtime` of a command: total, by package, slowest modules (own time)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *cmd],
        capture_output=True,
        text=True,
        check=False,
        env=_systemctl_env("private"),
    )
    total_us = 0
    own: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$", line)
        if not m:
            continue
        own[m.group(4)] = own.get(m.group(4), 0) + int(m.group(1))
        if len(m.group(3)) == 1:  # a top-level import: its cumulative time counts once
            total_us += int(m.group(2))
    groups: dict[str, int] = {"sysd": 0, "dbus_fast": 0, "other (stdlib)": 0}
    for name, us in own.items():
        top = name.split(".")[0]
        groups[top if top in groups else "other (stdlib)"] += us
    sysd_modules = {k: v for k, v in own.items() if k.split(".")[0] == "sysd"}
    return {
        "total_ms": total_us / 1000,
        "by_package_ms": {k: v / 1000 for k, v in groups.items()},
        "slowest_sysd_ms": {
            k: v / 1000 for k, v in sorted(sysd_modules.items(), key=lambda kv: -kv[1])[:8]
        },
        "modules": len(own),
    }


def run_oneshots(runs: int) -> dict[str, Any]:
    cmds = oneshot_commands()
    env = _systemctl_env("private")
    times: dict[str, list[float]] = {name: [] for name in cmds}
    outputs: dict[str, str] = {}
    codes: dict[str, int] = {}
    for name, cmd in cmds.items():  # one untimed run each: page cache, bytecode, the output
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        outputs[name] = proc.stdout.rstrip() or proc.stderr.strip()[-300:]
        codes[name] = proc.returncode
    names = list(cmds)
    for i in range(runs):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            start = time.perf_counter()
            subprocess.run(
                cmds[name],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                env=env,
            )
            times[name].append(time.perf_counter() - start)
    cli = cmds[f"sysd status {UNIT}"]
    script = [cli[0]] if len(cli) == 3 else cli[1:3]  # the console script, or -m sysd
    probe = (
        "import sys, runpy; sys.argv = ['sysd', 'status', %r]\n"
        "try:\n    runpy.run_path(%r, run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('asyncio', 'subprocess', 'threading', 'lxml', "
        "'dbus_fast.aio', 'sysd._core.status_generated', 'sysd._core.properties', "
        "'sysd.journal', 'ctypes') "
        "if m in sys.modules), file=sys.stderr)"
    )
    modules = ""
    if len(script) == 1:
        proc = subprocess.run(
            [sys.executable, "-c", probe % (UNIT, script[0])],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        modules = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    return {
        "runs": runs,
        "ms": {name: [t * 1000 for t in ts] for name, ts in times.items()},
        "median_ms": {name: statistics.median(ts) * 1000 for name, ts in times.items()},
        "outputs": outputs,
        "exit_codes": codes,
        "cli_modules_loaded": modules,
        "importtime_cli": _importtime(["-m", "sysd", "status", UNIT]),
        "importtime_library": _importtime(["-c", "import sysd"]),
    }


# ============================================================ the profiles


def profile_case(contender: str, case: Case) -> str:
    proc = subprocess.run(
        [sys.executable, __file__, "profile", contender, case.op, case.bus, str(case.n)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else f"profile failed: {proc.stderr[-500:]}"


def run_profile(contender: str, op: str, where: str, n: int) -> str:
    global PROFILER
    prof = PROFILER = cProfile.Profile()
    run_worker(contender, op, where, n)
    PROFILER = None
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(16)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    keep = [
        re.sub(r"/\S*/(site-packages|src|lib/python3\.\d+)/", "", line) for line in lines[start:]
    ]
    total = next((line.strip() for line in lines if "function calls" in line), "")
    waiting = sockets = convert = decode = 0.0
    for (file, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if re.search(r"'(poll|select)' of 'select\.", func):
            waiting += tt
        elif re.search(r"'(send|sendmsg|recv|recvmsg)' of '_socket", func):
            sockets += tt
        elif "_core/" in file:
            convert += tt
        elif "_bus/wire" in file or "unmarshall" in func:
            decode += tt
    whole = stats.total_tt  # type: ignore[attr-defined]
    rest = 1 - (waiting + sockets + convert + decode) / whole
    share = (
        f"{n} calls, {whole / n * 1e6:.1f} µs each under the profiler: waiting in poll "
        f"{waiting / whole:.0%}, socket send/recv {sockets / whole:.0%}, sysd._core (snapshot, "
        f"conversion) {convert / whole:.0%}, wire encode/decode {decode / whole:.0%}, the rest "
        f"(API layers, dispatch, event loop) {rest:.0%}"
    )
    return share + "\n" + total + "\n" + "\n".join(line for line in keep if line.strip())


# ================================================================ the run


async def property_counts() -> dict[str, int]:
    import sysd.aio

    async with sysd.aio.connect(private=True) as sd:
        path = await sd.call(None, MANAGER_PATH, MANAGER_IFACE, "GetUnit", "s", (UNIT,))
        unit_props = await sd.get_all(path, UNIT_IFACE)
        service_props = await sd.get_all(path, SERVICE_IFACE)
    return {"unit": len(unit_props), "service": len(service_props)}


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    if os.geteuid() != 0 or not os.path.exists("/run/systemd/private"):
        raise SystemExit(
            "bench_units.py needs root inside a systemd (the private socket); "
            "run `bash bench/run.sh`"
        )
    if not FLOOR.exists():
        raise SystemExit(f"{FLOOR} is missing: run `bash bench/setup.sh`")
    t0 = time.perf_counter()
    use_bytecode_cache()
    cases = [c for c in CASES if not args.cases or c.key in args.cases]
    setup = asyncio.run(bus.setup_units(args.units))
    setup["properties"] = asyncio.run(property_counts())
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
    errors: dict[str, dict[str, str]] = {c.key: {} for c in cases}
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    loads: list[float] = []
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
                        continue
                    per_call = got["seconds"] / got["n"]
                    results[case.key][contender].append(per_call)
                    by_rep[case.key][contender][rep] = per_call
                    cpu[case.key][contender].append(got["cpu_seconds"] / got["n"])
            loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
            print(
                f"# repetition {rep + 1}/{args.reps} done at {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
            )
        oneshot = run_oneshots(args.oneshot_runs)
        summary = summarize(cases, results, cpu, by_rep, errors)
        profiles: dict[str, str] = {}
        if not args.no_profile:
            for case in cases:
                for row in summary[case.key]["rows"]:
                    if row.get("met") is False or (
                        args.profile_all and row["contender"] in (SYSD, SYSD_AIO)
                    ):
                        profiles[f"{case.label} / {row['contender']}"] = profile_case(
                            row["contender"], case
                        )
    finally:
        stopped = asyncio.run(bus.cleanup())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": COMMAND,
        "machine": bus.machine_info(),
        "setup": setup,
        "stopped_units": stopped,
        "loadavg_before": load_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "loadavg_1min_per_rep": loads,
        "git": bus.git_state(),
        "reps": args.reps,
        "cases": summary,
        "raw_per_call_s": results,
        "raw_cpu_per_call_s": cpu,
        "oneshot": oneshot,
        "profiles": profiles,
        "elapsed_s": time.perf_counter() - t0,
    }


def ratio_ci(
    runs: list[float], ref: list[float], rounds: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% bootstrap interval of median(runs) / median(ref), each resampled on its own."""
    rng = random.Random(seed)
    ratios = sorted(
        statistics.median(rng.choices(runs, k=len(runs)))
        / statistics.median(rng.choices(ref, k=len(ref)))
        for _ in range(rounds)
    )
    return ratios[int(rounds * 0.025)], ratios[int(rounds * 0.975) - 1]


def summarize(
    cases: list[Case],
    results: dict[str, dict[str, list[float]]],
    cpu: dict[str, dict[str, list[float]]],
    by_rep: dict[str, dict[str, dict[int, float]]],
    errors: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """Medians per contender, and their ratios to the C floor's and pystemd's medians in
    the same run (the per-repetition ratios are kept as well)."""
    summary: dict[str, Any] = {}
    for case in cases:
        res = results[case.key]
        floor = statistics.median(res[C]) if res.get(C) else None
        pyst = statistics.median(res[PYSTEMD]) if res.get(PYSTEMD) else None
        rows = []
        for contender in case.contenders:
            runs = res[contender]
            row: dict[str, Any] = {"contender": contender, "n": calls(case, contender)}
            if contender in errors[case.key]:
                row["error"] = errors[case.key][contender]
            if runs:
                med = statistics.median(runs)
                row["per_call_s"] = med
                row["min_s"] = min(runs)
                row["cpu_per_call_s"] = statistics.median(cpu[case.key][contender])
                for ref, ref_med, key in ((C, floor, "c"), (PYSTEMD, pyst, "pystemd")):
                    if ref_med and res[ref]:
                        row[f"ratio_{key}"] = med / ref_med
                        row[f"ci_{key}"] = ratio_ci(runs, res[ref])
                        row[f"best_ratio_{key}"] = min(runs) / min(res[ref])
                        ref_by_rep = by_rep[case.key][ref]
                        row[f"paired_ratios_{key}"] = [
                            t / ref_by_rep[r]
                            for r, t in by_rep[case.key][contender].items()
                            if r in ref_by_rep
                        ]
                if contender in (SYSD, SYSD_AIO):
                    if case.target_c is not None and "ratio_c" in row:
                        row["met"] = row["ratio_c"] <= case.target_c
                    if case.target_pystemd is not None and "ratio_pystemd" in row:
                        row["met"] = row["ratio_pystemd"] <= case.target_pystemd
            rows.append(row)
        summary[case.key] = {**asdict(case), "rows": rows}
    return summary


# ============================================================== rendering


def _fmt(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def _target(case: dict[str, Any]) -> tuple[str, float, str] | None:
    if case["target_c"] is not None:
        return "c", case["target_c"], "the C floor"
    if case["target_pystemd"] is not None:
        return "pystemd", case["target_pystemd"], "pystemd"
    return None


def render_table(data: dict[str, Any]) -> str:
    lines = [
        "| case | contender | median per call | ratio to C [95% CI] | best runs' "
        "| vs pystemd [95% CI] | client CPU per call | target | |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case in data["cases"].values():
        label = case["label"]
        target = _target(case)
        for row in case["rows"]:
            name = row["contender"]
            if "per_call_s" not in row:
                why = row.get("error", "not measured")
                lines.append(f"| {label} | {name} | n/a | | | | | | {why} |")
                label = ""
                continue

            def r(key: str, row: dict[str, Any] = row) -> str:
                return f"{row[key]:.2f}x" if key in row else ""

            def ci(key: str, row: dict[str, Any] = row) -> str:
                if f"ratio_{key}" not in row or row["contender"] == (C if key == "c" else PYSTEMD):
                    return r(f"ratio_{key}")
                lo, hi = row[f"ci_{key}"]
                return f"{row[f'ratio_{key}']:.2f}x [{lo:.2f}-{hi:.2f}]"

            shown, note = "", ""
            if target and "met" in row:
                key, limit, _ = target
                shown = f"≤ {limit:g}x {'C' if key == 'c' else 'pystemd'}"
                over = row[f"ratio_{key}"] / limit - 1
                note = "met" if row["met"] else f"**missed** by {over * 100:.0f}%"
                lo, hi = row[f"ci_{key}"]
                if lo <= limit <= hi:
                    note += " (the target is inside the 95% interval)"
            if "error" in row:
                note += f" (some runs failed: {row['error']})"
            lines.append(
                f"| {label} | {name} | {_fmt(row['per_call_s'])} | {ci('c')} | "
                f"{r('best_ratio_c')} | {ci('pystemd')} | "
                f"{_fmt(row['cpu_per_call_s'])} | {shown} | {note.strip()} |"
            )
            label = ""
    return "\n".join(lines)


def render_targets(data: dict[str, Any]) -> str:
    lines = []
    for case in data["cases"].values():
        target = _target(case)
        if target is None:
            continue
        key, limit, ref = target
        for row in case["rows"]:
            if "met" not in row:
                continue
            ratio, best = row[f"ratio_{key}"], row[f"best_ratio_{key}"]
            lo, hi = row[f"ci_{key}"]
            spread = f"95% interval {lo:.2f}-{hi:.2f}x; best runs {best:.2f}x"
            if row["met"]:
                verdict = f"**met** ({ratio:.2f}x ≤ {limit:g}x of {ref}; {spread})"
            else:
                verdict = (
                    f"**missed** by {(ratio / limit - 1) * 100:.0f}% ({ratio:.2f}x against "
                    f"≤ {limit:g}x of {ref}; {spread})"
                )
            lines.append(f"- {case['label']}, {row['contender']}: {verdict}")
    return "\n".join(lines)


def render_oneshot(data: dict[str, Any]) -> str:
    one = data["oneshot"]
    med = one["median_ms"]
    base = med.get(f"systemctl status {UNIT}")
    lines = [
        f"One-shot processes (wall time, median of {one['runs']} interleaved runs each, bytecode "
        "cached as in the bus phase; systemctl as root uses the private socket, and so does "
        "sysd by default):",
        "",
        "| program | median | vs `systemctl status` | exit status |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, ms in med.items():
        rel = f"{ms / base:.2f}x" if base else ""
        lines.append(f"| `{name}` | {ms:.1f} ms | {rel} | {one['exit_codes'].get(name, '')} |")
    cli, lib = one["importtime_cli"], one["importtime_library"]
    lines += [
        "",
        f"Imports (`python -X importtime`, which inflates them): `python -m sysd status NAME` "
        f"imports {cli['modules']} modules in {cli['total_ms']:.1f} ms ("
        + ", ".join(f"{k} {v:.1f} ms" for k, v in cli["by_package_ms"].items())
        + f"); `import sysd` alone {lib['modules']} modules in {lib['total_ms']:.1f} ms. "
        "Slowest sysd modules of the CLI (own time): "
        + ", ".join(f"`{k}` {v:.1f} ms" for k, v in cli["slowest_sysd_ms"].items())
        + "."
        + (
            f" Loaded after `sysd status`: {one['cli_modules_loaded']}."
            if one.get("cli_modules_loaded")
            else ""
        ),
        "",
        "What the two status commands printed (with the unit's last journal lines, "
        "10 by default; `-n0`: none):",
    ]
    for name in (f"sysd status {UNIT}", f"systemctl status {UNIT}"):
        lines += ["", f"`{name}`:", "", "```", one["outputs"].get(name, ""), "```"]
    return "\n".join(lines)


def render_section(data: dict[str, Any]) -> str:
    m, s = data["machine"], data["setup"]
    loads = data.get("loadavg_1min_per_rep") or [0.0]
    props = s["properties"]
    parts = [
        SECTION,
        "",
        f"Measured {data['date']} with `{data['command']}` (its second phase, in the same "
        "sandbox as the bus phase: `bench/.env/bin/python bench/bench_units.py --json "
        "bench/units.json`; raw numbers in `bench/units.json`).",
        "",
        f"Machine, versions and units as in the bus phase: {m['nproc']} CPUs, Python "
        f"{m['python']}, systemd {s['systemd_version']}, pystemd {m['pystemd']}, C floor on "
        f"libsystemd {m['libsystemd (floor)']} sd-bus; {s['units']} units loaded "
        f"({s['units_before']} booted + {s['fillers']} transient slices); the status reads "
        f"`{UNIT}` (a transient `sleep infinity`): {props['unit']} properties on the Unit "
        f"interface + {props['service']} on the Service interface.",
        "",
        f"Each time is the median over {data['reps']} measurements of the mean per call, each "
        "measurement in a fresh process on an open, warmed-up connection, the contenders' order "
        "rotated per repetition; ratios are medians over medians of the same run, with a 95% "
        'bootstrap interval (both sides resampled over the repetitions), "best runs\'" '
        "the fastest repetition over the fastest. Client CPU is the measuring process's user + "
        "system time per call, its child processes included (the `systemctl` rows: the "
        "systemctl processes), the bus daemon and systemd not. What each contender does per "
        "call: **C sd-bus** GetAll(Unit) + GetAll(Service), every value visited (`floor "
        "status`), resp. ListUnits with every field read; **sysd** `unit.status()` (the same "
        "two GetAll, a lazy typed `ServiceStatus`) and reads "
        + ", ".join(f"`{f}`" for f in FIELDS)
        + " (converted: str, int, aware datetime, int|None), resp. `sd.list_units()` (a list "
        "of `UnitInfo` named tuples); **pystemd** on a loaded `Unit`: the five properties as "
        "attributes (one Properties.Get each, raw values), resp. "
        "`Manager().Manager.ListUnits()` (tuples of bytes); **pystemd, Unit() + load() per "
        "status** also introspects the unit (XML via lxml) each time, as a program that does "
        "not keep the object; **pystemd, 2 Properties.GetAll** the same two calls as sysd "
        "without conversion; **systemctl** one process per call, its output parsed into a "
        "dict (MainPID, MemoryCurrent to int, the timestamp to a datetime), resp. JSON; "
        "`SYSTEMCTL_FORCE_BUS=1` for the system-bus rows.",
        "",
        f"Load average (1/5/15 min) before the measurements {' '.join(data['loadavg_before'])}, "
        f"after {' '.join(data['loadavg_after'])}; 1-minute load after each repetition "
        f"{min(loads):.2f}-{max(loads):.2f} (median {statistics.median(loads):.2f}) on this "
        f"{m['nproc']}-CPU machine shared with other sessions. sysd measured: commit "
        f"{data['git']['commit']}.",
        "",
        render_table(data),
        "",
        "Targets:",
        "",
        render_targets(data),
        "",
        render_oneshot(data),
    ]
    if data.get("profiles"):
        parts += [
            "",
            "### Where sysd's time goes (cProfile, the measured loop only)",
            "",
            "In a fresh process each; cProfile inflates Python calls, so the Python share is "
            "overstated.",
        ]
        for name, text in data["profiles"].items():
            first, _, rest = text.strip().partition("\n")
            parts += ["", f"`{name}`: {first}.", "", "```", rest, "```"]
    if ANALYSIS.exists():
        parts += ["", ANALYSIS.read_text().strip()]
    parts += ["", f"Whole phase: {data['elapsed_s']:.0f} s in the sandbox."]
    return "\n".join(parts) + "\n"


def update_results(path: Path, section: str) -> None:
    replace_section(path, SECTION, section)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("worker", "profile"):
        _, mode, contender, op, where, n = sys.argv[:6]
        if mode == "worker":
            wall, cpu = run_worker(contender, op, where, int(n))
            print(json.dumps({"seconds": wall, "cpu_seconds": cpu}))
        else:
            print(run_profile(contender, op, where, int(n)))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "render":
        p = argparse.ArgumentParser(prog="bench_units.py render")
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
    p.add_argument("--json", type=Path, default=HERE / "build" / "units.json")
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--oneshot-runs", type=int, default=30)
    p.add_argument("--units", type=int, default=bus.UNITS_WANTED)
    p.add_argument("--cases", nargs="*", help="only these case keys")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--profile-all", action="store_true", help="profile sysd on every case")
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
