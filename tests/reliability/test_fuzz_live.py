"""A protocol fuzzer on live traffic: real systemd replies, mutated on their way to sysd.

A man-in-the-middle proxy sits between a sysd connection and systemd's private socket:
it passes the client's bytes through untouched and frames the manager's messages, and
mutates a share of the replies (bytes flipped, overwritten, inserted, deleted, cut;
mostly in the body, so that the reply still reaches its caller and sysd's typed
conversion of it -- unit status, ListUnits rows, properties -- gets values it never
expected).  RELIABILITY 10-12: every call ends within its deadline with either a value
or a typed ``SysdError`` (``ProtocolError`` for what breaks the wire rules), never
another exception and never a hang; a broken stream is never resynchronised, and a
fresh connection works.  Seeded and bounded in time, so a failure is reproducible.
"""

from __future__ import annotations

import asyncio
import os
import random
import selectors
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from reliability_support import open_fds

import sysd.aio
from sysd.errors import BusTimeoutError, SysdError

PRIVATE = "/run/systemd/private"
INTERESTING = [0x00, 0x01, 0x2F, 0x7F, 0x80, 0xFF, 0x61, 0x28, 0x29, 0x7B, 0x73, 0x76]


class MutatingProxy:
    """Relays one client at a time to systemd's private socket, mutating its replies."""

    def __init__(self, rng: random.Random, share: float) -> None:
        self.rng = rng
        self.share = share
        self.mutated = 0
        self.relayed = 0
        self._dir = tempfile.mkdtemp(prefix="sysd-fuzzproxy-")
        self.path = os.path.join(self._dir, "bus")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(8)
        self._stop = threading.Event()
        self._relays: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"unix:path={self.path}"

    def close(self) -> None:
        self._stop.set()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:  # wake accept()
            try:
                s.connect(self.path)
            except OSError:
                pass
        self._thread.join(10)
        # every relay's sockets and selector closed before we return: a test after this
        # one counts its fds from here
        for relay in self._relays:
            relay.join(10)
        self._listener.close()
        os.unlink(self.path)
        os.rmdir(self._dir)

    def _serve(self) -> None:
        while not self._stop.is_set():
            client, _ = self._listener.accept()
            if self._stop.is_set():
                client.close()
                return
            relay = threading.Thread(target=self._relay, args=(client,), daemon=True)
            self._relays.append(relay)
            relay.start()

    def _relay(self, client: socket.socket) -> None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.connect(PRIVATE)
        except OSError:
            client.close()
            server.close()
            return
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, "up")
        sel.register(server, selectors.EVENT_READ, "down")
        down = b""
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(0.2):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(65536)
                    if not data:
                        return
                    if key.data == "up":
                        server.sendall(data)
                        continue
                    down += data
                    while down:
                        if down[0] != 0x6C:  # an auth line (OK, AGREE_UNIX_FD): as it is
                            line, crlf, rest = down.partition(b"\r\n")
                            if not crlf:
                                break
                            client.sendall(line + crlf)
                            down = rest
                            continue
                        if len(down) < 16:
                            break
                        body_len, _serial, fields_len = struct.unpack_from("<III", down, 4)
                        size = 16 + ((fields_len + 7) & ~7) + body_len
                        if len(down) < size:
                            break
                        msg, down = down[:size], down[size:]
                        client.sendall(self._maybe_mutate(msg, size - body_len))
        except OSError:
            pass
        finally:
            sel.close()
            client.close()
            server.close()

    def _maybe_mutate(self, msg: bytes, body_at: int) -> bytes:
        self.relayed += 1
        rng = self.rng
        if msg[1] != 2 or rng.random() >= self.share:  # method returns only
            return msg
        self.mutated += 1
        data = bytearray(msg)
        in_body = rng.random() < 0.95 and body_at < len(data)
        for _ in range(rng.randint(1, 3)):
            lo = body_at if in_body else 16
            if lo >= len(data):
                break
            i = rng.randrange(lo, len(data))
            what = rng.random()
            if what < 0.7:
                data[i] = rng.choice(INTERESTING) if rng.random() < 0.5 else rng.randrange(256)
            elif what < 0.8:
                data[i : i + 1] = b""
            elif what < 0.9:
                data[i:i] = bytes([rng.randrange(256)])
            else:
                del data[i:]
        if in_body and len(data) >= 16:
            # keep the frame whole (the body's length as it now is), so that what the
            # mutation broke is seen at once rather than as a reply that never ends
            struct.pack_into("<I", data, 4, len(data) - body_at)
        return bytes(data)


