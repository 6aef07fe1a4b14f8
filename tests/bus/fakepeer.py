"""A scripted D-Bus peer for what a real systemd cannot be made to do on demand.

It speaks just enough of the protocol to misbehave precisely: answer ``Ping``,
never answer ``Hang``, echo ``Echo`` (fds included), hang up on ``Bye``, send
garbage on ``Garbage``, answer the members of :data:`MALFORMED` with a message
that breaks one rule of the specification, and count how many calls were
outstanding at once.
Everything systemd decides is tested against the real systemd instead.
"""

from __future__ import annotations

import array
import os
import socket
import tempfile
import threading
from collections.abc import Callable

from sysd._bus.wire import CMSG_SPACE, Decoder, Message, MessageType, fds_of
from sysd._bus.wire import Variant as sysd_variant


def _reply_without_serial(reply_to: int, serial: int) -> bytes:
    # what dbus-fast marshals for reply_serial=0 is a return with no REPLY_SERIAL field
    msg = Message(
        message_type=MessageType.METHOD_RETURN, reply_serial=0, serial=serial, validate=False
    )
    return bytes(msg._marshall(False))


def _signal(path: str, signature: str = "", body: list[object] | None = None) -> bytes:
    msg = Message(
        message_type=MessageType.SIGNAL,
        path=path,
        interface="org.freedesktop.systemd1.Manager",
        member="JobRemoved",
        signature=signature,
        body=body or [],
        serial=77,
        validate=False,
    )
    return bytes(msg._marshall(False))


def _reply(reply_to: int, serial: int, signature: str, body: list[object]) -> bytes:
    msg = Message(
        message_type=MessageType.METHOD_RETURN,
        reply_serial=reply_to,
        signature=signature,
        body=body,
        serial=serial,
        validate=False,
    )
    return bytes(msg._marshall(False))


def _bad_padding(reply_to: int, serial: int) -> bytes:
    data = bytearray(_reply(reply_to, serial, "s", ["x"]))
    # header: [5 u serial] then [8 g "s"]: 4+1+1+1 = 7 bytes, one byte of padding to 8
    assert data[24:29] == b"\x08\x01g\x00\x01" and data[31] == 0
    data[31] = 0x55
    return bytes(data)


def _bad_body_padding(reply_to: int, serial: int, sig: str, body: list[object], at: int) -> bytes:
    """A reply whose body's byte ``at`` (counted from the body's start: padding) is not 0."""
    data = bytearray(_reply(reply_to, serial, sig, body))
    start = len(data) - int.from_bytes(data[4:8], "little")
    assert data[start + at] == 0
    data[start + at] = 0x55
    return bytes(data)


_UNIT_ROW = ("a.service", "", "loaded", "active", "running", "", "/u/a", 0, "", "/")

# member -> (the caller's serial, the peer's serial) -> bytes breaking one rule
MALFORMED: dict[str, Callable[[int, int], bytes]] = {
    "NoReplySerial": _reply_without_serial,
    "BadPathSignal": lambda r, s: _signal("/org/freedesktop//systemd1"),
    "BadPathInSignalBody": lambda r, s: _signal(
        "/org/freedesktop/systemd1", "uoss", [1, "job/1", "a.service", "done"]
    ),
    "NulInString": lambda r, s: _reply(r, s, "s", ["a\x01b.service"]).replace(b"\x01b.", b"\0b."),
    "DeepSignature": lambda r, s: _reply(r, s, "a" * 33 + "y", [[]]),
    "BadPadding": _bad_padding,
    # the padding between a byte and a string, before a struct, before a 64-bit value in a
    # variant, and inside a ListUnits row (after "a.service" + NUL: 2 bytes to the next)
    "BadBodyPadding": lambda r, s: _bad_body_padding(r, s, "ys", [7, "ab"], 1),
    "BadStructPadding": lambda r, s: _bad_body_padding(r, s, "y(yy)", [7, [1, 2]], 4),
    "BadVariantPadding": lambda r, s: _bad_body_padding(
        r, s, "a{sv}", [{"A": sysd_variant("t", 5)}], 20
    ),
    "BadRowPadding": lambda r, s: _bad_body_padding(r, s, "a(ssssssouso)", [[_UNIT_ROW]], 23),
    "NoTerminator": lambda r, s: _bad_body_padding(r, s, "s", ["ab"], 6),
}


