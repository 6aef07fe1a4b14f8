"""The blocking connection: one socket, poll() with deadlines, no event loop, no threads.

Calls are serialised by a lock (one thread reads the socket at a time).
Signals are dispatched to handlers while a call or :meth:`Connection.process`
reads the socket.  Outgoing bytes go through a queue, so a write interrupted by
a deadline or Ctrl-C is completed before the next message: a message is always
sent whole.
"""

from __future__ import annotations

import array
import os
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import (
    BusAuthenticationError,
    BusConnectError,
    BusDisconnectedError,
    BusError,
    BusTimeoutError,
    SysdError,
    UsedAfterForkError,
)
from .address import Target, Transport
from .auth import ClientAuth
from .transport import discard, no_transport, open_blocking, reap
from .wire import (
    CMSG_SPACE,
    DBUS_DEST,
    DBUS_IFACE,
    DBUS_PATH,
    DEFAULT,
    ERROR,
    INTERACTIVE_TIMEOUT,
    MAX_IN_FLIGHT,
    METHOD_CALL,
    METHOD_RETURN,
    RECV_SIZE,
    SIGNAL,
    Call,
    Decoder,
    Message,
    answer_call,
    close_fds,
    encode_call,
    encode_calls,
    fds_of,
    reply_value,
)

T = TypeVar("T")

if TYPE_CHECKING:
    from .transport import Helper

__all__ = ["DEFAULT", "Connection", "SignalHandler"]

SignalHandler = Callable[[Message], None]


_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT
_POLLERR = select.POLLERR | select.POLLHUP | select.POLLNVAL

# Bumped in the child after os.fork(): a connection compares it with the value it
# was opened under instead of calling getpid() (a system call) on every call.
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


def open_owned(
    target: Target,
    owner: Callable[[Connection], T],
    *,
    timeout: float | None = 25.0,
    interactive: bool = False,
) -> T:
    """Open a connection and hand it to ``owner`` (``Systemd``, ``Login``...): cut between
    the two (Ctrl-C), the connection is closed, not left to the GC."""
    bus = None
    try:
        bus = Connection.open(target, timeout=timeout, interactive=interactive)
        return owner(bus)
    except BaseException:
        if bus is not None:
            bus.close()
        raise


