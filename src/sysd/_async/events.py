"""A stream of systemd's events, on the connection's one subscription.

``sd.events()`` holds ``sd._subscription`` (reference counted, ``async with``)
and listens to every signal it hears (``add_listener``).  The listener runs on
the connection's reader: it filters first (by object path, then by unit name),
turns what passes into typed events and puts them in a bounded coalescing
queue (``_core/events.py``); it never blocks, never calls the bus.  What needs
a call is done by the consumer, in ``get()``:

* after a daemon-reload, the units removed during the reload are read again:
  only those still gone (``not-found``) are reported removed (RELIABILITY 21);
  then every unit the stream tracks is read again, as after a reconnect (a
  reload re-creates every unit from its serialization: what differs from the
  state last reported comes as a UnitChanged), then ``Resynced``;
* after the connection or systemd's bus name was lost (daemon-reexec on the
  private socket, dbus-daemon restarted, a dropped link), the subscription
  reconnects (one reconnect per connection, with backoff, for at most
  ``reconnect`` seconds: 60 when True), then every unit the stream tracks is read
  again: a UnitChanged for each whose state differs from the one last reported,
  then ``Resynced``.  ``reconnect=False``: a typed BusDisconnectedError instead.

``unit.wait_for()`` and ``sd.wait_for_units()`` are streams too: the match is
in place before the state is first read, so no transition falls between.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._bus.wire import DBUS_IFACE, Message, unwrap
from .._core import unitname
from .._core.events import (
    ACTIVE_STATES,
    INACTIVE,
    Event,
    EventFilter,
    EventQueue,
    JobNew,
    JobRemoved,
    Overflow,
    Reexecuted,
    Reloading,
    Resynced,
    StartupFinished,
    UnitChanged,
    UnitFilesChanged,
    UnitNew,
    UnitRemoved,
    UnitStates,
    startup_finished,
)
from .._core.jobs import type_interface
from .._core.systemd1 import MANAGER_INTERFACE, SYSTEMD_BUS_NAME, UNIT_INTERFACE
from .._interrupt import AsyncCriticalSection
from ..errors import (
    BusDisconnectedError,
    DBusError,
    InvalidEventFilterError,
    InvalidUnitNameError,
    WaitTimeoutError,
)
from .subscription import GONE, reconnect_option

if TYPE_CHECKING:
    from .subscription import AsyncSubscription
    from .systemd import AsyncSystemd

__all__ = ["AsyncEvents", "wait_for", "wait_for_units"]

_NAMES_MAX = 65536  # object path -> unit name cache entries (cleared beyond)


class AsyncEvents:
    """Typed events from one manager: ``async with sd.events(...) as stream:`` then
    ``async for event in stream`` (or ``await stream.get(timeout)``).

    Arguments are checked when the stream is made, before anything is sent.
    ``queue``: at most this many undelivered events (see :class:`Overflow`).
    ``reconnect``: resume by itself after a lost connection or a reexec (with
    ``Resynced``), trying for up to 60 s (True) or this many seconds (a number);
    False raises BusDisconnectedError instead.
    """

    def __init__(
        self,
        sd: AsyncSystemd,
        units: Iterable[str] | str | None = None,
        patterns: Iterable[str] | str | None = None,
        types: Iterable[str] | str | None = None,
        kinds: Iterable[type[Event] | str] | type[Event] | str | None = None,
        queue: int = 1024,
        reconnect: bool | float = True,
    ) -> None:
        self.sd = sd
        self.filter = EventFilter(units, patterns, types, kinds)
        self.queue = EventQueue(queue)
        self.reconnect, self.reconnect_limit = reconnect_option(reconnect, InvalidEventFilterError)
        self.states = UnitStates()
        self._changes = self.filter.wants(UnitChanged)
        self._names: dict[str, str] = {}
        self._held = False
        self._reconnects = 0
        self._lost = False  # systemd's bus name changed hands, or the connection dropped
        self._reexec = False  # ... because systemd re-executed
        self._left_on: object = None  # the connection systemd was seen leaving the bus on
        # where the listener puts events: the queue, or while the stream resyncs a second
        # queue handed over after Resynced (what the gap changed is reported first)
        self._sink = self.queue
        self._reloading = False
        self._reload_new: list[str] = []  # UnitNew during the reload, in order
        self._reload_removed: set[str] = set()
        self._settle: set[str] = set()  # removed during a reload: still gone afterwards?
        self._reloaded = False  # a reload ended: read the tracked units again (Resynced)
        self._reload_sender: str | None = None  # who said Reloading(true)

    def __repr__(self) -> str:
        state = "open" if self._held else "closed"
        return f"<{type(self).__name__} {self.filter!r} ({state}, {len(self.queue)} queued)>"

    @property
    def _sub(self) -> AsyncSubscription:
        return self.sd._subscription

    # --------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> AsyncEvents:
        if self._held:
            raise RuntimeError("this event stream is already open")
        sub = self._sub
        try:
            # the listener first (nothing the subscription hears from now on is missed);
            # the listener, the holder count and the marker __aexit__ reads go together:
            # a Ctrl-C in between waits for the end of the block (blocking flavour)
            with AsyncCriticalSection():
                sub.add_listener(self._on_signal)
                sub.hold()
                self._held = True
            await sub.set_up()
            self._reconnects = sub.reconnects
            if self._changes:
                await self._read_states(seed=True)
        except BaseException:  # cancelled or Ctrl-C too: undo what was done, then raise
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Leave (nothing when not entered: the undo path calls it on any path)."""
        with AsyncCriticalSection():  # the whole undo: a Ctrl-C meanwhile comes after it
            if not self._held:
                return
            self._held = False
            sub = self._sub
            try:
                sub.remove_listener(self._on_signal)
            finally:
                await sub.release()

    async def aclose(self) -> None:
        await self.__aexit__(None, None, None)

    def __aiter__(self) -> AsyncEvents:
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    # --------------------------------------------------------------- consuming

    async def get(self, timeout: float | None = None) -> Event:
        """The next event; WaitTimeoutError when none came within ``timeout`` seconds."""
        if not self._held:
            raise RuntimeError("use the event stream as a context manager first")
        deadline = None if timeout is None else time.monotonic() + timeout
        queue = self.queue
        while True:
            if queue:
                return queue.get()
            sub = self._sub
            if self._lost or sub.reconnects != self._reconnects or self.sd.bus.closed:
                await self._recover(deadline)
                continue
            if self._settle and not self._reloading:
                await self._settle_removed()
                continue
            if self._reloaded and not self._reloading:
                self._reloaded = False
                await self._resync(reexec=False)
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeoutError(f"no event within {timeout} s")
            try:
                await self.sd.bus.wait_until(self._ready, left)
            except BusDisconnectedError:
                self._lost = True

    def _ready(self) -> bool:
        return (
            bool(self.queue)
            or self._lost
            or ((bool(self._settle) or self._reloaded) and not self._reloading)
            or self._sub.reconnects != self._reconnects
            or self.sd.bus.closed
        )

    def snapshot(self, unit: str) -> UnitChanged | None:
        """The unit's state as last known to the stream (``changed`` empty), or None."""
        return self.states.snapshot(unit)

    async def refresh(self, unit: str) -> UnitChanged | None:
        """Read the unit's state now (Unit and type interface); returns it as a snapshot.

        A difference from what was last reported is not queued: the caller has it."""
        path = unitname.to_dbus_path(unit)
        try:
            props = await self.sd.get_all(path, UNIT_INTERFACE)
            iface = type_interface(unit)
            if iface is not None and props.get("LoadState") == "loaded":
                self.states.note_result(unit, await self.sd.get_all(path, iface))
        except GONE:
            raise
        except DBusError:
            return self.states.snapshot(unit)
        self.states.update(unit, props)
        return self.states.snapshot(unit)

    # ------------------------------------------------------- reading the states

    async def _rows(self, extra: Iterable[str] = ()) -> dict[str, tuple[str, str, str]]:
        """(active, sub, load) of the loaded units the filter covers and of ``extra``.

        Listed by pattern, which loads nothing (by name would load every unit named
        and systemd would collect it again: UnitNew/UnitRemoved for nothing).  Units
        named but not loaded are absent, unless last seen in another state than
        inactive: those are asked for by name (their true load state).
        """
        f = self.filter
        call = self.sd.manager_call
        extra = set(extra)
        if f.patterns is None and f.units is None:
            rows = await call("ListUnits")
        else:
            wanted = sorted({*(f.patterns or ()), *(f.units or ()), *extra})
            rows = await call("ListUnitsByPatterns", "asas", ([], wanted))
        states = {r[0]: (r[3], r[4], r[2]) for r in rows if f.wants_unit(r[0])}
        missing = []
        for name in sorted((f.units or set()) | extra):
            old = self.states.known(name)
            if name not in states and old and (old["active_state"], old["sub_state"]) != INACTIVE:
                missing.append(name)
        if missing:
            rows = await call("ListUnitsByNames", "as", (missing,))
            states.update({r[0]: (r[3], r[4], r[2]) for r in rows})
        return states

    async def _read_states(self, *, seed: bool) -> list[str]:
        """Read every unit covered (and tracked); on resync, queue a UnitChanged for each
        that differs from what was last reported.  Returns those units."""
        states = self.states
        rows = await self._rows(() if seed else list(states.last))
        if seed:
            for name, (active, sub, load) in rows.items():
                states.seed(name, active, sub, load)
            return []
        changed: list[str] = []
        for name, (active, sub, load) in rows.items():
            old = states.known(name)
            if old is None and (active, sub) == INACTIVE:
                states.seed(name, active, sub, load)  # never seen, nothing happening
                continue
            if old is not None and (old["active_state"], old["sub_state"]) == (active, sub):
                continue
            props: Mapping[str, Any] = {"ActiveState": active, "SubState": sub, "LoadState": load}
            if load == "loaded":  # the details (Result, InvocationID, timestamp) too
                try:
                    path = unitname.to_dbus_path(name)
                    props = await self.sd.get_all(path, UNIT_INTERFACE)
                    iface = type_interface(name)
                    if iface is not None:
                        states.note_result(name, await self.sd.get_all(path, iface))
                except GONE:
                    raise
                except DBusError:
                    pass  # gone meanwhile: the listing says enough
            event = states.update(name, props)
            if event is not None:
                self.queue.put(event)
                changed.append(name)
        return changed

    async def _recover(self, deadline: float | None) -> None:
        """Reconnect (or wait for systemd to be back), then resync."""
        if not self.reconnect:
            raise BusDisconnectedError(
                "the event stream lost systemd (connection dropped, reexec or bus restart)",
                hint="events(reconnect=True) resumes by itself and reports Resynced",
            )
        # a reexec: systemd's name changed hands on a live bus connection, or the
        # connection dropped between Reloading(true) and (false), or a direct connection
        # (the private socket: systemd closes it on reexec, its Reloading(true) may
        # never be flushed) dropped.  A bus connection lost is dbus-daemon or the link.
        reexec = self._reexec or self._reloading or not self.sd.bus.target.hello
        self._lost = self._reexec = False
        limit = time.monotonic() + self.reconnect_limit
        await self._resync(
            reexec=reexec, reconnect_by=limit if deadline is None else min(deadline, limit)
        )

    async def _resync(self, *, reexec: bool, reconnect_by: float | None = None) -> None:
        """Read every tracked unit again: a UnitChanged for each that differs from what
        was last reported, then Resynced (after Reexecuted, for a reexec); with
        ``reconnect_by``, reconnect first (by that deadline).  What the listener hears
        meanwhile, from the reconnect on, is held back and comes after them."""
        later = self._sink = EventQueue(self.queue.maxsize)
        try:
            if reconnect_by is not None:
                sub = self._sub
                try:
                    await sub.reconnect(reconnect_by)
                finally:
                    self._reconnects = sub.reconnects
                if self._reloading:
                    self._reloading = False
                    self._reload_end(reexec=True)
            if reexec and self.filter.wants(Reexecuted):
                self.queue.put(Reexecuted())
            try:
                changed = await self._read_states(seed=False) if self._changes else []
            except GONE:
                self._lost = True  # away again: reconnect and read once more
                return
            self.queue.put(Resynced(frozenset(changed)))
        finally:
            self._sink = self.queue
            while later:  # what was heard meanwhile, after what the gap changed
                event = later.get()
                if isinstance(event, Overflow):
                    self.queue.dropped += event.dropped
                else:
                    self.queue.put(event)

    async def _settle_removed(self) -> None:
        """Units a reload removed and did not add back: gone for good if no longer loaded
        (listed by pattern: asking by name would load them again)."""
        names, self._settle = sorted(self._settle), set()
        try:
            rows = await self.sd.manager_call("ListUnitsByPatterns", "asas", ([], names))
        except GONE:
            self._settle.update(names)
            self._lost = True
            return
        loaded = {r[0] for r in rows if r[2] not in ("not-found", "stub", "")}
        wanted = self.filter.wants(UnitRemoved)
        for name in names:
            if name not in loaded:
                self.states.remove(name)
                if wanted:
                    self.queue.put(UnitRemoved(name))

    # ----------------------------------------------------------------- signals

    def _name(self, path: str) -> str:
        name = self._names.get(path)
        if name is None:
            if len(self._names) >= _NAMES_MAX:
                self._names.clear()
            name = self._names[path] = unitname.from_dbus_path(path)
        return name

    def _on_signal(self, msg: Message) -> None:
        """Every signal the subscription hears: filter, convert, queue (never blocks)."""
        member = msg.member
        if member == "PropertiesChanged":
            if not self._changes:
                return
            path = msg.path or ""
            quick = self.filter.wants_path(path)
            if quick is False or not path.startswith("/org/freedesktop/systemd1/unit/"):
                return
            owner = self._sub.owner
            if owner is not None and msg.sender != owner:
                return
            name = self._name(path)
            if quick is None and not self.filter.wants_unit(name):
                return
            body = msg.body
            if body[0] == UNIT_INTERFACE:
                event = self.states.update(name, unwrap(body[1]))
                if event is not None:
                    self._sink.put(event)
            else:  # the type's interface comes first: its Result goes with the next one
                self.states.note_result(name, unwrap(body[1]))
            return
        iface = msg.interface
        if iface == MANAGER_INTERFACE:
            owner = self._sub.owner
            if owner is not None and msg.sender != owner:
                return
            self._on_manager(member or "", msg.body, msg.sender)
        elif iface == DBUS_IFACE and member == "NameOwnerChanged":
            name, old, new = msg.body
            if name != SYSTEMD_BUS_NAME:
                return
            bus = self.sd.bus
            if old and new:  # handed over at once: a new systemd process took it
                self._lost = self._reexec = True
            elif old:  # systemd left the bus: a reexec, or dbus-daemon going away
                self._lost = True
                self._left_on = bus
            elif new and self._left_on is bus:  # back on the same connection: re-executed
                self._lost = self._reexec = True

    def _on_manager(self, member: str, body: Any, sender: str | None = None) -> None:
        f = self.filter
        put = self._sink.put
        if member == "JobRemoved":
            if f.wants(JobRemoved) and f.wants_unit(body[2]):
                put(JobRemoved(body[0], body[2], body[3]))
        elif member == "JobNew":
            if f.wants(JobNew) and f.wants_unit(body[2]):
                put(JobNew(body[0], body[2]))
        elif member == "UnitNew":
            if self._reloading:
                self._reload_new.append(body[0])
            elif f.wants(UnitNew) and f.wants_unit(body[0]):
                put(UnitNew(body[0]))
        elif member == "UnitRemoved":
            unit = body[0]
            if self._reloading:  # removed and re-added by the reload: decided after it
                self._reload_removed.add(unit)
            elif f.wants_unit(unit):
                self.states.remove(unit)
                if f.wants(UnitRemoved):
                    put(UnitRemoved(unit))
        elif member == "Reloading":
            active = bool(body[0])
            if active:
                self._reloading = True
                self._reload_sender = sender
            elif self._reloading:
                self._reloading = False
                if sender != self._reload_sender:
                    # the end of a reexec (the new process says it): recovered as one
                    self._reload_end(reexec=True)
                    self._lost = self._reexec = True
                else:
                    self._reload_end(reexec=False)
                    self._reloaded = True  # read the units again in get()
            if f.wants(Reloading):
                put(Reloading(active))
        elif member == "UnitFilesChanged":
            if f.wants(UnitFilesChanged):
                put(UnitFilesChanged())
        elif member == "StartupFinished" and f.wants(StartupFinished):
            put(startup_finished(body))

    def _reload_end(self, *, reexec: bool) -> None:
        """A reload (or reexec) is over: units it added are new, units it removed and
        did not add back are read again (``_settle_removed``) before counting as removed."""
        f = self.filter
        new, removed = self._reload_new, self._reload_removed
        self._reload_new, self._reload_removed = [], set()
        if f.wants(UnitNew) and not reexec:
            for unit in new:
                if unit not in removed and f.wants_unit(unit):
                    self._sink.put(UnitNew(unit))
        self._settle.update(u for u in removed - set(new) if f.wants_unit(u))


