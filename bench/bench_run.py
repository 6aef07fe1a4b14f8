"""Start + wait of transient ``/bin/true`` services: sysd vs a C sd-bus floor, systemd-run, pystemd.

Run it the documented way::

    bash bench/setup.sh        # bench/.env (sysd editable, pystemd), libsystemd-dev, gcc
    bench/.env/bin/python -m sysd sandbox run --bind "$PWD" -- \\
        bench/.env/bin/python bench/bench_run.py --json bench/run.json
    bench/.env/bin/python bench/bench_run.py render bench/run.json --results bench/RESULTS.md

Inside the sandbox (root, a real systemd 252 and dbus-daemon) this script

1. compiles the C floor (``bench/build/run_floor``, from the source below: libsystemd's
   sd-bus doing exactly what sysd's ``run(wait=True)`` does for each unit -- a
   PropertiesChanged match on the unit, ``StartTransientUnit`` with
   ``CollectMode=inactive-or-failed`` (and ``AddRef=yes`` on the bus), the JobRemoved
   signal, the end of the unit from its PropertiesChanged, and on the bus a final
   ``GetAll(Service)`` for the accounting and ``Unref`` -- subscribed once);
2. times ``--units`` (100) units per contender, each in a fresh process on a warmed-up
   connection: sysd sequential (blocking API) and concurrent (``sysd.aio``, at most
   ``--window`` units in flight on the bus, all at once on the private socket), the C
   floor the same two ways, ``systemd-run --wait`` processes one after the other and
   all at once, and ``pystemd.run(wait=True)`` one after the other;
3. repeats that ``--reps`` times, rotating the order, and reports the median per-unit
   time and its ratio to the C floor's time in the same repetition (paired).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FLOOR = HERE / "build" / "run_floor"
SECTION = "## systemd-run"
TARGET = 1.1  # sysd's per-unit time within 1.1x of the C sd-bus floor

FLOOR_C = r"""
/* The C floor of "start a transient /bin/true service and wait for its end" (sd-bus). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

typedef struct {
        char name[96];
        char *path;
        char job[128];
        int job_done, started, ended, done;
        sd_bus_slot *match;
} Unit;

static sd_bus *bus;
static int on_bus, n_units, window, completed, launched, in_flight;
static Unit *units;
static char removed[4096][128];
static int n_removed;

static void die(const char *what, int r) {
        fprintf(stderr, "%s: %s\n", what, strerror(-r));
        exit(1);
}

static void start_unit(int i);

static void complete(Unit *u) {
        u->done = 1;
        u->match = sd_bus_slot_unref(u->match);
        completed++;
        in_flight--;
        while (launched < n_units && in_flight < window)
                start_unit(launched);
}

static int on_unref(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        complete(userdata);
        return 0;
}

static int on_getall(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Unit *u = userdata;
        int r = sd_bus_call_method_async(bus, NULL, "org.freedesktop.systemd1", u->path,
                                         "org.freedesktop.systemd1.Unit", "Unref",
                                         on_unref, u, "");
        if (r < 0) die("Unref", r);
        return 0;
}

static void check_done(Unit *u) {
        if (u->done || !u->ended || !u->job_done)
                return;
        u->done = 1;
        if (on_bus) {
                int r = sd_bus_call_method_async(bus, NULL, "org.freedesktop.systemd1", u->path,
                                                 "org.freedesktop.DBus.Properties", "GetAll",
                                                 on_getall, u, "s",
                                                 "org.freedesktop.systemd1.Service");
                if (r < 0) die("GetAll", r);
        } else {
                u->done = 0;
                complete(u);
        }
}

static int on_props(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Unit *u = userdata;
        const char *iface, *key;
        int r, final = -1;
        uint32_t job_id = 1;
        uint64_t inactive_exit = 0;
        int have_job = 0, have_exit = 0;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0) return r;
        if (strcmp(iface, "org.freedesktop.systemd1.Unit") != 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0) return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0) return r;
                if (strcmp(key, "ActiveState") == 0) {
                        const char *s;
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r < 0) return r;
                        final = strcmp(s, "inactive") == 0 || strcmp(s, "failed") == 0;
                } else if (strcmp(key, "InactiveExitTimestampMonotonic") == 0) {
                        r = sd_bus_message_read(m, "v", "t", &inactive_exit);
                        if (r < 0) return r;
                        have_exit = 1;
                } else if (strcmp(key, "Job") == 0) {
                        const char *p;
                        r = sd_bus_message_read(m, "v", "(uo)", &job_id, &p);
                        if (r < 0) return r;
                        have_job = 1;
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0) return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0) return r;
        }
        if (have_exit && inactive_exit > 0)
                u->started = 1;
        if (final == 1 && u->started && (!have_job || job_id == 0))
                u->ended = 1;
        check_done(u);
        return 0;
}

static void mark_job(const char *path) {
        for (int i = 0; i < n_units; i++)
                if (units[i].job[0] && strcmp(units[i].job, path) == 0) {
                        units[i].job_done = 1;
                        check_done(&units[i]);
                        return;
                }
        snprintf(removed[n_removed++ % 4096], 128, "%s", path);
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        uint32_t id;
        const char *path, *unit, *result;
        int r = sd_bus_message_read(m, "uoss", &id, &path, &unit, &result);
        if (r < 0) return r;
        mark_job(path);
        return 0;
}

static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Unit *u = userdata;
        const char *job;
        if (sd_bus_message_is_method_error(m, NULL)) {
                fprintf(stderr, "StartTransientUnit: %s\n", sd_bus_message_get_error(m)->message);
                exit(1);
        }
        int r = sd_bus_message_read(m, "o", &job);
        if (r < 0) die("reply", r);
        snprintf(u->job, sizeof u->job, "%s", job);
        for (int i = 0; i < n_removed && i < 4096; i++)
                if (strcmp(removed[i], job) == 0)
                        u->job_done = 1;
        check_done(u);
        return 0;
}

static void start_unit(int i) {
        Unit *u = &units[i];
        sd_bus_message *m = NULL;
        int r;
        launched++;
        in_flight++;
        snprintf(u->name, sizeof u->name, "floor-%d-%d.service", (int) getpid(), i);
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", u->name, &u->path);
        if (r < 0) die("path", r);
        r = sd_bus_match_signal_async(bus, &u->match, "org.freedesktop.systemd1", u->path,
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                      on_props, NULL, u);
        if (r < 0) die("match", r);
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager",
                                           "StartTransientUnit");
        if (r < 0) die("new", r);
        r = sd_bus_message_append(m, "ss", u->name, "fail");
        if (r < 0) die("append", r);
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0) die("append", r);
        r = sd_bus_message_append(m, "(sv)(sv)", "Description", "s", "/bin/true",
                                  "CollectMode", "s", "inactive-or-failed");
        if (r < 0) die("append", r);
        if (on_bus) {
                r = sd_bus_message_append(m, "(sv)", "AddRef", "b", 1);
                if (r < 0) die("append", r);
        }
        r = sd_bus_message_append(m, "(sv)", "ExecStart", "a(sasb)", 1, "/bin/true", 1,
                                  "/bin/true", 0);
        if (r < 0) die("append", r);
        r = sd_bus_message_close_container(m);
        if (r < 0) die("append", r);
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0) die("append", r);
        r = sd_bus_call_async(bus, NULL, m, on_started, u, 0);
        if (r < 0) die("call", r);
        sd_bus_message_unref(m);
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_batch(int n, int w) {
        for (int i = 0; i < n_units; i++) {
                free(units[i].path);
                memset(&units[i], 0, sizeof units[i]);
        }
        n_units = n;
        window = w;
        completed = launched = in_flight = n_removed = 0;
        while (launched < n_units && in_flight < window)
                start_unit(launched);
        while (completed < n_units) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0) die("process", r);
                if (r == 0) {
                        r = sd_bus_wait(bus, UINT64_MAX);
                        if (r < 0) die("wait", r);
                }
        }
}

int main(int argc, char **argv) {
        /* run_floor bus|private N WINDOW */
        if (argc < 4) return 2;
        on_bus = strcmp(argv[1], "bus") == 0;
        int n = atoi(argv[2]), w = atoi(argv[3]), r;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        units = calloc(n > 8 ? n : 8, sizeof(Unit));
        if (on_bus)
                r = sd_bus_open_system(&bus);
        else {
                r = sd_bus_new(&bus);
                if (r >= 0) r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
                if (r >= 0) r = sd_bus_start(bus);
        }
        if (r < 0) die("connect", r);
        r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved",
                                on_job_removed, NULL);
        if (r < 0) die("match JobRemoved", r);
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "Subscribe", &error, NULL, "");
        if (r < 0) die("Subscribe", r);
        run_batch(5, 1); /* warm up */
        double t0 = now();
        run_batch(n, w);
        double t = now() - t0;
        printf("{\"seconds\": %.9f, \"n\": %d}\n", t, n);
        return 0;
}
"""


# ------------------------------------------------------------------ the contenders

SYSD_SEQ = """
import contextlib, sys, time, json, sysd
from sysd._sync.run import run
n = int(sys.argv[1]); private = sys.argv[2] == "private"; held = sys.argv[3] == "held"
with sysd.connect(private=private) as sd:
    for _ in range(5):
        run(sd, ["/bin/true"], wait=True)
    # "held": sd.subscribed() keeps the connection subscribed for the whole batch, so each
    # run does not subscribe and unsubscribe again
    with sd.subscribed() if held else contextlib.nullcontext():
        t = time.perf_counter()
        for _ in range(n):
            r = run(sd, ["/bin/true"], wait=True)
            assert r.ok, r
        print(json.dumps({"seconds": time.perf_counter() - t, "n": n}))
