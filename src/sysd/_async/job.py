"""Jobs: a handle on one queued job, and waiting for its end without losing the truth.

How the wait stays correct (RELIABILITY.md 17-25, 47, 50):

* the wait holds the connection's one subscription (``sd._subscription``,
  see subscription.py): the JobRemoved match and Subscribe are in place
  before the method that queues the job is called, and every JobRemoved seen
  while subscribed is kept, so an instant job's signal cannot slip past;
* the unit is pinned with ``Ref()`` while we wait (when systemd lets us), so
  a unit collected right after failing still tells us why it failed;
* daemon-reload and daemon-reexec bump the subscription's generation; after
  each, the job is looked up again, and if it is gone without a signal
  (systemd was off the bus when it finished) its result is deduced from the
  unit's state, read from the new manager;
* that look-up is itself guarded: a second reexec during it waits for systemd
  again instead of ending the wait; a dropped private-socket connection is
  reopened once for every waiter and re-subscribed.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._core.jobs import SUCCESS, deduce_result, exit_status, has_result, job_error, type_interface
from .._core.systemd1 import JOB_INTERFACE, UNIT_INTERFACE
from .._core.unitname import to_dbus_path
from .._interrupt import AsyncCriticalSection
from ..errors import (
    BusDisconnectedError,
    ConnectionBudgetError,
    DBusError,
    JobError,
    NoSuchJobError,
    UnknownObjectError,
    WaitTimeoutError,
)
from .queueing import queue_guarded
from .subscription import GONE, PENDING_JOBS_MAX, JobTicket

if TYPE_CHECKING:
    from .subscription import AsyncSubscription
    from .systemd import AsyncSystemd

__all__ = ["AsyncJob"]


class AsyncJob:
    """A job systemd queued for a unit.  ``await job.wait()`` for its end.

    Queued without waiting (``wait=False``), the job counts against the
    connection's budget of pending jobs until its end is seen, ``wait()``
    returned, or the handle is closed (``aclose()``, or ``async with``) or dropped.
    """

    def __init__(
        self, sd: AsyncSystemd, path: str, unit: str, job_type: str, *, job_id: int | None = None
    ) -> None:
        self.sd = sd
        self.path = path
        self.unit = unit
        self.job_type = job_type
        self.id = job_id if job_id is not None else _job_id(path)
        self.result: str | None = None
        self.sent_at: float | None = None  # time.monotonic() when the job was asked for
        self._ticket: JobTicket | None = None
        self._finalizer: weakref.finalize[[JobTicket], AsyncJob] | None = None

    def _count(self, sub: AsyncSubscription) -> None:
        """Count this unwaited job (its slot taken) until its end is seen or we let go."""
        ticket = self._ticket = sub.hold_unwaited(self.path)
        if ticket.held:
            # dropped: the slot goes back (the finalizer holds the ticket, not the job)
            self._finalizer = weakref.finalize(self, sub.give_back, ticket)
            self._finalizer.atexit = False

    @property
    def counted(self) -> bool:
        """Whether this job still counts against the connection's budget."""
        return self._ticket is not None and self._ticket.held

    async def aclose(self) -> None:
        """Stop counting the job against the connection's budget (the job goes on)."""
        self._let_go()

    async def __aenter__(self) -> AsyncJob:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _let_go(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # gives the slot back once (no-op when already given)

    def __repr__(self) -> str:
        state = self.result or "pending"
        return f"<{type(self).__name__} {self.id} {self.job_type} {self.unit} ({state})>"

    async def cancel(self) -> None:
        """Cancel the job (Job.Cancel); a job that already ended is not an error."""
        try:
            await self.sd.call(None, self.path, JOB_INTERFACE, "Cancel")
        except (NoSuchJobError, UnknownObjectError):
            pass

    async def wait(self, timeout: float | None = None) -> str:
        """Wait until the job is removed; return its result (``done``/``skipped``).

        Any other result raises the typed JobError subclass, carrying the unit's
        own Result and exit status where systemd reports them.  ``timeout``
        bounds our wait only (WaitTimeoutError); the job itself goes on.
        ``None`` waits until systemd ends the job (its own timeouts apply).
        """
        heard = self._ticket.result if self._ticket is not None else None
        if self.result is None and heard is not None:
            self.result = heard  # its JobRemoved, heard while it was queued unwaited
        if self.result is None:
            async with self.sd._subscription as sub:
                self.result = await _wait_removed(sub, self, timeout)
        self._let_go()
        await self._raise_for_result()
        return self.result

    async def _raise_for_result(self) -> None:
        result = self.result
        assert result is not None
        if result in SUCCESS:
            return
        service_result = code = status = None
        if result == "failed" and has_result(self.unit):
            service_result, code, status = await _unit_result(self.sd, self.unit)
        exit_code, exit_signal = exit_status(code, status)
        error = job_error(
            unit=self.unit,
            job_id=self.id,
            job_type=self.job_type,
            result=result,
            service_result=service_result,
            exit_code=exit_code,
            exit_signal=exit_signal,
        )
        if error is not None:
            await self._attach_report(error)
            raise error

    async def _attach_report(self, error: JobError) -> None:
        """``error.report``: what explains the failure (never raises for its own trouble)."""
        from .report import attach_report

        watched = self.sd._subscription.watched.get(to_dbus_path(self.unit))
        await attach_report(
            error,
            self.sd,
            self.unit,
            job_id=self.id,
            job_type=self.job_type,
            job_result=self.result,
            sent_at=self.sent_at,
            seen=dict(watched.props) if watched is not None else None,
            fallback={"result": error.service_result},
        )


async def queue_unwaited(
    sd: AsyncSystemd,
    queue: Callable[[], Awaitable[str]],
    unit_name: str,
    job_type: str,
    timeout: float | None,
) -> AsyncJob:
    """Queue a job without waiting for it, counted against the connection's budget.

    Beyond the budget the call waits in line (until ``timeout``, then
    ConnectionBudgetError: nothing was sent), as ``run()`` does.
    """
    sub = sd._subscription
    deadline = None if timeout is None else time.monotonic() + timeout
    await _unwaited_slot(sub, deadline, f"{job_type} {unit_name}")
    queueing = counted = False
    try:
        with AsyncCriticalSection():  # the count and its marker together (Ctrl-C)
            sub.start_queueing()
            queueing = True
        # its JobRemoved heard from the start, though nobody subscribes: wait() then
        # gives systemd's own result, not one deduced from the unit (subscription.py)
        await sub.listen_jobs()
        job = await queue_guarded(sd, queue, unit_name, job_type, deadline)
        if job.id is not None:  # (None: over already, its end deduced after a reexec)
            with AsyncCriticalSection():  # the ticket and its finalizer together (Ctrl-C)
                job._count(sub)  # the slot is the ticket's now
                counted = True
        return job
    finally:
        with AsyncCriticalSection():
            if not counted:
                sub.jobs.release()
            if queueing:
                sub.queued_unwaited()


async def _unwaited_slot(sub: AsyncSubscription, deadline: float | None, what: str) -> None:
    """A slot of the budget for an unwaited job; beyond the budget, wait in line.

    The slots of unwaited jobs come back with their JobRemoved, seen only while
    subscribed: waiting in line holds the subscription, and first asks systemd
    which of the counted jobs ended while nobody was subscribed (again after a
    reexec or reconnect).
    """
    jobs = sub.jobs
    if jobs.try_acquire():
        return
    sd = sub.sd
    async with sub:
        generation = -1
        while not jobs.try_acquire():
            if generation != sub.generation:
                generation = sub.generation
                try:
                    await sub.reclaim_unwaited()
                except GONE:
                    generation = -1
                    await sub.reconnect(deadline)
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise ConnectionBudgetError(
                    f"{what}: no free slot among the {PENDING_JOBS_MAX} jobs this connection"
                    " may have pending before the deadline (nothing was sent)"
                )
            try:
                await sd.bus.wait_until(_slot_news(sub, generation), left)
            except BusDisconnectedError:
                await sub.reconnect(deadline)


def _slot_news(sub: AsyncSubscription, generation: int) -> Callable[[], bool]:
    jobs = sub.jobs
    sd = sub.sd
    return lambda: jobs.used < jobs.size or sub.generation != generation or sd.bus.closed


def _job_id(path: str) -> int | None:
    tail = path.rpartition("/")[2]
    return int(tail) if tail.isdigit() else None


async def _wait_removed(sub: AsyncSubscription, job: AsyncJob, timeout: float | None) -> str:
    deadline = None if timeout is None else time.monotonic() + timeout
    sd = sub.sd
    removed = sub.removed
    path = job.path
    generation = -1
    while True:
        got = removed.get(path)  # not pop: merged jobs have several waiters
        if got is not None:
            job.unit = got.unit or job.unit
            return got.result
        if generation != sub.generation:
            # First pass, or systemd reloaded/reexecuted: is the job still there?
            generation = sub.generation
            try:
                result = await _recheck(sub, job)
            except GONE:
                # systemd went away again while we asked (a reexec during the last one's
                # re-check): wait until it is back, then ask again
                generation = -1
                await sub.reconnect(deadline)
                continue
            if result is not None:
                return result
            continue
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise WaitTimeoutError(
                f"job {job.id} ({job.job_type} {job.unit}) still running after {timeout:g} s"
            )
        try:
            await sd.bus.wait_until(_news(sub, path, generation), left)
        except BusDisconnectedError:
            await sub.reconnect(deadline)  # bumps the generation: recheck follows


def _news(sub: AsyncSubscription, path: str, generation: int) -> Callable[[], bool]:
    """The wake-up condition: our job's signal, a reload/reexec, or a lost connection."""
    removed = sub.removed
    sd = sub.sd
    return lambda: path in removed or sub.generation != generation or sd.bus.closed


async def _recheck(sub: AsyncSubscription, job: AsyncJob) -> str | None:
    """None while the job exists; its (deduced) result once it is gone unseen."""
    sd = sub.sd
    try:
        await sd.get_property(job.path, JOB_INTERFACE, "State")
        return None
    except (UnknownObjectError, NoSuchJobError):
        pass
    got = sub.removed.get(job.path)
    if got is not None:  # the signal arrived while we asked
        return got.result
    active, result = await _unit_state(sd, job.unit)
    return deduce_result(job.job_type, active, result)


async def _unit_state(sd: AsyncSystemd, unit: str) -> tuple[str, str | None]:
    path = to_dbus_path(unit)
    active: str = await sd.get_property(path, UNIT_INTERFACE, "ActiveState")
    result: str | None = None
    iface = type_interface(unit)
    if iface and has_result(unit):
        try:
            result = await sd.get_property(path, iface, "Result")
        except DBusError:
            result = None
    return active, result


async def _unit_result(sd: AsyncSystemd, unit: str) -> tuple[str | None, int | None, int | None]:
    """(Result, ExecMainCode, ExecMainStatus) of a unit, as far as it reports them.

    Values seen in PropertiesChanged while we waited come first: a unit with
    CollectMode=inactive-or-failed is gone right after failing, and asking
    for it then loads a fresh copy that claims ``success``.
    """
    path = to_dbus_path(unit)
    iface = type_interface(unit)
    if iface is None:
        return None, None, None
    sub = sd._subscription
    trusted = _trusted_end(sub, path)
    if trusted is not None:
        return _from_props(trusted)
    # Nothing seen, or seen before a reexec/reconnect (the failure may have happened in
    # the gap): the unit itself tells, once the new manager is up.  A read cut by the
    # next reexec is tried again (each reconnect has its own deadline); what was seen
    # before is never given as the result instead: it may be the state of a run still
    # going (Result=success), so "unknown" (None) is the honest answer then.
    for _attempt in range(10):
        try:
            return await _read_unit_result(sd, path, iface)
        except GONE:
            await sub.reconnect()
    return None, None, None


def _trusted_end(sub: AsyncSubscription, path: str) -> dict[str, Any] | None:
    """The properties seen of the unit at ``path`` when they hold its run's end: a Result
    from a signal, or read once the unit had ended, on the current connection generation
    (one from before a reexec or reconnect may predate a failure in the gap); else None."""
    entry = sub.watched.get(path)
    if entry is None or "Result" not in entry.props or entry.result_generation != sub.generation:
        return None
    return entry.props


def _from_props(seen: dict[str, Any]) -> tuple[str | None, int | None, int | None]:
    main_code = seen.get("ExecMainCode")
    return seen["Result"], main_code or None, seen.get("ExecMainStatus") if main_code else None


async def _read_unit_result(
    sd: AsyncSystemd, path: str, iface: str
) -> tuple[str | None, int | None, int | None]:
    try:
        invocation = await sd.get_property(path, UNIT_INTERFACE, "InvocationID")
        seen = sd._subscription.seen(path)
        known = seen.get("InvocationID")
        if not invocation or (known and bytes(known) != bytes(invocation)):
            # a fresh copy (the failed one was collected), or a later run of the unit
            # (collected in a gap, started again by someone): not the result of ours.
            # What was seen is ours only if it was the end of the run.
            trusted = _trusted_end(sd._subscription, path)
            return _from_props(trusted) if trusted is not None else (None, None, None)
        result: str | None = await sd.get_property(path, iface, "Result")
    except GONE:
        raise
    except DBusError:
        return None, None, None
    code: Any = None
    status: Any = None
    if iface.endswith(".Service"):
        try:
            code = await sd.get_property(path, iface, "ExecMainCode")
            status = await sd.get_property(path, iface, "ExecMainStatus")
        except GONE:
            raise
        except DBusError:
            code = status = None
        if not code:
            code = status = None
    return result, code, status
