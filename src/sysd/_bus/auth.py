"""SASL EXTERNAL for D-Bus clients, as a pure state machine (bytes in, verdict out).

We pipeline exactly what sd-bus sends (``AUTH EXTERNAL`` with no initial
response, ``DATA``, optionally ``NEGOTIATE_UNIX_FD``, then ``BEGIN``) in one
write, so authentication costs one round trip.  The server answers with lines;
:meth:`ClientAuth.feed` consumes them and reports when the handshake is over,
returning the bytes that followed the last line (they belong to the message
stream).
"""

from __future__ import annotations

from ..errors import BusAuthenticationError

MAX_LINE = 512  # dbus-daemon's own limit on an auth line is far lower than this
MAX_TOTAL = 16 * 1024


class ClientAuth:
    """Client side of the D-Bus authentication handshake."""

    __slots__ = ("_buf", "_consumed", "_expect", "done", "guid", "negotiate_fds", "unix_fds")

    def __init__(self, *, negotiate_fds: bool) -> None:
        self.negotiate_fds = negotiate_fds
        self.unix_fds = False
        self.guid: str | None = None
        self.done = False
        self._buf = b""
        self._consumed = 0  # handshake bytes parsed so far
        # What the server still owes us: DATA (or an old-style OK), OK, [AGREE_UNIX_FD|ERROR]
        self._expect = ["DATA", "OK"] + (["FD"] if negotiate_fds else [])

    def initial(self) -> bytes:
        """The bytes to send right after connecting."""
        out = b"\0AUTH EXTERNAL\r\nDATA\r\n"
        if self.negotiate_fds:
            out += b"NEGOTIATE_UNIX_FD\r\n"
        return out + b"BEGIN\r\n"

    def feed(self, data: bytes) -> bytes:
        """Consume server bytes; return what follows the handshake once it is done.

        Raises BusAuthenticationError on refusal or a malformed answer.
        """
        if self.done:
            return data
        self._buf += data
        while self._expect:
            end = self._buf.find(b"\r\n")
            if end < 0:
                if len(self._buf) > MAX_LINE:
                    raise BusAuthenticationError("authentication: over-long line from server")
                return b""
            raw, self._buf = self._buf[:end], self._buf[end + 2 :]
            self._consumed += end + 2
            if self._consumed > MAX_TOTAL:
                raise BusAuthenticationError("authentication: server sent too much data")
            if len(raw) > MAX_LINE:
                raise BusAuthenticationError("authentication: over-long line from server")
            try:
                line = raw.decode("ascii")
            except UnicodeDecodeError:
                raise BusAuthenticationError("authentication: non-ASCII line from server") from None
            self._line(line)
        self.done = True
        rest, self._buf = self._buf, b""
        return rest

    def _line(self, line: str) -> None:
        want = self._expect[0]
        word, _, arg = line.partition(" ")
        if word == "REJECTED":
            mechs = f" (server offers: {arg})" if arg else ""
            raise BusAuthenticationError(
                f"authentication rejected: EXTERNAL refused{mechs}",
                hint="the bus did not accept this process's credentials",
            )
        if want == "DATA":
            if word == "DATA" and not arg:
                self._expect.pop(0)
                return
            if word == "OK":  # old sd-bus servers skip DATA
                self._expect.pop(0)
                self._ok(arg)
                return
        elif want == "OK" and word == "OK":
            self._ok(arg)
            return
        elif want == "FD":
            if word == "AGREE_UNIX_FD":
                self.unix_fds = True
                self._expect.pop(0)
                return
            if word == "ERROR":  # the peer cannot pass fds; fine, carry on without
                self.unix_fds = False
                self._expect.pop(0)
                return
        raise BusAuthenticationError(f"authentication: unexpected answer {line[:80]!r}")

    def _ok(self, guid: str) -> None:
        if len(guid) != 32 or any(c not in "0123456789abcdefABCDEF" for c in guid):
            raise BusAuthenticationError(f"authentication: malformed server GUID {guid[:40]!r}")
        self.guid = guid
        self._expect.pop(0)
