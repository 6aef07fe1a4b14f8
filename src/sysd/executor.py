"""Python callables run inside a transient unit: ``UnitExecutor`` and ``run_function``.

``UnitExecutor`` is a :class:`concurrent.futures.Executor` whose worker
processes live in one transient service, so the unit's resource control and
sandboxing (``CPUQuota=``, ``MemoryMax=``, ``ProtectSystem=``, ``User=``...)
apply to the work::

    with sysd.UnitExecutor(max_workers=2, properties={"MemoryMax": "1G"}) as ex:
        print(ex.submit(pow, 2, 100).result())

How it works: the unit runs ``python -c "from sysd.executor import _serve; _serve()"``
(the same interpreter as the caller) with one end of a socketpair as its stdin
(passed over D-Bus as a file descriptor).  That process, the *dispatcher*, forks
``max_workers`` workers (all in the unit's cgroup), relays calls to idle ones
and results back.  A call travels as ``pickle.dumps((fn, args, kwargs))`` and
is unpickled in a worker only; the dispatcher reads frame headers, never
payloads.  Exceptions come back pickled with their traceback text, attached as
``__cause__`` as ProcessPoolExecutor does.  A worker that dies in a call fails
that call with :class:`WorkerDiedError` and is replaced; the dispatcher dying
(the unit stopped, OOM-killed...) breaks the executor
(:class:`BrokenUnitExecutorError`).

Pickling rules are multiprocessing's "spawn" rules: functions and classes are
pickled by reference (module and name), so they must be importable in the unit
(``sys.path`` is sent along; a ``__main__`` script is re-run there as
``__mp_main__``, so keep its top-level work under ``if __name__ == "__main__":``);
lambdas, closures and functions typed into ``python -c`` or a REPL cannot be
sent.  Arguments and results must pickle.  The unit runs as ``user=`` (or the
manager's user), which must be able to read the interpreter, sysd and your code.

The asyncio flavour is :class:`AsyncUnitExecutor` (``sysd.aio.UnitExecutor``):
``await ex.submit(fn, ...)``; cancelling the await stops the call (its worker
is killed and replaced).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import pickle
import selectors
import signal as _signal
import socket
import struct
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ._core.run import InvalidRunOptionError, RunResult, RunTimeoutError
from .errors import SysdError

if TYPE_CHECKING:
    import asyncio

    from ._async.run import AsyncRunningUnit
    from ._async.systemd import AsyncSystemd
    from ._sync.run import RunningUnit
    from ._sync.systemd import Systemd

__all__ = [
    "AsyncUnitExecutor",
    "BrokenUnitExecutorError",
    "RemoteError",
    "UnitExecutor",
    "WorkerDiedError",
    "async_run_function",
    "run_function",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

# ------------------------------------------------------------------------ errors
# (to move into sysd/errors.py; BrokenUnitExecutorError subclasses
#  concurrent.futures.BrokenExecutor, so errors.py would import concurrent.futures)


class BrokenUnitExecutorError(SysdError, concurrent.futures.BrokenExecutor):
    """The executor's unit is gone (stopped, killed, failed to start): no more calls.

    ``unit`` names it; ``run_result`` is how it ended when sysd could tell.
    """

    def __init__(
        self,
        message: str = "",
        *,
        unit: str | None = None,
        run_result: RunResult | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.unit = unit
        self.run_result = run_result


class WorkerDiedError(SysdError, RuntimeError):
    """The worker process running a call died (killed, ``os._exit()``, OOM...).

    ``pid``, ``exit_code`` or ``exit_signal`` say how; the executor goes on with
    a new worker.
    """

    def __init__(
        self,
        message: str = "",
        *,
        unit: str | None = None,
        pid: int | None = None,
        exit_code: int | None = None,
        exit_signal: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.unit = unit
        self.pid = pid
        self.exit_code = exit_code
        self.exit_signal = exit_signal


class RemoteError(SysdError, RuntimeError):
    """An exception raised in the unit that could not travel back as itself (it does not
    pickle); ``type_name`` is its class, ``remote_traceback`` the traceback text."""

    def __init__(
        self,
        message: str = "",
        *,
        type_name: str | None = None,
        remote_traceback: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.type_name = type_name
        self.remote_traceback = remote_traceback


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in the unit (its ``__cause__``)."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


# ----------------------------------------------------------------- the protocol
#
# A frame: kind (u8), task id (u64), payload length (u64), payload (a pickle, or empty).

_HEADER = struct.Struct("!BQQ")
# caller -> dispatcher -> worker
INIT, CALL, CANCEL = 1, 2, 3
# worker -> dispatcher -> caller
READY, STARTED, RESULT, ERROR, DIED, CANCELLED, BROKEN = 10, 11, 12, 13, 14, 15, 16
_MAX_PAYLOAD = 1 << 40


def _frame(kind: int, task: int = 0, payload: bytes = b"") -> bytes:
    return _HEADER.pack(kind, task, len(payload)) + payload


class _Frames:
    """Bytes in, ``(kind, task, payload)`` frames out (a stream parser)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, int, bytes]]:
        self._buf += data
        out: list[tuple[int, int, bytes]] = []
        buf = self._buf
        while len(buf) >= _HEADER.size:
            kind, task, size = _HEADER.unpack_from(buf)
            if size > _MAX_PAYLOAD:
                raise ValueError(f"frame of {size} bytes")
            end = _HEADER.size + size
            if len(buf) < end:
                break
            out.append((kind, task, bytes(buf[_HEADER.size : end])))
            del buf[:end]
        return out


