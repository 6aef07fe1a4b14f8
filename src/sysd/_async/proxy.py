"""A proxy for any D-Bus object, built from its introspection (``sd.proxy(dest, path)``).

``src/sysd/_sync/proxy.py`` is generated from this file by ``tools/unasync.py``.

::

    p = await sd.proxy("org.freedesktop.hostname1", "/org/freedesktop/hostname1")
    host = p.interface("org.freedesktop.hostname1")   # or p.hostname1, p["..."]
    await host.get("Hostname")                         # or host.get("hostname")
    await host.set_static_hostname("box", False)       # SetStaticHostname, checked first
    async with host.properties_changed() as changes:   # a match rule, held while inside
        async for signal in changes: ...

The object is introspected once per connection (``refresh=True`` asks again); every
call's arguments are checked and converted by the introspected signature *before*
anything is sent (:class:`~sysd.errors.InvalidCallError` names the argument); unknown
interfaces, methods and properties raise the same typed errors the peer would
(UnknownMethodError, UnknownPropertyError) without a round trip.  Replies come back
as sysd's calls return them: None, one value or a tuple, variants unwrapped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .._bus.wire import (
    DBUS_DEST,
    DBUS_IFACE,
    DBUS_PATH,
    DEFAULT,
    PROPERTIES_INTERFACE,
    Message,
    match_rule,
    unwrap,
)
from .._core.introspect import (
    InterfaceInfo,
    MethodInfo,
    NodeInfo,
    PropertyInfo,
    convert,
    convert_args,
    parse,
    snake_case,
)
from .._core.systemd1 import SYSTEMD_BUS_NAME
from .._interrupt import AsyncCriticalSection
from ..errors import (
    BusDisconnectedError,
    BusError,
    BusTimeoutError,
    DBusError,
    InvalidCallError,
    NoReplyError,
    PropertyReadOnlyError,
    UnknownMethodError,
    UnknownObjectError,
    UnknownPropertyError,
)
from .subscription import reconnect_option

if TYPE_CHECKING:
    from .._bus.aio import AsyncConnection
    from .systemd import AsyncSystemd

__all__ = [
    "AsyncInterfaceProxy",
    "AsyncMethod",
    "AsyncProxy",
    "AsyncSignals",
    "Signal",
    "proxy",
]

INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
SIGNALS_KEPT = 4096  # signals queued per iterator before the oldest are dropped


class Signal(NamedTuple):
    """One signal received: where it came from and its arguments (variants unwrapped)."""

    interface: str
    member: str
    path: str
    sender: str | None
    args: tuple[Any, ...]


async def proxy(
    sd: AsyncSystemd,
    destination: str | None,
    path: str,
    *,
    refresh: bool = False,
    timeout: float | None = DEFAULT,
) -> AsyncProxy:
    """Introspect ``destination``'s object at ``path`` (once per connection) and proxy it."""
    dest = destination if destination is not None else sd.destination
    if not sd.bus.target.hello and dest not in (None, SYSTEMD_BUS_NAME):
        raise InvalidCallError(
            f"this connection is systemd's private socket: it reaches systemd only, not {dest}",
            hint="connect(private=False) to talk to other services over the system bus",
        )
    if dest == SYSTEMD_BUS_NAME and not sd.bus.target.hello:
        dest = None  # no bus to route by name on the private socket
    key = (dest, path)
    cache: dict[tuple[str | None, str], NodeInfo] = sd._introspected
    node = None if refresh else cache.get(key)
    if node is None:
        xml: str = await sd.call(dest, path, INTROSPECTABLE, "Introspect", timeout=timeout)
        node = parse(xml)
        if not node.interfaces and not node.children:
            raise UnknownObjectError(
                f"{dest or 'the peer'} has no object at {path}",
                name="org.freedesktop.DBus.Error.UnknownObject",
                hint=f"list its objects with `sysd introspect {dest} /` or `busctl tree {dest}`",
            )
        cache[key] = node
    return AsyncProxy(sd, dest, path, node)


def _names(members: Mapping[str, Any]) -> str:
    names = sorted(members)
    text = ", ".join(names[:12])
    return text + (", ..." if len(names) > 12 else "") if names else "none"