"""

SYSD_ASYNC = """
import asyncio, sys, time, json, sysd.aio
from sysd._async.run import run
n = int(sys.argv[1]); private = sys.argv[2] == "private"; window = int(sys.argv[3])
async def main():
    async with sysd.aio.connect(private=private) as sd:
        for _ in range(5):
            await run(sd, ["/bin/true"], wait=True)
        gate = asyncio.Semaphore(window)
        async def one():
            async with gate:
                r = await run(sd, ["/bin/true"], wait=True)
                assert r.ok, r
        t = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        print(json.dumps({"seconds": time.perf_counter() - t, "n": n}))
asyncio.run(main())
"""

SYSTEMD_RUN = """
import subprocess, sys, time, json
n = int(sys.argv[1]); concurrent = sys.argv[2] == "concurrent"
cmd = ["systemd-run", "--wait", "-q", "--collect", "/bin/true"]
for _ in range(3):
    subprocess.run(cmd, check=True)
t = time.perf_counter()
if concurrent:
    procs = [subprocess.Popen(cmd) for _ in range(n)]
    assert all(p.wait() == 0 for p in procs)
else:
    for _ in range(n):
        subprocess.run(cmd, check=True)
print(json.dumps({"seconds": time.perf_counter() - t, "n": n}))
"""

PYSTEMD = """
import sys, time, json, pystemd.run as _r
import pystemd
run = pystemd.run
n = int(sys.argv[1])
for _ in range(3):
    run([b"/bin/true"], wait=True, collect=True)