def _dumps_exception(exc: BaseException) -> bytes:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        return pickle.dumps((exc, tb))
    except Exception:
        remote = RemoteError(
            f"{type(exc).__qualname__}: {exc}",
            type_name=f"{type(exc).__module__}.{type(exc).__qualname__}",
            remote_traceback=tb,
        )
        return pickle.dumps((remote, tb))


def _loads_exception(payload: bytes) -> BaseException:
    try:
        exc, tb = pickle.loads(payload)
    except Exception as err:
        return RemoteError(f"an exception raised in the unit could not be unpickled: {err!r}")
    if isinstance(exc, BaseException):
        exc.__cause__ = _RemoteTraceback(tb)
        return exc
    return RemoteError(f"unexpected error payload {exc!r}")


# ================================================================== the unit side


def _serve() -> None:
    """The dispatcher: run inside the unit (``python -c "from sysd.executor import _serve;
    _serve()"``) with the channel to the caller on fd 0."""
    _Dispatcher(socket.socket(fileno=0)).serve()


class _Worker:
    __slots__ = ("doomed", "frames", "pid", "sock", "task")

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock
        self.task: int | None = None
        self.doomed = False  # killed (its call was cancelled): gets no call before its EOF
        self.frames = _Frames()


class _Dispatcher:
    """Relays calls from the caller (on the channel) to idle workers, results back."""

    def __init__(self, chan: socket.socket) -> None:
        self.chan = chan
        self.frames = _Frames()
        self.out = bytearray()
        self.queue: deque[tuple[int, bytes]] = deque()
        self.workers: dict[int, _Worker] = {}  # fd -> worker
        self.sel = selectors.DefaultSelector()
        self.init: dict[str, Any] = {}
        self.caller_eof = False  # the caller shut its side down: finish the queue, then exit
        self.caller_gone = False  # sending failed: nobody to report to

    # -- setting up
    def _read_init(self) -> bool:
        while True:
            data = self.chan.recv(1 << 16)
            if not data:
                return False
            for kind, _task, payload in self.frames.feed(data):
                if kind == INIT:
                    self.init = pickle.loads(payload)
                    return True

    def serve(self) -> None:
        if not self._read_init():
            return
        init = self.init
        sys.path[:] = init["sys_path"]
        try:
            _fixup_main(init.get("main_name"), init.get("main_path"))
        except BaseException as exc:
            self.chan.sendall(_frame(BROKEN, 0, _dumps_exception(exc)))
            return
        for _ in range(init["workers"]):
            self._spawn()
        pids = [w.pid for w in self.workers.values()]
        self.chan.sendall(_frame(READY, 0, pickle.dumps({"pid": os.getpid(), "workers": pids})))
        self.chan.setblocking(False)
        self.sel.register(self.chan, selectors.EVENT_READ)
        try:
            self._loop()
        finally:
            self._stop_workers()

    def _spawn(self) -> None:
        parent, child = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                parent.close()
                self.chan.close()
                for w in self.workers.values():
                    w.sock.close()
                self.sel.close()
                _worker_loop(child, self.init)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        child.close()
        parent.setblocking(False)
        worker = _Worker(pid, parent)
        self.workers[parent.fileno()] = worker
        self.sel.register(parent, selectors.EVENT_READ)

    # -- the loop
    def _done(self) -> bool:
        if self.caller_gone:
            return True
        busy = any(w.task is not None for w in self.workers.values())
        return self.caller_eof and not self.queue and not busy and not self.out

    def _loop(self) -> None:
        while not self._done():
            events = 0 if self.caller_eof else selectors.EVENT_READ
            if self.out:
                events |= selectors.EVENT_WRITE
            self._interest(events)
            for key, mask in self.sel.select():
                if key.fileobj is self.chan:
                    if mask & selectors.EVENT_WRITE:
                        self._flush()
                    if mask & selectors.EVENT_READ:
                        self._from_caller()
                elif key.fd in self.workers:
                    self._from_worker(self.workers[key.fd])
            self._assign()

    def _interest(self, events: int) -> None:
        registered = self.chan in {k.fileobj for k in self.sel.get_map().values()}
        if events and registered:
            self.sel.modify(self.chan, events)
        elif events:
            self.sel.register(self.chan, events)
        elif registered:
            self.sel.unregister(self.chan)

    def _send(self, data: bytes) -> None:
        if self.caller_gone:
            return
        self.out += data
        self._flush()

    def _flush(self) -> None:
        while self.out:
            try:
                n = self.chan.send(self.out)
            except BlockingIOError:
                return
            except OSError:  # the caller is gone
                self.out.clear()
                self.caller_gone = True
                return
            del self.out[:n]

    def _from_caller(self) -> None:
        try:
            data = self.chan.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.caller_eof = True
            return
        for kind, task, payload in self.frames.feed(data):
            if kind == CALL:
                self.queue.append((task, payload))
            elif kind == CANCEL:
                self._cancel(task)

    def _cancel(self, task: int) -> None:
        for i, (queued, _payload) in enumerate(self.queue):
            if queued == task:
                del self.queue[i]
                self._send(_frame(CANCELLED, task))
                return
        for worker in list(self.workers.values()):
            if worker.task == task:
                worker.task = None
                worker.doomed = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, _signal.SIGKILL)
                self._send(_frame(CANCELLED, task))
                return  # its EOF replaces it

    def _from_worker(self, worker: _Worker) -> None:
        try:
            data = worker.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._reap(worker)
            return
        for kind, task, payload in worker.frames.feed(data):
            if kind in (RESULT, ERROR) and worker.task == task:
                worker.task = None
                self._send(_frame(kind, task, payload))
            elif kind == BROKEN:
                self._send(_frame(BROKEN, 0, payload))

    def _reap(self, worker: _Worker) -> None:
        self.sel.unregister(worker.sock)
        del self.workers[worker.sock.fileno()]
        worker.sock.close()
        _pid, status = os.waitpid(worker.pid, 0)
        if worker.task is not None:
            info = {"pid": worker.pid, "status": status}
            self._send(_frame(DIED, worker.task, pickle.dumps(info)))
        if not self.caller_gone:
            self._spawn()

    def _assign(self) -> None:
        for worker in self.workers.values():
            if not self.queue:
                return
            if worker.task is None and not worker.doomed:
                task, payload = self.queue.popleft()
                worker.task = task
                worker.sock.setblocking(True)
                try:
                    worker.sock.sendall(_frame(CALL, task, payload))
                except OSError:
                    pass  # it died: its EOF says so
                worker.sock.setblocking(False)
                self._send(_frame(STARTED, task))

    def _stop_workers(self) -> None:
        for worker in self.workers.values():
            worker.sock.close()
        for worker in self.workers.values():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
        self.workers.clear()