_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
_ASK = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
_LIMITS = "org.freedesktop.DBus.Error.LimitsExceeded"

# member -> the call -> (error name, text) as systemd or dbus-daemon word them; ("", "") answers
REFUSED: dict[str, Callable[[Message], tuple[str, str]]] = {
    "Fail": lambda call: (call.body[0], call.body[1]),  # Fail(ss): any error, any text
    "Set": lambda call: (_DENIED, "Access denied"),
    "EnableUnitFiles": lambda call: (
        _DENIED,
        'Rejected send message, 1 matched rules; type="method_call", sender=":1.42" '
        '(uid=1000 pid=7 comm="python3") interface="org.freedesktop.systemd1.Manager" '
        'member="EnableUnitFiles" error name="(unset)" requested_reply="0" '
        'destination="org.freedesktop.systemd1" (uid=0 pid=1 comm="/sbin/init")',
    ),
    "StartUnit": lambda call: (_ASK, "Interactive authentication required."),
    "AddMatch": lambda call: (
        (
            _LIMITS,
            'Connection ":1.42" is not allowed to add more match rules (increase limits in '
            "configuration file if required; max_match_rules_per_connection=512)",
        )
        if "sysd-test-limit" in call.body[0]
        else ("", "")
    ),
}


class FakePeer:
    def __init__(
        self,
        *,
        auth_script: Callable[[socket.socket], bool] | None = None,
        hold: int = 0,
    ) -> None:
        self._dir = tempfile.mkdtemp(prefix="sysd-fakepeer-")
        self.path = os.path.join(self._dir, "sock")
        self.address = f"unix:path={self.path}"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(8)
        self._auth_script = auth_script
        self.hold = hold  # answer Ping only once this many calls are outstanding
        self.held: list[Message] = []
        self.max_outstanding = 0
        self.calls: list[str] = []
        self.flags: list[int] = []
        self.late_replies = 0  # SlowEcho replies sent so far
        self.conns: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # --------------------------------------------------------------- server

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            if self._auth_script is not None:
                if not self._auth_script(conn):
                    conn.close()
                    return
            elif not self._auth(conn):
                conn.close()
                return
            decoder = Decoder()
            serial = 1000
            while True:
                data, anc, _f, _a = conn.recvmsg(65536, CMSG_SPACE)
                if not data:
                    return
                decoder.feed(data, fds_of(anc))
                while (msg := decoder.next()) is not None:
                    if msg.message_type is not MessageType.METHOD_CALL:
                        continue
                    self.calls.append(msg.member)
                    self.flags.append(int(msg.flags))
                    serial += 1
                    member = msg.member
                    if member == "Hello":
                        self._reply(conn, msg, serial, "s", [":1.42"])
                    elif member == "Ping":
                        if self.hold:
                            self.held.append(msg)
                            self.max_outstanding = max(self.max_outstanding, len(self.held))
                            if len(self.held) >= self.hold:
                                for held in self.held:
                                    serial += 1
                                    self._reply(conn, held, serial, "", [])
                                self.held.clear()
                        else:
                            self._reply(conn, msg, serial, "", [])
                    elif member == "Hang":
                        pass
                    elif member == "Echo":
                        self._reply(conn, msg, serial, msg.signature, msg.body, msg.unix_fds)
                        for fd in msg.unix_fds:
                            os.close(fd)
                    elif member == "Bye":
                        conn.shutdown(socket.SHUT_RDWR)
                        conn.close()
                        return
                    elif member == "Garbage":
                        conn.sendall(b"l\x02\x01\x01" + os.urandom(60))
                    elif member in REFUSED:
                        name, text = REFUSED[member](msg)
                        if name:
                            self._error(conn, msg, serial, name, text)
                        else:
                            self._reply(conn, msg, serial, "", [])
                    elif member in MALFORMED:
                        conn.sendall(MALFORMED[member](msg.serial, serial))
                    elif member == "BadFdIndex":
                        self._reply(conn, msg, serial, "h", [3])
                    elif member == "SlowEcho":  # reply (with the fds) only after a delay

                        def late(msg: Message = msg, serial: int = serial) -> None:
                            self._reply(conn, msg, serial, msg.signature, msg.body, msg.unix_fds)
                            for fd in msg.unix_fds:
                                os.close(fd)
                            self.late_replies += 1

                        threading.Timer(0.3, late).start()
                    elif member == "ErrorWithFd":
                        reply = Message(
                            message_type=MessageType.ERROR,
                            reply_serial=msg.serial,
                            error_name="org.example.Weird.Error",
                            signature="sh",
                            body=["with an fd", 0],
                            serial=serial,
                            unix_fds=msg.unix_fds,
                        )
                        conn.sendmsg(
                            [reply._marshall(True)],
                            [
                                (
                                    socket.SOL_SOCKET,
                                    socket.SCM_RIGHTS,
                                    array.array("i", msg.unix_fds),
                                )
                            ],
                        )
                        for fd in msg.unix_fds:
                            os.close(fd)
                    elif member == "Error":
                        reply = Message(
                            message_type=MessageType.ERROR,
                            reply_serial=msg.serial,
                            error_name="org.example.Weird.Error",
                            signature="s",
                            body=["something odd"],
                            serial=serial,
                        )
                        conn.sendall(reply._marshall(False))
        except OSError:
            return

    @staticmethod
    def _auth(conn: socket.socket) -> bool:
        buf = b""
        expect_begin = True
        while expect_begin:
            chunk = conn.recv(4096)
            if not chunk:
                return False
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                line = line.lstrip(b"\0")
                if line.startswith(b"AUTH EXTERNAL"):
                    conn.sendall(b"DATA\r\n")
                elif line == b"DATA":
                    conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
                elif line == b"NEGOTIATE_UNIX_FD":
                    conn.sendall(b"AGREE_UNIX_FD\r\n")
                elif line == b"BEGIN":
                    expect_begin = False
        return True

    @staticmethod
    def _error(conn: socket.socket, call: Message, serial: int, name: str, text: str) -> None:
        reply = Message(
            message_type=MessageType.ERROR,
            reply_serial=call.serial,
            error_name=name,
            signature="s",
            body=[text],
            serial=serial,
        )
        conn.sendall(reply._marshall(False))

    @staticmethod
    def _reply(
        conn: socket.socket,
        call: Message,
        serial: int,
        signature: str,
        body: list[object],
        fds: list[int] | None = None,
    ) -> None:
        reply = Message(
            message_type=MessageType.METHOD_RETURN,
            reply_serial=call.serial,
            signature=signature,
            body=body,
            serial=serial,
            unix_fds=fds or [],
        )
        data = reply._marshall(True)
        if fds:
            conn.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        else:
            conn.sendall(data)

    def close(self) -> None:
        self._stop = True
        self._server.close()
        for conn in self.conns:
            try:
                conn.close()
            except OSError:
                pass
        try:
            os.unlink(self.path)
            os.rmdir(self._dir)
        except OSError:
            pass

    def __enter__(self) -> FakePeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scripted_auth(
    lines: list[bytes], *, read_first: bool = True
) -> Callable[[socket.socket], bool]:
    """An auth script: optionally read the client's opening, then send these raw bytes."""

    def run(conn: socket.socket) -> bool:
        if read_first:
            conn.recv(4096)
        for line in lines:
            conn.sendall(line)
        return False if lines else _block(conn)

    return run


def _block(conn: socket.socket) -> bool:
    conn.recv(4096)  # say nothing; wait for the client to give up
    return False