class AsyncProxy:
    """An object of a D-Bus service, with its interfaces as :class:`AsyncInterfaceProxy`.

    ``proxy.interface(name)`` (also ``proxy[name]``) takes an interface's full name
    or its last part when that is unique (``"hostname1"``, ``"Manager"``);
    ``proxy.<last part in snake_case>`` is the same (``p.hostname1``, ``p.manager``).
    """

    def __init__(
        self, sd: AsyncSystemd, destination: str | None, path: str, node: NodeInfo
    ) -> None:
        self.sd = sd
        self.destination = destination
        self.path = path
        self.node = node

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.destination or '(peer)'} {self.path}"
            f" ({len(self.node.interfaces)} interfaces)>"
        )

    @property
    def interfaces(self) -> tuple[str, ...]:
        """The names of the object's interfaces."""
        return tuple(self.node.interfaces)

    @property
    def children(self) -> tuple[str, ...]:
        """The object paths of its child nodes."""
        base = self.path.rstrip("/")
        return tuple(f"{base}/{name}" for name in self.node.children)

    def interface(self, name: str) -> AsyncInterfaceProxy:
        """One interface by full name or a unique ending (``"login1.Manager"``,
        ``"Manager"``, ``"manager"``); UnknownMethodError if none or several."""
        info = self.node.interfaces.get(name)
        if info is None:
            found = [
                i
                for n, i in self.node.interfaces.items()
                if n.endswith("." + name) or snake_case(n.rpartition(".")[2]) == name
            ]
            if len(found) == 1:
                info = found[0]
            else:
                which = "several interfaces end in" if found else "no interface"
                raise UnknownMethodError(
                    f"{self.destination or 'the peer'} {self.path}: {which} {name!r}",
                    name="org.freedesktop.DBus.Error.UnknownInterface",
                    hint=f"its interfaces: {_names(self.node.interfaces)}",
                )
        return AsyncInterfaceProxy(self, info)

    def __getitem__(self, name: str) -> AsyncInterfaceProxy:
        return self.interface(name)

    def __getattr__(self, name: str) -> AsyncInterfaceProxy:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.interface(name)
        except UnknownMethodError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute or interface {name!r}"
                f" (interfaces: {_names(self.node.interfaces)})"
            ) from None

    def __dir__(self) -> list[str]:
        short = {snake_case(n.rpartition(".")[2]) for n in self.node.interfaces}
        return sorted(set(super().__dir__()) | short)

    async def child(self, name: str, *, refresh: bool = False) -> AsyncProxy:
        """The proxy of a child node (``name`` relative, or an absolute path)."""
        path = name if name.startswith("/") else f"{self.path.rstrip('/')}/{name}"
        return await proxy(self.sd, self.destination, path, refresh=refresh)

    def signals(
        self,
        interface: str | None = None,
        member: str | None = None,
        *,
        arg0: str | None = None,
        reconnect: bool | float = False,
    ) -> AsyncSignals:
        """Signals of this object (any interface, any member unless given): a context
        manager holding the match rule, iterated for :class:`Signal` values
        (``reconnect``: see :class:`AsyncSignals`)."""
        iface = self.node.interfaces.get(interface) if interface is not None else None
        known = iface.signal(member) if iface is not None and member is not None else None
        if known is not None:
            member = known.name  # a snake_case name given: the D-Bus name goes in the rule
        return AsyncSignals(
            self.sd, self.destination, self.path, interface, member, arg0, reconnect=reconnect
        )


