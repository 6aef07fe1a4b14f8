"""Record real systemd messages for the protocol fuzzer: run inside a sandbox, as root.

    python -m sysd sandbox run -- python tests/bus/data/record.py

Writes ``tests/bus/data/systemd252.bin``: the bytes systemd 252 and dbus-daemon sent one
connection (Hello, Get, GetAll, ListUnits, GetUnit, an error, and the signals of starting
a transient unit), exactly as received.
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
DEST = "org.freedesktop.systemd1"


def main() -> int:
    received: list[bytes] = []
    feed = wire.Decoder.feed

    def recording(self: wire.Decoder, data: bytes, fds: object = ()) -> None:
        received.append(bytes(data))
        feed(self, data, fds)  # type: ignore[arg-type]

    wire.Decoder.feed = recording  # type: ignore[method-assign]
    with sysd.connect() as sd:
        bus = sd.bus
        bus.add_match("type='signal',sender='org.freedesktop.systemd1'")
        bus.call(DEST, *MANAGER, "Subscribe")
        path = bus.call(DEST, *MANAGER, "GetUnit", "s", ("dbus.service",))
        bus.call(
            DEST,
            path,
            "org.freedesktop.DBus.Properties",
            "Get",
            "ss",
            ("org.freedesktop.systemd1.Unit", "ActiveState"),
        )
        bus.call(
            DEST,
            path,
            "org.freedesktop.DBus.Properties",
            "GetAll",
            "s",
            ("org.freedesktop.systemd1.Service",),
        )
        bus.call(DEST, *MANAGER, "ListUnits")
        try:
            bus.call(DEST, *MANAGER, "GetUnit", "s", ("sysd-record-nope.service",))
        except sysd.NoSuchUnitError:
            pass
        props = [("ExecStart", Variant("a(sasb)", [("/bin/true", ["/bin/true"], False)]))]
        bus.call(
            DEST,
            *MANAGER,
            "StartTransientUnit",
            "ssa(sv)a(sa(sv))",
            ("sysd-record-fuzz.service", "replace", props, []),
        )
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            bus.process(0.1)
        bus.call(DEST, *MANAGER, "Unsubscribe")
    (HERE / "systemd252.bin").write_bytes(b"".join(received))
    print(len(b"".join(received)), "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
