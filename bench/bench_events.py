#!/usr/bin/env python3
"""The events benchmark: sysd's event stream against a C sd-bus loop and dbus-fast.

Run it with ``bash bench/run_events.sh`` (it builds the environment and the C loop,
boots a throwaway systemd and runs this inside as root), which ends with::

    python bench/bench_events.py render bench/events.json --results bench/RESULTS.md

(re)writing the "## Events" section of ``bench/RESULTS.md`` and nothing else.

The consumers, each a child process on the system bus (dbus-daemon: the bus every
contender can use, dbus-fast's match rules need it), each printing one line
``MONOTONIC_NS UNIT ACTIVE SUB`` per unit state change it sees:

- ``C sd-bus``: ``bench/build/floor events system`` (bench/floor.c): one match for the units'
  PropertiesChanged, Subscribe, the unit's name decoded from the path, the last state of every
  unit in a hash table, a line only when ActiveState/SubState changed;
- ``dbus-fast``: dbus-fast's ``MessageBus`` with the same match rule (AddMatch), Subscribe,
  the same work in a message handler;
- ``sysd``, ``sysd asyncio``: ``sd.events(kinds=(UnitChanged,))``, blocking and asyncio.

1. Latency: a oneshot unit (``/bin/true``) is started with ``systemctl start`` every
   5-30 ms (random); the latency is from just before ``systemctl`` is spawned to the
   consumer's CLOCK_MONOTONIC at its first event for the unit (``activating``).
   The consumers take turns, in rounds, in a shuffled order per round.
2. Throughput: 1000 transient oneshot units (``/bin/true``) started by the C loop's
   ``spawn`` on the private socket (StartTransientUnit, 64 in flight); each starts, stops
   and is collected.  Events/s is the events the consumer reported over the time from the
   first StartTransientUnit to the consumer's last event; the consumer's CPU time too.
3. Idle CPU: a consumer with nothing to report (the sandbox quiet), its CPU time over
   ``--idle`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results_md import replace_section

SECTION = "## Events"
HERE = Path(__file__).resolve().parent
FLOOR = HERE / "build" / "floor"
ONESHOT = "sysdbench-oneshot.service"
UNIT_DIR = Path("/run/systemd/system")
CONSUMERS = ["C sd-bus", "dbus-fast", "sysd", "sysd asyncio"]


# ------------------------------------------------------------------------ consumers


def _line(out: Any, unit: str, active: str, sub: str) -> None:
    out.write(f"{time.monotonic_ns()} {unit} {active} {sub}\n")
    out.flush()


def _unescape(path: str) -> str:
    """A unit's name from its object path (sd_bus_path_decode): ``_xx`` is a hex byte."""
    tail = path.rsplit("/", 1)[1]
    if "_" not in tail:
        return tail
    out = bytearray()
    i = 0
    while i < len(tail):
        if tail[i] == "_" and i + 3 <= len(tail):
            out.append(int(tail[i + 1 : i + 3], 16))
            i += 3
        else:
            out += tail[i].encode()
            i += 1
    return out.decode("utf-8", "replace")


def consumer_dbus_fast() -> None:
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    out = sys.stdout
    rule = (
        "type='signal',sender='org.freedesktop.systemd1',"
        "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
        "path_namespace='/org/freedesktop/systemd1/unit'"
    )
    last: dict[str, tuple[str, str]] = {}

    def handler(msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL or msg.member != "PropertiesChanged":
            return
        iface, changed = msg.body[0], msg.body[1]
        if iface != "org.freedesktop.systemd1.Unit":
            return
        a = changed.get("ActiveState")
        s = changed.get("SubState")
        if a is None and s is None:
            return
        path = msg.path
        old = last.get(path, ("", ""))
        new = (a.value if a is not None else old[0], s.value if s is not None else old[1])
        if new != old:
            last[path] = new
            _line(out, _unescape(path), *new)

    async def main() -> None:
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        bus.add_message_handler(handler)
        await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[rule],
            )
        )
        await bus.call(
            Message(
                destination="org.freedesktop.systemd1",
                path="/org/freedesktop/systemd1",
                interface="org.freedesktop.systemd1.Manager",
                member="Subscribe",
            )
        )
        out.write("ready\n")
        out.flush()
        await asyncio.Event().wait()

    asyncio.run(main())


