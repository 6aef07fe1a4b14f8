"""Jobs queued without waiting count against the connection's budget (issue 11, RELIABILITY 49).

``unit.start(wait=False)`` (stop, restart, reload alike) returns a Job handle at once; the
job counts against the connection's budget of PENDING_JOBS_MAX pending jobs (run()'s
start jobs and job waits included) until its JobRemoved is seen, its wait returned, or the
handle is closed or dropped.  Beyond the budget the call waits in line, as run() does,
and raises ConnectionBudgetError (nothing sent) only when its ``timeout`` passes first.
Before: such jobs were not counted at all (300 starts: 300 pending jobs from one client).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from reliability_support import RUNTIME_UNITS, left_behind, match_rules

import sysd
import sysd.aio
from sysd._async.subscription import PENDING_JOBS_MAX

N = 300


@pytest.fixture
def template(systemd_host: None) -> Iterator[Callable[[str], str]]:
    """A oneshot template that sleeps for its instance's seconds (``1``, ``30``...)."""
    tag = uuid.uuid4().hex[:8]
    stem = f"sysdr-w-{tag}"
    path = RUNTIME_UNITS / f"{stem}@.service"
    path.write_text("[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep $${1##*_}' sh %i\n")
    subprocess.run(["systemctl", "daemon-reload"], check=True)

    def instance(i: object, seconds: float = 1) -> str:
        return f"{stem}@{i}_{seconds:g}.service"

    yield instance  # type: ignore[misc]
    subprocess.run(["systemctl", "stop", f"{stem}@*"], check=False)
    subprocess.run(["systemctl", "reset-failed", f"{stem}@*"], check=False)
    path.unlink(missing_ok=True)
    subprocess.run(["systemctl", "daemon-reload"], check=True)


def _pending_of(sd: sysd.Systemd, stem: str) -> int:
    return sum(1 for row in sd.manager_call("ListJobs") if row[1].startswith(stem))


def _peak_recorder(slots: object) -> Callable[[], int]:
    """Wrap ``slots.try_acquire`` (every slot is taken through it) to record the peak."""
    peak = 0
    take = slots.try_acquire  # type: ignore[attr-defined]

    def counting() -> bool:
        nonlocal peak
        got: bool = take()
        peak = max(peak, slots.used)  # type: ignore[attr-defined]
        return got

    slots.try_acquire = counting  # type: ignore[attr-defined]
    return lambda: peak


@pytest.mark.timeout(120)
def test_300_unwaited_starts_never_exceed_the_budget(template: Callable[..., str]) -> None:
    """300 ``start(wait=False)`` of oneshots sleeping 3 s, handles kept: the first 256
    go out at once, the rest wait in line for the JobRemoved of earlier ones; sysd never
    counts more than 256, systemd never holds more than 256 of our jobs, every job
    ends ``done``, and nothing is left counted or subscribed afterwards."""
    stem = template(0).partition("@")[0]

    async def main() -> None:
        async with sysd.aio.connect(private=False) as sd:
            sub = sd._subscription
            rules = match_rules(sd.bus.unique_name)
            peak = _peak_recorder(sub.jobs)
            seen_by_systemd = 0
            stop = asyncio.Event()

            async def sample() -> None:
                nonlocal seen_by_systemd
                with sysd.connect(private=False) as other:  # systemd's view, not ours
                    while not stop.is_set():
                        seen = await asyncio.to_thread(_pending_of, other, stem)
                        seen_by_systemd = max(seen_by_systemd, seen)
                        await asyncio.sleep(0.05)

            sampler = asyncio.create_task(sample())
            jobs = []
            started = time.monotonic()
            for i in range(N):
                # 3 s: none ends before the 256th is queued (their JobRemoved is heard)
                unit = await sd.unit(template(i, 3))
                jobs.append(await unit.start(wait=False))
                assert sub.pending_jobs <= PENDING_JOBS_MAX
            queued_for = time.monotonic() - started
            # the last 44 had to wait for earlier ones to end (about 3 s)
            assert peak() == PENDING_JOBS_MAX
            assert queued_for > 0.5
            async with asyncio.timeout(60):
                results = [await job.wait() for job in jobs]
            stop.set()
            await sampler
            assert results == ["done"] * N
            assert seen_by_systemd <= PENDING_JOBS_MAX
            assert not any(job.counted for job in jobs)
            assert not left_behind(sd), left_behind(sd)
            async with asyncio.timeout(10):  # the JobRemoved match goes once none is left
                while sub._listening is not None or match_rules(sd.bus.unique_name) != rules:
                    await asyncio.sleep(0.01)

    asyncio.run(main())