class AsyncInterfaceProxy:
    """One interface of a proxied object: its methods as attributes (snake_case or
    D-Bus names), its properties through ``get``/``set``/``get_all``."""

    def __init__(self, owner: AsyncProxy, info: InterfaceInfo) -> None:
        self.proxy = owner
        self.info = info
        self.name = info.name

    def __repr__(self) -> str:
        i = self.info
        return (
            f"<{type(self).__name__} {self.name} at {self.proxy.path}: {len(i.methods)} methods,"
            f" {len(i.properties)} properties, {len(i.signals)} signals>"
        )

    def _where(self, member: str) -> str:
        return f"{self.name}.{member}"

    def method(self, name: str) -> AsyncMethod:
        """A method by D-Bus or snake_case name (UnknownMethodError if it has none)."""
        info = self.info.method(name)
        if info is None:
            raise UnknownMethodError(
                f"{self.proxy.destination or 'the peer'} {self.proxy.path}:"
                f" {self.name} has no method {name!r}",
                name="org.freedesktop.DBus.Error.UnknownMethod",
                hint=f"its methods: {_names(self.info.methods)}",
            )
        return AsyncMethod(self, info)

    def __getattr__(self, name: str) -> AsyncMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.method(name)
        except UnknownMethodError:
            raise AttributeError(
                f"{self.name} has no method {name!r} (methods: {_names(self.info.methods)};"
                " properties are read with .get(name))"
            ) from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {m.py_name for m in self.info.methods.values()})

    async def call(self, member: str, *args: Any, **kwargs: Any) -> Any:
        """Call a method by name (``call("SetHostname", "box", False)``); the keywords
        are those of :class:`AsyncMethod`."""
        return await self.method(member)(*args, **kwargs)

    def _property(self, name: str) -> PropertyInfo:
        info = self.info.property(name)
        if info is None:
            raise UnknownPropertyError(
                f"{self.proxy.destination or 'the peer'} {self.proxy.path}:"
                f" {self.name} has no property {name!r}",
                name="org.freedesktop.DBus.Error.UnknownProperty",
                hint=f"its properties: {_names(self.info.properties)}",
            )
        return info

    async def get(self, name: str, *, timeout: float | None = DEFAULT) -> Any:
        """A property's current value, by D-Bus or snake_case name."""
        info = self._property(name)
        return await self.proxy.sd.call(
            self.proxy.destination,
            self.proxy.path,
            PROPERTIES_INTERFACE,
            "Get",
            "ss",
            (self.name, info.name),
            timeout=timeout,
        )

    async def get_all(self, *, timeout: float | None = DEFAULT) -> dict[str, Any]:
        """Every property of the interface, by D-Bus name (one GetAll)."""
        values: dict[str, Any] = await self.proxy.sd.call(
            self.proxy.destination,
            self.proxy.path,
            PROPERTIES_INTERFACE,
            "GetAll",
            "s",
            (self.name,),
            timeout=timeout,
        )
        return values

    async def set(
        self,
        name: str,
        value: Any,
        *,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
    ) -> None:
        """Set a writable property; the value is checked against its type first."""
        from .._bus.codec import Variant

        info = self._property(name)
        if not info.writable:
            raise PropertyReadOnlyError(
                f"{self.name}.{info.name} is read-only",
                name="org.freedesktop.DBus.Error.PropertyReadOnly",
                hint="look for a method that changes it"
                + (
                    f" ({', '.join(_setters(self.info, info.name))})"
                    if _setters(self.info, info.name)
                    else ""
                ),
            )
        converted = convert(info.signature, value, f"property {self._where(info.name)}")
        await self.proxy.sd.call(
            self.proxy.destination,
            self.proxy.path,
            PROPERTIES_INTERFACE,
            "Set",
            "ssv",
            (self.name, info.name, Variant(info.signature, converted)),
            timeout=timeout,
            interactive=interactive,
        )

    def signals(
        self, member: str | None = None, *, reconnect: bool | float = False
    ) -> AsyncSignals:
        """This interface's signals (one, by D-Bus or snake_case name, or all of them;
        ``reconnect``: see :class:`AsyncSignals`)."""
        name = None
        if member is not None:
            sig = self.info.signal(member)
            if sig is None:
                raise UnknownMethodError(
                    f"{self.name} has no signal {member!r}",
                    name="org.freedesktop.DBus.Error.UnknownMethod",
                    hint=f"its signals: {_names(self.info.signals)}",
                )
            name = sig.name
        p = self.proxy
        return AsyncSignals(p.sd, p.destination, p.path, self.name, name, None, reconnect=reconnect)

    def properties_changed(self, *, reconnect: bool | float = False) -> AsyncSignals:
        """PropertiesChanged of this interface: ``args`` is (interface, changed, invalidated)
        (``reconnect``: see :class:`AsyncSignals`)."""
        p = self.proxy
        return AsyncSignals(
            p.sd,
            p.destination,
            p.path,
            PROPERTIES_INTERFACE,
            "PropertiesChanged",
            self.name,
            reconnect=reconnect,
        )


