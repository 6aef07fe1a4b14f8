"""The receive path off the bus: one recorded systemd reply through the decoder.

    .venv/bin/python bench/bench_decode.py [--profile]

Replays the replies recorded from systemd 252 (tests/bus/data/systemd252*.bin: Get, GetAll,
ListUnits, signals) through ``Decoder.feed`` + ``Decoder.next`` + ``reply_value``, one
fresh message at a time (a copy of the recorded bytes, as a receive makes), and prints per
kind of message the time (min and median of the repetitions), the Python function calls
per message (cProfile counts them exactly) and, with --profile, the top functions by own time.
No bus, no sandbox: what it measures is the per-message Python cost only.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# SYSD_SRC=<a tree's src> measures another tree (e.g. a `git archive` snapshot of main)
sys.path.insert(0, os.environ.get("SYSD_SRC", str(HERE.parent / "src")))

from sysd._bus.wire import Decoder, reply_value  # noqa: E402

DATA = HERE.parent / "tests" / "bus" / "data"


def split(data: bytes) -> list[bytes]:
    out = []
    pos = 0
    while pos < len(data):
        body_len, _serial, fields_len = struct.unpack_from("<III", data, pos + 4)
        size = 16 + ((fields_len + 7) & ~7) + body_len
        out.append(data[pos : pos + size])
        pos += size
    return out


def messages() -> dict[str, bytes]:
    """One message of each kind (the largest of its kind), by a name."""
    found: dict[str, bytes] = {}
    for path in sorted(DATA.glob("*.bin")):
        where = "bus" if "bus" in path.name else "private"
        decoder = Decoder()
        for raw in split(path.read_bytes()):
            decoder.feed(raw)
            msg = decoder.next()
            assert msg is not None
            name = f"{msg.message_type.name.lower()} {msg.signature or '-'} ({where})"
            if msg.signature == "v":
                name = f"Get {msg.body[0].signature} ({where})"
            if len(raw) > len(found.get(name, b"")):
                found[name] = raw
    return found


def run(raw: bytes, n: int) -> None:
    copies = [bytes(bytearray(raw)) for _ in range(n)]
    decoder = Decoder()
    for data in copies:
        decoder.feed(data)
        msg = decoder.next()
        assert msg is not None
        if msg.message_type.name == "METHOD_RETURN":
            reply_value(msg)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--only", default="")
    args = p.parse_args()
    import sysd

    print(f"sysd from {Path(sysd.__file__).parent}", file=sys.stderr)
    print("| message | bytes | min µs | median µs | Python calls |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, raw in sorted(messages().items()):
        if args.only not in name:
            continue
        n = max(20, min(5000, 2_000_000 // len(raw)))
        times = []
        for _ in range(args.reps):
            start = time.perf_counter()
            run(raw, n)
            times.append((time.perf_counter() - start) / n * 1e6)
        prof = cProfile.Profile()
        prof.runcall(run, raw, n)
        stats = pstats.Stats(prof)
        calls = (stats.total_calls - 1) / n  # type: ignore[attr-defined]
        print(
            f"| {name} | {len(raw)} | {min(times):.2f} | {statistics.median(times):.2f} | "
            f"{calls:.1f} |"
        )
        if args.profile:
            stats.sort_stats("tottime").print_stats(8)


if __name__ == "__main__":
    main()