class Connection:
    """A blocking D-Bus connection owned by sysd (see :func:`sysd.connect`)."""

    def __init__(
        self,
        sock: socket.socket,
        target: Target,
        *,
        timeout: float | None = 25.0,
        interactive: bool = False,
        proc: Helper | None = None,
    ) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._fd = sock.fileno()
        self._proc = proc
        self.target = target
        self.timeout = timeout
        self.interactive = interactive
        self.unix_fds = False
        self.unique_name: str | None = None
        self.guid: str | None = None
        self._decoder = Decoder()
        self._serial = 0
        self._waiting: set[int] = set()
        self._replies: dict[int, Message] = {}
        self._out: deque[tuple[memoryview, list[int]]] = deque()
        self._sent: list[tuple[memoryview, int]] = []  # see _flush
        self._handlers: list[SignalHandler] = []
        self._matches: dict[str, int] = {}
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._forks = _forks
        self._broken: BusError | None = None
        self._poller = select.poll()
        self._poller.register(self._fd, _POLLIN)
        self._running = False  # authenticated: bytes read are messages

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, target: Target, *, timeout: float | None = 25.0, interactive: bool = False
    ) -> Connection:
        """Connect, authenticate and (on a message bus) say Hello."""
        deadline = None if timeout is None else time.monotonic() + timeout
        failures: list[BusConnectError] = []
        for transport in target.transports:
            sock = proc = conn = None
            try:  # once built, the connection owns the socket (and closes it on every path)
                sock, proc = open_blocking(transport, deadline)
                conn = cls(sock, target, timeout=timeout, interactive=interactive, proc=proc)
                conn._greet(transport, deadline)
                return conn
            except BusConnectError as exc:
                if conn is None:  # from opening the transport, which closed it: the next one
                    failures.append(exc)
                    continue
                raise
            except BaseException:  # Ctrl-C, or any failure of the greeting (closed already)
                if conn is None:
                    discard(sock, proc)
                else:
                    conn.close()
                raise
        raise no_transport(target, failures)

    def _greet(self, transport: Transport, deadline: float | None) -> None:
        """Authenticate and (on a message bus) say Hello; closed when either fails."""
        try:
            self._authenticate(deadline)
            if self.target.hello:
                self.unique_name = self.call(
                    DBUS_DEST, DBUS_PATH, DBUS_IFACE, "Hello", timeout=self._left(deadline)
                )
        except BusTimeoutError as exc:
            self.close()
            raise BusConnectError(
                f"connecting to {transport.describe()} timed out", address=transport.describe()
            ) from exc
        except BusConnectError as exc:
            why = None
            try:
                if transport.kind == "ssh":  # the bridge ended: say why, typed
                    from .ssh import Bridge

                    if isinstance(self._proc, Bridge):
                        why = self._proc.diagnose(deadline)
            finally:
                self.close()
            if why is not None:
                raise why from exc
            raise

    @staticmethod
    def _left(deadline: float | None) -> float | None:
        return None if deadline is None else max(0.001, deadline - time.monotonic())

    def _authenticate(self, deadline: float | None) -> None:
        auth = ClientAuth(negotiate_fds=self.target.fds)
        try:  # the peer gone while we write or read (an ssh that failed): one error either way
            self._queue(auth.initial(), [])
            self._flush(deadline)
            while not auth.done:
                data, _fds = self._recv(deadline, allow_fds=False)
                rest = auth.feed(data)
                if rest:
                    self._decoder.feed(rest)
        except BusDisconnectedError as exc:
            raise BusAuthenticationError(
                "the bus closed the connection during authentication",
                address=self.target.description,
            ) from exc
        self.unix_fds = auth.unix_fds
        self.guid = auth.guid
        self._running = True
        if self._decoder.buffered:  # bytes that came with the last line: decode them now
            self._dispatch()

    # --------------------------------------------------------------- low level

    def _check(self) -> None:
        if self._forks != _forks:
            raise UsedAfterForkError("this bus connection was opened in another process (fork)")
        if self._broken is not None:
            raise BusDisconnectedError(f"connection is closed: {self._broken.text}")

    def _fail(self, exc: BusError) -> BusError:
        """Mark the connection dead (first cause wins) and return the error to raise."""
        if self._broken is None:
            self._broken = exc
            self._shutdown()
        return exc

    def _shutdown(self) -> None:
        try:
            self._poller.unregister(self._fd)
        except (KeyError, ValueError):
            pass
        self._sock.close()
        self._decoder.close()
        for msg in self._replies.values():
            close_fds(msg.unix_fds)
        self._replies.clear()
        self._out.clear()
        self._sent.clear()
        reap(self._proc)

    def _queue(self, data: bytes, fds: list[int]) -> None:
        self._out.append((memoryview(data), fds))

    def _flush(self, deadline: float | None) -> None:
        """Write queued bytes; while the peer does not read, keep reading what it sends.

        Ctrl-C: Python raises KeyboardInterrupt right after a C call returns, so after
        ``n = sock.send(view)`` it could land with the bytes sent and ``n`` lost, and the
        next flush would send the message again (a second AddMatch, Ref or StartUnit;
        the rest of a message twice, a corrupt stream).  So the send's result is stored
        by C code (``extend`` consuming a ``zip`` over a ``map``: no bytecode between
        the send and the store) together with the view it was sent from, and applied at
        most once: only while that view is still the queue's head.
        """
        sock = self._sock
        out = self._out
        sent = self._sent
        while True:
            while sent:  # what was sent and not yet taken off the queue (an interrupt)
                view, n = sent[0]
                if out and out[0][0] is view:  # not applied yet
                    if n == len(view):
                        out.popleft()
                    else:
                        out[0] = (view[n:], [])
                del sent[0]
            if not out:
                return
            view, fds = out[0]
            try:
                if fds:
                    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                    sent.extend(zip((view,), map(sock.sendmsg, ([view],), (anc,)), strict=True))
                else:
                    sent.extend(zip((view,), map(sock.send, (view,)), strict=True))
            except BlockingIOError:
                self._wait(deadline, _POLLOUT | _POLLIN, "sending")
            except InterruptedError:
                continue
            except OSError as exc:
                lost = BusDisconnectedError(f"bus connection lost while sending: {exc}")
                raise self._fail(lost) from exc

    def _wait(self, deadline: float | None, events: int, what: str) -> None:
        """Wait for the socket; on readability, read and dispatch (avoids write deadlocks)."""
        if deadline is None:
            timeout_ms = -1
        else:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BusTimeoutError(f"timed out {what}")
            timeout_ms = max(1, int(left * 1000 + 0.999))
        if not self._running:
            events &= ~_POLLIN
        if events == _POLLIN:  # what the fd is registered for between waits
            ready = self._poller.poll(timeout_ms)
        else:
            self._poller.modify(self._fd, events)
            try:
                ready = self._poller.poll(timeout_ms)
            finally:
                self._poller.modify(self._fd, _POLLIN)
        if not ready:
            raise BusTimeoutError(f"timed out {what}")
        revents = ready[0][1]
        if self._running and (revents & _POLLIN or (revents & _POLLERR and events & _POLLIN)):
            self._read_available(deadline)

    def _recv(self, deadline: float | None, *, allow_fds: bool) -> tuple[bytes, list[int]]:
        while True:
            try:
                if allow_fds and self.unix_fds:
                    data, anc, _flags, _addr = self._sock.recvmsg(RECV_SIZE, CMSG_SPACE)
                    fds = fds_of(anc)
                else:
                    data, fds = self._sock.recv(RECV_SIZE), []
            except BlockingIOError:
                if deadline is not None and deadline - time.monotonic() <= 0:
                    raise BusTimeoutError("timed out waiting for the bus") from None
                self._poll_in(deadline)
                continue
            except InterruptedError:
                continue
            except OSError as exc:
                raise self._fail(
                    BusDisconnectedError(f"bus connection lost while receiving: {exc}")
                ) from exc
            if not data:
                close_fds(fds)
                raise self._fail(BusDisconnectedError("the bus closed the connection"))
            return data, fds

    def _poll_in(self, deadline: float | None) -> None:
        if deadline is None:
            timeout_ms = -1
        else:
            timeout_ms = max(0, int((deadline - time.monotonic()) * 1000 + 0.999))
        if not self._poller.poll(timeout_ms):
            raise BusTimeoutError("timed out waiting for the bus")

    def _read_available(self, deadline: float | None) -> None:
        # the socket is readable: one receive without _recv's loop (it handles the rest)
        fds: list[int] = []
        try:
            if self.unix_fds:
                data, anc, _flags, _addr = self._sock.recvmsg(RECV_SIZE, CMSG_SPACE)
                if anc:
                    fds = fds_of(anc)
            else:
                data = self._sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            data = b""
        except OSError as exc:
            raise self._fail(
                BusDisconnectedError(f"bus connection lost while receiving: {exc}")
            ) from exc
        if not data:  # nothing after all, or the end: _recv waits, retries or fails
            close_fds(fds)
            data, fds = self._recv(deadline, allow_fds=True)
        self._decoder.feed(data, fds)
        self._dispatch()

    def _dispatch(self) -> None:
        decoder = self._decoder
        while True:
            try:
                msg = decoder.next()
            except BusError as exc:
                raise self._fail(exc) from exc
            if msg is None:
                return
            mtype = msg.message_type
            if mtype is METHOD_RETURN or mtype is ERROR:
                if msg.reply_serial in self._waiting:
                    self._replies[msg.reply_serial] = msg
                elif msg.unix_fds:
                    close_fds(msg.unix_fds)
            elif mtype is SIGNAL:
                try:
                    for handler in tuple(self._handlers):
                        handler(msg)
                finally:
                    if msg.unix_fds:
                        close_fds(msg.unix_fds)
            elif mtype is METHOD_CALL:
                self._serial += 1
                answer = answer_call(self._serial, msg)
                if answer is not None:
                    self._queue(answer, [])
                close_fds(msg.unix_fds)

    # -------------------------------------------------------------------- calls

    def deadline(self, timeout: float | None, interactive: bool = False) -> float | None:
        if timeout is DEFAULT:
            timeout = self.timeout
            if interactive and timeout is not None:
                timeout = max(timeout, INTERACTIVE_TIMEOUT)
        return None if timeout is None else time.monotonic() + timeout

    def call_message(
        self,
        destination: str | None,
        path: str,
        interface: str | None,
        member: str,
        signature: str = "",
        args: Sequence[Any] = (),
        *,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
    ) -> Message:
        """Send a method call and return the reply message (error replies included)."""
        if interactive is None:
            interactive = self.interactive
        with self._lock:
            if self._broken is not None or self._forks != _forks:
                self._check()
            self._serial += 1
            serial = self._serial
            data, fds = encode_call(
                serial,
                destination,
                path,
                interface,
                member,
                signature,
                args,
                interactive=interactive,
                unix_fds=self.unix_fds,
            )
            deadline = self.deadline(timeout, interactive)
            waiting = self._waiting
            replies = self._replies
            waiting.add(serial)
            try:
                out = self._out
                if out or fds:
                    self._queue(data, fds)
                    self._flush(deadline)
                else:  # nothing queued before it: send at once (_flush sends what is left)
                    # (a Ctrl-C right after this send loses ``sent``: nothing is sent twice,
                    # but the rest of a partial send would be lost, a stream the bus then
                    # drops: only with the socket's buffer full and nothing queued.  _flush's
                    # bookkeeping would close that too, for ~0.5 us on every call)
                    try:
                        sent = self._sock.send(data)
                    except OSError:  # would block, interrupted or lost: _flush decides
                        sent = 0
                    if sent != len(data):
                        out.append((memoryview(data)[sent:], []))
                        self._flush(deadline)
                while True:
                    reply = replies.pop(serial, None)
                    if reply is not None:
                        return reply
                    self._wait(deadline, _POLLIN, "for the reply")  # re-worded below
            except BusTimeoutError as exc:
                raise BusTimeoutError(
                    f"no reply to {interface}.{member} within "
                    f"{'the deadline' if timeout is None else f'{self._timeout_of(timeout):g} s'}"
                ) from exc
            finally:
                waiting.discard(serial)
                replies.pop(serial, None)

    def _timeout_of(self, timeout: float | None) -> float:
        value = self.timeout if timeout is DEFAULT else timeout
        return float(value or 0)

    def call(
        self,
        destination: str | None,
        path: str,
        interface: str | None,
        member: str,
        signature: str = "",
        args: Sequence[Any] = (),
        *,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
    ) -> Any:
        """Call a method; return its value (None, one value, or a tuple). Errors raise."""
        if interactive is None:
            interactive = self.interactive
        return reply_value(
            self.call_message(
                destination,
                path,
                interface,
                member,
                signature,
                args,
                timeout=timeout,
                interactive=interactive,
            ),
            interface,
            member,
            interactive,
        )

    def call_many(
        self,
        calls: Iterable[Call],
        *,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Many calls at once; their values in the calls' order (see ``Call``).

        Every call is encoded before any is sent (a bad argument raises
        :class:`~sysd.InvalidCallError` with nothing sent), then they are pipelined:
        at most ``MAX_IN_FLIGHT`` unanswered, the next sent as replies come, every
        reply that arrived together read at once.  ``timeout`` bounds the whole
        batch.  An error reply raises at once (the replies still to come are
        dropped) unless ``return_exceptions`` is true, which puts each call's
        :class:`~sysd.SysdError` in its place instead.
        """
        if interactive is None:
            interactive = self.interactive
        batch = list(calls)
        with self._lock:
            if self._broken is not None or self._forks != _forks:
                self._check()
            encoded = encode_calls(
                self._serial, batch, interactive=interactive, unix_fds=self.unix_fds
            )
            self._serial += len(encoded)
            deadline = self.deadline(timeout, interactive)
            index = {serial: i for i, (serial, _data, _fds) in enumerate(encoded)}
            waiting = self._waiting
            replies = self._replies
            results: list[Any] = [None] * len(batch)
            sent = answered = 0
            try:
                waiting.update(index)  # inside the try: a Ctrl-C right after it is undone
                while answered < len(batch):
                    while sent < len(batch) and sent - answered < MAX_IN_FLIGHT:
                        _serial, data, fds = encoded[sent]
                        self._queue(data, fds)
                        sent += 1
                    self._flush(deadline)
                    ready = [serial for serial in replies if serial in index]
                    if not ready:
                        self._wait(deadline, _POLLIN, "for the replies")
                        continue
                    for serial in ready:
                        msg = replies.pop(serial)
                        waiting.discard(serial)
                        answered += 1
                        i = index[serial]
                        call = batch[i]
                        try:
                            results[i] = reply_value(msg, call[2], call[3], interactive)
                        except SysdError as exc:
                            if not return_exceptions:
                                raise
                            results[i] = exc
                return results
            except BusTimeoutError as exc:
                first = batch[0]
                raise BusTimeoutError(
                    f"no reply to {len(batch) - answered} of {len(batch)} calls "
                    f"({first[2]}.{first[3]} first) within "
                    f"{'the deadline' if timeout is None else f'{self._timeout_of(timeout):g} s'}"
                ) from exc
            finally:
                waiting.difference_update(index)
                for serial in index:
                    left = replies.pop(serial, None)
                    if left is not None and left.unix_fds:
                        close_fds(left.unix_fds)

    # ------------------------------------------------------------------ signals

    def add_signal_handler(self, handler: SignalHandler) -> None:
        self._handlers.append(handler)

    def remove_signal_handler(self, handler: SignalHandler) -> None:
        try:
            self._handlers.remove(handler)
        except ValueError:
            pass

    def add_match(self, rule: str, *, timeout: float | None = DEFAULT) -> None:
        """Ask the bus to route matching signals to us (reference counted)."""
        count = self._matches.get(rule, 0)
        if count == 0 and self.target.hello:
            self.call(DBUS_DEST, DBUS_PATH, DBUS_IFACE, "AddMatch", "s", (rule,), timeout=timeout)
        self._matches[rule] = count + 1

    def remove_match(self, rule: str, *, timeout: float | None = DEFAULT) -> None:
        count = self._matches.get(rule, 0)
        if count <= 1:
            self._matches.pop(rule, None)
            if count == 1 and self.target.hello and self._broken is None:
                try:
                    self.call(
                        DBUS_DEST,
                        DBUS_PATH,
                        DBUS_IFACE,
                        "RemoveMatch",
                        "s",
                        (rule,),
                        timeout=timeout,
                    )
                except BusError:
                    pass
        else:
            self._matches[rule] = count - 1

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Read and dispatch signals until ``predicate()`` holds or ``timeout`` passes.

        Returns the predicate's final value.  A lost connection raises
        BusDisconnectedError.
        """
        self._check()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not predicate():
                self._flush(deadline)
                try:
                    self._wait(deadline, _POLLIN, "for signals")
                except BusTimeoutError:
                    return predicate()
            return True

    def process(self, timeout: float | None = 0.0) -> bool:
        """Read and dispatch what arrives within ``timeout`` seconds.

        Returns False when nothing arrived.  Used to wait for signals.
        """
        self._check()
        with self._lock:
            deadline = None if timeout is None else time.monotonic() + timeout
            self._flush(deadline)
            try:
                self._wait(deadline, _POLLIN, "for signals")
            except BusTimeoutError:
                return False
            return True

    # ------------------------------------------------------------------ closing

    @property
    def closed(self) -> bool:
        return self._broken is not None

    def close(self) -> None:
        if self._broken is None and self._pid == os.getpid():
            try:
                self._flush(time.monotonic() + 0.1)
            except BusError:
                pass
        self._fail(BusDisconnectedError("connection closed by the client"))

    def fileno(self) -> int:
        return self._fd

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_broken", True) is None and getattr(self, "_pid", 0) == os.getpid():
            self._sock.close()
            self._decoder.close()
