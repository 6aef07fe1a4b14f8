"""Throughput of sysd's property language: ``python bench/bench_properties.py``.

Times :func:`sysd.properties.parse` in-process on typical ``systemctl set-property`` /
``systemd-run -p`` assignments (one string each), on a 12-entry mapping, and on the whole
property vocabulary.  Target: >= 100,000 parses/s for a typical assignment.

``--update-results`` rewrites the "## Property language" section of bench/RESULTS.md (and
only that section) with this run's table.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sysd.properties import parse

SECONDS = 0.3
REPEAT = 3
TARGET = 100_000
SECTION = "## Property language"

TYPICAL = [
    ("service", "CPUQuota=20%"),
    ("service", "MemoryMax=1G"),
    ("service", "TimeoutSec=30s"),
    ("service", "PrivateTmp=yes"),
    ("service", "Description=My little job"),
    ("service", "After=network-online.target"),
    ("service", "Environment=LANG=C.UTF-8 DEBUG=1"),
    ("service", "ExecStart=/usr/bin/python3 -m http.server 8080"),
    ("service", "ExecStartPre=!/usr/bin/mkdir -p /run/job"),
    ("service", "LimitNOFILE=1024:4096"),
    ("service", "IPAddressDeny=any"),
    ("service", "IOReadBandwidthMax=/dev/sda 5M"),
    ("timer", "OnCalendar=Mon..Fri *-*-* 09:00:00"),
    ("socket", "ListenStream=127.0.0.1:8080"),
]

MAPPING = {
    "Description": "web",
    "CPUQuota": "50%",
    "MemoryMax": 512 * 1024**2,
    "TasksMax": 64,
    "TimeoutStopSec": timedelta(seconds=10),
    "PrivateTmp": True,
    "ProtectSystem": "strict",
    "NoNewPrivileges": True,
    "Environment": ["LANG=C.UTF-8", "MODE=two words"],
    "ExecStart": ["/usr/bin/python3", "-m", "http.server"],
    "Restart": "on-failure",
    "After": ["network-online.target"],
}


def rate(unit_type: str, assignment: object) -> float:
    """parse() calls per second (best of REPEAT)."""
    best = 0.0
    for _ in range(REPEAT):
        n = 0
        start = time.perf_counter()
        deadline = start + SECONDS
        while True:
            for _ in range(200):
                parse(unit_type, assignment)  # type: ignore[arg-type]
            n += 200
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, n / (now - start))
    return best


def vocabulary_rate() -> tuple[int, float]:
    """Every sample of tests/systemd/property_samples.py, one after the other."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "systemd"))
    from property_samples import SAMPLES

    items = [
        (t, f"{n}={v.format(token='x')}")
        for t, by_name in SAMPLES.items()
        for n, values in by_name.items()
        for v in values
    ]
    valid = []
    for t, a in items:
        try:
            parse(t, a)
        except ValueError:
            continue
        valid.append((t, a))
    best = 0.0
    for _ in range(REPEAT):
        start = time.perf_counter()
        for t, a in valid:
            parse(t, a)
        best = max(best, len(valid) / (time.perf_counter() - start))
    return len(valid), best


def report() -> str:
    lines = [
        SECTION,
        "",
        f"`python bench/bench_properties.py` ({date.today().isoformat()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; other jobs were running)",
        "",
        "`sysd.properties.parse(unit_type, assignment)` in-process: text -> the `(name, "
        "signature, value)` entries systemd 252's `bus_append_unit_property_assignment()` "
        "produces.",
        "",
        "| unit type | assignment | parses/s |",
        "|---|---|---:|",
    ]
    typical = []
    for unit_type, text in TYPICAL:
        r = rate(unit_type, text)
        typical.append(r)
        lines.append(f"| {unit_type} | `{text}` | {r:,.0f} |")
    mapping = rate("service", MAPPING)
    count, vocab = vocabulary_rate()
    worst = min(typical)
    lines += [
        "",
        f"A 12-entry mapping with typed values (int, bool, timedelta, lists): {mapping:,.0f}/s "
        f"({mapping * len(MAPPING):,.0f} entries/s).",
        f"All {count} valid samples of tests/systemd/property_samples.py (every accepted name of "
        f"every unit type), one after the other: {vocab:,.0f} parses/s.",
        f"Target >= {TARGET:,}/s per typical assignment: "
        f"{'met' if worst >= TARGET else 'NOT met'} (slowest {worst:,.0f}/s).",
        "",
    ]
    return "\n".join(lines)


def update_results(section: str) -> None:
    path = Path(__file__).resolve().parent / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        rest = text[end + 1 :] if end >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-results", action="store_true", help="rewrite bench/RESULTS.md")
    args = parser.parse_args()
    section = report()
    print(section)
    if args.update_results:
        update_results(section)


if __name__ == "__main__":
    main()
