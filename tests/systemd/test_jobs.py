"""Control that tells the truth, against the real systemd (RELIABILITY.md 14-36)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable

import pytest
from throwaway_units import RUNTIME_UNITS, Units

import sysd
import sysd.aio

ONESHOT = "[Service]\nType=oneshot\nExecStart={cmd}\n"


def test_start_stop_success(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("ok", "[Service]\nExecStart=/bin/sleep infinity\n")
    units.reload()
    unit = sd.unit(name)
    job = unit.start()
    assert job.result == "done" and job.unit == name and isinstance(job.id, int)
    assert unit.is_active()
    proc = unit.processes()[0]
    assert proc.cgroup.endswith(f"/{name}") and proc.pid > 1 and "sleep" in proc.command
    unit.stop()
    assert not unit.is_active()
    assert unit.active_state() == "inactive"


def test_failing_exec_start_reports_exit_code(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("fail", ONESHOT.format(cmd="/bin/sh -c 'exit 7'"))
    units.reload()
    with pytest.raises(sysd.JobFailedError) as info:
        sd.unit(name).start()
    err = info.value
    assert err.unit == name and err.result == "failed" and err.job_type == "start"
    assert err.service_result == "exit-code"
    assert err.exit_code == 7 and err.exit_signal is None
    assert "(7)" in str(err) and f"sysd status {name}" in str(err)
    assert isinstance(err, sysd.JobError) and isinstance(err, RuntimeError)
    assert sd.unit(name).is_failed()


def test_death_by_signal(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("sig", ONESHOT.format(cmd="/bin/sh -c 'kill -KILL $$$$'"))
    units.reload()
    with pytest.raises(sysd.JobFailedError) as info:
        sd.unit(name).start()
    assert info.value.service_result == "signal"
    assert info.value.exit_signal == 9 and info.value.exit_code is None


def test_start_limit_hit_has_hint(sd: sysd.Systemd, units: Units) -> None:
    # A service that keeps exiting cleanly and is restarted until its start limit.
    name = units.add(
        "limit",
        "[Unit]\nStartLimitIntervalSec=60\nStartLimitBurst=3\n"
        "[Service]\nExecStart=/bin/true\nRestart=always\nRestartSec=50ms\n",
    )
    units.reload()
    unit = sd.unit(name)
    unit.start()
    deadline = time.monotonic() + 20
    while unit.active_state() != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert unit.get("Result") == "start-limit-hit"
    with pytest.raises(sysd.JobFailedError) as info:
        unit.start()
    assert info.value.service_result == "start-limit-hit"
    assert "too often" in str(info.value) and "reset-failed" in str(info.value)
    unit.reset_failed()
    assert unit.start().result == "done"  # works again after resetting


def test_masked_unit(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("masked", ONESHOT.format(cmd="/bin/true"))
    units.reload()
    path = RUNTIME_UNITS / name
    path.unlink()
    path.symlink_to("/dev/null")
    units.reload()
    with pytest.raises(sysd.UnitMaskedError) as info:
        sd.unit(name).start()
    assert info.value.name == "org.freedesktop.systemd1.UnitMasked"


def test_dependency_failure(sd: sysd.Systemd, units: Units) -> None:
    dep = units.add("dep", ONESHOT.format(cmd="/bin/false"))
    top = units.add(
        "top", f"[Unit]\nRequires={dep}\nAfter={dep}\n" + ONESHOT.format(cmd="/bin/true")
    )
    units.reload()
    with pytest.raises(sysd.JobDependencyError) as info:
        sd.unit(top).start()
    assert info.value.result == "dependency" and info.value.unit == top


def test_ordering_cycle_is_typed(sd: sysd.Systemd, units: Units) -> None:
    a, b = units.name("cyca"), units.name("cycb")
    units.add("cyca", f"[Unit]\nRequires={b}\nAfter={b}\n" + ONESHOT.format(cmd="/bin/true"))
    units.add("cycb", f"[Unit]\nRequires={a}\nAfter={a}\n" + ONESHOT.format(cmd="/bin/true"))
    units.reload()
    with pytest.raises(sysd.TransactionOrderIsCyclicError) as info:
        sd.unit(a).start()
    assert "cycl" in info.value.message.lower()


def test_unit_collected_right_after_failing_still_says_why(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "gc", "[Unit]\nCollectMode=inactive-or-failed\n" + ONESHOT.format(cmd="/bin/sh -c 'exit 3'")
    )
    units.reload()
    with pytest.raises(sysd.JobFailedError) as info:
        sd.unit(name).start()
    assert info.value.service_result == "exit-code" and info.value.exit_code == 3


def test_job_type_not_applicable_and_refused_manual_start(sd: sysd.Systemd, units: Units) -> None:
    plain = units.add("noreload", "[Service]\nExecStart=/bin/sleep infinity\n")
    refuse = units.add(
        "refuse", "[Unit]\nRefuseManualStart=yes\n" + ONESHOT.format(cmd="/bin/true")
    )
    units.reload()
    unit = sd.unit(plain)
    unit.start()
    with pytest.raises(sysd.JobTypeNotApplicableError):
        unit.reload()
    with pytest.raises(sysd.OnlyByDependencyError):
        sd.unit(refuse).start()


def test_unknown_unit_and_invalid_names(sd: sysd.Systemd) -> None:
    unit = sd.unit("sysdt-does-not-exist.service")  # a value, not an error
    assert unit.get("LoadState") == "not-found"
    with pytest.raises(sysd.NoSuchUnitError) as info:
        unit.start()
    assert isinstance(info.value, LookupError)
    for bad in ("", "foo@.service", "a" * 300 + ".service", "bad name.sock\0et"):
        with pytest.raises(sysd.InvalidUnitNameError):
            sd.unit(bad)
    assert sd.unit("sysdt-bare-name").name == "sysdt-bare-name.service"


def test_alias_resolves_to_primary_and_waits(sd: sysd.Systemd, units: Units) -> None:
    real = units.add("real", ONESHOT.format(cmd="/bin/true") + "RemainAfterExit=yes\n")
    alias = units.link("alias", real)
    units.reload()
    unit = sd.unit(alias)
    assert unit.name == real
    job = unit.start()
    assert job.result == "done" and unit.is_active()


def test_instant_jobs_never_lose_their_signal(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("instant", ONESHOT.format(cmd="/bin/true"))
    units.reload()
    unit = sd.unit(name)
    for _ in range(200):
        assert unit.start(timeout=30).result == "done"


def test_no_wait_returns_handle_that_waits_later(sd: sysd.Systemd, units: Units) -> None:
    fast = units.add("nowait", ONESHOT.format(cmd="/bin/true"))
    failing = units.add("nowaitfail", ONESHOT.format(cmd="/bin/false"))
    units.reload()
    job = sd.unit(fast).start(wait=False)
    assert job.result is None
    time.sleep(0.3)  # the job is long gone; its JobRemoved was sent to us all the same
    assert job.wait(timeout=10) == "done"
    job = sd.unit(failing).start(wait=False)
    time.sleep(0.3)
    with pytest.raises(sysd.JobFailedError):
        job.wait(timeout=10)


def test_wait_timeout_leaves_the_job_running(sd: sysd.Systemd, units: Units) -> None:
    # 30 s (the cleanup stops it): still activating below however slow the machine is
    name = units.add("slow", ONESHOT.format(cmd="/bin/sleep 30"))
    units.reload()
    unit = sd.unit(name)
    start = time.monotonic()
    with pytest.raises(sysd.WaitTimeoutError) as info:
        unit.start(timeout=0.3)
    assert time.monotonic() - start < 5  # the deadline, not the job (slack: load)
    assert isinstance(info.value, TimeoutError)
    assert unit.active_state() == "activating"
    assert any(j.unit == name for j in sd.list_jobs())


def test_canceled_job(sd: sysd.Systemd, units: Units) -> None:
    name = units.add("cancel", ONESHOT.format(cmd="/bin/sleep 30"))
    units.reload()
    unit = sd.unit(name)
    unit.start(wait=False)
    time.sleep(0.2)
    job = sd.job(next(j.id for j in sd.list_jobs() if j.unit == name))
    job.cancel()
    with pytest.raises(sysd.JobCanceledError):
        job.wait(timeout=10)


def _in_thread(fn: Callable[[], None]) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_daemon_reload_during_wait(private: bool, units: Units) -> None:
    name = units.add("reload", ONESHOT.format(cmd="/bin/sleep 1.5"))
    units.reload()
    with sysd.connect(private=private) as sd:
        t = _in_thread(lambda: (time.sleep(0.4), sysd.connect().daemon_reload()))
        job = sd.unit(name).start(timeout=60)
        t.join()
    assert job.result == "done"


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_daemon_reexec_during_wait(private: bool, units: Units) -> None:
    ok = units.add("reexec", ONESHOT.format(cmd="/bin/sleep 2"))
    bad = units.add("reexecfail", ONESHOT.format(cmd="/bin/sh -c 'sleep 2; exit 4'"))
    units.reload()

    def reexec() -> None:
        time.sleep(0.5)
        with sysd.connect() as other:
            other.daemon_reexec()

    with sysd.connect(private=private) as sd:
        t = _in_thread(reexec)
        job = sd.unit(ok).start(timeout=90)
        t.join()
        assert job.result == "done"
        t = _in_thread(reexec)
        with pytest.raises(sysd.JobFailedError) as info:
            sd.unit(bad).start(timeout=90)
        t.join()
        assert info.value.exit_code == 4
        sd.ping()  # usable afterwards


def test_daemon_reexec_returns_usable(sd: sysd.Systemd) -> None:
    before = sd.version
    sd.daemon_reexec()
    assert sd.version == before


def test_concurrent_async_waits_share_one_subscription(units: Units) -> None:
    fast = units.add("afast", ONESHOT.format(cmd="/bin/true"))
    slow = units.add("aslow", ONESHOT.format(cmd="/bin/sleep 1"))
    fail = units.add("afail", ONESHOT.format(cmd="/bin/sh -c 'exit 2'"))
    units.reload()

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            u_fast, u_slow, u_fail = [await sd.unit(n) for n in (fast, slow, fail)]
            results = await asyncio.gather(
                u_slow.start(), u_fast.start(), u_fail.start(), return_exceptions=True
            )
            assert [getattr(r, "result", None) for r in results[:2]] == ["done", "done"]
            assert isinstance(results[2], sysd.JobFailedError) and results[2].exit_code == 2
            assert sd._subscription.holders == 0  # everyone unsubscribed, in any order
            many = await asyncio.gather(*(u_fast.start() for _ in range(50)))
            assert {j.result for j in many} == {"done"}

    asyncio.run(main())


def test_unprivileged_control_is_denied_with_hint_and_reads_work(as_user, units: Units) -> None:  # type: ignore[no-untyped-def]
    name = units.add("priv", ONESHOT.format(cmd="/bin/true") + "RemainAfterExit=yes\n")
    units.reload()
    proc = as_user(
        f"""
        import sysd
        with sysd.connect() as sd:
            unit = sd.unit("{name}")
            print(unit.is_active(), unit.get("LoadState"))
            try:
                unit.start()
            except sysd.InteractiveAuthorizationRequiredError as e:
                print("denied", isinstance(e, PermissionError), "interactive=True" in str(e))
        """
    )
    assert proc.stdout.split("\n")[:2] == ["False loaded", "denied True True"], proc.stderr


def test_user_manager_control_as_unprivileged_user(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import os, pathlib, sysd
        d = pathlib.Path(os.environ["HOME"], ".config/systemd/user")
        d.mkdir(parents=True, exist_ok=True)
        (d / "sysdt-user.service").write_text("[Service]\\nType=oneshot\\nExecStart=/bin/false\\n")
        with sysd.connect(user=True) as sd:
            sd.daemon_reload()
            try:
                sd.unit("sysdt-user.service").start()
            except sysd.JobFailedError as e:
                print(e.service_result, e.exit_code)
        """
    )
    assert proc.stdout.strip() == "exit-code 1", proc.stderr