def _worker_loop(sock: socket.socket, init: Mapping[str, Any]) -> None:
    """A worker: run calls one at a time until the dispatcher closes the socket."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    blob = init.get("initializer")
    if blob:
        try:
            initializer, initargs = pickle.loads(blob)
            initializer(*initargs)
        except BaseException as exc:
            sock.sendall(_frame(BROKEN, 0, _dumps_exception(exc)))
            return
    frames = _Frames()
    while True:
        data = sock.recv(1 << 20)
        if not data:
            return
        for kind, task, payload in frames.feed(data):
            if kind != CALL:
                continue
            try:
                fn, args, kwargs = pickle.loads(payload)
                value = fn(*args, **kwargs)
                out = _frame(RESULT, task, pickle.dumps(value))
            except BaseException as exc:  # SystemExit too: it is the call's outcome
                out = _frame(ERROR, task, _dumps_exception(exc))
            sock.sendall(out)


def _fixup_main(main_name: str | None, main_path: str | None) -> None:
    """Make the caller's ``__main__`` functions importable here (multiprocessing's spawn)."""
    import runpy
    import types

    if main_name:
        if main_name == "__main__" or main_name.endswith(".__main__"):
            return
        content = runpy.run_module(main_name, run_name="__mp_main__", alter_sys=True)
    elif main_path:
        if os.path.basename(main_path).startswith("ipython"):
            return
        content = runpy.run_path(main_path, run_name="__mp_main__")
    else:
        return
    module = types.ModuleType("__mp_main__")
    module.__dict__.update(content)
    sys.modules["__main__"] = sys.modules["__mp_main__"] = module


# ================================================================ the caller side


def _main_reference() -> tuple[str | None, str | None]:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if name and name != "__main__":
        return name, None
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and os.path.exists(path):
        return None, os.path.abspath(path)
    return None, None


def _init_payload(
    max_workers: int, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]
) -> bytes:
    main_name, main_path = _main_reference()
    cwd = os.getcwd()
    sys_path = [os.path.join(cwd, p) if not os.path.isabs(p) else p for p in sys.path if p]
    if "" in sys.path:
        sys_path.insert(0, cwd)
    init: dict[str, Any] = {
        "sys_path": sys_path,
        "main_name": main_name,
        "main_path": main_path,
        "workers": max_workers,
        "initializer": pickle.dumps((initializer, initargs)) if initializer else None,
    }
    return _frame(INIT, 0, pickle.dumps(init))


def _sysd_path() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _unit_options(
    max_workers: int | None,
    env: Mapping[str, str] | None,
    description: str | None,
) -> tuple[int, dict[str, str], str]:
    if max_workers is None:
        max_workers = os.cpu_count() or 1
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidRunOptionError(
            f"max_workers={max_workers!r}: expected an int >= 1", option="max_workers"
        )
    full_env = {"PYTHONPATH": _sysd_path(), "PYTHONUNBUFFERED": "1"}
    if env:
        full_env.update(env)
    text = description or (
        f"sysd.UnitExecutor ({max_workers} worker{'s' if max_workers > 1 else ''}) "
        f"for {os.path.basename(sys.argv[0] or sys.executable)} (pid {os.getpid()})"
    )
    return max_workers, full_env, text


_COMMAND = [sys.executable, "-c", "from sysd.executor import _serve; _serve()"]


class _Calls:
    """What both flavours share: pending calls by id, and turning frames into outcomes."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.frames = _Frames()
        self.next_id = 0
        self.ready: dict[str, Any] | None = None
        self.broken: BaseException | None = None

    def outcome(self, kind: int, payload: bytes) -> tuple[bool, Any]:
        """(ok, value-or-exception) for a RESULT/ERROR/DIED/BROKEN frame."""
        if kind == RESULT:
            try:
                return True, pickle.loads(payload)
            except Exception as exc:
                return False, RemoteError(f"the result could not be unpickled here: {exc!r}")
        if kind == ERROR:
            return False, _loads_exception(payload)
        if kind == DIED:
            info = pickle.loads(payload)
            status = int(info["status"])
            code = os.waitstatus_to_exitcode(status)
            how = f"exit status {code}" if code >= 0 else f"signal {-code}"
            return False, WorkerDiedError(
                f"the worker (pid {info['pid']}) running the call died ({how})",
                unit=self.unit,
                pid=int(info["pid"]),
                exit_code=code if code >= 0 else None,
                exit_signal=-code if code < 0 else None,
                hint=f"see the journal of {self.unit} (a MemoryMax= OOM kill?)",
            )
        cause = _loads_exception(payload)
        broken = BrokenUnitExecutorError(
            f"{self.unit}: the workers could not start: {type(cause).__name__}: {cause}",
            unit=self.unit,
        )
        broken.__cause__ = cause
        return False, broken

    def gone(self) -> BrokenUnitExecutorError:
        return BrokenUnitExecutorError(
            f"{self.unit} ended: the executor's processes are gone",
            unit=self.unit,
            hint=f"see `sysd status {self.unit}` and its journal (stopped? OOM-killed?)",
        )


