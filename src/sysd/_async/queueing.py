"""Queueing a job so that its end is observed, safely across a daemon-reexec: what every
job-queueing method of a manager connection runs (``sd.queue_job``; StartUnit and
friends, StartTransientUnit).

``src/sysd/_sync/queueing.py`` is generated from this file by ``tools/unasync.py``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .._core import unitname
from .._core.systemd1 import UNIT_INTERFACE
from .._interrupt import AsyncCriticalSection
from ..errors import BusDisconnectedError, NoReplyError, ServiceUnknownError
from .subscription import GONE

if TYPE_CHECKING:
    from .job import AsyncJob
    from .systemd import AsyncSystemd

__all__ = ["JOB_GONE", "queue_guarded", "queue_job"]

# The path of a job that ended while systemd re-executed (its result is deduced).
JOB_GONE = "/org/freedesktop/systemd1/job/gone"


async def queue_job(
    sd: AsyncSystemd,
    queue: Callable[[], Awaitable[str]],
    unit_name: str,
    job_type: str,
    *,
    wait: bool = True,
    timeout: float | None = None,
    counted: bool = False,
) -> AsyncJob:
    """Run ``queue()`` (a call returning a job path) with the job's end observable.

    The JobRemoved match and Subscribe go in first, the unit is pinned and
    watched, then the job is queued; with ``wait`` this returns once the
    job ended (typed JobError otherwise).  Without ``wait`` the job counts
    against the connection's budget until its end is seen or its handle is
    let go (``counted``: the caller holds a slot for it already).  Used by
    every job-queueing method, StartTransientUnit included.
    """
    sub = sd._subscription
    if not wait:
        if counted:
            return await queue_guarded(sd, queue, unit_name, job_type, None)
        from .job import queue_unwaited

        return await queue_unwaited(sd, queue, unit_name, job_type, timeout)
    from .watch import AsyncUnitWatch  # on first use: one-shots queue no job

    unit_path = unitname.to_dbus_path(unit_name)
    deadline = None if timeout is None else time.monotonic() + timeout
    # a slot in the connection's budget first: beyond it, wait in line (RELIABILITY 49)
    # (each count and the marker its undo reads in one critical section: a Ctrl-C
    # there is raised at the end of it, inside the try that undoes it)
    slot = False
    try:
        with AsyncCriticalSection():
            slot = sub.jobs.try_acquire()
        if not slot:  # waiting in line (the budget is used up): interruptible
            await sub.acquire_job(deadline, f"{job_type} {unit_name}")
            slot = True
        async with AsyncUnitWatch(sd, unit_name):
            refs = 0
            pinned = False
            try:
                # pinned only while a pin slot is free: each costs systemd a bus match
                with AsyncCriticalSection():
                    pinned = sub.pin_slots.try_acquire()
                for _attempt in range(5 if pinned else 0):
                    refs += 1  # a Ref cut short may have reached systemd: Unref then
                    try:
                        if not await sd._ref(unit_path):
                            refs = 0  # refused: not pinned
                        break
                    except GONE:  # systemd re-executing: pin it once it is back
                        await sub.reconnect(deadline)
                if refs:
                    sub.pinned_unit(unit_path)  # pinned again after a reconnect
                job = await queue_guarded(sd, queue, unit_name, job_type, deadline)
                await job.wait(None if deadline is None else deadline - time.monotonic())
                return job
            finally:
                try:
                    if refs:
                        sub.unpinned_unit(unit_path)
                    for _ in range(refs):
                        await sd._unref(unit_path)
                finally:
                    if pinned:
                        sub.pin_slots.release()
    finally:
        if slot:
            sub.jobs.release()


async def queue_guarded(
    sd: AsyncSystemd,
    queue: Callable[[], Awaitable[str]],
    unit_name: str,
    job_type: str,
    deadline: float | None,
) -> AsyncJob:
    """``queue()``, safe across a daemon-reexec (RELIABILITY.md 22, 50).

    Refused with ServiceUnknown, the call never reached systemd: it is sent
    again once systemd is back.  Cut with NoReply or a dropped connection, it
    may have: once systemd is back, a job of the unit is ours, and a unit that
    left "inactive" since the call ran it (its result is deduced from the
    unit); otherwise it was not queued and is sent again.  Where that cannot be told
    (a remote manager's clock), the error says so.
    """
    from .job import AsyncJob  # on first use: one-shots queue no job

    sub = sd._subscription
    unit_path = unitname.to_dbus_path(unit_name)
    for _attempt in range(5):
        sent_at = time.monotonic()
        seen = sub.changes_of(unit_path)
        try:
            path = await queue()
            sub.forget_stale_removal(unit_path, seen)
            job = AsyncJob(sd, path, unit_name, job_type)
            job.sent_at = sent_at  # the failure report tells whether the unit ran since
            return job
        except ServiceUnknownError:
            if sd._closed or not sub.seen_manager:  # no manager seen here: no reexec
                raise
            await sub.reconnect(deadline)
            continue
        except (NoReplyError, BusDisconnectedError) as exc:
            if sd._closed:
                raise
            # Was it queued?  Asked once systemd is back; a question cut by the next
            # reexec is asked again (never the call itself: it may have run)
            for _ask in range(5):
                try:
                    await sub.reconnect(deadline)
                    job_id, job_path = await sd.get_property(unit_path, UNIT_INTERFACE, "Job")
                    left_inactive = await sd.get_property(
                        unit_path, UNIT_INTERFACE, "InactiveExitTimestampMonotonic"
                    )
                    break
                except (NoReplyError, BusDisconnectedError, ServiceUnknownError):
                    if sd._closed:
                        raise
            else:
                raise BusDisconnectedError(
                    f"systemd kept going away after queueing the {job_type} job of "
                    f"{unit_name}: whether it was queued is unknown"
                ) from exc
            if job_id:
                return AsyncJob(sd, job_path, unit_name, job_type, job_id=job_id)
            if sd.target.scope == "remote":
                raise BusDisconnectedError(
                    f"systemd re-executed while queueing the {job_type} job of {unit_name}:"
                    " whether it was queued is unknown"
                ) from exc
            if job_type == "stop":
                continue  # stopping again is harmless
            # The unit left "inactive" since the call: the job ran and is over.  (Not
            # StateChangeTimestamp: the reexec itself moves it.)
            if left_inactive and left_inactive / 1e6 >= sent_at:
                return AsyncJob(sd, JOB_GONE, unit_name, job_type)
    raise BusDisconnectedError(
        f"systemd kept going away while queueing the {job_type} job of {unit_name}"
    )