# ------------------------------------------------------------------- waiting


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0
    ):
        raise InvalidEventFilterError(f"timeout must be seconds >= 0 or None, not {timeout!r}")


def _check_state(state: object, what: str = "state") -> None:
    if state is not None and state not in ACTIVE_STATES:
        raise InvalidEventFilterError(
            f"unknown {what} {state!r}", hint="one of " + ", ".join(ACTIVE_STATES)
        )


async def wait_for(
    sd: AsyncSystemd,
    name: str,
    active_state: str | None,
    sub_state: str | None,
    predicate: Callable[[UnitChanged], bool] | None,
    timeout: float | None,
) -> UnitChanged:
    """``unit.wait_for()``: see there."""
    _check_state(active_state, "active_state")
    if sub_state is not None and (not isinstance(sub_state, str) or not sub_state):
        raise InvalidEventFilterError(f"sub_state must be a non-empty str, not {sub_state!r}")
    if predicate is not None and not callable(predicate):
        raise InvalidEventFilterError(f"predicate must be callable, not {predicate!r}")
    if active_state is None and sub_state is None and predicate is None:
        raise InvalidEventFilterError("wait_for() needs active_state=, sub_state= or predicate=")
    _check_timeout(timeout)

    def ok(ev: UnitChanged | None) -> bool:
        return (
            ev is not None
            and (active_state is None or ev.active_state == active_state)
            and (sub_state is None or ev.sub_state == sub_state)
            and (predicate is None or predicate(ev))
        )

    deadline = None if timeout is None else time.monotonic() + timeout
    stream = AsyncEvents(sd, [name], None, None, (UnitChanged,), 4096, True)
    async with stream:
        current = await stream.refresh(name)  # the match is in place: nothing falls between
        if current is not None and ok(current):
            return current
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                event = await stream.get(left)
            except WaitTimeoutError:
                raise WaitTimeoutError(
                    f"{name} did not reach the awaited state within {timeout} s"
                ) from None
            if isinstance(event, UnitChanged) and event.unit == name and ok(event):
                return event