class UnitExecutor(concurrent.futures.Executor):
    """A :class:`concurrent.futures.Executor` whose workers live in one transient unit.

    ``properties`` (mapping or ``"K=V"`` strings: ``CPUQuota``, ``MemoryMax``,
    sandboxing...), ``user``, ``group``, ``name``, ``slice``, ``nice``, ``cwd``,
    ``env`` and ``description`` are :func:`sysd.run`'s options for that unit.
    ``sd`` is the manager connection to use (default: a new ``sysd.connect()``,
    closed at shutdown).  The unit starts in the constructor; ``unit`` is its
    name, ``pids`` the workers' PIDs.  See the module docstring for the
    pickling rules.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        sd: Systemd | None = None,
        properties: Mapping[str, object] | Sequence[str] | str | None = None,
        user: str | None = None,
        group: str | None = None,
        name: str | None = None,
        description: str | None = None,
        slice: str | None = None,
        nice: int | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        start_timeout: float | None = 60.0,
    ) -> None:
        from ._sync.run import run
        from ._sync.systemd import connect

        workers, full_env, text = _unit_options(max_workers, env, description)
        self._own = sd is None
        self.sd = sd if sd is not None else connect()
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._futures: dict[int, concurrent.futures.Future[Any]] = {}
        self._shutdown = False
        self._reader: threading.Thread | None = None
        self.max_workers = workers
        ours, theirs = socket.socketpair()
        try:
            try:
                self._unit: RunningUnit = run(
                    self.sd,
                    _COMMAND,
                    name=name,
                    description=text,
                    properties=properties,
                    user=user,
                    group=group,
                    slice=slice,
                    nice=nice,
                    cwd=cwd,
                    env=full_env,
                    service_type="exec",
                    stdin=theirs,
                )
            finally:
                theirs.close()
            self.unit = self._unit.unit
            self._calls = _Calls(self.unit)
            self._sock = ours
            ours.sendall(_init_payload(workers, initializer, initargs))
            ready = self._await_ready(start_timeout)
        except BaseException:
            ours.close()
            if hasattr(self, "_unit"):
                with contextlib.suppress(SysdError):
                    self._unit.stop()
                self._unit.close()
            if self._own:
                self.sd.close()
            raise
        self.pid: int = ready["pid"]
        self.pids: list[int] = ready["workers"]
        self._reader = threading.Thread(
            target=self._read_loop, name=f"sysd-executor-{self.unit}", daemon=True
        )
        self._reader.start()

    def __repr__(self) -> str:
        state = "shut down" if self._shutdown else f"{self.max_workers} workers"
        return f"<{type(self).__name__} {self.unit} ({state})>"

    @property
    def invocation_id(self) -> Any:
        return self._unit.invocation_id

    def _await_ready(self, timeout: float | None) -> dict[str, Any]:
        self._sock.settimeout(timeout)
        try:
            while True:
                try:
                    data = self._sock.recv(1 << 16)
                except TimeoutError:
                    raise BrokenUnitExecutorError(
                        f"{self.unit}: the workers did not start within {timeout:g} s",
                        unit=self.unit,
                    ) from None
                if not data:
                    result = None
                    with contextlib.suppress(SysdError):
                        result = self._unit.wait(10.0)
                    raise BrokenUnitExecutorError(
                        f"{self.unit} ended before its workers started"
                        + (f" ({result.describe()})" if result else ""),
                        unit=self.unit,
                        run_result=result,
                        hint=f"see the journal of {self.unit}: can user {self._user_text()} "
                        "run the interpreter and import sysd?",
                    )
                for kind, _task, payload in self._calls.frames.feed(data):
                    if kind == READY:
                        ready: dict[str, Any] = pickle.loads(payload)
                        return ready
                    if kind == BROKEN:
                        _ok, exc = self._calls.outcome(kind, payload)
                        raise exc
        finally:
            self._sock.settimeout(None)

    def _user_text(self) -> str:
        return repr(self._unit.spec.user) if self._unit.spec.user else "(the manager's)"

    # ---------------------------------------------------------------- submitting

    def submit(
        self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> concurrent.futures.Future[_T]:
        """Schedule ``fn(*args, **kwargs)`` in the unit; a Future for its result."""
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        with self._lock:
            if self._calls.broken is not None:
                raise self._calls.broken
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            task = self._calls.next_id = self._calls.next_id + 1
            self._futures[task] = future
        try:
            payload = pickle.dumps((fn, args, kwargs))
        except Exception as exc:
            with self._lock:
                self._futures.pop(task, None)
            future.set_exception(exc)
            return future
        future.add_done_callback(lambda f, task=task: self._on_done(task, f))  # type: ignore[misc]
        self._write(_frame(CALL, task, payload))
        return future

    def _write(self, data: bytes) -> None:
        with self._send_lock:
            try:
                self._sock.sendall(data)
            except OSError:
                pass  # the unit is gone: the reader fails every pending call

    def _on_done(self, task: int, future: concurrent.futures.Future[Any]) -> None:
        if future.cancelled():
            with self._lock:
                known = self._futures.pop(task, None) is not None
            if known:
                self._write(_frame(CANCEL, task))

    def _read_loop(self) -> None:
        calls = self._calls
        sock = self._sock
        try:
            while True:
                try:
                    data = sock.recv(1 << 20)
                except OSError:
                    data = b""
                if not data:
                    break
                for kind, task, payload in calls.frames.feed(data):
                    self._dispatch(kind, task, payload)
        finally:
            with self._lock:
                pending, self._futures = self._futures, {}
                if not self._shutdown or pending:
                    calls.broken = calls.gone()
            for future in pending.values():
                if not future.done():
                    with contextlib.suppress(concurrent.futures.InvalidStateError):
                        future.set_exception(calls.gone())
            with self._lock:
                self._reader_done = True
                close = self._sock_owned_by_reader
            if close:
                sock.close()

    def _dispatch(self, kind: int, task: int, payload: bytes) -> None:
        if kind == STARTED:
            future = self._futures.get(task)
            if future is not None:
                # False when cancelled meanwhile: its done-callback sent CANCEL
                with contextlib.suppress(RuntimeError):
                    future.set_running_or_notify_cancel()
            return
        if kind == CANCELLED:
            return
        if kind == BROKEN:
            ok, exc = self._calls.outcome(kind, payload)
            with self._lock:
                self._calls.broken = exc
                pending, self._futures = self._futures, {}
            for future in pending.values():
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(exc)
            return
        with self._lock:
            future = self._futures.pop(task, None)
        if future is None or future.done():
            return
        ok, value = self._calls.outcome(kind, payload)
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    # ------------------------------------------------------------------ shutdown

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more calls; with ``wait``, return once the calls ended and the unit is gone."""
        with self._lock:
            already = self._shutdown
            self._shutdown = True
            pending = list(self._futures.values())
        if cancel_futures:
            for future in pending:
                future.cancel()
        if already:
            return
        if wait:
            concurrent.futures.wait(pending)
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)  # the dispatcher finishes and exits
        try:
            if wait:
                with contextlib.suppress(SysdError):
                    self.result = self._unit.wait()
                if self._reader is not None:
                    self._reader.join()
        finally:
            with contextlib.suppress(SysdError):
                self._unit.close()
            with self._lock:
                close = wait or self._reader is None or self._reader_done
                self._sock_owned_by_reader = not close  # results may still come: it closes
            if close:
                self._sock.close()
            if self._own:
                self.sd.close()

    result: RunResult | None = None
    _sock_owned_by_reader = False
    _reader_done = False


