"""The systemd manager connection: the source of truth for both flavours.

``src/sysd/_sync/systemd.py`` is generated from this file by
``tools/unasync.py`` (CI checks it is up to date): write async code here, never
edit the generated twin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from .._bus.address import Target, resolve
from .._bus.aio import AsyncConnection
from .._bus.wire import DEFAULT, Variant

__all__ = [
    "MANAGER_INTERFACE",
    "MANAGER_PATH",
    "PROPERTIES_INTERFACE",
    "SYSTEMD_BUS_NAME",
    "AsyncSystemd",
    "connect",
]

SYSTEMD_BUS_NAME = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_INTERFACE = "org.freedesktop.systemd1.Manager"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"


class AsyncSystemd:
    """A connection to one systemd manager (system or user, local or remote).

    Get one from :func:`connect`; close it with ``aclose()`` or use it as a
    context manager.  ``bus`` is the underlying D-Bus connection.
    """

    def __init__(self, bus: AsyncConnection) -> None:
        self.bus = bus
        # systemd's bus name; on the private socket there is no bus to route by name.
        self.destination: str | None = SYSTEMD_BUS_NAME if bus.target.hello else None

    @property
    def target(self) -> Target:
        return self.bus.target

    def __repr__(self) -> str:
        state = "closed" if self.bus.closed else "open"
        return f"<{type(self).__name__} {self.bus.target.description} ({state})>"

    # ------------------------------------------------------------------ generic

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
        """Call any D-Bus method; returns None, the single value, or a tuple.

        ``destination`` None means systemd itself.  Variants come back as
        their values; error replies raise the typed :class:`sysd.DBusError`.
        """
        return await self.bus.call(
            destination if destination is not None else self.destination,
            path,
            interface,
            member,
            signature,
            args,
            timeout=timeout,
            interactive=interactive,
        )

    async def get_property(
        self,
        path: str,
        interface: str,
        name: str,
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
    ) -> Any:
        """One property of any object (``org.freedesktop.DBus.Properties.Get``)."""
        return await self.call(
            destination,
            path,
            PROPERTIES_INTERFACE,
            "Get",
            "ss",
            (interface, name),
            timeout=timeout,
        )

    async def get_all(
        self,
        path: str,
        interface: str,
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
    ) -> dict[str, Any]:
        """All properties of one interface of any object, by D-Bus name."""
        result: dict[str, Any] = await self.call(
            destination,
            path,
            PROPERTIES_INTERFACE,
            "GetAll",
            "s",
            (interface,),
            timeout=timeout,
        )
        return result

    async def set_property(
        self,
        path: str,
        interface: str,
        name: str,
        signature: str,
        value: Any,
        *,
        destination: str | None = None,
        timeout: float | None = DEFAULT,
    ) -> None:
        """Set one property (``Properties.Set``; systemd allows it on the manager only)."""
        await self.call(
            destination,
            path,
            PROPERTIES_INTERFACE,
            "Set",
            "ssv",
            (interface, name, Variant(signature, value)),
            timeout=timeout,
        )

    # ------------------------------------------------------------------ manager

    async def manager_property(self, name: str, *, timeout: float | None = DEFAULT) -> Any:
        """A property of org.freedesktop.systemd1.Manager by its D-Bus name."""
        return await self.get_property(MANAGER_PATH, MANAGER_INTERFACE, name, timeout=timeout)

    @property
    def version(self) -> Awaitable[str]:
        """systemd's version string (Manager.Version), e.g. ``"252.39-1~deb12u2"``."""
        return self._version()

    async def _version(self) -> str:
        value: str = await self.manager_property("Version")
        return value

    async def ping(self, *, timeout: float | None = DEFAULT) -> None:
        """Round-trip to systemd (``org.freedesktop.DBus.Peer.Ping``)."""
        await self.call(None, MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", timeout=timeout)

    # ------------------------------------------------------------------ closing

    @property
    def closed(self) -> bool:
        return self.bus.closed

    async def aclose(self) -> None:
        await self.bus.aclose()

    async def __aenter__(self) -> AsyncSystemd:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def connect(
    *,
    user: bool = False,
    address: str | None = None,
    private: bool | None = None,
    host: str | None = None,
    machine: str | None = None,
    timeout: float | None = 25.0,
    interactive: bool = False,
) -> AsyncSystemd:
    """Connect to a systemd manager.

    ``user``: the calling user's manager.  ``address``: any D-Bus address.
    ``private``: systemd's private socket (``None``: when root and it exists).
    ``host``: ``[user@]host[:port][/container]`` over ssh.  ``machine``: a local
    container.  ``timeout``: the default deadline of every call (``None``
    waits forever).  ``interactive``: let polkit ask the user.
    """
    target = resolve(user=user, address=address, private=private, host=host, machine=machine)
    bus = await AsyncConnection.open(target, timeout=timeout, interactive=interactive)
    return AsyncSystemd(bus)
