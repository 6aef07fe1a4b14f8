"""The asyncio connection: the same wire logic as the blocking one, driven by the loop.

Reading happens in a reader callback (``loop.add_reader``); replies resolve
futures keyed by serial; at most :data:`~sysd._bus.wire.MAX_IN_FLIGHT` calls are
outstanding (the rest queue).  Writes go through a queue flushed by a writer
callback, so back-pressure (EAGAIN, partial writes) never drops the connection,
and a cancelled call's message is sent whole or not at all.
"""

from __future__ import annotations

import array
import asyncio
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .._interrupt import CriticalSection
from ..errors import (
    BusAuthenticationError,
    BusConnectError,
    BusDisconnectedError,
    BusError,
    BusTimeoutError,
    ProtocolError,
    SysdError,
    UsedAfterForkError,
)
from .address import Target, Transport
from .auth import ClientAuth
from .transport import (
    SOCK_FLAGS,
    connect_error,
    discard,
    no_transport,
    reap,
    sockaddr,
    spawn,
)
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

__all__ = ["AsyncConnection"]

# Bumped in the child after os.fork() (see _bus/sync.py): no getpid() per call.
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)

SignalHandler = Callable[[Message], None]


async def _open_transport(
    t: Transport, deadline: float | None
) -> tuple[socket.socket, Helper | None]:
    if t.kind == "ssh":
        from .ssh import open_bridge_async

        assert t.ssh is not None
        return await open_bridge_async(t.ssh, t.argv, deadline)
    if t.kind == "unixexec":
        return spawn(t)
    loop = asyncio.get_running_loop()
    sock = None
    try:
        with CriticalSection():  # no socket object exists unowned, not even for a bytecode
            sock = socket.socket(socket.AF_UNIX, SOCK_FLAGS)
        sock.setblocking(False)
        async with asyncio.timeout_at(_loop_deadline(loop, deadline)):
            await loop.sock_connect(sock, sockaddr(t))
        return sock, None
    except TimeoutError as exc:
        discard(sock, None)
        raise BusConnectError(f"cannot connect to {t.describe()}: timed out") from exc
    except OSError as exc:
        discard(sock, None)
        raise connect_error(t, exc) from exc
    except BaseException:  # cancelled, or Ctrl-C raised in this coroutine
        discard(sock, None)
        raise


async def open_owned(
    target: Target,
    owner: Callable[[AsyncConnection], T],
    *,
    timeout: float | None = 25.0,
    interactive: bool = False,
) -> T:
    """Open a connection and hand it to ``owner`` (``AsyncSystemd``, ``AsyncLogin``...): cut
    between the two (Ctrl-C, cancelled), the connection is closed, not left to the GC."""
    bus = None
    try:
        bus = await AsyncConnection.open(target, timeout=timeout, interactive=interactive)
        return owner(bus)
    except BaseException:
        if bus is not None:
            bus._fail(BusDisconnectedError("connect failed"))
        raise


