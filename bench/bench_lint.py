"""``sysd.analyze.verify()`` (``sysd lint``) against ``systemd-analyze verify``, in the same run.

    python -m sysd sandbox run -- .venv/bin/python bench/bench_lint.py \\
        --results bench/RESULTS.md

Every unit file shipped on this machine (``/lib/systemd/system``, ``/usr/lib/systemd/user``;
masks left out) and the drop-ins next to them, linted:

* in-process: one ``sysd.analyze.verify(files)`` call for all of them;
* what a CI job without sysd does: one ``systemd-analyze verify --man=no FILE`` process per
  unit file (systemd reads each unit's drop-ins itself), one after the other;
* for scale, one ``systemd-analyze verify`` process given every file at once.

The rounds are interleaved (the order of the three rotated per round); each time is the median
over the rounds, and the ratio is a ratio of medians of the same run.  Runs inside the sandbox
(the issue's rule for comparisons with systemd-analyze), though neither side needs a manager.
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

from results_md import replace_section  # noqa: E402

import sysd.analyze  # noqa: E402

SECTION = "## Lint (offline unit-file check, issue 16)"
COMMAND = (
    "python -m sysd sandbox run -- .venv/bin/python bench/bench_lint.py --results bench/RESULTS.md"
)
DIRS = ("/lib/systemd/system", "/usr/lib/systemd/user")
TARGET = 20.0


def shipped() -> tuple[list[list[str]], list[str]]:
    """(unit files per directory, their drop-ins): masks and directories left out."""
    per_dir: list[list[str]] = []
    dropins: list[str] = []
    for d in DIRS:
        files = []
        for p in sorted(Path(d).iterdir()):
            if p.is_dir() or os.path.realpath(p) == os.devnull or p.stat().st_size == 0:
                continue
            files.append(str(p))
            conf = Path(str(p) + ".d")
            if conf.is_dir():
                dropins += sorted(str(c) for c in conf.glob("*.conf"))
        per_dir.append(files)
    return per_dir, dropins


def _analyze(files: list[str]) -> None:
    subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *files],
        capture_output=True,
        check=False,
        timeout=120,
    )


def measure(rounds: int) -> tuple[dict[str, float], int, int, int]:
    per_dir, dropins = shipped()
    units = [f for files in per_dir for f in files]
    everything = units + dropins

    def in_process() -> None:
        report = sysd.analyze.verify(everything)
        assert report.findings == () or all(f.line == 0 for f in report.findings), report

    def one_per_file() -> None:
        for f in units:
            _analyze([f])

    def one_for_all() -> None:
        for files in per_dir:  # system and user units share names: one process each
            _analyze(files)

    cases: dict[str, Callable[[], None]] = {
        "sysd": in_process,
        "per-file": one_per_file,
        "batch": one_for_all,
    }
    for fn in cases.values():  # warm-up: caches, imports, the calendar tables
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        for name in names[r % 3 :] + names[: r % 3]:
            t0 = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t0)
    lines = sum(len(Path(f).read_text().splitlines()) for f in everything)
    return {k: statistics.median(v) for k, v in times.items()}, len(units), len(dropins), lines


def section(med: dict[str, float], units: int, dropins: int, lines: int, rounds: int) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    version = subprocess.run(
        ["systemd-analyze", "--version"], capture_output=True, text=True, check=False
    ).stdout.split("\n")[0]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    ratio = med["per-file"] / med["sysd"]
    batch = med["batch"] / med["sysd"]
    met = "met" if ratio >= TARGET else "NOT met"
    return (
        f"{SECTION}\n\n"
        f"Measured {now} with `{COMMAND}`.\n\n"
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; {version} in the "
        f"sandbox. Load average after the run: {load} (other sessions share the machine). "
        f"Medians of {rounds} rounds, the three cases interleaved; ratios are ratios of "
        "medians of the same run.\n\n"
        f"Every unit file shipped on the machine ({units} in {', '.join(DIRS)}, masks left "
        f"out) and their {dropins} drop-ins, {lines:,} lines:\n\n"
        "| how | time | vs sysd |\n"
        "|---|---:|---:|\n"
        f"| `sysd.analyze.verify(files)` in-process, one call | {med['sysd'] * 1e3:.1f} ms | "
        "1x |\n"
        f"| `systemd-analyze verify --man=no FILE`, one process per unit file | "
        f"{med['per-file'] * 1e3:.0f} ms | {ratio:,.0f}x slower |\n"
        f"| `systemd-analyze verify --man=no FILE...`, one process per directory (for scale) | "
        f"{med['batch'] * 1e3:.1f} ms | {batch:,.1f}x slower |\n\n"
        f"Target >= {TARGET:.0f}x against one systemd-analyze process per file: {met} "
        f"({ratio:,.0f}x). systemd-analyze does more than sysd's parse per unit (it loads the "
        "unit's dependencies and checks that the commands exist); sysd checks the files alone, "
        "which is what the offline linter is for.\n"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--results", type=Path, help="write the section into this RESULTS.md")
    args = ap.parse_args()
    med, units, dropins, lines = measure(args.rounds)
    text = section(med, units, dropins, lines, args.rounds)
    print(text)
    if args.results:
        replace_section(args.results, SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