def _setters(iface: InterfaceInfo, prop: str) -> list[str]:
    return [m.py_name for m in iface.methods.values() if m.name == f"Set{prop}"]


class AsyncMethod:
    """A method of a proxied interface: call it with Python values, positionally or by
    argument name (D-Bus or snake_case).

    ``timeout=`` and ``interactive=`` (let polkit ask) are the call's options, unless
    the method has an argument of that name (hostnamed's, timedated's and logind's
    methods take an ``interactive`` argument): then the keyword is the argument, and
    ``method.options(timeout=..., interactive=...)`` sets the options.
    """

    def __init__(
        self,
        iface: AsyncInterfaceProxy,
        info: MethodInfo,
        timeout: float | None = DEFAULT,
        interactive: bool | None = None,
    ) -> None:
        self.interface = iface
        self.info = info
        self.name = info.name
        self._timeout = timeout
        self._interactive = interactive

    def __repr__(self) -> str:
        ins = ", ".join(f"{a.py_name or '_'}: {a.signature}" for a in self.info.in_args)
        out = self.info.out_signature
        return f"<{type(self).__name__} {self.interface.name}.{self.name}({ins}) -> {out!r}>"

    def options(
        self, *, timeout: float | None = DEFAULT, interactive: bool | None = None
    ) -> AsyncMethod:
        """The same method with the call's deadline and polkit interactivity set."""
        return type(self)(self.interface, self.info, timeout, interactive)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        info = self.info
        timeout, interactive = self._timeout, self._interactive
        if kwargs:
            names = {a.name for a in info.in_args} | {a.py_name for a in info.in_args}
            if "timeout" in kwargs and "timeout" not in names:
                timeout = kwargs.pop("timeout")
            if "interactive" in kwargs and "interactive" not in names:
                interactive = kwargs.pop("interactive")
        where = f"{self.interface.name}.{info.name}"
        values = convert_args(info.in_args, args, kwargs, where)
        p = self.interface.proxy
        return await p.sd.call(
            p.destination,
            p.path,
            self.interface.name,
            info.name,
            info.in_signature,
            values,
            timeout=timeout,
            interactive=interactive,
        )


