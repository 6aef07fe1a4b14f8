"""Units as typed values (Unit.status(), get(), predicates), blocking and async."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import pickle
import subprocess
import time

import pytest

import sysd
import sysd.aio


def systemctl_show(unit: str, *props: str) -> dict[str, str]:
    out = subprocess.run(
        ["systemctl", "show", unit, *(f"-p{p}" for p in props)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_service_status_is_typed_and_matches_systemctl(sd: sysd.Systemd) -> None:
    unit = sd.unit("systemd-journald.service")
    st = unit.status()
    show = systemctl_show(unit.name, "ActiveState", "SubState", "MainPID", "LoadState", "Type")
    assert st.id == "systemd-journald.service"
    assert (st.active_state, st.sub_state, st.load_state) == (
        show["ActiveState"],
        show["SubState"],
        show["LoadState"],
    )
    assert st.main_pid == int(show["MainPID"]) and st.type == show["Type"]
    assert st.is_active and not st.is_failed
    assert isinstance(st.active_enter_timestamp, dt.datetime)
    assert st.active_enter_timestamp.tzinfo is not None
    assert st.since == st.state_change_timestamp
    assert isinstance(st.timeout_start, dt.timedelta) or st.timeout_start is None
    assert st.raw("MainPID") == st.main_pid and st["ActiveState"] == "active"
    assert "ExecMainStatus" in st.dbus
    with pytest.raises((AttributeError, TypeError, dataclasses.FrozenInstanceError)):
        st.active_state = "inactive"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(st)) == st
    assert "systemd-journald.service" in repr(st)


def test_infinity_and_unset_are_none(sd: sysd.Systemd) -> None:
    st = sd.unit("systemd-journald.service").status()
    # The sandbox cannot account memory (read-only cgroup v1 controllers): unset -> None.
    assert st.raw("MemoryCurrent") == 2**64 - 1 and st.memory_current is None
    assert st.raw("RuntimeMaxUSec") == 2**64 - 1 and st.runtime_max is None


def test_other_types_and_missing_properties(sd: sysd.Systemd) -> None:
    target = sd.unit("multi-user.target").status()
    assert type(target).__name__ == "TargetStatus" and target.active_state == "active"
    mount = sd.unit("-.mount").status()
    assert type(mount).__name__ == "MountStatus" and mount.where == "/"
    svc = sd.unit("systemd-journald.service")
    assert svc.get("NoSuchPropertyAnywhere") is None
    assert svc.get("Where") is None  # a Mount property on a service
    assert sd.unit("-.mount").get("ExecMainPID") is None
    missing = sd.unit("sysdt-not-there.service").status()
    assert missing.load_state == "not-found" and missing.main_pid is None
    assert not missing.is_active


def test_predicates(sd: sysd.Systemd) -> None:
    unit = sd.unit("systemd-journald.service")
    assert unit.is_active() and not unit.is_failed()
    assert unit.unit_file_state() == systemctl_show(unit.name, "UnitFileState")["UnitFileState"]
    assert unit.is_enabled() == (
        unit.unit_file_state()
        in ("enabled", "static", "alias", "indirect", "generated", "transient", "enabled-runtime")
    )


def test_async_twins(systemd_host: None) -> None:
    async def main() -> None:
        async with sysd.aio.connect() as sd:
            unit = await sd.unit("systemd-journald")
            assert unit.name == "systemd-journald.service"
            st = await unit.status()
            assert st.is_active and await unit.is_active()
            assert await unit.get("Type") == "notify"
            rows = await sd.list_units(types=["service"])
            assert any(r.name == unit.name for r in rows)

    asyncio.run(main())


def test_unprivileged_reads(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import sysd
        with sysd.connect() as sd:
            st = sd.unit("systemd-journald").status()
            print(st.active_state, st.main_pid > 0, len(sd.list_units()) > 10)
        """
    )
    assert proc.stdout.strip() == "active True True", proc.stderr


def test_unit_logs(sd: sysd.Systemd, units) -> None:  # type: ignore[no-untyped-def]
    name = units.add("logs", "[Service]\nType=oneshot\nExecStart=/bin/echo hello-from-{tag}\n")
    units.reload()
    sd.unit(name).start()
    # journald stores the oneshot's line asynchronously: read until it is there
    deadline = time.monotonic() + 30
    while True:
        with sd.unit(name).logs(lines=10) as entries:
            messages = [e.message for e in entries]
        if f"hello-from-{units.tag}" in messages or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert f"hello-from-{units.tag}" in messages
    assert all(isinstance(m, str) for m in messages)


def test_async_journal_follow_through_sysd_aio(systemd_host: None) -> None:
    import sysd.journal

    marker = f"sysd-aio-follow-{os.getpid()}"

    async def go() -> str:
        async with sysd.aio.journal.entries(matches=[f"SYSD_MARK={marker}"], follow=True) as it:
            sysd.journal.send("followed", SYSD_MARK=marker)
            async for entry in it:
                return entry.message
        return ""

    assert asyncio.run(asyncio.wait_for(go(), 10)) == "followed"
