"""unit.ensure() / sd.ensure() against the sandbox's real systemd: each transition, the
no-op, daemon-reload, dry-run, settle, the unprivileged user, bad input.  What changed
is checked with systemctl (is-active, is-enabled, show), not with sysd's own readers."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path

import pytest
from throwaway_units import Units

import sysd
import sysd.aio

ETC = Path("/etc/systemd/system")
SLEEPER = "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"


def systemctl(*args: str) -> str:
    proc = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def show(name: str) -> dict[str, str]:
    out = systemctl("show", name)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def masked_later(units: Units, name: str) -> None:
    """Clean up a mask (or enablement) ensure() makes in /etc."""
    units.paths.append(ETC / name)
    units.enabled.append(name)


def test_stopped_to_started_then_no_op(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("start", SLEEPER)
    units.reload()
    unit = sd.unit(name)
    change = unit.ensure(active=True)
    assert change.changed and change.actions == ("start",) and change.ok
    assert change.before.active_state == "inactive" and change.after.active_state == "active"
    assert change.after.sub_state == "running"
    assert [(j.action, j.result) for j in change.jobs] == [("start", "done")]
    assert systemctl("is-active", name) == "active"
    again = unit.ensure(active=True)
    assert not again.changed and again.actions == () and again.jobs == () and again.ok
    assert again.before == again.after == change.after
    stopped = unit.ensure(active=False)
    assert stopped.actions == ("stop",) and systemctl("is-active", name) == "inactive"
    assert not unit.ensure(active=False).changed


def test_disabled_to_enabled_and_back(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("enable", SLEEPER)
    units.reload()
    masked_later(units, name)
    change = sd.unit(name).ensure(enabled=True)
    assert change.changed and change.actions == ("enable",) and change.ok
    assert (change.before.unit_file_state, change.after.unit_file_state) == ("disabled", "enabled")
    assert systemctl("is-enabled", name) == "enabled"
    assert systemctl("is-active", name) == "inactive"  # enabling starts nothing
    assert not sd.unit(name).ensure(enabled=True).changed
    back = sd.unit(name).ensure(enabled=False)
    assert back.actions == ("disable",) and systemctl("is-enabled", name) == "disabled"
    assert not sd.unit(name).ensure(enabled=False).changed


def test_masked_to_unmasked_and_started(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("mask", SLEEPER)
    units.reload()
    masked_later(units, name)
    sd.mask(name)
    assert systemctl("is-enabled", name) == "masked"
    assert not sd.unit(name).ensure(masked=True).changed
    change = sd.unit(name).ensure(masked=False, active=True)
    assert change.actions == ("unmask", "start") and change.ok
    assert change.before.unit_file_state == "masked" and change.before.load_state == "masked"
    assert change.after.load_state == "loaded" and change.after.active_state == "active"
    assert systemctl("is-enabled", name) == "disabled"
    assert systemctl("is-active", name) == "active"
    remask = sd.unit(name).ensure(masked=True, active=False)
    assert remask.actions == ("mask", "stop")
    assert systemctl("is-enabled", name) == "masked"
    assert systemctl("is-active", name) == "inactive"


def test_running_to_restarted(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("restart", SLEEPER)
    units.reload()
    sd.unit(name).start()
    first = show(name)["InvocationID"]
    change = sd.unit(name).ensure(active=True, restart=True)
    assert change.changed and change.actions == ("restart",)
    assert [(j.action, j.result) for j in change.jobs] == [("restart", "done")]
    second = show(name)["InvocationID"]
    assert second and second != first
    assert systemctl("is-active", name) == "active"


def test_edited_unit_file_is_reloaded_first(sd: sysd.Systemd, units: Units, tmp_path: Path) -> None:
    marker = tmp_path / "new-exec-start-ran"
    name = units.add("edited", SLEEPER)
    units.reload()
    sd.unit(name).start()
    (Path("/run/systemd/system") / name).write_text(
        f"[Service]\nExecStart=/bin/sh -c 'touch {marker}; exec sleep infinity'\n"
    )
    assert show(name)["NeedDaemonReload"] == "yes"
    change = sd.unit(name).ensure(restart=True)
    assert change.actions == ("daemon-reload", "restart")
    assert show(name)["NeedDaemonReload"] == "no"
    # the new ExecStart ran; Type=simple's start job is done once the process is forked,
    # not once the shell has run (a CI run looked before it had)
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()
    # never: the edit stays unseen
    (Path("/run/systemd/system") / name).write_text(SLEEPER)
    assert sd.unit(name).ensure(active=True, daemon_reload=False).actions == ()
    assert show(name)["NeedDaemonReload"] == "yes"
    assert sd.unit(name).ensure(active=True).actions == ("daemon-reload",)  # auto


def test_daemon_reload_always(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("always", SLEEPER)
    units.reload()
    change = sd.unit(name).ensure(daemon_reload=True)
    assert change.changed and change.actions == ("daemon-reload",)


def test_dry_run_changes_nothing(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("dry", SLEEPER)
    units.reload()
    masked_later(units, name)
    sd.mask(name)
    before = show(name)
    change = sd.unit(name).ensure(masked=False, enabled=True, active=True, dry_run=True)
    assert change.dry_run and change.changed
    assert change.actions == ("unmask", "enable", "start") and change.jobs == ()
    assert change.after == change.before
    assert show(name) == before
    assert systemctl("is-enabled", name) == "masked"
    assert not (ETC / "multi-user.target.wants" / name).exists()
    multi = sd.ensure([name], masked=False, dry_run=True)
    assert [c.actions for c in multi] == [("unmask",)] and show(name) == before


def test_failed_condition_is_done_but_not_ok(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "cond", "[Unit]\nConditionPathExists=/nonexistent/sysd\n[Service]\nExecStart=/bin/true\n"
    )
    units.reload()
    change = sd.unit(name).ensure(active=True)
    assert change.changed and change.actions == ("start",)
    assert change.jobs[0].result == "done"
    assert not change.ok and change.after.active_state == "inactive"


# ---------------------------------------------------------------------- settle


def test_settle_catches_a_service_dying_after_start(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "dies",
        "[Service]\nType=simple\nExecStart=/bin/sh -c 'echo dying soon; sleep 0.5; exit 1'\n",
    )
    units.reload()
    with pytest.raises(sysd.UnitSettleError) as info:
        sd.unit(name).ensure(active=True, settle="5s")
    err = info.value
    assert isinstance(err, sysd.JobError)
    assert err.unit == name and err.job_type == "start" and err.result == "done"
    assert err.reason == "left-active" and err.settle == 5.0
    assert err.service_result == "exit-code" and err.exit_code == 1
    assert err.invocation_id == show(name)["InvocationID"]
    # the report of that run: its state and its own log lines
    report = err.report
    assert isinstance(report, sysd.FailureReport)
    assert report.unit == name and report.invocation_id == err.invocation_id
    assert report.result == "exit-code" and report.exec_main_status == 1
    assert any("dying soon" in line.text for line in report.logs), report.render()
    assert "\n" not in str(err) and name in str(err)
    assert systemctl("is-active", name) == "failed"


def test_settle_passes_a_healthy_service(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("healthy", SLEEPER)
    units.reload()
    change = sd.unit(name).ensure(active=True, settle=1)
    assert change.actions == ("start",) and change.ok
    assert systemctl("is-active", name) == "active"
    # nothing started: nothing to watch
    assert sd.unit(name).ensure(active=True, settle="1min").actions == ()


def test_settle_catches_a_restart_loop_within_the_window(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "loop",
        "[Unit]\nStartLimitIntervalSec=0\n"
        "[Service]\nType=simple\nRestart=always\nRestartSec=100ms\nExecStart=/bin/false\n",
    )
    units.reload()
    started = time.monotonic()
    with pytest.raises(sysd.UnitSettleError) as info:
        sd.unit(name).ensure(active=True, settle="60s")
    assert time.monotonic() - started < 60  # caught as it happened, not at the window's end
    assert info.value.reason in ("left-active", "restarted")


def test_settle_async_main_process_death_keeps_active(sd: sysd.Systemd, units: Units) -> None:
    # RemainAfterExit: the unit stays active when its main process goes
    name = units.add(
        "rae",
        "[Service]\nType=simple\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'sleep 0.3'\n",
    )
    units.reload()

    async def main() -> None:
        async with sysd.aio.connect() as asd:
            unit = await asd.unit(name)
            with pytest.raises(sysd.UnitSettleError) as info:
                await unit.ensure(active=True, settle=2)
            assert info.value.reason == "main-process-died"

    asyncio.run(main())
    assert systemctl("is-active", name) == "active"


# ---------------------------------------------------------------- several units


def test_several_units_async_and_blocking(sd: sysd.Systemd, units: Units) -> None:
    names = [units.add(f"many{i}", SLEEPER) for i in range(4)]
    units.reload()

    async def main() -> list[sysd.Change]:
        async with sysd.aio.connect() as asd:
            return await asd.ensure(names[:2], active=True)

    changes = asyncio.run(main())
    assert [c.unit for c in changes] == names[:2]
    assert all(c.actions == ("start",) for c in changes)
    changes = sd.ensure(names, active=True)
    assert [c.changed for c in changes] == [False, False, True, True]
    assert all(systemctl("is-active", n) == "active" for n in names)


def test_several_units_share_one_daemon_reload(sd: sysd.Systemd, units: Units) -> None:
    names = [units.add(f"edit{i}", SLEEPER) for i in range(3)]
    units.reload()
    sd.ensure(names, active=True)
    for name in names[:2]:  # edited on disk: these two need a reload, the third does not
        (Path("/run/systemd/system") / name).write_text(SLEEPER + "# edited\n")

    async def main() -> tuple[list[sysd.Change], int]:
        async with sysd.aio.connect() as asd:
            async with asd.events(kinds=[sysd.Reloading]) as stream:
                changes = await asd.ensure(names, restart=True)
                reloads = 0
                with contextlib.suppress(sysd.WaitTimeoutError):
                    while True:  # what systemd said meanwhile (the signals came before)
                        event = await stream.get(0.5)
                        reloads += isinstance(event, sysd.Reloading) and event.active
            return changes, reloads

    changes, reloads = asyncio.run(main())
    assert [c.actions for c in changes] == [("daemon-reload", "restart")] * 2 + [("restart",)]
    assert reloads == 1
    assert all(show(n)["NeedDaemonReload"] == "no" for n in names)


def test_several_units_try_every_unit_then_raise(sd: sysd.Systemd, units: Units) -> None:
    good = units.add("good", SLEEPER)
    bad = units.add("bad", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
    units.reload()
    with pytest.raises(sysd.JobFailedError) as info:
        sd.ensure([bad, good], active=True)
    assert info.value.unit == bad
    assert systemctl("is-active", good) == "active"  # tried although the first failed


# ----------------------------------------------------------------- bad input


def test_bad_input_is_typed_before_the_bus(sd: sysd.Systemd) -> None:
    closed = sysd.connect()
    closed.close()  # any call would raise BusDisconnectedError
    for kwargs in (
        {"active": True, "masked": True},
        {"enabled": True, "masked": True},
        {"active": True, "settle": -1},
        {"active": True, "settle": "soon"},
        {"active": False, "restart": True},
    ):
        with pytest.raises(sysd.InvalidEnsureError):
            closed.ensure("ssh.service", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(sysd.InvalidUnitNameError):
        closed.ensure("bad/name", active=True)
    with pytest.raises(sysd.InvalidEnsureError):
        closed.ensure([], active=True)


def test_unknown_unit_is_typed_before_any_change(sd: sysd.Systemd) -> None:
    name = "sysdt-no-such-unit-ensure.service"
    before = systemctl("list-jobs")
    for kwargs in ({"enabled": True}, {"active": True}, {"restart": True}):
        with pytest.raises(sysd.UnitNotFoundError) as info:
            sd.ensure(name, masked=False, **kwargs)  # type: ignore[arg-type]
        assert isinstance(info.value, LookupError) and name in str(info.value)
    assert systemctl("list-jobs") == before
    assert not (ETC / name).exists()
    assert show(name)["LoadState"] == "not-found"
    # asked to be stopped and disabled, it already is
    assert sd.ensure(name, active=False, enabled=False)[0].changed is False


# ---------------------------------------------------------------- unprivileged


def test_unprivileged_denied_on_system_works_on_user_manager(as_user, units: Units) -> None:  # type: ignore[no-untyped-def]
    name = units.add("denied", SLEEPER)
    units.reload()
    proc = as_user(
        f"""
        import os, pathlib, subprocess, sysd
        with sysd.connect() as sd:
            try:
                sd.ensure("{name}", active=True)
            except sysd.AccessDeniedError as e:
                print("denied", isinstance(e, PermissionError), bool(e.hint))
        d = pathlib.Path.home() / ".config/systemd/user"
        d.mkdir(parents=True, exist_ok=True)
        (d / "sysdt-mine.service").write_text("[Service]\\nExecStart=/bin/sleep infinity\\n")
        try:
            with sysd.connect(user=True) as sd:
                c = sd.ensure("sysdt-mine.service", active=True, daemon_reload=True)[0]
                print(c.actions, c.after.active_state)
                print(sd.ensure("sysdt-mine.service", active=True)[0].changed)
                print(sd.ensure("sysdt-mine.service", active=False)[0].actions)
        finally:
            (d / "sysdt-mine.service").unlink()
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "denied True True", proc.stdout + proc.stderr
    assert lines[1:] == ["('daemon-reload', 'start') active", "False", "('stop',)"]
    assert systemctl("is-active", name) == "inactive"