def consumer_sysd() -> None:
    import sysd

    out = sys.stdout
    with (
        sysd.connect(private=False) as sd,
        sd.events(kinds=(sysd.UnitChanged,)) as events,
    ):
        out.write("ready\n")
        out.flush()
        for e in events:
            _line(out, e.unit, e.active_state, e.sub_state)


def consumer_sysd_asyncio() -> None:
    import sysd
    import sysd.aio

    out = sys.stdout

    async def main() -> None:
        async with (
            await sysd.aio.connect(private=False) as sd,
            sd.events(kinds=(sysd.UnitChanged,)) as events,
        ):
            out.write("ready\n")
            out.flush()
            async for e in events:
                _line(out, e.unit, e.active_state, e.sub_state)

    asyncio.run(main())


def consumer(kind: str) -> None:
    if kind == "dbus-fast":
        consumer_dbus_fast()
    elif kind == "sysd":
        consumer_sysd()
    elif kind == "sysd asyncio":
        consumer_sysd_asyncio()
    else:
        raise SystemExit(f"unknown consumer {kind}")


class Child:
    """A consumer in a child process; its lines are read by a thread into a list."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        argv = (
            [str(FLOOR), "events", "system"]
            if kind == "C sd-bus"
            else [sys.executable, __file__, "consumer", kind]
        )
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        if first != "ready":
            self.proc.kill()
            raise SystemExit(f"consumer {kind} did not start (said {first!r})")
        self.lines: list[tuple[int, str, str, str]] = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            ns, unit, active, sub = raw.split()
            with self.cond:
                self.lines.append((int(ns), unit, active, sub))
                self.cond.notify_all()

    def wait_for(self, start: int, pred: Any, timeout: float = 30.0) -> tuple[int, Any]:
        """The index after, and the first line from index ``start`` on matching ``pred``."""
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i + 1, self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"{self.kind}: no such event within {timeout} s")
                self.cond.wait(left)

    def cpu(self) -> float:
        return _cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _cpu_seconds(pid: int) -> float:
    try:  # nanoseconds on the CPU (the tick counts of /proc/PID/stat are 10 ms coarse)
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------ latency


def _oneshot() -> None:
    (UNIT_DIR / ONESHOT).write_text(
        "[Unit]\nDescription=sysd events benchmark\n[Service]\nType=oneshot\nExecStart=/bin/true\n"
    )
    subprocess.run(["systemctl", "daemon-reload"], check=True)


def latency_round(
    child: Child, n: int, rng: random.Random, ref: Child | None = None
) -> tuple[list[float], list[float]]:
    """Latencies (ms) of ``n`` starts; and with ``ref`` (a C loop listening alongside), by how
    much the consumer saw each start after the C loop saw the same signal."""
    out, added = [], []
    i = len(child.lines)
    j = len(ref.lines) if ref else 0

    def activating(e: Any) -> bool:
        return bool(e[1] == ONESHOT and e[2] == "activating")

    def inactive(e: Any) -> bool:
        return bool(e[1] == ONESHOT and e[2] == "inactive")

    for _ in range(n):
        time.sleep(rng.uniform(0.005, 0.030))
        t0 = time.monotonic_ns()
        subprocess.run(["systemctl", "start", ONESHOT], check=True)
        i, (ns, *_) = child.wait_for(i, activating)
        out.append((ns - t0) / 1e6)
        # and back to inactive, so the next start begins from rest
        i, _ = child.wait_for(i, inactive)
        if ref is not None:
            j, (ref_ns, *_) = ref.wait_for(j, activating)
            added.append((ns - ref_ns) / 1e6)
            j, _ = ref.wait_for(j, inactive)
    return out, added


def measure_latency(n: int, rounds: int) -> list[dict[str, Any]]:
    _oneshot()
    rng = random.Random(12)
    samples: dict[str, list[float]] = {k: [] for k in CONSUMERS}
    added: dict[str, list[float]] = {k: [] for k in CONSUMERS}
    for r in range(rounds):
        order = CONSUMERS[:]
        rng.shuffle(order)
        for kind in order:
            child = Child(kind)
            ref = Child("C sd-bus")  # the same signals, to a C loop at the same time
            try:
                latency_round(child, 3, rng, ref)  # warm-up
                got, more = latency_round(child, n, rng, ref)
                samples[kind] += got
                added[kind] += more
            finally:
                child.stop()
                ref.stop()
            print(f"latency round {r + 1} {kind}: median {statistics.median(got):.2f} ms, "
                  f"after a C loop alongside by {statistics.median(more):.3f} ms",
                  flush=True)  # fmt: skip
    rows = []
    for kind in CONSUMERS:
        s = sorted(samples[kind])
        rows.append(
            {
                "consumer": kind,
                "n": len(s),
                "median_ms": statistics.median(s),
                "p95_ms": s[int(len(s) * 0.95) - 1],
                "min_ms": s[0],
                "max_ms": s[-1],
                "added_median_ms": statistics.median(added[kind]),
                "added_p95_ms": sorted(added[kind])[int(len(added[kind]) * 0.95) - 1],
            }
        )
    return rows


# --------------------------------------------------------------------- throughput


def throughput_once(kind: str, units: int) -> dict[str, Any]:
    child = Child(kind)
    try:
        prefix = f"sysdbench-ev-{uuid.uuid4().hex[:8]}"
        cpu0 = child.cpu()
        t0 = time.monotonic_ns()
        # through the private socket: StartTransientUnit x 1000 through dbus-daemon makes it
        # drop systemd's connection now and then ("recipient disconnected without replying")
        spawn = subprocess.run(
            [str(FLOOR), "spawn", "private", str(units), "64", prefix],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if spawn.returncode:
            raise SystemExit(f"floor spawn failed: {spawn.stderr.strip()}")
        # then until nothing more comes for a second: the last line is the last state change
        # of these units (each ran /bin/true and stopped).  Not every unit is reported:
        # while its bus write queue is long systemd holds change signals back, and a unit
        # started, stopped and collected meanwhile sends none (manager_dispatch_dbus_queue)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with child.cond:
                before = len(child.lines)
                child.cond.wait(1.0)
                if len(child.lines) == before:
                    break
        with child.cond:
            mine = [e for e in child.lines if e[1].startswith(prefix + "-")]
        last = max(e[0] for e in mine)
        seconds = (last - t0) / 1e9
        cpu = child.cpu() - cpu0
        return {
            "consumer": kind,
            "units": units,
            "events": len(mine),
            "seconds": seconds,  # to the last unit's final state, as this consumer saw it
            "events_per_s": len(mine) / seconds,
            "cpu_s": cpu,
            "cpu_per_event_us": cpu / max(len(mine), 1) * 1e6,
            "spawn": json.loads(spawn.stdout),
        }
    finally:
        child.stop()


def measure_throughput(units: int, rounds: int) -> list[dict[str, Any]]:
    rng = random.Random(34)
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in CONSUMERS}
    for r in range(rounds):
        order = CONSUMERS[:]
        rng.shuffle(order)
        for kind in order:
            row = throughput_once(kind, units)
            runs[kind].append(row)
            rate, cpu = row["events_per_s"], row["cpu_s"]
            print(f"throughput round {r + 1} {kind}: {row['events']} events, "
                  f"{rate:,.0f}/s, CPU {cpu:.2f} s", flush=True)  # fmt: skip
            time.sleep(1.0)
    rows = []
    for kind in CONSUMERS:
        rs = runs[kind]
        rows.append(
            {
                "consumer": kind,
                "units": units,
                "rounds": len(rs),
                "events": statistics.median(r["events"] for r in rs),
                "events_per_s": statistics.median(r["events_per_s"] for r in rs),
                "cpu_s": statistics.median(r["cpu_s"] for r in rs),
                "seconds": statistics.median(r["seconds"] for r in rs),
                "cpu_per_event_us": statistics.median(r["cpu_per_event_us"] for r in rs),
                "runs": rs,
            }
        )
    return rows


# ----------------------------------------------------------------------- idle CPU


def measure_idle(idle: float) -> list[dict[str, Any]]:
    rows = []
    for kind in CONSUMERS:
        child = Child(kind)
        try:
            time.sleep(1.0)
            before, t0 = child.cpu(), time.monotonic()
            time.sleep(idle)
            cpu = (child.cpu() - before) / (time.monotonic() - t0)
            events = len(child.lines)
        finally:
            child.stop()
        rows.append({"consumer": kind, "idle_s": idle, "cpu_percent": cpu * 100, "events": events})
        print(f"idle {kind}: {cpu * 100:.3f} % of a core ({events} events)", flush=True)
    return rows


# ------------------------------------------------------------------------- output


def versions() -> dict[str, str]:
    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "cpus": str(os.cpu_count()),
        "systemd": out(["systemctl", "--version"]).split("\n")[0],
        "dbus_fast": version("dbus-fast"),
        "sysd": os.environ.get("BENCH_SYSD_COMMIT", "worktree"),
    }


def run(args: argparse.Namespace) -> None:
    global CONSUMERS
    if args.only:
        CONSUMERS = [c for c in CONSUMERS if c in args.only.split(",")]
    started = time.monotonic()
    data: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions(),
        "load_before": os.getloadavg(),
        "args": {"n": args.n, "rounds": args.rounds, "units": args.units, "idle": args.idle},
    }
    data["latency"] = measure_latency(args.n, args.rounds)
    data["throughput"] = measure_throughput(args.units, args.rounds)
    data["idle"] = measure_idle(args.idle)
    data["load_after"] = os.getloadavg()
    data["elapsed_s"] = time.monotonic() - started
    Path(args.json).write_text(json.dumps(data, indent=1) + "\n")


def _by(rows: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["consumer"] == kind), None)


def render_section(data: dict[str, Any]) -> str:
    v = data["versions"]
    a = data["args"]
    floor_lat = _by(data["latency"], "C sd-bus")
    floor_tp = _by(data["throughput"], "C sd-bus")
    assert floor_lat and floor_tp
    parts = [
        SECTION,
        "",
        f"Measured {data['date']} with `bash bench/run_events.sh` (builds `bench/.env` and the "
        "C loop `bench/build/floor`, boots a throwaway systemd, runs `bench/.env/bin/python "
        f"bench/bench_events.py run --json bench/events.json --n {a['n']} --rounds "
        f"{a['rounds']} --units {a['units']} --idle {a['idle']:g}` inside it as root, then "
        "`bench/bench_events.py render bench/events.json --results bench/RESULTS.md`; raw "
        "numbers in `bench/events.json`).",
        "",
        f"Machine: {v['cpus']} CPUs, {v['machine']}, kernel {v['kernel']}, Python "
        f"{v['python']}; {v['systemd']} in the sandbox; dbus-fast {v['dbus_fast']}; sysd "
        f"{v['sysd']}. Load average (1 min) before {data['load_before'][0]:.2f}, after "
        f"{data['load_after'][0]:.2f} (a shared machine: other jobs were running).",
        "",
        "Every consumer is a child process on the system bus (dbus-daemon) that prints a line "
        "per unit state change it sees: the C loop (`floor events`: an sd-bus match on the "
        "units' PropertiesChanged, Subscribe, the last state of each unit in a hash table), "
        "dbus-fast's `MessageBus` with the same match rule and work in a handler, and sysd's "
        "`sd.events(kinds=(UnitChanged,))`, blocking and asyncio.",
        "",
        f"Latency: `systemctl start` of a oneshot (`/bin/true`) every 5-30 ms, {a['n']} starts "
        f"per consumer per round, {a['rounds']} rounds in a shuffled order; from just before "
        "`systemctl` is spawned to the consumer's first event for the unit (`activating`). "
        "The spawn of `systemctl` (a few ms) is in every contender's figure alike.",
        "",
        "Added latency: in every round a second C loop listened alongside the consumer (the "
        "same signals from dbus-daemon); the consumer's time of each event minus the C "
        "loop's for the same event is what the consumer adds over C, without `systemctl`'s "
        "spawn and systemd's own work in the figure (for the C row: one C loop against "
        "another, the noise floor).",
        "",
        "| consumer | starts | median | p95 | min | max | median vs C | added over a C loop "
        "(median) | added (p95) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["latency"]:
        parts.append(
            f"| {r['consumer']} | {r['n']} | {r['median_ms']:.2f} ms | {r['p95_ms']:.2f} ms "
            f"| {r['min_ms']:.2f} ms | {r['max_ms']:.2f} ms "
            f"| {r['median_ms'] / floor_lat['median_ms']:.2f}x "
            f"| {r['added_median_ms']:.3f} ms | {r['added_p95_ms']:.3f} ms |"
        )
    parts += [
        "",
        f"Throughput: {a['units']} transient oneshot units (`/bin/true`) started by the C "
        "loop's `floor spawn` on the private socket (StartTransientUnit, 64 in flight; "
        "through dbus-daemon, 1000 of them made it drop systemd's connection now and then); "
        "each starts, stops and is collected. Events/s: the events the consumer reported for "
        "these units over the time from the first StartTransientUnit to the last of them "
        "as the consumer saw it; this is bounded by how fast systemd starts units, so a "
        "consumer that keeps up matches the C loop and one that falls behind is slower. How "
        "many events there are varies from run to run: systemd folds the changes of one "
        "main-loop iteration into one PropertiesChanged signal, and while its bus write queue "
        "is long it holds change signals back, so a unit started, stopped and collected "
        "meanwhile sends none. CPU: the consumer's own CPU "
        "time for the whole load; events per CPU-second (its inverse) is the rate the consumer "
        f"could sustain on one core. Medians of {a['rounds']} rounds.",
        "",
        "| consumer | events | time | events/s | vs C | consumer CPU | CPU per event "
        "| events per CPU-second | vs C |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["throughput"]:
        cap = 1e6 / r["cpu_per_event_us"]
        floor_cap = 1e6 / floor_tp["cpu_per_event_us"]
        parts.append(
            f"| {r['consumer']} | {r['events']:,.0f} | {r['seconds']:.2f} s "
            f"| {r['events_per_s']:,.0f} "
            f"| {r['events_per_s'] / floor_tp['events_per_s']:.2f}x | {r['cpu_s']:.2f} s "
            f"| {r['cpu_per_event_us']:.0f} µs | {cap:,.0f} | {cap / floor_cap:.2f}x |"
        )
    parts += [
        "",
        f"Idle CPU: the consumer running with nothing to report (the sandbox quiet), its CPU "
        f"time over {a['idle']:g} s.",
        "",
        "| consumer | idle CPU (% of a core) | events seen meanwhile |",
        "|---|---:|---:|",
    ]
    for r in data["idle"]:
        parts.append(f"| {r['consumer']} | {r['cpu_percent']:.3f} % | {r['events']} |")

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    parts += ["", "Targets (issue 12):", ""]
    for kind in ("sysd", "sysd asyncio"):
        lat, tp, idle = (_by(data[k], kind) for k in ("latency", "throughput", "idle"))
        if not (lat and tp and idle):
            parts.append(f"- {kind}: not measured in this run.")
            continue
        lr = lat["median_ms"] / floor_lat["median_ms"]
        tr = tp["events_per_s"] / floor_tp["events_per_s"]
        cr = floor_tp["cpu_per_event_us"] / tp["cpu_per_event_us"]
        parts.append(
            f"- {kind}: median latency {lr:.2f}x the C loop (<= 1.2x: {verdict(lr <= 1.2)}; "
            f"{lat['added_median_ms']:.3f} ms after a C loop alongside); throughput "
            f"{tr:.2f}x (>= 0.8x: {verdict(tr >= 0.8)}), while its CPU cost per event is "
            f"{1 / cr:.1f}x the C loop's (events per CPU-second {cr:.2f}x); idle CPU "
            f"{idle['cpu_percent']:.3f} % of a core (< 0.5 %: "
            f"{verdict(idle['cpu_percent'] < 0.5)})."
        )
    sysd_lat, sysd_tp = _by(data["latency"], "sysd"), _by(data["throughput"], "sysd")
    fast_lat, fast_tp = _by(data["latency"], "dbus-fast"), _by(data["throughput"], "dbus-fast")
    if sysd_lat and sysd_tp and fast_lat and fast_tp:
        tp_ratios = [r["events_per_s"] / floor_tp["events_per_s"] for r in data["throughput"]]
        parts += [
            "",
            "Reading: the end-to-end latency is mostly `systemctl` and systemd (tens of ms on "
            f"this machine at a load of ~{data['load_before'][0]:.0f}), so its ratios say little "
            "beyond the noise; what a consumer adds is the second figure: sysd "
            f"{sysd_lat['added_median_ms']:.2f} ms after a C loop for the same signal, dbus-fast "
            f"{fast_lat['added_median_ms']:.2f} ms. Likewise the delivered events/s is set by "
            "how fast systemd starts units (the rates range "
            f"{min(tp_ratios):.2f}x-{max(tp_ratios):.2f}x the C loop's, each contender "
            "seeing the same events: the spread is the machine's, not the consumers'); the "
            "cost per event separates them: sysd "
            f"{sysd_tp['cpu_per_event_us']:.0f} µs of CPU per event, "
            f"{sysd_tp['cpu_per_event_us'] / floor_tp['cpu_per_event_us']:.1f}x the C loop's "
            f"and {sysd_tp['cpu_per_event_us'] / fast_tp['cpu_per_event_us']:.1f}x dbus-fast's, "
            f"so one core would carry about {1e6 / sysd_tp['cpu_per_event_us']:,.0f} events/s "
            f"through sysd against {1e6 / floor_tp['cpu_per_event_us']:,.0f} through C: the "
            "throughput target is met for what systemd produces here, not for the rate a "
            "consumer could sustain.",
        ]
    parts += ["", f"Whole run: {data['elapsed_s']:.0f} s in the sandbox."]
    return "\n".join(parts) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "consumer":
        consumer(sys.argv[2])
        return
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="measure (inside a sandbox, as root)")
    r.add_argument("--json", default="bench/events.json")
    r.add_argument("--n", type=int, default=50, help="starts per consumer per latency round")
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--units", type=int, default=1000)
    r.add_argument("--idle", type=float, default=10.0)
    r.add_argument("--only", help="comma-separated consumers (default: all)")
    g = sub.add_parser("render", help="write the RESULTS.md section from a JSON file")
    g.add_argument("json", type=Path)
    g.add_argument("--results", type=Path, help="update this RESULTS.md in place")
    args = p.parse_args()
    if args.cmd == "run":
        run(args)
        return
    section = render_section(json.loads(args.json.read_text()))
    if args.results:
        replace_section(args.results, SECTION, section)
    else:
        print(section)


if __name__ == "__main__":
    main()