def run_function(
    fn: Callable[..., _T],
    /,
    *args: Any,
    sd: Systemd | None = None,
    properties: Mapping[str, object] | Sequence[str] | str | None = None,
    user: str | None = None,
    group: str | None = None,
    name: str | None = None,
    description: str | None = None,
    slice: str | None = None,
    nice: int | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> _T:
    """Call ``fn(*args)`` once in a transient unit and return its value (or raise its
    exception).  Options as :class:`UnitExecutor`; ``timeout`` stops the unit and raises
    :class:`sysd.RunTimeoutError` (keyword arguments for ``fn``: ``functools.partial``)."""
    ex = UnitExecutor(
        1,
        sd=sd,
        properties=properties,
        user=user,
        group=group,
        name=name,
        description=description,
        slice=slice,
        nice=nice,
        cwd=cwd,
        env=env,
    )
    try:
        future = ex.submit(fn, *args)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            with contextlib.suppress(SysdError):
                ex._unit.stop()
            raise RunTimeoutError(
                f"{ex.unit}: {getattr(fn, '__qualname__', fn)!s} still running after "
                f"{timeout:g} s: stopped the unit",
                unit=ex.unit,
                timeout=timeout,
            ) from None
    finally:
        ex.shutdown(wait=True)


# ==================================================================== asyncio


class AsyncUnitExecutor:
    """The asyncio flavour (``sysd.aio.UnitExecutor``): workers in one transient unit.

    ``async with sysd.aio.UnitExecutor(sd, max_workers=2, properties=...) as ex:``
    then ``await ex.submit(fn, *args)``.  ``submit`` returns an asyncio Future;
    cancelling it (or the task awaiting it) stops the call: a queued call is
    dropped, a running one's worker is killed and replaced.
    """

    def __init__(
        self,
        sd: AsyncSystemd,
        max_workers: int | None = None,
        *,
        properties: Mapping[str, object] | Sequence[str] | str | None = None,
        user: str | None = None,
        group: str | None = None,
        name: str | None = None,
        description: str | None = None,
        slice: str | None = None,
        nice: int | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        start_timeout: float | None = 60.0,
    ) -> None:
        self.sd = sd
        self.max_workers, self._env, self._description = _unit_options(
            max_workers, env, description
        )
        self._options: dict[str, Any] = dict(
            properties=properties,
            user=user,
            group=group,
            name=name,
            slice=slice,
            nice=nice,
            cwd=cwd,
        )
        self._initializer = initializer
        self._initargs = initargs
        self._start_timeout = start_timeout
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._out = bytearray()
        self._sock: socket.socket | None = None
        self._unit: AsyncRunningUnit | None = None
        self._calls: _Calls | None = None
        self._shutdown = False
        self._closed_event: asyncio.Event | None = None
        self.unit: str | None = None
        self.pid: int | None = None
        self.pids: list[int] = []
        self.result: RunResult | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.unit or '(not started)'}>"

    async def start(self) -> AsyncUnitExecutor:
        """Start the unit and its workers (``async with`` does it)."""
        import asyncio

        from ._async.run import run

        if self._unit is not None:
            return self
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        try:
            try:
                opts = self._options
                self._unit = await run(
                    self.sd,
                    _COMMAND,
                    description=self._description,
                    env=self._env,
                    service_type="exec",
                    stdin=theirs,
                    properties=opts["properties"],
                    user=opts["user"],
                    group=opts["group"],
                    name=opts["name"],
                    slice=opts["slice"],
                    nice=opts["nice"],
                    cwd=opts["cwd"],
                )
            finally:
                theirs.close()
            self.unit = self._unit.unit
            calls = self._calls = _Calls(self.unit)
            ours.setblocking(False)
            self._sock = ours
            await loop.sock_sendall(
                ours, _init_payload(self.max_workers, self._initializer, self._initargs)
            )
            async with asyncio.timeout(self._start_timeout):
                ready = await self._await_ready(loop, ours, calls)
        except BaseException as exc:
            ours.close()
            self._sock = None
            if self._unit is not None:
                with contextlib.suppress(SysdError):
                    await self._unit.stop()
                await self._unit.aclose()
            if isinstance(exc, TimeoutError):
                raise BrokenUnitExecutorError(
                    f"{self.unit}: the workers did not start within {self._start_timeout:g} s",
                    unit=self.unit,
                ) from None
            raise
        self.pid = ready["pid"]
        self.pids = ready["workers"]
        self._closed_event = asyncio.Event()
        loop.add_reader(ours.fileno(), self._on_readable)
        return self

    async def _await_ready(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, calls: _Calls
    ) -> dict[str, Any]:
        while True:
            data = await loop.sock_recv(sock, 1 << 16)
            if not data:
                assert self._unit is not None
                result = None
                with contextlib.suppress(SysdError):
                    result = await self._unit.wait(10.0)
                raise BrokenUnitExecutorError(
                    f"{self.unit} ended before its workers started"
                    + (f" ({result.describe()})" if result else ""),
                    unit=self.unit,
                    run_result=result,
                    hint=f"see the journal of {self.unit}",
                )
            for kind, _task, payload in calls.frames.feed(data):
                if kind == READY:
                    ready: dict[str, Any] = pickle.loads(payload)
                    return ready
                if kind == BROKEN:
                    _ok, exc = calls.outcome(kind, payload)
                    raise exc

    def _live(self) -> tuple[socket.socket, _Calls]:
        if self._sock is None or self._calls is None:
            raise RuntimeError("start the executor first (async with / await start())")
        return self._sock, self._calls

    # ---------------------------------------------------------------- submitting

    def submit(
        self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> asyncio.Future[_T]:
        """Schedule ``fn(*args, **kwargs)`` in the unit; an asyncio Future for its result."""
        import asyncio

        _sock, calls = self._live()
        if calls.broken is not None:
            raise calls.broken
        if self._shutdown:
            raise RuntimeError("cannot schedule new calls after shutdown")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        calls.next_id += 1
        task = calls.next_id
        try:
            payload = pickle.dumps((fn, args, kwargs))
        except Exception as exc:
            future.set_exception(exc)
            return future
        self._futures[task] = future
        future.add_done_callback(lambda f, task=task: self._on_done(task, f))  # type: ignore[misc]
        self._send(_frame(CALL, task, payload))
        return future

    async def run(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """``await ex.run(fn, *args)``: submit and wait (cancelling stops the call)."""
        return await self.submit(fn, *args, **kwargs)

    def map(self, fn: Callable[..., _T], *iterables: Any) -> Iterator[asyncio.Future[_T]]:
        """One future per item (as the built-in map): ``await asyncio.gather(*ex.map(...))``."""
        return iter([self.submit(fn, *items) for items in zip(*iterables, strict=False)])

    def _on_done(self, task: int, future: asyncio.Future[Any]) -> None:
        if future.cancelled() and self._futures.pop(task, None) is not None:
            self._send(_frame(CANCEL, task))

    def _send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            return
        if self._out:
            self._out += data
            return
        try:
            n = sock.send(data)
        except BlockingIOError:
            n = 0
        except OSError:
            return
        if n < len(data):
            self._out += data[n:]
            import asyncio

            asyncio.get_running_loop().add_writer(sock.fileno(), self._on_writable)

    def _on_writable(self) -> None:
        import asyncio

        sock = self._sock
        loop = asyncio.get_running_loop()
        if sock is None:
            return
        try:
            n = sock.send(self._out)
        except BlockingIOError:
            return
        except OSError:
            self._out.clear()
            n = 0
        del self._out[:n]
        if not self._out:
            loop.remove_writer(sock.fileno())
            if self._shutdown:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)

    def _on_readable(self) -> None:
        sock, calls = self._live()
        try:
            data = sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        for kind, task, payload in calls.frames.feed(data):
            if kind in (STARTED, CANCELLED):
                continue
            if kind == BROKEN:
                _ok, exc = calls.outcome(kind, payload)
                calls.broken = exc
                self._fail_all(exc)
                continue
            future = self._futures.pop(task, None)
            if future is None or future.done():
                continue
            ok, value = calls.outcome(kind, payload)
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _fail_all(self, exc: BaseException) -> None:
        pending, self._futures = self._futures, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(exc)

    def _lost(self) -> None:
        import asyncio

        sock, calls = self._live()
        asyncio.get_running_loop().remove_reader(sock.fileno())
        if not self._shutdown or self._futures:
            calls.broken = calls.gone()
        self._fail_all(calls.gone())
        if self._closed_event is not None:
            self._closed_event.set()

    # ------------------------------------------------------------------ shutdown

    async def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more calls; with ``wait``, return once the calls ended and the unit is gone."""
        import asyncio

        if self._shutdown or self._sock is None:
            self._shutdown = True
            return
        self._shutdown = True
        if cancel_futures:
            for future in list(self._futures.values()):
                future.cancel()
        if wait and self._futures:
            await asyncio.wait(list(self._futures.values()))
        sock = self._sock
        if not self._out:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        try:
            if wait:
                assert self._unit is not None and self._closed_event is not None
                with contextlib.suppress(SysdError):
                    self.result = await self._unit.wait()
                await self._closed_event.wait()
        finally:
            if self._unit is not None:
                await self._unit.aclose()
            loop = asyncio.get_running_loop()
            loop.remove_reader(sock.fileno())
            loop.remove_writer(sock.fileno())
            sock.close()
            self._sock = None

    async def aclose(self) -> None:
        await self.shutdown(wait=True)

    async def __aenter__(self) -> AsyncUnitExecutor:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        if exc and exc[0] is not None:
            await self.shutdown(wait=True, cancel_futures=True)
        else:
            await self.shutdown(wait=True)


async def async_run_function(
    sd: AsyncSystemd,
    fn: Callable[..., _T],
    /,
    *args: Any,
    properties: Mapping[str, object] | Sequence[str] | str | None = None,
    user: str | None = None,
    group: str | None = None,
    name: str | None = None,
    description: str | None = None,
    slice: str | None = None,
    nice: int | None = None,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> _T:
    """``await sysd.aio.run_function(sd, fn, *args, ...)``: one call in a transient unit.

    Cancelling the await stops the unit; ``timeout`` stops it and raises
    :class:`sysd.RunTimeoutError`.
    """
    import asyncio

    ex = AsyncUnitExecutor(
        sd,
        1,
        properties=properties,
        user=user,
        group=group,
        name=name,
        description=description,
        slice=slice,
        nice=nice,
        cwd=cwd,
        env=env,
    )
    await ex.start()
    try:
        future = ex.submit(fn, *args)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            if future.done() and not future.cancelled():
                raise  # the function itself raised TimeoutError
            raise RunTimeoutError(
                f"{ex.unit}: {getattr(fn, '__qualname__', fn)!s} still running after "
                f"{timeout:g} s: stopped the unit",
                unit=ex.unit,
                timeout=timeout,
            ) from None
    except BaseException:
        if ex._unit is not None:
            with contextlib.suppress(SysdError):
                await ex._unit.stop()
        raise
    finally:
        await ex.shutdown(wait=True, cancel_futures=True)
