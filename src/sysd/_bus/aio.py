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
import subprocess
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

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
from .transport import SOCK_FLAGS, connect_error, reap, sockaddr, spawn
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
    Decoder,
    Message,
    answer_call,
    close_fds,
    encode_call,
    fds_of,
    reply_value,
)

__all__ = ["AsyncConnection"]

SignalHandler = Callable[[Message], None]


async def _open_transport(
    t: Transport, deadline: float | None
) -> tuple[socket.socket, subprocess.Popen[bytes] | None]:
    if t.kind == "unixexec":
        return spawn(t)
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_UNIX, SOCK_FLAGS)
    sock.setblocking(False)
    try:
        async with asyncio.timeout_at(_loop_deadline(loop, deadline)):
            await loop.sock_connect(sock, sockaddr(t))
    except TimeoutError as exc:
        sock.close()
        raise BusConnectError(f"cannot connect to {t.describe()}: timed out") from exc
    except OSError as exc:
        sock.close()
        raise connect_error(t, exc) from exc
    except BaseException:
        sock.close()
        raise
    return sock, None


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
        proc: subprocess.Popen[bytes] | None = None,
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
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._pid = os.getpid()
        self._broken: BusError | None = None
        self._reading = False
        self._waiters: list[asyncio.Future[None]] = []

    # ------------------------------------------------------------------ opening

    @classmethod
    async def open(
        cls, target: Target, *, timeout: float | None = 25.0, interactive: bool = False
    ) -> AsyncConnection:
        deadline = None if timeout is None else time.monotonic() + timeout
        failures: list[BusConnectError] = []
        for transport in target.transports:
            try:
                sock, proc = await _open_transport(transport, deadline)
            except BusConnectError as exc:
                failures.append(exc)
                continue
            conn = cls(sock, target, timeout=timeout, interactive=interactive, proc=proc)
            try:
                await conn._authenticate(deadline)
                if target.hello:
                    left = None if deadline is None else max(0.001, deadline - time.monotonic())
                    conn.unique_name = await conn.call(
                        DBUS_DEST, DBUS_PATH, DBUS_IFACE, "Hello", timeout=left
                    )
            except BusTimeoutError as exc:
                conn._fail(BusDisconnectedError("connect timed out"))
                raise BusConnectError(
                    f"connecting to {transport.describe()} timed out", address=transport.describe()
                ) from exc
            except BaseException:
                conn._fail(BusDisconnectedError("connect failed"))
                raise
            return conn
        if len(failures) == 1:
            raise failures[0]
        raise BusConnectError(
            "cannot connect: " + "; ".join(e.text for e in failures), address=target.description
        )

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

    # --------------------------------------------------------------- low level

    def _check(self) -> None:
        if self._pid != os.getpid():
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
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(BusDisconnectedError(f"bus connection lost: {exc.text}"))
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(
                    BusDisconnectedError(f"bus connection lost with the call in flight: {exc.text}")
                )
        reap(self._proc)
        return exc

    def _write(self, data: bytes, fds: list[int]) -> None:
        self._out.append((memoryview(data), fds))
        if not self._writing:
            self._flush()

    def _flush(self) -> None:
        sock = self._sock
        out = self._out
        while out:
            view, fds = out[0]
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

    def _on_readable(self) -> None:
        try:
            if self.unix_fds:
                data, anc, _flags, _addr = self._sock.recvmsg(RECV_SIZE, CMSG_SPACE)
                fds = fds_of(anc)
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

    def _dispatch(self) -> None:
        decoder = self._decoder
        pending = self._pending
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
                fut = pending.pop(msg.reply_serial, None)
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
                    waiters, self._waiters = self._waiters, []
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(None)
            elif mtype is METHOD_CALL:
                self._serial += 1
                answer = answer_call(self._serial, msg)
                if answer is not None:
                    self._write(answer, [])
                close_fds(msg.unix_fds)

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
        self._check()
        if interactive is None:
            interactive = self.interactive
        if timeout is DEFAULT:
            timeout = self.timeout
            if interactive and timeout is not None:
                timeout = max(timeout, INTERACTIVE_TIMEOUT)
        loop = self._loop
        start = loop.time()
        async with self._slots:
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
            fut: asyncio.Future[Message] = loop.create_future()
            self._pending[serial] = fut
            self._write(data, fds)  # queued whole: a cancellation cannot cut it
            handle = None
            if timeout is not None:
                handle = loop.call_at(start + timeout, _expire, fut, interface, member, timeout)
            try:
                return await fut
            finally:
                self._pending.pop(serial, None)
                if handle is not None:
                    handle.cancel()

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
        return reply_value(
            await self.call_message(
                destination,
                path,
                interface,
                member,
                signature,
                args,
                timeout=timeout,
                interactive=interactive,
            )
        )

    # ------------------------------------------------------------------ signals

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
                    self._waiters.append(waiter)
                    try:
                        await waiter
                    finally:
                        if waiter in self._waiters:
                            self._waiters.remove(waiter)
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


def _expire(
    fut: asyncio.Future[Message], interface: str | None, member: str, timeout: float
) -> None:
    if not fut.done():
        fut.set_exception(BusTimeoutError(f"no reply to {interface}.{member} within {timeout:g} s"))