def _loop_deadline(loop: asyncio.AbstractEventLoop, deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return loop.time() + (deadline - time.monotonic())


class AsyncConnection:
    """An asyncio D-Bus connection owned by sysd (see :func:`sysd.aio.connect`)."""

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
        self._loop = asyncio.get_running_loop()
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
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self._out: deque[tuple[memoryview, list[int]]] = deque()
        self._writing = False
        self._handlers: list[SignalHandler] = []
        self._matches: dict[str, int] = {}
        # calls sent and not answered (at most MAX_IN_FLIGHT), and calls waiting to be sent
        self._in_flight: set[int] = set()
        self._backlog: deque[tuple[int, bytes, list[int]]] = deque()
        # one timer for every call's deadline: serial -> (loop time, interface, member, timeout)
        self._deadlines: dict[int, tuple[float, str | None, str, float]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._pid = os.getpid()
        self._forks = _forks
        self._broken: BusError | None = None
        self._reading = False
        # signal waiters: each wakes only once its own condition holds (no thundering herd
        # when many runs wait on one connection)
        self._waiters: dict[asyncio.Future[None], Callable[[], bool]] = {}

    # ------------------------------------------------------------------ opening

    @classmethod
    async def open(
        cls, target: Target, *, timeout: float | None = 25.0, interactive: bool = False
    ) -> AsyncConnection:
        deadline = None if timeout is None else time.monotonic() + timeout
        failures: list[BusConnectError] = []
        for transport in target.transports:
            sock = proc = conn = None
            try:  # once built, the connection owns the socket (and closes it on every path)
                sock, proc = await _open_transport(transport, deadline)
                conn = cls(sock, target, timeout=timeout, interactive=interactive, proc=proc)
                await conn._greet(transport, deadline)
                return conn
            except BusConnectError as exc:
                if conn is None:  # from opening the transport, which closed it: the next one
                    failures.append(exc)
                    continue
                raise
            except BaseException:  # cancelled, Ctrl-C, or the greeting failed (closed already)
                if conn is None:
                    discard(sock, proc)
                else:
                    conn._fail(BusDisconnectedError("connect failed"))
                raise
        raise no_transport(target, failures)

    async def _greet(self, transport: Transport, deadline: float | None) -> None:
        """Authenticate and (on a message bus) say Hello; closed when either fails."""
        try:
            await self._authenticate(deadline)
            if self.target.hello:
                left = None if deadline is None else max(0.001, deadline - time.monotonic())
                self.unique_name = await self.call(
                    DBUS_DEST, DBUS_PATH, DBUS_IFACE, "Hello", timeout=left
                )
        except BusTimeoutError as exc:
            self._fail(BusDisconnectedError("connect timed out"))
            raise BusConnectError(
                f"connecting to {transport.describe()} timed out", address=transport.describe()
            ) from exc
        except BusConnectError as exc:
            why = None
            try:
                if transport.kind == "ssh":  # the bridge ended: say why, typed
                    from .ssh import Bridge

                    if isinstance(self._proc, Bridge):
                        why = await self._proc.diagnose_async(deadline)
            finally:
                self._fail(BusDisconnectedError("connect failed"))
            if why is not None:
                raise why from exc
            raise

    async def _authenticate(self, deadline: float | None) -> None:
        loop = self._loop
        auth = ClientAuth(negotiate_fds=self.target.fds)
        try:
            async with asyncio.timeout_at(_loop_deadline(loop, deadline)):
                await loop.sock_sendall(self._sock, auth.initial())
                while not auth.done:
                    data = await loop.sock_recv(self._sock, 4096)
                    if not data:
                        raise BusAuthenticationError(
                            "the bus closed the connection during authentication",
                            address=self.target.description,
                        )
                    rest = auth.feed(data)
                    if rest:
                        self._decoder.feed(rest)
        except SysdError:
            raise
        except TimeoutError as exc:
            raise BusTimeoutError("timed out authenticating") from exc
        except (BrokenPipeError, ConnectionResetError) as exc:  # as an EOF: the peer left
            raise BusAuthenticationError(
                "the bus closed the connection during authentication",
                address=self.target.description,
            ) from exc
        except OSError as exc:
            raise BusConnectError(
                f"connection lost during authentication: {exc}", address=self.target.description
            ) from exc
        self.unix_fds = auth.unix_fds
        self.guid = auth.guid
        loop.add_reader(self._fd, self._on_readable)
        self._reading = True
        if self._decoder.buffered:
            self._dispatch()
            if self._broken is not None:  # the bytes after the last line were garbage
                raise self._broken

    # --------------------------------------------------------------- low level

    def _check(self) -> None:
        if self._forks != _forks:
            raise UsedAfterForkError("this bus connection was opened in another process (fork)")
        if self._broken is not None:
            raise BusDisconnectedError(f"connection is closed: {self._broken.text}")

    def _fail(self, exc: BusError) -> BusError:
        if self._broken is not None:
            return exc
        self._broken = exc
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        self._sock.close()
        self._decoder.close()
        self._out.clear()
        self._backlog.clear()
        self._in_flight.clear()
        self._deadlines.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(BusDisconnectedError(f"bus connection lost: {exc.text}"))
                waiter.exception()  # retrieved: its waiter may be gone (cut before its await)
        pending, self._pending = self._pending, {}
        # calls in flight learn the cause when the peer broke the protocol (as a blocking
        # call reading the bad message does); otherwise the connection is simply gone
        lost = ProtocolError if isinstance(exc, ProtocolError) else BusDisconnectedError
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(lost(f"bus connection lost with the call in flight: {exc.text}"))
                fut.exception()  # retrieved: its caller may be gone (cut before its await)
        reap(self._proc)
        return exc

    def _write(self, data: bytes, fds: list[int]) -> None:
        out = self._out
        if not out and not fds and not self._writing:
            # nothing queued before it: send at once (_flush sends what is left, or fails)
            try:
                sent = self._sock.send(data)
            except OSError:
                sent = 0
            if sent == len(data):
                return
            out.append((memoryview(data)[sent:], fds))
        else:
            out.append((memoryview(data), fds))
        if not self._writing:
            self._flush()

    def _flush(self) -> None:
        sock = self._sock
        out = self._out
        while out:
            view, fds = out[0]
            if not fds and len(out) > 1 and not out[1][1]:
                # several messages queued: one send() for as many as carry no fds
                parts = [view]
                out.popleft()
                while out and not out[0][1]:
                    parts.append(out.popleft()[0])
                view = memoryview(b"".join(parts))
                out.appendleft((view, fds))
            try:
                if fds:
                    n = sock.sendmsg(
                        [view], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                    )
                else:
                    n = sock.send(view)
            except (BlockingIOError, InterruptedError):
                if not self._writing:
                    self._loop.add_writer(self._fd, self._flush)
                    self._writing = True
                return
            except OSError as exc:
                self._fail(BusDisconnectedError(f"bus connection lost while sending: {exc}"))
                return
            if n == len(view):
                out.popleft()
            else:
                out[0] = (view[n:], [])
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False

    def _send_backlog(self) -> None:
        """Queue waiting calls while slots are free (flushed once per read by the caller)."""
        backlog = self._backlog
        in_flight = self._in_flight
        pending = self._pending
        while backlog and len(in_flight) < MAX_IN_FLIGHT:
            serial, data, fds = backlog.popleft()
            if serial in pending:  # not cancelled or expired while waiting
                in_flight.add(serial)
                self._out.append((memoryview(data), fds))

    def _on_readable(self) -> None:
        try:
            if self.unix_fds:
                data, anc, _flags, _addr = self._sock.recvmsg(RECV_SIZE, CMSG_SPACE)
                fds = fds_of(anc) if anc else []
            else:
                data, fds = self._sock.recv(RECV_SIZE), []
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(BusDisconnectedError(f"bus connection lost while receiving: {exc}"))
            return
        if not data:
            close_fds(fds)
            self._fail(BusDisconnectedError("the bus closed the connection"))
            return
        self._decoder.feed(data, fds)
        self._dispatch()
        if self._out and not self._writing and self._broken is None:
            self._flush()

    def _dispatch(self) -> None:
        decoder = self._decoder
        pending = self._pending
        in_flight = self._in_flight
        try:
            while self._broken is None:
                try:
                    msg = decoder.next()
                except BusError as exc:
                    self._fail(exc)
                    return
                if msg is None:
                    return
                mtype = msg.message_type
                if mtype is METHOD_RETURN or mtype is ERROR:
                    serial = msg.reply_serial
                    fut = pending.pop(serial, None)
                    in_flight.discard(serial)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                    elif msg.unix_fds:
                        close_fds(msg.unix_fds)
                elif mtype is SIGNAL:
                    try:
                        for handler in tuple(self._handlers):
                            handler(msg)
                    finally:
                        if msg.unix_fds:
                            close_fds(msg.unix_fds)
                    if self._waiters:
                        self._wake()
                elif mtype is METHOD_CALL:
                    self._serial += 1
                    answer = answer_call(self._serial, msg)
                    if answer is not None:
                        self._write(answer, [])
                    close_fds(msg.unix_fds)
        finally:
            # the slots this read freed, refilled once (not once per reply); the caller
            # flushes what that queued
            if self._backlog and self._broken is None:
                self._send_backlog()

    # -------------------------------------------------------------------- calls

    async def call_message(
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
        if interactive is None:
            interactive = self.interactive
        serial, fut, timeout = self._send_call(
            destination, path, interface, member, signature, args, timeout, interactive
        )
        try:
            return await fut
        finally:
            self._call_done(serial, timeout)

    def _send_call(
        self,
        destination: str | None,
        path: str,
        interface: str | None,
        member: str,
        signature: str,
        args: Sequence[Any],
        timeout: float | None,
        interactive: bool,
    ) -> tuple[int, asyncio.Future[Message], float | None]:
        """Queue a call (or hold it in the backlog); the future gets its reply."""
        self._check()
        if timeout is DEFAULT:
            timeout = self.timeout
            if interactive and timeout is not None:
                timeout = max(timeout, INTERACTIVE_TIMEOUT)
        loop = self._loop
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
        fut: asyncio.Future[Message] = loop.create_future()
        self._pending[serial] = fut
        if timeout is not None:
            self._add_deadline(serial, loop.time() + timeout, interface, member, timeout)
        if len(self._in_flight) < MAX_IN_FLIGHT and not self._backlog:
            self._in_flight.add(serial)
            self._write(data, fds)  # queued whole: a cancellation cannot cut it
        else:
            self._backlog.append((serial, data, fds))
        return serial, fut, timeout

    def _call_done(self, serial: int, timeout: float | None) -> None:
        """After the reply, an error, a timeout or a cancellation: forget the call."""
        self._pending.pop(serial, None)
        if timeout is not None:
            self._deadlines.pop(serial, None)
        if serial in self._in_flight:  # cancelled or expired: free the slot
            self._in_flight.discard(serial)
            if self._backlog and self._broken is None:
                self._send_backlog()
                if self._out and not self._writing:
                    self._flush()

    def _add_deadline(
        self, serial: int, when: float, interface: str | None, member: str, timeout: float
    ) -> None:
        self._deadlines[serial] = (when, interface, member, timeout)
        if self._timer is None or when < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(when, self._expire_due)
            self._timer_at = when

    def _expire_due(self) -> None:
        """The connection's one timer: fail the calls past their deadline, re-arm."""
        self._timer = None
        now = self._loop.time()
        deadlines = self._deadlines
        pending = self._pending
        nearest: float | None = None
        for serial, (when, interface, member, timeout) in list(deadlines.items()):
            if when <= now:
                del deadlines[serial]
                fut = pending.get(serial)
                if fut is not None and not fut.done():
                    fut.set_exception(
                        BusTimeoutError(f"no reply to {interface}.{member} within {timeout:g} s")
                    )
            elif nearest is None or when < nearest:
                nearest = when
        if nearest is not None:
            self._timer = self._loop.call_at(nearest, self._expire_due)
            self._timer_at = nearest

    async def call(
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
        if interactive is None:
            interactive = self.interactive
        # call_message() inline: one coroutine less per call
        serial, fut, timeout = self._send_call(
            destination, path, interface, member, signature, args, timeout, interactive
        )
        try:
            msg = await fut
        finally:
            self._call_done(serial, timeout)
        return reply_value(msg, interface, member, interactive)

    async def call_many(
        self,
        calls: Iterable[Call],
        *,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Many calls at once; their values in the calls' order (see ``Call``).

        Every call is encoded before any is sent, so a bad argument raises
        :class:`~sysd.InvalidCallError` with nothing sent.  Then they go out
        pipelined as :meth:`call` would (at most ``MAX_IN_FLIGHT`` unanswered, the
        rest as replies come), with no coroutine or task per call: one wake-up
        serves every reply that arrived together.  ``timeout`` bounds each call
        from the moment call_many starts.  An error reply raises at once (the
        replies still to come are dropped) unless ``return_exceptions`` is true,
        which puts each call's :class:`~sysd.SysdError` in its place instead.
        Cancelled, every call is forgotten: no slot, deadline or future is left.
        """
        if interactive is None:
            interactive = self.interactive
        self._check()
        if timeout is DEFAULT:
            timeout = self.timeout
            if interactive and timeout is not None:
                timeout = max(timeout, INTERACTIVE_TIMEOUT)
        batch = list(calls)
        encoded = encode_calls(self._serial, batch, interactive=interactive, unix_fds=self.unix_fds)
        self._serial += len(encoded)
        loop = self._loop
        pending = self._pending
        in_flight = self._in_flight
        backlog = self._backlog
        out = self._out
        when = loop.time() + (timeout or 0.0)
        futures: list[asyncio.Future[Message]] = []
        try:
            for (serial, data, fds), call in zip(encoded, batch, strict=True):
                fut: asyncio.Future[Message] = loop.create_future()
                pending[serial] = fut
                futures.append(fut)
                if timeout is not None:
                    self._add_deadline(serial, when, call[2], call[3], timeout)
                if len(in_flight) < MAX_IN_FLIGHT and not backlog:
                    in_flight.add(serial)
                    out.append((memoryview(data), fds))
                else:
                    backlog.append((serial, data, fds))
            if out and not self._writing:
                self._flush()  # one send for the first window (_flush joins them)
            results: list[Any] = []
            for fut, call in zip(futures, batch, strict=True):
                try:
                    results.append(reply_value(await fut, call[2], call[3], interactive))
                except SysdError as exc:
                    if not return_exceptions:
                        raise
                    results.append(exc)
            return results
        finally:
            self._calls_done(encoded, futures, timeout is not None)

    def _calls_done(
        self,
        encoded: list[tuple[int, bytes, list[int]]],
        futures: list[asyncio.Future[Message]],
        timed: bool,
    ) -> None:
        """After a batch (whole, failed or cancelled): forget every one of its calls at
        once, so that none still queued is sent for nobody, then refill the free slots."""
        pending = self._pending
        deadlines = self._deadlines
        in_flight = self._in_flight
        freed = False
        for serial, _data, _fds in encoded:
            pending.pop(serial, None)
            if timed:
                deadlines.pop(serial, None)
            if serial in in_flight:
                in_flight.discard(serial)
                freed = True
        for fut in futures:
            if not fut.done():
                fut.cancel()
            elif not fut.cancelled():
                fut.exception()  # retrieved: no "exception was never retrieved" at exit
        if freed and self._backlog and self._broken is None:
            self._send_backlog()
            if self._out and not self._writing:
                self._flush()

    # ------------------------------------------------------------------ signals

    def _wake(self) -> None:
        """Resolve the waiters whose condition now holds (a failing one wakes to raise)."""
        ready = []
        for waiter, predicate in self._waiters.items():
            try:
                if predicate():
                    ready.append(waiter)
            except Exception:  # let the waiting task see it
                ready.append(waiter)
        for waiter in ready:
            del self._waiters[waiter]
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Wait for signals until ``predicate()`` holds or ``timeout`` passes.

        The predicate is re-checked after every signal.  Returns its final
        value; a lost connection raises BusDisconnectedError.
        """
        self._check()
        if predicate():
            return True
        loop = self._loop
        when = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(when):
                while not predicate():
                    waiter: asyncio.Future[None] = loop.create_future()
                    self._waiters[waiter] = predicate
                    try:
                        await waiter
                    finally:
                        self._waiters.pop(waiter, None)
        except TimeoutError:
            return predicate()
        return True

    def add_signal_handler(self, handler: SignalHandler) -> None:
        self._handlers.append(handler)

    def remove_signal_handler(self, handler: SignalHandler) -> None:
        try:
            self._handlers.remove(handler)
        except ValueError:
            pass

    async def add_match(self, rule: str, *, timeout: float | None = DEFAULT) -> None:
        count = self._matches.get(rule, 0)
        self._matches[rule] = count + 1
        if count == 0 and self.target.hello:
            try:
                await self.call(
                    DBUS_DEST, DBUS_PATH, DBUS_IFACE, "AddMatch", "s", (rule,), timeout=timeout
                )
            except BaseException:
                self._matches[rule] -= 1
                if not self._matches[rule]:
                    del self._matches[rule]
                raise

    async def remove_match(self, rule: str, *, timeout: float | None = DEFAULT) -> None:
        count = self._matches.get(rule, 0)
        if count <= 1:
            self._matches.pop(rule, None)
            if count == 1 and self.target.hello and self._broken is None:
                try:
                    await self.call(
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

    # ------------------------------------------------------------------ closing

    @property
    def closed(self) -> bool:
        return self._broken is not None

    async def aclose(self) -> None:
        if self._broken is None and self._out and self._pid == os.getpid():
            # give queued bytes a moment to leave
            for _ in range(10):
                if not self._out:
                    break
                await asyncio.sleep(0.01)
        self._fail(BusDisconnectedError("connection closed by the client"))

    def fileno(self) -> int:
        return self._fd

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # dropped unclosed (its owner was cut before it could close it): the socket at
        # least, as the blocking Connection does; the loop's reader kept it alive while set
        if getattr(self, "_broken", True) is None and getattr(self, "_pid", 0) == os.getpid():
            self._sock.close()
            self._decoder.close()
