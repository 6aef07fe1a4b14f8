"""Record real systemd messages for the protocol fuzzer: run inside a sandbox, as root.

    python -m sysd sandbox run -- python tests/bus/data/record.py

Writes ``tests/bus/data/systemd252.bin`` (systemd's private socket: sd-bus speaking) and
``systemd252_bus.bin`` (the system bus: what dbus-daemon relays and sends itself): the bytes
one connection received (Get, GetAll, ListUnits, GetUnit, an error, and the signals of
starting a transient unit), exactly as received.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import sysd
from sysd import Variant
from sysd._bus import wire

HERE = Path(__file__).resolve().parent
MANAGER = ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")


def record(private: bool, out: str, unit: str) -> None:
    received: list[bytes] = []
    feed = wire.Decoder.feed

    def recording(self: wire.Decoder, data: bytes, fds: object = ()) -> None:
        received.append(bytes(data))
        feed(self, data, fds)  # type: ignore[arg-type]

    wire.Decoder.feed = recording  # type: ignore[method-assign]
    try:
        with sysd.connect(private=private) as sd:
            bus = sd.bus
            dest = sd.destination
            bus.add_match("type='signal',sender='org.freedesktop.systemd1'")
            bus.call(dest, *MANAGER, "Subscribe")
            path = bus.call(dest, *MANAGER, "GetUnit", "s", ("dbus.service",))
            props = "org.freedesktop.DBus.Properties"
            iface = "org.freedesktop.systemd1"
            bus.call(dest, path, props, "Get", "ss", (iface + ".Unit", "ActiveState"))
            bus.call(dest, path, props, "GetAll", "s", (iface + ".Service",))
            bus.call(dest, *MANAGER, "ListUnits")
            try:
                bus.call(dest, *MANAGER, "GetUnit", "s", ("sysd-record-nope.service",))
            except sysd.NoSuchUnitError:
                pass
            argv = [("/bin/true", ["/bin/true"], False)]
            bus.call(
                dest,
                *MANAGER,
                "StartTransientUnit",
                "ssa(sv)a(sa(sv))",
                (unit, "replace", [("ExecStart", Variant("a(sasb)", argv))], []),
            )
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                bus.process(0.1)
            bus.call(dest, *MANAGER, "Unsubscribe")
    finally:
        wire.Decoder.feed = feed  # type: ignore[method-assign]
    (HERE / out).write_bytes(b"".join(received))
    print(out, len(b"".join(received)), "bytes")


def main() -> int:
    record(True, "systemd252.bin", "sysd-record-fuzz.service")
    record(False, "systemd252_bus.bin", "sysd-record-fuzz-bus.service")
    return 0


if __name__ == "__main__":
    sys.exit(main())
