"""Next-elapse throughput of sysd's calendar specs: ``python bench/bench_calendar.py``.

For each (time zone, spec) it measures, in-process, how many successive
``next_elapse_usec()`` computations per second sysd does (each one starting
from the previous elapse, so daylight-saving transitions are crossed as often
as in real use), and what one computation costs by spawning
``systemd-analyze calendar --iterations=1`` (the only other way to get the
answer from systemd 252 itself).  Target: >= 50k/s on "Mon..Fri *-*-* 09:00:00".

``--update-results`` rewrites the "## Calendar specs" section of
bench/RESULTS.md with this run's table.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sysd._core import calendar as cal

SECONDS = 0.5
REPEAT = 3
SPAWNS = 20
BASE_USEC = 1_700_000_000_000_000  # 2023-11-14 22:13:20 UTC
WRAP_USEC = 4_102_444_800_000_000  # 2100-01-01: start over, stay clear of 2200
TARGET = ("Europe/Berlin", "Mon..Fri *-*-* 09:00:00", 50_000)

CASES = [
    ("Europe/Berlin", "Mon..Fri *-*-* 09:00:00"),
    ("UTC", "Mon..Fri *-*-* 09:00:00"),
    ("Europe/Berlin", "Mon..Fri *-*-* 09:00:00 UTC"),
    ("Europe/Berlin", "*:0/15"),
    ("America/New_York", "daily"),
    ("Europe/Berlin", "*-*-01 00:00:00"),
    ("Australia/Lord_Howe", "*-*~01 02:15"),
    ("UTC", "Mon 2024-*-* 10:00 Pacific/Auckland"),
    ("Europe/Berlin", "Sat,Sun 2..4:30"),
]


def _set_tz(zone: str) -> None:
    os.environ["TZ"] = "" if zone == "UTC" else ":" + zone
    cal._reset_libc_state()


def in_process(zone: str, text: str) -> float:
    """Successive next-elapse computations per second (best of REPEAT)."""
    _set_tz(zone)
    spec = cal.CalendarSpec.parse(text)
    best = 0.0
    for _ in range(REPEAT):
        u = BASE_USEC
        n = 0
        start = time.perf_counter()
        deadline = start + SECONDS
        while True:
            for _ in range(200):
                r = spec.next_elapse_usec(u)
                u = r if r is not None and r < WRAP_USEC else BASE_USEC
            n += 200
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def parse_rate(text: str) -> float:
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < SECONDS / 2:
        for _ in range(200):
            cal.CalendarSpec.parse(text)
        n += 200
    return n / (time.perf_counter() - start)


def spawned(exe: str, zone: str, text: str) -> float:
    """Seconds per computation when asking systemd-analyze (one process each)."""
    env = dict(os.environ, TZ="" if zone == "UTC" else ":" + zone)
    argv = [exe, "calendar", f"--base-time=@{BASE_USEC // 1_000_000}", "--iterations=1", text]
    subprocess.run(argv, env=env, capture_output=True, check=False)  # warm the page cache
    start = time.perf_counter()
    for _ in range(SPAWNS):
        subprocess.run(argv, env=env, capture_output=True, check=False)
    return (time.perf_counter() - start) / SPAWNS


def _fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}/s"


def run() -> str:
    exe = shutil.which("systemd-analyze")
    lines = [
        "| TZ | spec | sysd in-process | systemd-analyze spawn | speed-up |",
        "|---|---|---:|---:|---:|",
    ]
    target_rate = 0.0
    for zone, text in CASES:
        rate = in_process(zone, text)
        if (zone, text) == TARGET[:2]:
            target_rate = rate
        if exe:
            per = spawned(exe, zone, text)
            spawn = f"{per * 1e3:.2f} ms ({1 / per:,.0f}/s)"
            ratio = f"{rate * per:,.0f}x"
        else:
            spawn, ratio = "n/a", "n/a"
        lines.append(f"| {zone} | `{text}` | {_fmt_rate(rate)} | {spawn} | {ratio} |")
        print(lines[-1], flush=True)
    _set_tz("UTC")
    parse = parse_rate("Mon..Fri *-*-* 09:00:00")
    lines.append("")
    lines.append(f"Parsing `Mon..Fri *-*-* 09:00:00`: {_fmt_rate(parse)}.")
    verdict = "met" if target_rate >= TARGET[2] else "NOT met"
    lines.append(
        f"Target >= {TARGET[2]:,}/s on `{TARGET[1]}` ({TARGET[0]}): {verdict} "
        f"({_fmt_rate(target_rate)})."
    )
    return "\n".join(lines)


def update_results(table: str) -> None:
    path = Path(__file__).resolve().parent / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    section = (
        "## Calendar specs\n\n"
        "`python bench/bench_calendar.py` "
        f"({time.strftime('%Y-%m-%d')}, {machine}; other jobs were running)\n\n"
        "Successive `CalendarSpec.next_elapse_usec()` calls, each from the previous "
        "elapse, vs. one `systemd-analyze calendar --iterations=1` process per "
        "computation.\n\n" + table + "\n"
    )
    start = text.find("## Calendar specs")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-results", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    table = run()
    print()
    print(table)
    if args.update_results:
        update_results(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