t = time.perf_counter()
for _ in range(n):
    run([b"/bin/true"], wait=True, collect=True)
print(json.dumps({"seconds": time.perf_counter() - t, "n": n}))
"""


def build_floor() -> None:
    FLOOR.parent.mkdir(parents=True, exist_ok=True)
    src = FLOOR.with_suffix(".c")
    if FLOOR.exists() and src.exists() and src.read_text() == FLOOR_C:
        return
    src.write_text(FLOOR_C)
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "libsystemd"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Wextra", "-o", str(FLOOR), str(src), *flags], check=True
    )


def contenders(n: int, window: int) -> dict[tuple[str, str], list[str] | None]:
    py = sys.executable
    out: dict[tuple[str, str], list[str] | None] = {}
    for bus in ("private", "bus"):
        w = n if bus == "private" else window
        out[(f"sequential, {bus}", "C sd-bus")] = [str(FLOOR), bus, str(n), "1"]
        out[(f"sequential, {bus}", "sysd")] = [py, "-c", SYSD_SEQ, str(n), bus, "-"]
        out[(f"sequential, {bus}", "sysd, subscription held")] = [
            py, "-c", SYSD_SEQ, str(n), bus, "held",
        ]  # fmt: skip
        out[(f"concurrent, {bus}", "C sd-bus")] = [str(FLOOR), bus, str(n), str(w)]
        out[(f"concurrent, {bus}", "sysd.aio")] = [py, "-c", SYSD_ASYNC, str(n), bus, str(w)]
    out[("sequential, bus", "systemd-run --wait")] = [py, "-c", SYSTEMD_RUN, str(n), "seq"]
    out[("concurrent, bus", "systemd-run --wait")] = [
        py, "-c", SYSTEMD_RUN, str(n), "concurrent",
    ]  # fmt: skip
    out[("sequential, bus", "pystemd.run")] = [py, "-c", PYSTEMD, str(n)]
    return out


def measure(argv: list[str]) -> tuple[float | None, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["seconds"] / data["n"], ""


def bench(args: argparse.Namespace) -> dict[str, Any]:
    build_floor()
    cases = contenders(args.units, args.window)
    keys = list(cases)
    times: dict[str, list[float]] = {f"{c}|{w}": [] for c, w in keys}
    ratios: dict[str, list[float]] = {f"{c}|{w}": [] for c, w in keys}
    notes: dict[str, str] = {}
    load_before = os.getloadavg()
    for rep in range(args.reps):
        order = keys[rep % len(keys) :] + keys[: rep % len(keys)]
        got: dict[tuple[str, str], float] = {}
        for key in order:
            argv = cases[key]
            assert argv is not None
            per_unit, error = measure(argv)
            if per_unit is None:
                notes[f"{key[0]}|{key[1]}"] = error
                continue
            got[key] = per_unit
            times[f"{key[0]}|{key[1]}"].append(per_unit)
            print(f"rep {rep}: {key[0]:22} {key[1]:20} {per_unit * 1e3:8.3f} ms/unit", flush=True)
        for (case, who), value in got.items():
            floor = got.get((case, "C sd-bus"))
            if floor:
                ratios[f"{case}|{who}"].append(value / floor)
    load_after = os.getloadavg()
    version = subprocess.run(
        ["systemctl", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "src"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    rows = []
    for case, who in keys:
        key = f"{case}|{who}"
        rows.append(
            {
                "case": case,
                "contender": who,
                "median_s": statistics.median(times[key]) if times[key] else None,
                "ratio": statistics.median(ratios[key]) if ratios[key] else None,
                "runs": len(times[key]),
                "note": notes.get(key, ""),
            }
        )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, kernel {platform.release()}, "
        f"Python {platform.python_version()}",
        "systemd": version,
        "commit": commit,
        "dirty": [line[3:] for line in dirty.splitlines()],
        "units": args.units,
        "window": args.window,
        "reps": args.reps,
        "load": [load_before, load_after],
        "rows": rows,
    }


# ------------------------------------------------------------------ the report


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def render(data: dict[str, Any]) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {data['date']} with `python bench/bench_run.py` inside the sandbox "
        f"(`python -m sysd sandbox run`; raw numbers in `bench/run.json`). "
        f"{data['machine']}; {data['systemd']}; sysd {data['commit']}"
        + (
            f" (uncommitted changes at the time in {', '.join(data['dirty'])})."
            if data.get("dirty")
            else "."
        ),
        "",
        f"Each number is the time per unit to start a transient `/bin/true` service and "
        f"wait for its end, over {data['units']} units, median of {data['reps']} "
        f"repetitions, each contender in a fresh process on a warmed-up connection, the "
        f"order rotated per repetition. The ratio is the median over repetitions of the "
        f"contender's time divided by the C floor's in the same repetition and case. "
        f"The C floor (`bench/build/run_floor.c`, written by this script) does per unit "
        f"what sysd does: a PropertiesChanged match on the unit, StartTransientUnit with "
        f"CollectMode=inactive-or-failed (and AddRef=yes on the bus), the JobRemoved "
        f"signal, the unit's end from its PropertiesChanged signals, and on the bus a "
        f"final GetAll(Service) for the accounting and Unref -- subscribed once for the "
        f"whole batch. Concurrent: on the bus at most {data['window']} units in flight "
        f"(each costs systemd a bus match and dbus-daemon allows 128 unanswered calls per "
        f"client), on the private socket all at once. `systemd-run --wait` is one process "
        f"per unit (it always uses the bus for --wait); pystemd.run opens two bus "
        f"connections per call (one becomes a monitor).",
        "",
        f"Load average before/after: {' '.join(f'{x:.2f}' for x in data['load'][0])} / "
        f"{' '.join(f'{x:.2f}' for x in data['load'][1])} (2 CPUs shared with other work).",
        "",
        "| case | contender | per unit | ratio to C | target | |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    verdicts = []
    for row in data["rows"]:
        ratio = row["ratio"]
        target = ""
        verdict = row["note"]
        if row["contender"] in ("sysd", "sysd.aio"):
            target = f"≤ {TARGET}x"
            if ratio is None:
                verdict = verdict or "not measured"
            elif ratio <= TARGET:
                verdict = "met"
            else:
                verdict = f"**missed** by {(ratio / TARGET - 1) * 100:.0f}%"
            verdicts.append(f"- {row['case']}, {row['contender']}: {verdict}")
        lines.append(
            f"| {row['case']} | {row['contender']} | {fmt_time(row['median_s'])} | "
            f"{'' if ratio is None else f'{ratio:.2f}x'} | {target} | {verdict} |"
        )
    lines += ["", "Targets (sysd's per-unit time within 1.1x of the C floor, same run):", ""]
    lines += verdicts
    analysis = data.get("analysis")
    if analysis:
        lines += ["", analysis.strip()]
    return "\n".join(lines) + "\n"


def write_section(results: Path, text: str) -> None:
    old = results.read_text() if results.exists() else ""
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _m: text + "\n", old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text
    results.write_text(new.rstrip("\n") + "\n")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "render":
        p = argparse.ArgumentParser(prog="bench_run.py render")
        p.add_argument("json")
        p.add_argument("--results", default=str(HERE / "RESULTS.md"))
        p.add_argument("--analysis", help="a markdown file appended to the section")
        args = p.parse_args(argv[1:])
        data = json.loads(Path(args.json).read_text())
        if args.analysis:
            data["analysis"] = Path(args.analysis).read_text()
        write_section(Path(args.results), render(data))
        return 0
    p = argparse.ArgumentParser(prog="bench_run.py")
    p.add_argument("--units", type=int, default=100)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--json", help="write the raw results here")
    args = p.parse_args(argv)
    if os.geteuid() != 0 or not Path("/run/systemd/system").exists():
        print("run this inside the sandbox, as root (see the docstring)", file=sys.stderr)
        return 2
    data = bench(args)
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
    print(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
