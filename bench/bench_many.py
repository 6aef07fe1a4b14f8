"""1000 concurrent ``run(["/bin/true"], wait=True)`` on ONE asyncio connection (issue 11).

Run it inside the throwaway systemd (root, systemd 252 and dbus-daemon)::

    .venv/bin/python -m sysd sandbox run --bind "$PWD" -- \\
        .venv/bin/python bench/bench_many.py --runs 1000 --reps 3

For the message bus and the private socket, ``--reps`` times each: a fresh
connection, one warm-up run, then ``--runs`` runs started at once with
``asyncio.gather``; the wall time until the last result is in.  Every result must
be exit code 0 and nothing may be left held on the connection (subscription
holders, pending-job and pin slots), else the script fails.  Prints a Markdown
table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import sysd
import sysd.aio


async def once(private: bool, runs: int, rep: int) -> tuple[float, int, int]:
    async with sysd.aio.connect(private=private) as sd:
        await sd.run(["/bin/true"], wait=True)  # warm-up: subscription, caches
        sub = sd._subscription
        peak_jobs = peak_pins = 0

        async def one(i: int) -> sysd.RunResult:
            nonlocal peak_jobs, peak_pins
            name = f"bench-many-{os.getpid()}-{int(private)}-{rep}-{i}.service"
            result = await sd.run(["/bin/true"], name=name, wait=True)
            peak_jobs = max(peak_jobs, sub.pending_jobs)
            peak_pins = max(peak_pins, sub.pins)
            assert isinstance(result, sysd.RunResult)
            return result

        started = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(runs)))
        elapsed = time.perf_counter() - started
        bad = [r for r in results if r.exit_code != 0]
        assert not bad, bad[:3]
        assert (sub.holders, sub.pending_jobs, sub.pins) == (0, 0, 0)
        return elapsed, peak_jobs, peak_pins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(f"| connection | runs | wall time (median of {args.reps}) | per run | all reps |")
    print("|---|---:|---:|---:|---|")
    for private in (False, True):
        times = []
        for rep in range(args.reps):
            elapsed, _jobs, _pins = asyncio.run(once(private, args.runs, rep))
            times.append(elapsed)
        med = statistics.median(times)
        label = "private socket" if private else "system bus"
        every = ", ".join(f"{t:.2f} s" for t in times)
        per_run = med / args.runs * 1000
        print(f"| {label} | {args.runs} | {med:.2f} s | {per_run:.2f} ms | {every} |")


if __name__ == "__main__":
    main()
