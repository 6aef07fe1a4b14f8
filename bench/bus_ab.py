"""Two sysd trees against each other on the bus, interleaved, in one systemd.

On a machine shared with other work the bus benchmark's medians move by 30-50% from one
run to the next; two runs made minutes apart cannot show a change of 10%.  This measures
sysd A and sysd B (two source trees, e.g. ``git archive`` snapshots of two commits) in
the same sandbox, alternating A, B, A, B ... with the C floor between them, each
measurement in a fresh process as bench_bus.py does (its workers, its cases), and prints
the client CPU per call (process user+system time: what the client's own code costs,
which is what changed) and the wall time per call, median and least-disturbed.

    bench/.env/bin/python -m sysd sandbox run --bind "$PWD" -- \\
        bench/.env/bin/python bench/bus_ab.py A_SRC B_SRC [--reps 11] [--json out.json]

A_SRC and B_SRC are directories holding the ``sysd`` package (a tree's ``src``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_bus as bb

CASES = [
    (bb.Case("get_private", "get", "private", 2000, "Get, private socket"), (bb.SYSD, bb.SYSD_AIO)),
    (bb.Case("get", "get", "system", 2000, "Get, system bus"), (bb.SYSD, bb.SYSD_AIO)),
    (
        bb.Case("listunits", "listunits", "system", 20, "ListUnits, system bus"),
        (bb.SYSD, bb.SYSD_AIO),
    ),
    (
        bb.Case("pipelined", "pipelined", "system", 1000, "1000 Gets pipelined, system bus"),
        (bb.SYSD_AIO,),
    ),
    (
        bb.Case("getall", "getall", "system", 200, "GetAll(systemd1.Service), system bus"),
        (bb.SYSD, bb.SYSD_AIO),
    ),
]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--json", type=Path)
    p.add_argument(
        "--cases",
        nargs="*",
        help="only these case keys (get_private get listunits pipelined getall)",
    )
    args = p.parse_args()
    cases = [(c, who) for c, who in CASES if not args.cases or c.key in args.cases]
    bb.use_bytecode_cache()
    setup = asyncio.run(bb.setup_units(bb.UNITS_WANTED))
    print(f"# {setup['units']} units; A={args.a} B={args.b}", file=sys.stderr)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    data: dict[str, dict[str, list[tuple[float, float]]]] = {}
    try:
        for rep in range(args.reps):
            for case, contenders in cases:
                row = data.setdefault(case.label, {})
                got = bb.measure(bb.C, case)
                row.setdefault("C sd-bus", []).append((got["seconds"], got["cpu_seconds"]))
                for contender in contenders:
                    order = ("A", "B") if rep % 2 == 0 else ("B", "A")
                    for which in order:
                        os.environ["PYTHONPATH"] = str(args.a if which == "A" else args.b)
                        got = bb.measure(contender, case)
                        if "error" in got:
                            raise SystemExit(f"{case.label} {contender} {which}: {got['error']}")
                        row.setdefault(f"{contender} {which}", []).append(
                            (got["seconds"], got["cpu_seconds"])
                        )
            print(f"# repetition {rep + 1}/{args.reps}", file=sys.stderr)
    finally:
        asyncio.run(bb.cleanup())
    n_of = {case.label: case.n for case, _ in cases}
    print(
        f"load average before {' '.join(load_before)}, after "
        f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; {args.reps} repetitions"
    )
    print("| case | contender | CPU per call, median | least | wall per call, median | least |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for label, row in data.items():
        n = n_of[label]
        for name, values in row.items():
            wall = [w / n * 1e6 for w, _ in values]
            cpu = [c / n * 1e6 for _, c in values]
            print(
                f"| {label} | {name} | {statistics.median(cpu):.1f} µs | {min(cpu):.1f} µs "
                f"| {statistics.median(wall):.1f} µs | {min(wall):.1f} µs |"
            )
    if args.json:
        args.json.write_text(json.dumps({"a": str(args.a), "b": str(args.b), "data": data}))


if __name__ == "__main__":
    main()
