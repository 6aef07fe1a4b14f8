"""UnitExecutor / run_function: Python callables in a transient unit, against real systemd.

Functions sent to the unit are defined at module level here: they are pickled by
reference and imported in the unit (this module's directory is on the sys.path sent
along).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import pickle
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

import sysd
import sysd.aio
from sysd._core.run import RunTimeoutError
from sysd.executor import (
    AsyncUnitExecutor,
    BrokenUnitExecutorError,
    RemoteError,
    UnitExecutor,
    WorkerDiedError,
    async_run_function,
    run_function,
)

# ------------------------------------------------------------------ sent to the unit


class Boom(Exception):
    pass


def add(a: int, b: int) -> int:
    return a + b


def where() -> tuple[int, str, int]:
    """(pid, cgroup, uid) of the worker running this."""
    with open("/proc/self/cgroup") as f:
        cgroup = f.read().strip().splitlines()[-1]
    return os.getpid(), cgroup, os.getuid()


def fail(message: str) -> None:
    raise Boom(message)


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("cannot travel")
        self.lock = __import__("threading").Lock()


def fail_unpicklable() -> None:
    raise Unpicklable


def die(code: int) -> None:
    os._exit(code)


def sleep_then(seconds: float, value: Any) -> Any:
    time.sleep(seconds)
    return value


def environment(name: str) -> str | None:
    return os.environ.get(name)


# ------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def sdm(systemd_host: None) -> Iterator[sysd.Systemd]:
    with sysd.connect() as sd:
        yield sd


def test_values_exceptions_and_properties(sdm: sysd.Systemd) -> None:
    props = {"CPUQuota": "50%", "MemoryMax": "300M", "TasksMax": 64}
    with UnitExecutor(2, sd=sdm, properties=props, env={"MARK": "x1"}) as ex:
        unit = sdm.unit(ex.unit)
        assert unit.get("CPUQuotaPerSecUSec") == 500_000
        assert unit.get("MemoryMax") == 300 * 1024 * 1024
        assert unit.get("TasksMax") == 64
        assert unit.get("ActiveState") == "active"
        assert ex.submit(add, 2, 3).result(30) == 5
        assert list(ex.map(add, range(5), range(5))) == [0, 2, 4, 6, 8]
        assert ex.submit(environment, "MARK").result(30) == "x1"
        # the workers are in the unit's cgroup
        pid, cgroup, _uid = ex.submit(where).result(30)
        assert pid in ex.pids and cgroup.endswith(f"/{ex.unit}")
        assert sdm.unit_by_pid(pid).name == ex.unit
        # exceptions come back as themselves, with the remote traceback as __cause__
        with pytest.raises(Boom, match="no luck") as info:
            ex.submit(fail, "no luck").result(30)
        cause = info.value.__cause__
        assert cause is not None and "in fail" in str(cause) and "raise Boom" in str(cause)
        with pytest.raises(RemoteError) as remote:
            ex.submit(fail_unpicklable).result(30)
        assert remote.value.type_name and "Unpicklable" in remote.value.type_name
        # what cannot be sent fails its future, not the executor
        future = ex.submit(lambda: 1)
        with pytest.raises((pickle.PicklingError, AttributeError)):
            future.result(30)
        assert ex.submit(add, 1, 1).result(30) == 2
        name = ex.unit
    assert ex.result is not None and ex.result.ok
    assert sdm.unit(name).get("LoadState") == "not-found"
    with pytest.raises(RuntimeError):
        ex.submit(add, 1, 2)


def test_worker_death_and_cancellation(sdm: sysd.Systemd) -> None:
    with UnitExecutor(1, sd=sdm) as ex:
        with pytest.raises(WorkerDiedError) as info:
            ex.submit(die, 7).result(30)
        assert info.value.exit_code == 7 and info.value.unit == ex.unit
        assert ex.submit(add, 1, 2).result(30) == 3  # a new worker took over
        running = ex.submit(sleep_then, 1.0, "late")
        queued = ex.submit(add, 3, 4)
        assert queued.cancel()  # not started: dropped
        deadline = time.monotonic() + 30
        while not running.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert running.running() and not running.cancel()  # concurrent.futures semantics
    assert running.result(0) == "late"  # shutdown waited for the running call


def test_shutdown_without_waiting_lets_calls_finish(sdm: sysd.Systemd) -> None:
    ex = UnitExecutor(1, sd=sdm)
    futures = [ex.submit(sleep_then, 0.1, i) for i in range(3)]
    ex.shutdown(wait=False)
    assert [f.result(30) for f in futures] == [0, 1, 2]
    with pytest.raises(RuntimeError):
        ex.submit(add, 1, 2)


def test_broken_when_the_unit_is_stopped(sdm: sysd.Systemd) -> None:
    ex = UnitExecutor(1, sd=sdm)
    try:
        future = ex.submit(sleep_then, 30, None)
        sdm.unit(ex.unit).stop()
        with pytest.raises(BrokenUnitExecutorError) as info:
            future.result(30)
        assert info.value.unit == ex.unit
        with pytest.raises(BrokenUnitExecutorError):
            ex.submit(add, 1, 2)
    finally:
        ex.shutdown()


def test_run_as_another_user(sdm: sysd.Systemd, test_user: tuple[str, int]) -> None:
    user, uid = test_user
    _pid, _cgroup, got = run_function(where, sd=sdm, user=user)
    assert got == uid


def test_run_function_and_timeout(sdm: sysd.Systemd) -> None:
    assert run_function(add, 20, 22, sd=sdm, properties=["MemoryMax=500M"]) == 42
    with pytest.raises(ValueError):
        run_function(int, "not a number", sd=sdm)
    t0 = time.monotonic()
    with pytest.raises(RunTimeoutError):
        run_function(sleep_then, 30, None, sd=sdm, timeout=0.5)
    assert time.monotonic() - t0 < 15


def test_own_connection(systemd_host: None) -> None:
    with UnitExecutor(1) as ex:
        assert ex.submit(add, 1, 1).result(30) == 2


def test_asyncio_flavour(systemd_host: None) -> None:
    async def main() -> None:
        async with sysd.aio.connect() as sd:
            async with AsyncUnitExecutor(sd, 2, properties={"CPUQuota": "20%"}) as ex:
                unit = await sd.unit(ex.unit or "")
                assert await unit.get("CPUQuotaPerSecUSec") == 200_000
                assert await ex.submit(add, 1, 2) == 3
                assert await ex.run(add, 5, 5) == 10
                assert await asyncio.gather(*ex.map(add, [1, 2], [3, 4])) == [4, 6]
                with pytest.raises(Boom):
                    await ex.submit(fail, "async")
                # cancelling the await stops the work: its worker is killed and replaced
                slow = asyncio.ensure_future(ex.run(sleep_then, 30, None))
                await asyncio.sleep(0.3)
                slow.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await slow
                async with asyncio.timeout(30):
                    results = await asyncio.gather(*(ex.submit(where) for _ in range(4)))
                assert all(r[1].endswith(ex.unit or "") for r in results)
            assert ex.result is not None and ex.result.ok
            assert await async_run_function(sd, add, 2, 2) == 4
            t0 = time.monotonic()
            with pytest.raises(RunTimeoutError):
                await async_run_function(sd, sleep_then, 30, None, timeout=0.5)
            assert time.monotonic() - t0 < 15
            task2 = asyncio.ensure_future(async_run_function(sd, sleep_then, 30, None))
            await asyncio.sleep(0.5)
            task2.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task2

    asyncio.run(main())


def test_user_manager(as_user: Any) -> None:
    proc = as_user(
        """
        import os, sysd
        from sysd.executor import UnitExecutor
        with sysd.connect(user=True) as sd, UnitExecutor(2, sd=sd) as ex:
            print(ex.submit(os.getuid).result(30), ex.submit(pow, 3, 4).result(30))
            print(sd.unit(ex.unit).get("ActiveState"))
        """
    )
    assert proc.returncode == 0, proc.stderr
    uid = os.environ.get("SYSD_TEST_UID")
    assert proc.stdout.split() == [str(uid), "81", "active"]


def test_errors_pickle() -> None:
    died = WorkerDiedError("x", unit="u.service", pid=5, exit_signal=signal.SIGKILL)
    again = pickle.loads(pickle.dumps(died))
    assert (again.pid, again.exit_signal) == (5, signal.SIGKILL)
    broken = BrokenUnitExecutorError("gone", unit="u.service")
    assert isinstance(broken, concurrent.futures.BrokenExecutor)
    assert pickle.loads(pickle.dumps(broken)).unit == "u.service"
