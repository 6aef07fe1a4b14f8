"""The one subscription to systemd's signals that a connection shares.

``Subscribe``, the match rules, the signal handler, what the signals tell
(JobRemoved results, reloads, the units being watched) and reconnecting after
a reexec or a lost bus live here, in one object per connection
(``sd._subscription``).  Job waits, unit watches and runs hold it through
``async with`` (RELIABILITY.md 17, 21-25, 47, 48, 50):

* holding is reference counted; the setup (match rules first, then
  Subscribe) is awaited by every holder: one that arrives while another sets
  up waits for that setup, and if it failed or was cancelled sets up again
  itself.  Nobody goes on with a half-built subscription;
* every setup step sits inside the ``try`` that undoes it, and an interrupted
  setup undoes every step it *may* have done (a cancelled AddMatch may still
  have reached the bus), so no rule is left on any path, Ctrl-C included;
* the last holder to leave tears it down, whole even when interrupted (the
  interruption is raised once the teardown is done);
* in blocking code a Ctrl-C lands after whichever call returns: counting a
  holder (with the marker its undo reads) and counting down with the teardown
  are critical sections (``sysd/_interrupt.py``: SIGINT deferred to their end),
  and ``acquire``/``release`` *are* ``__enter__``/``__exit__``, so nothing runs
  between them and the with-statement;
* one reconnect per connection: waiters that lose the bus together share one
  new connection, the setup is redone on it, and a connection closed by its
  owner is never reopened.

One broad PropertiesChanged rule (filtered here by path) serves every watched
unit, instead of one rule per unit: dbus-daemon allows a client 512 rules.

The connection's budget for what waits lives here too (RELIABILITY.md 42, 44,
49): ``jobs`` counts the jobs awaited (``run()``'s start jobs included) and the
jobs queued without waiting (``wait=False``, until their JobRemoved is seen or
their handle is closed or dropped), at most PENDING_JOBS_MAX, the rest queue
for a slot within their deadline;
``pin_slots`` counts the units pinned (``Ref``/``AddRef``: systemd adds a bus
match for each), at most PINS_MAX, and beyond that units are watched unpinned.
Both are counted per connection object, so a reconnect does not reset them.
Calls in flight are bounded by the connection itself (MAX_IN_FLIGHT, queued).
Run handles dropped unclosed are released right after their finalizer ran
(``drain``), by a task on the event loop (asyncio) or by the connection's release
thread (blocking): a finalizer itself cannot do I/O; the connection's next use
drains too.
"""

from __future__ import annotations

import contextlib
import math
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._bus.aio import AsyncConnection, open_owned
from .._bus.wire import (
    DBUS_DEST,
    DBUS_IFACE,
    DBUS_PATH,
    PROPERTIES_INTERFACE,
    Message,
    match_rule,
    unwrap,
)
from .._core.jobs import JobRemoved
from .._core.systemd1 import (
    MANAGER_INTERFACE,
    MANAGER_PATH,
    SYSTEMD_BUS_NAME,
    UNIT_INTERFACE,
    UNITS_PATH,
)
from .._interrupt import AsyncCriticalSection
from ..errors import (
    BusConnectError,
    BusDisconnectedError,
    BusError,
    ConnectionBudgetError,
    DBusError,
    NoReplyError,
    ServiceUnknownError,
    SysdError,
)
from ._backend import AsyncLock, AsyncSlots, AsyncSoon, AsyncStateLock, sleep

if TYPE_CHECKING:
    from .systemd import AsyncSystemd

__all__ = ["GONE", "AsyncSubscription", "JobTicket", "Watched"]

PENDING_JOBS_MAX = 256  # ~500 pending jobs from one client knock systemd 252 off the bus
PINS_MAX = 128  # units pinned at a time (Ref/AddRef): one bus match in systemd each
REMOVED_KEEP = 4096  # JobRemoved signals remembered while subscribed
RECONNECT_LIMIT = 60.0  # how long a wait without deadline waits for systemd to come back

# What a call raises while systemd is away (re-executing) or the connection dropped.
GONE = (BusDisconnectedError, NoReplyError, ServiceUnknownError)