class AsyncSignals:
    """A stream of signals with its match rule: a context manager, then an iterator.

    ``async with`` adds the match rule (and one following the sender's owner, so that
    only the service's own signals come through) and removes them on the way out, on
    every path (error, cancellation, Ctrl-C).  Inside, ``async for signal in it`` or
    ``await it.next(timeout)`` gives :class:`Signal` values in arrival order; at most
    ``SIGNALS_KEPT`` wait unread (``dropped`` counts those lost beyond that).

    A lost connection (dbus-daemon restarted, systemd's private socket closed by a
    reexec, an ssh link broken) raises :class:`~sysd.errors.BusDisconnectedError` from
    ``next()``, after the signals that came before it.  With ``reconnect=True`` (or a
    number of seconds; True is 60) the stream instead waits for the connection's one
    reconnect (shared with every waiter and stream of the connection), adds its match
    rules on the new connection and goes on; ``reconnects`` counts these gaps.  Signals
    sent while no connection was up are not seen, which is why it is not the default: a
    stream that must not miss one ends with the error, and its user reads the state again.
    """

    def __init__(
        self,
        sd: AsyncSystemd,
        destination: str | None,
        path: str | None,
        interface: str | None,
        member: str | None,
        arg0: str | None,
        *,
        reconnect: bool | float = False,
    ) -> None:
        self.reconnect, self.reconnect_limit = reconnect_option(reconnect, InvalidCallError)
        self.reconnects = 0
        self.sd = sd
        self.destination = destination
        self.path = path
        self.interface = interface
        self.member = member
        self.arg0 = arg0
        self.dropped = 0
        self._queue: deque[Signal] = deque()
        self._bus: AsyncConnection | None = None
        self._rules: list[str] = []  # added (or possibly added): removed on the way out
        self._owner: str | None = None
        self._entered = False  # between entering and leaving the ``with``
        self._gone: float | None = None  # when its connection was lost (not yet regained)
        self._lost: BaseException | None = None  # why regaining it failed: the stream ended
        self._follow_owner = destination is not None and not destination.startswith(":")
        if destination is not None and destination.startswith(":"):
            self._owner = destination

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        what = ".".join(x for x in (self.interface, self.member) if x) or "any signal"
        return f"<{type(self).__name__} {what} from {self.destination} {self.path} ({state})>"

    @property
    def rule(self) -> str:
        """The match rule this stream adds."""
        return match_rule(
            sender=self.destination,
            path=self.path,
            interface=self.interface,
            member=self.member,
            arg0=self.arg0,
        )

    @property
    def active(self) -> bool:
        """Entered and not left (also while its connection is being regained)."""
        return self._entered

    async def __aenter__(self) -> AsyncSignals:
        if self.active:
            raise InvalidCallError("this signal stream is already active (enter it once)")
        self._queue.clear()  # entered again: what an earlier use left unread is stale
        self.dropped = self.reconnects = 0
        self._gone = self._lost = None
        try:
            with AsyncCriticalSection():
                self._entered = True
            await self._set_up(self.sd.bus)
        except BaseException:
            self._entered = False
            raise
        return self

    async def _set_up(self, bus: AsyncConnection) -> None:
        """The handler, the match rules and the owner on ``bus``; undone if cut short."""
        with AsyncCriticalSection():  # the marker and the handler together (Ctrl-C)
            self._bus = bus
            bus.add_signal_handler(self._on_signal)
        try:
            if bus.target.hello:
                rules = [self.rule]
                if self._follow_owner:
                    rules.append(
                        match_rule(
                            sender=DBUS_DEST,
                            path=DBUS_PATH,
                            interface=DBUS_IFACE,
                            member="NameOwnerChanged",
                            arg0=self.destination,
                        )
                    )
                for rule in rules:
                    # noted before the call: a call cut short may still have reached the bus
                    self._rules.append(rule)
                    await bus.call(DBUS_DEST, DBUS_PATH, DBUS_IFACE, "AddMatch", "s", (rule,))
                if self._follow_owner:
                    try:
                        self._owner = await bus.call(
                            DBUS_DEST,
                            DBUS_PATH,
                            DBUS_IFACE,
                            "GetNameOwner",
                            "s",
                            (self.destination,),
                        )
                    except DBusError:  # not running (yet): its NameOwnerChanged will say
                        self._owner = None
        except BaseException:
            await self._tear_down(leave=False)
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self._tear_down()

    async def aclose(self) -> None:
        """Remove the match rule (what leaving the ``with`` block does)."""
        await self._tear_down()

    async def _tear_down(self, *, leave: bool = True) -> None:
        """Undo the setup, every step even when interrupted (raised once done); with
        ``leave`` the stream is left too (else: a setup cut short, to be done again).

        One critical section: in blocking code a Ctrl-C meanwhile is raised once every
        rule is removed; in asyncio a cancellation is finished first, then raised."""
        with AsyncCriticalSection():
            bus, self._bus = self._bus, None
            if leave:
                self._entered = False
                self._gone = None  # left while regaining: the lost connection took its rules
            if bus is None:
                return
            bus.remove_signal_handler(self._on_signal)
            rules, self._rules = self._rules, []
            interrupted: BaseException | None = None
            for rule in rules:
                # an interrupted RemoveMatch may not have been sent: send it again (a
                # second one only gets "no such rule" back)
                for _attempt in range(3):
                    if bus.closed:
                        break
                    try:
                        await bus.call(
                            DBUS_DEST, DBUS_PATH, DBUS_IFACE, "RemoveMatch", "s", (rule,)
                        )
                    except (DBusError, BusError):
                        break
                    except BaseException as exc:  # cancelled: finish the undo first
                        if interrupted is None:
                            interrupted = exc
                        continue
                    break
            if interrupted is not None:
                raise interrupted

    def _on_signal(self, msg: Message) -> None:
        if (
            self._follow_owner
            and msg.member == "NameOwnerChanged"
            and msg.interface == DBUS_IFACE
            and msg.path == DBUS_PATH
            and msg.body
            and msg.body[0] == self.destination
        ):
            self._owner = msg.body[2] or None
            if not (self.interface == DBUS_IFACE and self.member == "NameOwnerChanged"):
                return
        if self.path is not None and msg.path != self.path:
            return
        if self.interface is not None and msg.interface != self.interface:
            return
        if self.member is not None and msg.member != self.member:
            return
        if self.arg0 is not None and (not msg.body or msg.body[0] != self.arg0):
            return
        if self.destination is not None and msg.sender != self._owner:
            return  # another peer's signal with the same names
        if len(self._queue) >= SIGNALS_KEPT:
            self._queue.popleft()
            self.dropped += 1
        body = tuple(unwrap(v) for v in msg.body)
        self._queue.append(
            Signal(msg.interface or "", msg.member or "", msg.path or "", msg.sender, body)
        )

    async def next(self, timeout: float | None = None) -> Signal:
        """The next signal; BusTimeoutError when none arrived within ``timeout`` seconds."""
        queue = self._queue
        if queue:
            return queue.popleft()
        if self._lost is not None:
            raise BusDisconnectedError(
                f"the signal stream's connection was lost and not regained: {self._lost}"
            ) from self._lost
        if not self._entered:
            raise InvalidCallError(
                "enter the signal stream first (`with proxy.signals(...) as stream:`)"
            )
        deadline = None if timeout is None else time.monotonic() + timeout
        while not queue:
            bus = self._bus
            if bus is None:  # lost before, and a reconnect was cut short (timeout, cancel)
                await self._resume(deadline)
                continue
            try:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                await bus.wait_until(lambda: bool(queue), left)
            except BusDisconnectedError:
                if not self.reconnect:
                    raise
            if queue:
                break
            if bus.closed:
                if not self.reconnect:
                    raise BusDisconnectedError("the connection was lost while waiting for signals")
                self._forget(bus)
                continue
            if deadline is not None and time.monotonic() >= deadline:
                raise BusTimeoutError(f"no signal {self._what()} within {timeout:g} s")
        return queue.popleft()

    def _forget(self, lost: AsyncConnection) -> None:
        """``lost`` closed, and its match rules with it: nothing of it to undo."""
        with AsyncCriticalSection():  # its handler and the marker, together (Ctrl-C)
            lost.remove_signal_handler(self._on_signal)
            self._bus, self._rules = None, []
            self._gone = time.monotonic()

    async def _resume(self, deadline: float | None) -> None:
        """The connection's reconnect (one for all its waiters and streams), then this
        stream's setup on the new connection (again if that one drops meanwhile).  Its
        error ends the stream once the ``reconnect`` bound has passed; a ``deadline``
        that comes first is a timeout of this ``next()``, and the next one goes on
        trying, as it does after a cancellation or a refused setup."""
        gone = self._gone
        assert gone is not None
        limit = gone + self.reconnect_limit
        while True:
            try:
                await self.sd._subscription.reconnect(
                    limit if deadline is None else min(deadline, limit)
                )
            except BusDisconnectedError as exc:
                if deadline is not None and deadline < limit and not self.sd._closed:
                    raise BusTimeoutError(
                        f"no signal {self._what()} in time: the connection is still being regained"
                    ) from exc
                self._lost = exc
                raise
            bus = self.sd.bus
            try:
                await self._set_up(bus)  # undone by itself when cut short (still gone)
            except (BusDisconnectedError, NoReplyError):
                if bus.closed:
                    continue  # that connection dropped too: the next reconnect
                raise
            self._gone = None
            self.reconnects += 1
            return

    def _what(self) -> str:
        what = ".".join(x for x in (self.interface, self.member) if x) or "at all"
        return f"{what} from {self.destination or 'the peer'} {self.path or ''}".rstrip()

    def pending(self) -> list[Signal]:
        """The signals received and not read yet (taken out of the stream)."""
        out = list(self._queue)
        self._queue.clear()
        return out

    def __aiter__(self) -> AsyncSignals:
        return self

    async def __anext__(self) -> Signal:
        return await self.next()