# ------------------------------------------------------------------ manager


def test_list_units_files_and_jobs(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "listed",
        "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n",
    )
    units.reload()
    sd.unit(name).start()
    rows = sd.list_units()
    assert any(r.name == "multi-user.target" and r.active_state == "active" for r in rows)
    mine = sd.list_units([f"sysdt-listed-{units.tag}*"])
    assert [(r.name, r.active_state, r.sub_state) for r in mine] == [(name, "active", "running")]
    assert all(r.name.endswith(".target") for r in sd.list_units(types=["target"]))
    assert all(r.active_state == "active" for r in sd.list_units(states=["active"]))
    files = sd.list_unit_files([name])
    assert [(f.name, f.state) for f in files] == [(name, "disabled")]
    assert isinstance(sd.list_jobs(), list)


def test_enable_disable_mask_report_changes(sd: sysd.Systemd, units: Units) -> None:
    name = units.add(
        "install",
        "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n",
    )
    units.reload()
    changes = sd.enable(name, runtime=True)
    assert [c.type for c in changes] == ["symlink"]
    assert changes[0].file.endswith(f"multi-user.target.wants/{name}")
    assert sd.unit(name).is_enabled()
    changes = sd.disable(name, runtime=True)
    assert [c.type for c in changes] == ["unlink"]
    assert not sd.unit(name).is_enabled()
    changes = sd.mask(f"sysdt-mask-{units.tag}.service", runtime=True)
    assert changes[0].type == "symlink" and changes[0].destination == "/dev/null"
    changes = sd.unmask(f"sysdt-mask-{units.tag}.service", runtime=True)
    assert changes[0].type == "unlink"
    with pytest.raises(sysd.InvalidUnitNameError):
        sd.enable("bad name!")


def test_manager_odds_and_ends(sd: sysd.Systemd) -> None:
    assert sd.get_default_target() in ("graphical.target", "multi-user.target")
    unit = sd.unit_by_pid(1)
    assert unit.name == "init.scope"
    sd.set_environment({"SYSD_TEST_VAR": "x y"})
    assert sd.environment()["SYSD_TEST_VAR"] == "x y"
    sd.unset_environment(["SYSD_TEST_VAR"])
    assert "SYSD_TEST_VAR" not in sd.environment()
    me = sd.unit_by_pid(os.getpid())
    assert me.name.endswith((".service", ".scope"))