def test_over_the_budget_with_a_timeout_raises_and_sends_nothing(
    template: Callable[..., str],
) -> None:
    """All slots held by unwaited jobs that go on (budget made 3 here): a start with a
    timeout raises ConnectionBudgetError and queues nothing; closing one handle frees
    its slot, and a start without timeout then goes out at once."""
    from sysd._async._backend import AsyncSlots

    async def main() -> None:
        async with sysd.aio.connect(private=False) as sd:
            sub = sd._subscription
            sub.jobs = AsyncSlots(3)
            long = [await sd.unit(template(i, 30)) for i in range(3)]
            held = [await u.start(wait=False) for u in long]
            assert sub.pending_jobs == 3
            extra = await sd.unit(template("x", 30))
            with pytest.raises(sysd.ConnectionBudgetError) as info:
                await extra.start(wait=False, timeout=0.3)
            assert "nothing was sent" in str(info.value)
            assert isinstance(info.value, sysd.LimitsExceededError)
            assert await extra.active_state() == "inactive"
            assert await extra.get("Job") == (0, "/")
            assert not sub.holders  # the wait in line let go of the subscription
            await held[0].aclose()
            assert sub.pending_jobs == 2 and not held[0].counted
            async with await extra.start(wait=False, timeout=5) as job:
                assert job.counted and sub.pending_jobs == 3
            assert sub.pending_jobs == 2
            for u in [*long, extra]:
                await u.stop()
            for job in held:
                with contextlib.suppress(sysd.JobError):
                    await job.wait()  # canceled by the stop: seen, so no longer counted
            assert not left_behind(sd), left_behind(sd)

    asyncio.run(main())


def test_dropped_job_handles_give_their_slots_back(template: Callable[..., str]) -> None:
    """Fire and forget: a handle dropped at once stops counting at once (no warning:
    a job handle holds nothing to close)."""

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            sub = sd._subscription
            for i in range(N):
                unit = await sd.unit(template(i, 0.01))
                await unit.start(wait=False)
                assert sub.pending_jobs == 0
            assert not left_behind(sd)

    asyncio.run(main())


def test_blocking_unwaited_starts_wait_in_line_reading_the_bus(
    template: Callable[..., str],
) -> None:
    """One thread, budget made 5: the 6th start waits in line, and since no other thread
    reads the connection, the waiting itself reads the JobRemoved that free slots."""
    from sysd._sync._backend import Slots

    with sysd.connect(private=False) as sd:
        sub = sd._subscription
        sub.jobs = Slots(5)
        peak = _peak_recorder(sub.jobs)
        jobs = [sd.unit(template(i, 0.3)).start(wait=False) for i in range(20)]
        assert peak() == 5
        assert [job.wait(timeout=30) for job in jobs] == ["done"] * 20
        assert not left_behind(sd), left_behind(sd)


@pytest.mark.parametrize("private", [False, True], ids=["bus", "private"])
def test_unwaited_jobs_that_ended_unseen_are_reclaimed(
    template: Callable[..., str], private: bool
) -> None:
    """Jobs that ended unseen (their JobRemoved not heard: here nothing listens for it, as
    for jobs that end while a connection is being replaced): the start that finds the
    budget full asks systemd (ListJobs) and takes their slots."""
    from sysd._async._backend import AsyncSlots

    async def deaf() -> None:
        pass

    async def main() -> None:
        async with sysd.aio.connect(private=private) as sd:
            sub = sd._subscription
            sub.jobs = AsyncSlots(4)
            sub.listen_jobs = deaf  # type: ignore[method-assign]
            jobs = [await (await sd.unit(template(i, 0.01))).start(wait=False) for i in range(4)]
            assert sub.pending_jobs == 4 and not sub.active
            await asyncio.sleep(0.5)  # they end, unseen
            started = time.monotonic()
            job = await (await sd.unit(template("late", 0.01))).start(wait=False, timeout=10)
            assert time.monotonic() - started < 5
            assert sub.pending_jobs == 1 and job.counted
            assert not any(j.counted for j in jobs)
            assert await job.wait() == "done"
            assert not left_behind(sd), left_behind(sd)

    asyncio.run(main())