_DBUS = (DBUS_DEST, DBUS_PATH, DBUS_IFACE)
JOB_RULE = match_rule(
    sender=SYSTEMD_BUS_NAME, path=MANAGER_PATH, interface=MANAGER_INTERFACE, member="JobRemoved"
)
NAME_RULE = match_rule(
    sender=DBUS_DEST,
    path=DBUS_PATH,
    interface=DBUS_IFACE,
    member="NameOwnerChanged",
    arg0=SYSTEMD_BUS_NAME,
)
RULES = (
    JOB_RULE,
    match_rule(
        sender=SYSTEMD_BUS_NAME, path=MANAGER_PATH, interface=MANAGER_INTERFACE, member="Reloading"
    ),
    match_rule(
        sender=SYSTEMD_BUS_NAME,
        path=MANAGER_PATH,
        interface=MANAGER_INTERFACE,
        member="UnitRemoved",
    ),
    # every other Manager signal (UnitNew, JobNew, UnitFilesChanged, StartupFinished):
    # sd.events() reports them
    match_rule(sender=SYSTEMD_BUS_NAME, path=MANAGER_PATH, interface=MANAGER_INTERFACE),
    NAME_RULE,
    match_rule(
        sender=SYSTEMD_BUS_NAME,
        path_namespace=UNITS_PATH,
        interface=PROPERTIES_INTERFACE,
        member="PropertiesChanged",
    ),
)
# what hearing unwaited jobs end takes on a message bus (see listen_jobs)
LISTEN_RULES = (JOB_RULE, NAME_RULE)


def reconnect_option(value: object, error: type[SysdError]) -> tuple[bool, float]:
    """A stream's ``reconnect=``: True (for up to RECONNECT_LIMIT s), False, or a number
    of seconds (> 0); anything else raises ``error`` (the stream's own typed error)."""
    if isinstance(value, bool):
        return value, RECONNECT_LIMIT
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return True, float(value)
    raise error(f"reconnect must be True, False or a number of seconds > 0, not {value!r}")


class Watched:
    """What we saw of one unit while watching it (reference counted)."""

    __slots__ = (
        "changes",
        "count",
        "invalidated",
        "props",
        "reading",
        "removed",
        "removed_at",
        "result_generation",
        "touched",
    )

    def __init__(self) -> None:
        self.count = 0
        self.props: dict[str, Any] = {}
        self.invalidated: set[str] = set()
        self.removed = False
        self.changes = 0
        self.removed_at = 0  # ``changes`` when the removal was seen
        # the subscription's generation when "Result" last arrived: a value from before a
        # reexec or reconnect is not trusted (the failure may have happened in the gap)
        self.result_generation = -1
        # while the unit is read again (watch.refresh()): the properties signals changed
        # meanwhile, newer than what the read returns (None when nobody reads)
        self.reading = 0
        self.touched: set[str] | None = None

    def begin_read(self) -> set[str]:
        """A read of the unit starts: the set of properties signals change meanwhile."""
        if self.touched is None:
            self.touched = set()
        self.reading += 1
        return self.touched

    def end_read(self) -> None:
        self.reading -= 1
        if self.reading <= 0:
            self.reading = 0
            self.touched = None


class JobTicket:
    """A slot of the connection's job budget held by a job queued without waiting
    (``unit.start(wait=False)``) until its end is seen or its handle is let go."""

    __slots__ = ("held", "path", "result")

    def __init__(self, path: str) -> None:
        self.path = path
        self.held = True
        self.result: str | None = None  # from the job's JobRemoved, when it was heard


