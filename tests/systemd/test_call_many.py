"""Many calls at once (``call_many``, ``get_property_many``) against the real systemd.

The values are systemctl's (one ``systemctl show`` of every unit, a differential test);
errors are typed and in their place; a bad argument anywhere sends nothing; more calls
than dbus-daemon lets a client have unanswered (128) all come back on the system bus.
The faults systemd cannot be made to produce (a call never answered, a hang-up mid-batch,
the in-flight cap) are in tests/bus/test_faults.py; interruption at random points is in
tests/reliability/test_call_many_interrupt.py.
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import pytest

import sysd
import sysd.aio
from sysd._bus.wire import MAX_IN_FLIGHT

UNIT = "org.freedesktop.systemd1.Unit"
MANAGER = ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")
# properties that do not change while the test runs (states may: timers fire)
STATIC = ("Id", "Description", "LoadState", "FragmentPath")


def _systemctl_show(names: list[str]) -> list[dict[str, str]]:
    out = subprocess.run(
        ["systemctl", "show", "--no-pager", "-p", ",".join(STATIC), "--", *names],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    units = []
    for block in out.strip("\n").split("\n\n"):
        units.append(dict(line.split("=", 1) for line in block.splitlines()))
    return units


def _nothing_pending(bus: Any) -> None:
    if hasattr(bus, "_pending"):  # the asyncio connection
        assert not bus._pending and not bus._in_flight and not bus._deadlines
        assert not any(serial in bus._pending for serial, _d, _f in bus._backlog)
    else:
        assert not bus._waiting and not bus._replies


@pytest.mark.parametrize("private", [False, True], ids=["bus", "private"])
def test_values_are_systemctls(private: bool) -> None:
    with sysd.connect() as sd:
        units = sd.list_units()
    names = [u.name for u in units]
    assert len(names) > 100
    want = _systemctl_show(names)
    wanted = [(u.path, UNIT, prop) for u in units for prop in STATIC]

    def check(values: list[Any]) -> None:
        got = [
            dict(zip(STATIC, (str(v) for v in values[i : i + len(STATIC)]), strict=True))
            for i in range(0, len(values), len(STATIC))
        ]
        assert got == want

    with sysd.connect(private=private) as sd:
        check(sd.get_property_many(wanted))
        _nothing_pending(sd.bus)

    async def main() -> None:
        async with sysd.aio.connect(private=private) as sd:
            check(await sd.get_property_many(wanted))
            _nothing_pending(sd.bus)
            # the same as a gather of get_property, and as call_many of Properties.Get
            assert await sd.get_property_many(wanted[:50]) == list(
                await asyncio.gather(*(sd.get_property(*w) for w in wanted[:50]))
            )
            calls = [
                (p, "org.freedesktop.DBus.Properties", "Get", "ss", (i, n)) for p, i, n in wanted
            ]
            check(await sd.call_many(calls))

    asyncio.run(main())


def test_more_calls_than_the_bus_lets_a_client_have_unanswered() -> None:
    # dbus-daemon refuses a client's 129th unanswered call; 1000 at once all come back
    n = 1000
    assert n > 2 * 128 > MAX_IN_FLIGHT
    with sysd.connect(private=False) as sd:
        path = sd.unit("init.scope").path
        want = sd.get_property(path, UNIT, "Id")
        assert sd.get_property_many([(path, UNIT, "Id")] * n) == [want] * n
        _nothing_pending(sd.bus)

    async def main() -> None:
        async with sysd.aio.connect(private=False) as sd:
            got = await sd.get_property_many([(path, UNIT, "Id")] * n)
            assert got == [want] * n
            _nothing_pending(sd.bus)

    asyncio.run(main())


def _mixed(path: str) -> list[tuple[str, str, str]]:
    return [
        (path, UNIT, "Id"),
        (path, UNIT, "NoSuchProperty"),
        ("/org/freedesktop/systemd1/nothing", UNIT, "Id"),  # a unit path would load it
        (path, UNIT, "ActiveState"),
    ]


@pytest.mark.parametrize("private", [False, True], ids=["bus", "private"])
def test_errors_are_typed_and_in_their_place(private: bool) -> None:
    def check(values: list[Any], path_id: str) -> None:
        assert values[0] == path_id
        assert isinstance(values[1], sysd.UnknownPropertyError)
        assert "NoSuchProperty" in str(values[1])
        assert isinstance(values[2], sysd.UnknownObjectError)
        assert values[3] == "active"

    with sysd.connect(private=private) as sd:
        path = sd.unit("init.scope").path
        check(sd.get_property_many(_mixed(path), return_exceptions=True), "init.scope")
        # without return_exceptions: the first error in the calls' order raises
        with pytest.raises(sysd.UnknownPropertyError):
            sd.get_property_many(_mixed(path))
        _nothing_pending(sd.bus)
        assert sd.get_property(path, UNIT, "Id") == "init.scope"  # nothing stale read

    async def main() -> None:
        async with sysd.aio.connect(private=private) as sd:
            check(await sd.get_property_many(_mixed(path), return_exceptions=True), "init.scope")
            with pytest.raises(sysd.UnknownPropertyError):
                await sd.get_property_many(_mixed(path))
            _nothing_pending(sd.bus)
            assert await sd.get_property(path, UNIT, "Id") == "init.scope"

    asyncio.run(main())


def test_a_bad_argument_anywhere_sends_nothing() -> None:
    # the first call would change the manager's environment: it must not be sent
    batch: list[tuple[str, str | None, str, str, Any]] = [
        (*MANAGER, "SetEnvironment", "as", (["SYSD_BATCH=sent"],)),
        (*MANAGER, "GetUnit", "s", (42,)),  # not a string
    ]

    def check(exc: sysd.InvalidCallError) -> None:
        assert "call 2 of 2 in the batch; none was sent" in exc.__notes__

    with sysd.connect() as sd:
        with pytest.raises(sysd.InvalidCallError) as info:
            sd.call_many(batch)
        check(info.value)
        assert "SYSD_BATCH" not in sd.environment()
        with pytest.raises(sysd.InvalidCallError):
            sd.get_property_many([("/", UNIT, "Id"), ("not a path", UNIT, "Id")])
        _nothing_pending(sd.bus)

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            with pytest.raises(sysd.InvalidCallError) as info:
                await sd.call_many(batch)
            check(info.value)
            assert "SYSD_BATCH" not in await sd.environment()
            _nothing_pending(sd.bus)

    asyncio.run(main())


def test_an_empty_batch_is_an_empty_list() -> None:
    with sysd.connect() as sd:
        assert sd.call_many([]) == []
        assert sd.get_property_many([]) == []

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            assert await sd.call_many([]) == []

    asyncio.run(main())