@contextmanager
def proxy(seed: int, share: float) -> Iterator[MutatingProxy]:
    p = MutatingProxy(random.Random(seed), share)
    try:
        yield p
    finally:
        p.close()


async def _workload(sd: sysd.aio.AsyncSystemd, names: list[str], rng: random.Random) -> None:
    """Calls whose replies go through sysd's typed conversions."""
    which = rng.randrange(5)
    if which == 0:
        await (await sd.unit(rng.choice(names), timeout=2)).status(timeout=2)
    elif which == 1:
        await sd.list_units(timeout=2)
    elif which == 2:
        await sd.manager_property(rng.choice(["SystemState", "NNames", "Version", "Timestamp"]))
    elif which == 3:
        unit = await sd.unit(rng.choice(names), timeout=2)
        await unit.get(rng.choice(["ActiveState", "InvocationID", "Names", "MainPID"]), timeout=2)
    else:
        await sd.list_unit_files(timeout=2)


def test_mutated_live_replies_give_values_or_typed_errors(systemd_host: None) -> None:
    rng = random.Random(1201)
    names = ["systemd-journald.service", "dbus.socket", "-.mount", "init.scope", "sysinit.target"]
    outcomes: dict[str, int] = {}
    fds = open_fds()

    async def main(p: MutatingProxy) -> None:
        end = time.monotonic() + float(os.environ.get("SYSD_FUZZ_SECONDS", "25"))
        while time.monotonic() < end:
            try:
                sd = await sysd.aio.connect(address=p.address, private=True, timeout=2)
            except SysdError as exc:  # the connect's own replies are mutated too
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
                continue
            async with sd:
                for _ in range(rng.randint(1, 20)):
                    t0 = time.monotonic()
                    try:
                        await asyncio.wait_for(_workload(sd, names, rng), 10)
                        outcomes["value"] = outcomes.get("value", 0) + 1
                    except SysdError as exc:
                        outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
                        if sd.bus.closed or isinstance(exc, BusTimeoutError):
                            break  # a stream out of step (a header changed): start again
                    except TimeoutError:
                        pytest.fail(
                            f"a call hung past its deadline ({time.monotonic() - t0:.1f} s)"
                        )
                    # anything else propagates: an untyped exception from a mutated reply

    with proxy(seed=1202, share=0.35) as p:
        asyncio.run(main(p))
        mutated = p.mutated
    assert outcomes.get("value", 0) > 50, outcomes
    assert outcomes.get("ProtocolError", 0) > 10, outcomes
    assert mutated > 50, (mutated, outcomes)
    assert open_fds() == fds


def test_the_proxy_itself_is_transparent(systemd_host: None) -> None:
    """Without mutations the proxy changes nothing: the same answers as a direct connection."""

    async def main(address: str) -> None:
        async with (
            await sysd.aio.connect(address=address, private=True) as via,
            await sysd.aio.connect(private=True) as direct,
        ):
            mine = await (await via.unit("systemd-journald.service")).status()
            theirs = await (await direct.unit("systemd-journald.service")).status()
            assert mine.invocation_id == theirs.invocation_id
            assert mine.main_pid == theirs.main_pid
            assert [u.name for u in await via.list_units()] == [
                u.name for u in await direct.list_units()
            ]

    with proxy(seed=1, share=0.0) as p:
        asyncio.run(main(p.address))
        assert p.relayed > 3 and p.mutated == 0