class AsyncSubscription:
    """Subscribe + match rules + signal handler + reconnect, shared by every waiter.

    ``async with sd._subscription:`` holds it (``sd.subscribed()`` is the public
    name).  ``removed`` holds the JobRemoved signals seen, ``generation`` is
    bumped when systemd reloaded, re-executed or the connection was replaced,
    ``watched`` the units being watched.
    """

    def __init__(self, sd: AsyncSystemd) -> None:
        # weak: no reference cycle, so a connection dropped unclosed is still closed at once
        self._sd = weakref.ref(sd)
        self.holders = 0
        # (their slots are given back with ``.jobs.release()``/``.pin_slots.release()``
        # called directly: in the blocking flavour C code from the call to its return, so
        # a ``finally`` calling it is not skipped by a Ctrl-C at its entry; see Slots)
        self.jobs = AsyncSlots(PENDING_JOBS_MAX)  # jobs awaited (queued beyond)
        self.pin_slots = AsyncSlots(PINS_MAX)  # units pinned (unpinned beyond)
        # jobs queued without waiting that still count against ``jobs``, by job path
        self.unwaited: dict[str, list[JobTicket]] = {}
        # units pinned by us (Ref, AddRef=yes), by path: how many pins.  systemd drops a
        # connection's pins with it: after a reconnect they are taken again on the new one
        self.pinned: dict[str, int] = {}
        # (unit watch, pinned unit path) of run handles dropped unclosed: released at
        # the connection's next use (deque: appended from finalizers, any thread)
        self.dropped: deque[tuple[Any, str | None]] = deque()
        self._soon = AsyncSoon()  # drains right after a finalizer queued something
        self.removed: OrderedDict[str, JobRemoved] = OrderedDict()
        self.generation = 0
        self.reloading = False
        self.owner: str | None = None  # systemd's unique name on a message bus
        self.seen_manager = False  # whether systemd ever owned its name for us (sticky)
        self.watched: dict[str, Watched] = {}
        self.reconnects = 0
        self._reconnecting = 0  # waiters in reconnect()
        self._bus: AsyncConnection | None = None  # the connection the setup is in place on
        # the connection JobRemoved is heard on for unwaited jobs (see listen_jobs), and
        # how many unwaited jobs are being queued right now (they want it too)
        self._listening: AsyncConnection | None = None
        self.queueing = 0
        self._setup_lock = AsyncLock()
        self.counts = AsyncStateLock()  # holders, watch counts (threads, blocking flavour)
        self._reconnect_lock = AsyncLock()
        # what else hears every signal the handler gets (event streams): see add_listener
        self.listeners: list[Callable[[Message], None]] = []

    def __repr__(self) -> str:
        state = "active" if self._bus is not None else "inactive"
        return f"<{type(self).__name__} {self.holders} holders ({state})>"

    @property
    def sd(self) -> AsyncSystemd:
        sd = self._sd()
        if sd is None:  # pragma: no cover - the connection object owns us
            raise RuntimeError("the connection object is gone")
        return sd

    @property
    def pending_jobs(self) -> int:
        """Jobs awaited on this connection right now (waiting in line not counted)."""
        return self.jobs.used

    @property
    def pins(self) -> int:
        """Units pinned by this connection right now."""
        return self.pin_slots.used

    # ---------------------------------------------------------------- the budget

    async def acquire_job(self, deadline: float | None, what: str) -> None:
        """A slot for one awaited job, waiting in line for it until ``deadline``.

        Past the deadline with no slot free: ConnectionBudgetError (nothing was sent).
        """
        if not await self.jobs.acquire(deadline):
            raise ConnectionBudgetError(
                f"{what}: no free slot among the {PENDING_JOBS_MAX} jobs this connection"
                " may have pending before the deadline (nothing was sent)"
            )

    def expect_dropped(self) -> None:
        """A run handle was made that may be dropped unclosed: have its release ready.

        Blocking flavour: the connection's release thread starts here, in ordinary code
        (a finalizer must not start a thread, nor do bus I/O: it may run on a thread that
        holds the connection's lock).  asyncio: the event loop does it.
        """
        ref = self._sd

        def alive() -> bool:
            sd = ref()
            return sd is not None and not sd._closed

        self._soon.start(alive, "sysd-release-dropped")

    def closed(self) -> None:
        """The connection was closed: the release thread (blocking flavour) ends now."""
        self._soon.stop()

    def hold_unwaited(self, path: str) -> JobTicket:
        """Count the job at ``path`` (its slot already taken) until its end is seen.

        Its JobRemoved, seen while anyone holds the subscription, gives the slot back;
        so does ``give_back()`` (the handle closed, dropped, or its wait over).
        """
        ticket = JobTicket(path)
        with self.counts:
            self.unwaited.setdefault(path, []).append(ticket)
        seen = self.removed.get(path)
        if seen is not None:  # over already (heard before its handle was made)
            ticket.result = seen.result
            self.give_back(ticket)
        return ticket

    def give_back(self, ticket: JobTicket) -> None:
        """The slot of an unwaited job, back to the budget (once; any thread).

        One critical section: a Ctrl-C in the middle (this runs in finalizers too) would
        leave the slot taken, or the JobRemoved match in place with no job to hear."""
        with AsyncCriticalSection():
            with self.counts:
                if not ticket.held:
                    return
                ticket.held = False
                tickets = self.unwaited.get(ticket.path)
                if tickets is not None:
                    with contextlib.suppress(ValueError):
                        tickets.remove(ticket)
                    if not tickets:
                        del self.unwaited[ticket.path]
                last = self._listening is not None and self._nothing_to_hear()
            self.jobs.release()
            if last:  # no unwaited job left to hear about: the JobRemoved match goes, soon
                self._soon.spawn(self._unlisten_quietly)

    # ------------------------------------------------- hearing unwaited jobs end

    async def listen_jobs(self) -> None:
        """Hear JobRemoved on the current connection, for a job about to be queued without
        waiting (``start(wait=False)``), until no unwaited job is left.

        systemd sends a job's JobRemoved to the client that asked for the job even when
        nobody is subscribed (systemd 252 ``bus_job_track_sender``, ``bus_foreach_bus``):
        always on its private socket, and on a message bus as a broadcast that one match
        rule (not Subscribe, which would bring every unit's changes) lets through.  So the
        handle's ``wait()`` gives the job's own result (``canceled``, ``dependency``...),
        not one deduced from the unit afterwards, which cannot tell a job canceled or
        failed for a dependency from one that ran: the unit is inactive either way.
        The caller counts itself in ``queueing`` first (see ``queue_unwaited``).
        """
        bus = self.sd.bus
        if self._listening is bus or bus.closed:
            return
        self.expect_dropped()  # the worker that removes the rules later (blocking flavour)
        try:
            async with self._setup_lock:
                if self._listening is not bus:
                    await self._listen(bus)
        except (BusError, DBusError):
            pass  # not heard (the queueing that follows meets the same trouble and says so)

    async def _listen(self, bus: AsyncConnection) -> None:
        """(Under the setup lock.)  The handler and, on a message bus, the match rules:
        JobRemoved, and systemd's name changing owner (a reexec gives it a new unique
        name: the handler checks that signals come from the current one)."""
        if self._bus is not bus:
            bus.remove_signal_handler(self._on_signal)
            bus.add_signal_handler(self._on_signal)
        # marked before the calls: a cut AddMatch may have reached the bus (the removal
        # then finds the rule, or gets an error reply that says there is none)
        self._listening = bus
        if not bus.target.hello:
            return  # a private socket gets the signal without asking
        replies = await bus.call_many(
            [(*_DBUS, "AddMatch", "s", (rule,)) for rule in LISTEN_RULES]
            + [(*_DBUS, "GetNameOwner", "s", (SYSTEMD_BUS_NAME,))],
            return_exceptions=True,
        )
        if any(isinstance(r, Exception) for r in replies[: len(LISTEN_RULES)]):
            # refused (the bus's match limit): not heard, results deduced as before
            self._listening = None
            await self._forget_listening(bus)
            return
        if self._bus is not bus:  # the subscription, when in place, keeps it current
            owner = replies[-1]
            self.owner = owner if isinstance(owner, str) else None
            self.seen_manager = self.seen_manager or isinstance(owner, str)

    async def _forget_listening(self, bus: AsyncConnection) -> None:
        if self._bus is not bus:  # the subscription, when in place, keeps its handler
            bus.remove_signal_handler(self._on_signal)
        if bus.target.hello and not bus.closed:
            await bus.call_many(
                [(*_DBUS, "RemoveMatch", "s", (rule,)) for rule in LISTEN_RULES],
                return_exceptions=True,
            )

    async def _unlisten_quietly(self) -> None:
        # nobody awaits this: a connection lost or closed meanwhile is not an error here
        with contextlib.suppress(BusError, DBusError):
            await self.unlisten_jobs()

    async def unlisten_jobs(self) -> None:
        """Stop hearing JobRemoved for unwaited jobs, if none is left (nor being queued)."""
        async with self._setup_lock:
            with self.counts:
                bus = self._listening
                if bus is None or not self._nothing_to_hear():
                    return
                self._listening = None
            await self._forget_listening(bus)

    def _nothing_to_hear(self) -> bool:
        """(Under ``counts``.)  No unwaited job pending nor being queued: listening for
        JobRemoved can stop."""
        return not self.unwaited and not self.queueing

    def start_queueing(self) -> None:
        """One unwaited job more being queued: it will want its JobRemoved heard (in a
        caller's critical section, which calls ``queued_unwaited()`` in its finally)."""
        with self.counts:
            self.queueing += 1

    def queued_unwaited(self) -> None:
        """One unwaited job less being queued (counted in ``queueing`` by its caller)."""
        with AsyncCriticalSection():
            with self.counts:
                self.queueing -= 1
                last = self._listening is not None and self._nothing_to_hear()
            if last:
                self._soon.spawn(self._unlisten_quietly)

    async def reclaim_unwaited(self) -> None:
        """Give back the slots of unwaited jobs that ended unseen (nobody was subscribed
        then): one ListJobs tells which are still pending.  Only tickets taken before
        the call are judged: a job queued meanwhile may be missing from the answer."""
        with self.counts:
            tickets = [t for ts in self.unwaited.values() for t in ts]
        if not tickets:
            return
        rows = await self.sd.manager_call("ListJobs")
        pending = {row[4] for row in rows}
        for ticket in tickets:
            if ticket.path not in pending:
                self.give_back(ticket)

    def pinned_unit(self, path: str) -> None:
        """We pinned the unit at ``path`` (its Ref or AddRef was taken): pin it again on
        a new connection until ``unpinned_unit()``."""
        with self.counts:
            self.pinned[path] = self.pinned.get(path, 0) + 1

    def unpinned_unit(self, path: str) -> None:
        with self.counts:
            count = self.pinned.pop(path, 0) - 1
            if count > 0:
                self.pinned[path] = count

    async def _repin(self, bus: AsyncConnection, done: set[str]) -> None:
        """Pin again on ``bus`` (a new connection) the units pinned on the old one.

        systemd dropped the old connection's pins with it (``destroy_bus()``): a unit
        that ends after this is kept until we read its end and Unref it.  One that ended
        in the gap may be gone already; the Ref then pins the stub systemd loads for it,
        whose missing InvocationID tells the waiter (released at its Unref).  ``done``:
        paths pinned on ``bus`` already (a retry after a cut Ref does not pin twice).
        """
        with self.counts:
            wanted = list(self.pinned.items())
        for path, count in wanted:
            if path in done:
                continue
            for _ in range(count):
                try:
                    await bus.call(self.sd.destination, path, UNIT_INTERFACE, "Ref")
                except GONE:
                    raise
                except DBusError:
                    break  # refused (no bus tracking): nothing to pin
            done.add(path)

    def dropped_handle(self, watch: Any, pinned: str | None) -> None:
        """Queue the release of a dropped handle's watch and pin (from its finalizer)."""
        self.dropped.append((watch, pinned))
        self._soon.spawn(self._drain_quietly)

    async def _drain_quietly(self) -> None:
        # nobody awaits this: a connection lost or closed meanwhile is not an error here
        with contextlib.suppress(BusError, DBusError):
            await self.drain()

    async def drain(self) -> None:
        """Release what run handles dropped unclosed held (their finalizers queued it)."""
        while self.dropped:
            watch, pinned = self.dropped.popleft()
            try:
                if pinned is not None:
                    try:
                        self.unpinned_unit(pinned)
                        with contextlib.suppress(DBusError, BusError):
                            await self.sd.call(None, pinned, UNIT_INTERFACE, "Unref")
                    finally:
                        self.pin_slots.release()
            finally:
                await watch.__aexit__(None, None, None)

    @property
    def active(self) -> bool:
        """Whether Subscribe and the match rules are in place right now."""
        return self._bus is not None

    # ---------------------------------------------------------------- holding

    async def acquire(self, deadline: float | None = None) -> AsyncSubscription:
        """Hold the subscription; returns once it is in place on the current connection.

        Also the ``async with`` entry: called straight by the with-statement, nothing
        runs between its return and the with-block's protection (an interrupt landing
        after any call of its own is inside the ``try`` that releases what it counted).
        """
        counted = False
        try:
            with AsyncCriticalSection():  # the count and its marker together (Ctrl-C)
                self.hold()
                counted = True
            await self.set_up(deadline)
            return self
        except BaseException:
            if counted:
                await self.release()
            raise

    __aenter__ = acquire

    def hold(self) -> None:
        """Count one holder (no I/O): in a caller's critical section, which then calls
        ``set_up()`` inside the ``try`` that calls ``release()``."""
        with self.counts:
            self.holders += 1

    async def set_up(self, deadline: float | None = None) -> None:
        """Make sure the setup is in place on the current connection (for a holder)."""
        if self.dropped:
            await self.drain()
        attempts = 0
        while True:
            # a connection found dead, with no reconnect under way, stays dead: calls
            # on it fail fast (RELIABILITY 4); one that drops while we set up, or while
            # a waiter reconnects, is waited for
            dead = self.sd.bus.closed and not self._reconnecting
            try:
                async with self._setup_lock:
                    if self._bus is not self.sd.bus:
                        await self._set_up(self.sd.bus)
                return
            except GONE as exc:
                # systemd re-executing, or the connection dropped: wait for it (one
                # reconnect for every waiter), then set up again.  No owner of
                # systemd's name on a bus where we never saw one: no manager there
                # (a user manager not running), not a reexec: say so at once.
                attempts += 1
                never = isinstance(exc, ServiceUnknownError) and not self.seen_manager
                if self.sd._closed or attempts > 5 or never or dead:
                    raise
                await self.reconnect(deadline)

    async def release(self, *exc: object) -> None:
        """Let go; the last holder tears the subscription down.

        The count and the teardown are one critical section: a Ctrl-C in between is
        raised once the teardown is done (blocking flavour; in asyncio a cancellation
        during the teardown is finished first, then raised).  Also the ``async with``
        exit.
        """
        with AsyncCriticalSection():
            last = False
            try:
                with self.counts:
                    self.holders -= 1
                    last = self.holders == 0 and self._bus is not None
            finally:
                if last:
                    await self._tear_down_unheld()

    __aexit__ = release

    async def _tear_down_unheld(self) -> None:
        # Free: whoever sets up is a holder, and a teardown clears _bus before it starts.
        async with self._setup_lock:
            bus = self._bus
            if self.holders > 0 or bus is None:
                return
            try:
                self.removed.clear()
            finally:
                self._bus = None
                await self._tear_down(bus, RULES, subscribed=True)

    async def _set_up(self, bus: AsyncConnection) -> None:
        old, self._bus = self._bus, None
        if old is not None:  # a connection that was replaced: nothing left to undo there
            old.remove_signal_handler(self._on_signal)
        bus.remove_signal_handler(self._on_signal)
        bus.add_signal_handler(self._on_signal)
        tried: list[str] = []
        subscribed = False
        try:
            if bus.target.hello:
                for rule in RULES:
                    tried.append(rule)  # before the call: a cut call may have reached the bus
                    await bus.call(DBUS_DEST, DBUS_PATH, DBUS_IFACE, "AddMatch", "s", (rule,))
                try:
                    self.owner = await bus.call(
                        DBUS_DEST, DBUS_PATH, DBUS_IFACE, "GetNameOwner", "s", (SYSTEMD_BUS_NAME,)
                    )
                    self.seen_manager = True
                except DBusError:
                    self.owner = None
            subscribed = True
            await self._subscribe(bus)
            self._bus = bus
        except BaseException:
            self._bus = None
            await self._tear_down(bus, tried, subscribed=subscribed, thorough=True)
            raise

    async def _subscribe(self, bus: AsyncConnection) -> None:
        try:
            await bus.call(self.sd.destination, MANAGER_PATH, MANAGER_INTERFACE, "Subscribe")
        except DBusError as exc:
            if exc.name != "org.freedesktop.systemd1.AlreadySubscribed":
                raise

    async def _tear_down(
        self,
        bus: AsyncConnection,
        rules: tuple[str, ...] | list[str],
        *,
        subscribed: bool,
        thorough: bool = False,
    ) -> None:
        """Undo a setup, every step even when one is interrupted (raised at the end)."""
        listening = self._listening is bus
        if not listening:  # else unwaited jobs still hear their end through it
            bus.remove_signal_handler(self._on_signal)
        steps: list[tuple[str | None, str, str, str, str, tuple[str, ...]]] = []
        if subscribed:
            manager = (self.sd.destination, MANAGER_PATH, MANAGER_INTERFACE)
            steps.append((*manager, "Unsubscribe", "", ()))
        for rule in rules:
            steps.append((DBUS_DEST, DBUS_PATH, DBUS_IFACE, "RemoveMatch", "s", (rule,)))
        interrupted: BaseException | None = None
        for destination, path, interface, member, signature, args in steps:
            # An interrupted step may not have been sent: do it again (undoing twice only
            # gets an error reply: not subscribed, no such rule).  After an interruption,
            # a rule may also have reached the bus twice (a send cut after the kernel took
            # it is sent again): remove it until the bus says there is none.
            for _attempt in range(3):
                if bus.closed:
                    break
                try:
                    await bus.call(destination, path, interface, member, signature, args)
                except (DBusError, BusError):
                    break  # not subscribed / no such rule: nothing (more) to undo
                except BaseException as exc:  # cancelled or Ctrl-C: finish the undo first
                    if interrupted is None:
                        interrupted = exc
                    continue
                if member != "RemoveMatch" or not (thorough or interrupted is not None):
                    break
                if listening and args[0] in LISTEN_RULES:
                    break  # the other copy is listen_jobs's: not a duplicate to remove
        if interrupted is not None:
            raise interrupted

    # ------------------------------------------------------------- reconnecting

    async def reconnect(self, deadline: float | None = None) -> None:
        """Wait until systemd answers again after a reexec or a lost connection.

        Reopens the connection when it dropped (the private socket drops on
        reexec), once for every waiter on this connection; redoes the setup on
        the new one while anyone holds the subscription; bumps ``generation`` so
        that waiters read again what they wait for.
        """
        seen = self.reconnects
        self._reconnecting += 1
        try:
            async with self._reconnect_lock:
                if self.reconnects != seen:
                    return  # another waiter reconnected while we waited for it
                await self._reconnect(deadline)
                self.reconnects += 1
                self.generation += 1
        finally:
            self._reconnecting -= 1

    def _adopt(self, bus: AsyncConnection) -> AsyncConnection:
        if self.sd._closed:  # closed by its owner while we connected
            raise BusDisconnectedError("the connection was closed")
        self.sd.bus = bus
        return bus

    async def _reconnect(self, deadline: float | None) -> None:
        sd = self.sd
        limit = time.monotonic() + RECONNECT_LIMIT if deadline is None else deadline
        delay = 0.05
        old = sd.bus
        repinned: set[str] = set()  # on the current new connection
        while True:
            if sd._closed:
                raise BusDisconnectedError("the connection was closed")
            try:
                bus = sd.bus
                if bus.closed:
                    # the new connection is sd's, or closed (cut before sd took it)
                    bus = await open_owned(
                        bus.target, self._adopt, timeout=bus.timeout, interactive=bus.interactive
                    )
                    repinned = set()
                await sd.ping(timeout=max(0.05, min(5.0, limit - time.monotonic())))
                if self.holders:
                    async with self._setup_lock:
                        if self._bus is not bus:
                            await self._set_up(bus)
                        else:  # same bus (systemd reexecuted behind dbus-daemon)
                            await self._subscribe(bus)
                        if bus is not old and bus.target.hello and self.pinned:
                            # subscribed first: nothing about them is missed from here
                            await self._repin(bus, repinned)
                        if not self.holders and self._bus is not None:
                            # the last holder left while we set up (its teardown waited
                            # for the lock, or was cancelled waiting): undo it here
                            done, self._bus = self._bus, None
                            self.removed.clear()
                            await self._tear_down(done, RULES, subscribed=True)
                if self._listening is not None and self._listening is not bus:
                    # unwaited jobs heard their end on the old connection: on this one now
                    # (one that ended in the gap is deduced at its wait, as before)
                    async with self._setup_lock:
                        if self._listening is not None and self._listening is not bus:
                            await self._listen(bus)
                return
            except (BusConnectError, BusDisconnectedError, NoReplyError, DBusError) as exc:
                if sd._closed:
                    raise
                if time.monotonic() + delay > limit:
                    # a reexec, or a lost connection (private socket on reexec, dbus-daemon gone)
                    why = "the connection was lost" if bus.closed else "it re-executed"
                    raise BusDisconnectedError(
                        f"systemd did not come back after {why}: {exc}"
                    ) from exc
            await sleep(delay)
            delay = min(delay * 2, 0.5)

    # ------------------------------------------------------------------ watching

    def watch(self, path: str) -> Watched:
        """Keep what systemd announces about the unit at ``path`` (reference counted)."""
        with self.counts:
            entry = self.watched.get(path)
            if entry is None:
                entry = self.watched[path] = Watched()
            entry.count += 1
        return entry

    def unwatch(self, path: str) -> None:
        with self.counts:
            entry = self.watched.get(path)
            if entry is not None:
                entry.count -= 1
                if entry.count <= 0:
                    del self.watched[path]

    def changes_of(self, path: str) -> int:
        """How many changes of the unit at ``path`` were seen (-1: not watched)."""
        entry = self.watched.get(path)
        return entry.changes if entry is not None else -1

    def forget_stale_removal(self, path: str, changes: int) -> None:
        """A job was just queued for the unit at ``path``: a removal seen before any change
        of the unit since ``changes`` (counted before the call) was not of the unit the job
        is for.

        Reading a unit that is not loaded (the re-check after a reconnect asks whether a
        start cut short created the unit) loads a stub that systemd collects at once, and
        its UnitRemoved may come while the start is on its way, before the unit exists.
        A unit that exists is announced (PropertiesChanged) before it can be removed, and
        that comes after the reply that queued its job; the caller may see that reply only
        after such signals were dispatched (another thread read them, or the reader task),
        hence the position of the removal, not the count now.  With no change since the
        call, the values seen are of a unit before this one: they go too.
        """
        entry = self.watched.get(path)
        if entry is not None and entry.removed and entry.removed_at <= changes:
            entry.removed = False
            if entry.changes == changes:
                entry.props.clear()
                entry.invalidated.clear()

    def seen(self, path: str) -> dict[str, Any]:
        """Unit properties seen changing while we waited (empty when none)."""
        entry = self.watched.get(path)
        return entry.props if entry is not None else {}

    # ----------------------------------------------------------------- listeners

    def add_listener(self, listener: Callable[[Message], None]) -> None:
        """Hand every signal the subscription hears to ``listener`` too (before its own
        bookkeeping), on whatever connection it is set up.  The listener runs on the
        connection's reader: it must not block, call the bus or raise."""
        with self.counts:
            self.listeners = [*self.listeners, listener]

    def remove_listener(self, listener: Callable[[Message], None]) -> None:
        with self.counts:
            self.listeners = [x for x in self.listeners if x != listener]  # bound methods: ==

    # ------------------------------------------------------------------- signals

    def _on_signal(self, msg: Message) -> None:
        for listener in self.listeners:  # a copy-on-write list: no lock needed here
            try:
                listener(msg)
            except Exception:  # a listener's bug must not stop the connection's reader
                continue
        iface = msg.interface
        if iface == PROPERTIES_INTERFACE and msg.member == "PropertiesChanged":
            entry = self.watched.get(msg.path or "")
            ours = self.owner is None or msg.sender == self.owner
            if entry is not None and ours and msg.signature.startswith("sa{sv}"):
                changed = unwrap(msg.body[1])
                entry.props.update(changed)
                entry.invalidated.update(msg.body[2])
                touched = entry.touched
                if touched is not None:  # newer than what a read under way will return
                    touched.update(changed)
                if "Result" in changed:
                    entry.result_generation = self.generation
                entry.changes += 1
        elif iface == MANAGER_INTERFACE:
            if self.owner is not None and msg.sender != self.owner:
                return  # someone else's signal with systemd's interface name
            member = msg.member
            if member == "JobRemoved":
                job_id, path, unit, result = msg.body
                removed = self.removed
                removed[path] = JobRemoved(job_id, path, unit, result)
                while len(removed) > REMOVED_KEEP:
                    removed.popitem(last=False)
                tickets = self.unwaited.get(path)
                if tickets:  # an unwaited job is over: its slot goes back to the budget
                    for ticket in tuple(tickets):
                        ticket.result = result
                        self.give_back(ticket)
            elif member == "Reloading":
                self.reloading = bool(msg.body[0])
                if not self.reloading:
                    self.generation += 1
            elif member == "UnitRemoved" and self.watched and not self.reloading:
                # During a reload every unit is removed and re-added: a watch reads its
                # unit again once the reload is over (RELIABILITY 21).
                entry = self.watched.get(msg.body[1])
                if entry is not None:
                    entry.removed = True
                    entry.removed_at = entry.changes
        elif iface == DBUS_IFACE and msg.member == "NameOwnerChanged":
            name, _old, new = msg.body
            if name == SYSTEMD_BUS_NAME:
                self.owner = new or None
                self.seen_manager = self.seen_manager or bool(new)
                self.generation += 1