async def wait_for_units(
    sd: AsyncSystemd, names: Iterable[str] | str, state: str, timeout: float | None
) -> dict[str, UnitChanged]:
    """``sd.wait_for_units()``: each unit settles at ``state`` or at ``failed``."""
    units = [names] if isinstance(names, str) else list(names)
    if not units:
        raise InvalidEventFilterError("wait_for_units() needs at least one unit name")
    for unit in units:
        if not isinstance(unit, str) or not unitname.is_valid(unit):
            raise InvalidUnitNameError(
                f"invalid unit name {unit!r}", hint="give full unit names (foo.service)"
            )
    if state is None:
        raise InvalidEventFilterError("state must be an ActiveState such as 'active'")
    _check_state(state)
    _check_timeout(timeout)

    def settled(ev: UnitChanged | None) -> bool:
        return ev is not None and ev.active_state in (state, "failed")

    deadline = None if timeout is None else time.monotonic() + timeout
    done: dict[str, UnitChanged] = {}
    queue = max(1024, 8 * len(units))
    async with AsyncEvents(sd, units, None, None, (UnitChanged,), queue, True) as stream:
        for unit in units:  # read after the match is in place: race-free
            snap = stream.snapshot(unit)
            if snap is None and state == "inactive":
                # not loaded: inactive, as systemctl says (read, to return its state)
                snap = await stream.refresh(unit)
            elif snap is not None and settled(snap):
                # settled already: the listing gave the states only; read the unit for
                # the rest (Result, InvocationID, timestamp) as an event would carry it
                snap = await stream.refresh(unit) or snap
            if snap is not None and settled(snap):
                done[unit] = snap
        while len(done) < len(set(units)):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                event = await stream.get(left)
            except WaitTimeoutError:
                waiting = sorted(set(units) - set(done))
                raise WaitTimeoutError(
                    f"{', '.join(waiting)} did not reach {state} within {timeout} s"
                ) from None
            if isinstance(event, UnitChanged) and event.unit not in done and settled(event):
                done[event.unit] = event
    return {unit: done[unit] for unit in units}
