"""``sysd analyze`` and ``sysd.analyze`` against ``systemd-analyze``, in the same run.

    python -m sysd sandbox run -- .venv/bin/python bench/bench_analyze.py \\
        --results bench/RESULTS.md

Needs a running systemd (inside the sandbox where systemd is not PID 1; the checkout is
bound in read-write, so the section is written from inside).  Two kinds of cases:

* whole processes: ``sysd analyze VERB`` (the console script next to this interpreter)
  and ``systemd-analyze VERB``, each run ``--runs`` times, the cases interleaved (their
  order rotated per round); the time is the median wall time per process;
* in-process: ``sysd.analyze.blame(sd)`` / ``critical_chain(sd)`` / ``startup_time(sd)`` /
  ``security(sd)``
  on an open connection, against what a Python program does without sysd: spawn
  ``systemd-analyze VERB`` and read its output (median per call).

Every ratio is a ratio of medians of the same run.  Both read the same state from the
same manager (ListUnits, then every unit's timestamps: one call per unit).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pycache import use_bytecode_cache  # noqa: E402
from results_md import replace_section  # noqa: E402

SECTION = "## Analyze (blame, critical-chain, time, security)"
COMMAND = (
    "python -m sysd sandbox run -- .venv/bin/python bench/bench_analyze.py "
    "--results bench/RESULTS.md"
)
VERBS = ("blame", "critical-chain", "time", "security")


def _sysd() -> list[str]:
    script = Path(sys.executable).with_name("sysd")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "sysd"]


def _spawn(argv: list[str]) -> str:
    proc = subprocess.run(
        argv, capture_output=True, text=True, check=False, env={**os.environ, "SYSTEMD_PAGER": ""}
    )
    return proc.stdout


def processes(runs: int) -> dict[str, dict[str, float]]:
    """Median wall time (s) per process for each verb: sysd and systemd-analyze."""
    sysd = _sysd()
    cases = {
        (verb, who): argv
        for verb in VERBS
        for who, argv in (
            ("sysd", [*sysd, "analyze", verb, "--no-pager"]),
            ("systemd-analyze", ["systemd-analyze", "--no-pager", verb]),
        )
    }
    # the floor of any Python one-shot and of a sysd one, for scale
    cases[("python -I -c pass", "-")] = [sys.executable, "-I", "-c", "pass"]
    cases[("sysd is-active dbus.service", "-")] = [*sysd, "is-active", "dbus.service"]
    for argv in cases.values():  # warm-up: caches, bytecode
        _spawn(argv)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in cases}
    keys = list(cases)
    for i in range(runs):
        order = keys[i % len(keys) :] + keys[: i % len(keys)]
        for key in order:
            t0 = time.perf_counter()
            _spawn(cases[key])
            times[key].append(time.perf_counter() - t0)
    out: dict[str, dict[str, float]] = {}
    for (verb, who), samples in times.items():
        out.setdefault(verb, {})[who] = statistics.median(samples)
    return out


def in_process(runs: int) -> dict[str, dict[str, float]]:
    """Median time (s) per call: the library on an open connection, and spawning
    systemd-analyze and reading its text (what a program does without sysd)."""
    import sysd
    import sysd.analyze

    out: dict[str, dict[str, float]] = {}
    with sysd.connect() as sd:
        calls: dict[str, Callable[[], object]] = {
            "blame": lambda: sysd.analyze.blame(sd),
            "critical-chain": lambda: sysd.analyze.critical_chain(sd),
            "time": lambda: sysd.analyze.startup_time(sd),
            "security": lambda: sysd.analyze.security(sd),
        }
        for verb in VERBS:
            lib, tool = calls[verb], ["systemd-analyze", "--no-pager", verb]
            lib()
            _spawn(tool)
            a: list[float] = []
            b: list[float] = []
            for _ in range(runs):
                t0 = time.perf_counter()
                lib()
                a.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                _spawn(tool).splitlines()
                b.append(time.perf_counter() - t0)
            out[verb] = {"sysd": statistics.median(a), "systemd-analyze": statistics.median(b)}
    return out


def _units() -> int:
    import sysd

    with sysd.connect() as sd:
        return len(sd.list_units())


def section(procs: dict[str, dict[str, float]], lib: dict[str, dict[str, float]], runs: int) -> str:
    import sysd

    with sysd.connect() as sd:
        version = sd.version
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        SECTION,
        "",
        f"Measured {when} with `{COMMAND}`.",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; systemd {version} "
        f"in the sandbox (a container: {_units()} units loaded). Load average after the run: "
        f"{load} (other sessions share the machine). Medians of {runs} runs each, the cases "
        "interleaved; the ratio is systemd-analyze's median over sysd's (above 1: sysd is "
        "faster). Bytecode is cached (bench/build/pycache), as for bench_cli.py.",
        "",
        "Whole processes (`sysd analyze VERB --no-pager` vs `systemd-analyze --no-pager VERB`):",
        "",
        "| verb | sysd | systemd-analyze | systemd-analyze / sysd |",
        "|---|---:|---:|---:|",
    ]
    for verb in VERBS:
        s, t = procs[verb]["sysd"], procs[verb]["systemd-analyze"]
        lines.append(f"| {verb} | {s * 1e3:.1f} ms | {t * 1e3:.1f} ms | {t / s:.2f}x |")
    for floor in ("python -I -c pass", "sysd is-active dbus.service"):
        lines.append(f"| `{floor}` (for scale) | {procs[floor]['-'] * 1e3:.1f} ms | | |")
    lines += [
        "",
        "In-process: `sysd.analyze.blame(sd)` / `critical_chain(sd)` / `startup_time(sd)` / "
        "`security(sd)` on an open connection vs spawning `systemd-analyze VERB` and reading "
        "its text:",
        "",
        "| call | sysd.analyze | spawn systemd-analyze | ratio |",
        "|---|---:|---:|---:|",
    ]
    for verb in VERBS:
        s, t = lib[verb]["sysd"], lib[verb]["systemd-analyze"]
        lines.append(f"| {verb} | {s * 1e3:.2f} ms | {t * 1e3:.2f} ms | {t / s:.2f}x |")
    lines += [
        "",
        "Both read the same state: the manager's properties, ListUnits, then each unit's "
        "timestamps (systemd-analyze: a GetAll of every interface per unit, one after "
        "the other; sysd: Get of the four timestamps, one for a unit that never started, "
        "every unit's in two pipelined batches: bench/analyze_batch_ab.py compares that "
        "with one Get after the other), and for critical-chain "
        "the `After=` of each unit along the chain; for security, each service's Unit and "
        "Service properties (systemd-analyze: a GetAll of every interface). A one-shot "
        "`sysd analyze` costs what "
        "any sysd one-shot costs (the interpreter, the imports: see CLI one-shot) plus the "
        "calls; in a program with an open connection the calls alone are left.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--results", type=Path, help="rewrite this section of RESULTS.md")
    args = parser.parse_args()
    use_bytecode_cache()
    procs = processes(args.runs)
    lib = in_process(args.runs)
    text = section(procs, lib, args.runs)
    print(text)
    if args.results:
        replace_section(args.results, SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
