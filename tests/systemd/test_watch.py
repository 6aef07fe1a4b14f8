"""Transient units through queue_job() and watching a unit to its end."""

from __future__ import annotations

import asyncio
import uuid

import pytest

import sysd
import sysd.aio

PATH = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"


def transient(name: str, argv: list[str], collect: bool = True) -> tuple:  # type: ignore[type-arg]
    props = [
        ("ExecStart", sysd.Variant("a(sasb)", [(argv[0], argv, False)])),
        ("Type", sysd.Variant("s", "oneshot")),
    ]
    if collect:
        props.append(("CollectMode", sysd.Variant("s", "inactive-or-failed")))
    return (name, "fail", props, [])


@pytest.mark.parametrize("private", [True, False], ids=["private", "bus"])
def test_watch_a_collected_unit_to_its_end(private: bool, systemd_host: None) -> None:
    name = f"sysdt-watch-{uuid.uuid4().hex[:8]}.service"
    with sysd.connect(private=private) as sd, sd.watch_unit(name) as watch:
        args = transient(name, ["/bin/sh", "-c", "sleep 0.3; exit 5"])
        job = sd.queue_job(
            lambda: sd.manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))", args),
            name,
            "start",
            wait=False,
        )
        assert job.unit == name
        # not "inactive": a transient unit is announced inactive once before it starts
        props = watch.wait(lambda p: p.get("ActiveState") == "failed", timeout=30)
        assert props["ActiveState"] == "failed"
        assert props["Result"] == "exit-code"
        assert props["ExecMainStatus"] == 5
        # collected: systemd dropped the unit, what we saw stays
        if not watch.removed:  # returns once systemd announced the removal
            watch.wait(lambda p: False, timeout=5)
        assert watch.removed
        assert sd.unit(name).get("LoadState") == "not-found"


def test_async_watch_and_transient_job_failure(systemd_host: None) -> None:
    name = f"sysdt-awatch-{uuid.uuid4().hex[:8]}.service"

    async def main() -> None:
        async with sysd.aio.connect() as sd:
            args = transient(name, ["/bin/false"])
            with pytest.raises(sysd.JobFailedError) as info:
                await sd.queue_job(
                    lambda: sd.manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))", args),
                    name,
                    "start",
                )
            assert info.value.exit_code == 1 and info.value.service_result == "exit-code"
            with pytest.raises(sysd.WaitTimeoutError):
                async with sd.watch_unit("systemd-journald.service") as w:
                    await w.wait(lambda p: p.get("ActiveState") == "failed", timeout=0.2)
            assert sd._subscription.holders == 0 and not sd._subscription.watched

    asyncio.run(main())


def test_subscribed_holds_one_subscription_for_a_batch(units) -> None:  # type: ignore[no-untyped-def]
    name = units.add("batch", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
    units.reload()
    with sysd.connect(private=False) as sd, sd.subscribed():
        calls = []
        original = sd.bus.call

        def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(args[3])
            return original(*args, **kwargs)

        sd.bus.call = spy  # type: ignore[method-assign]
        unit = sd.unit(name)
        for _ in range(5):
            assert unit.start().result == "done"
        assert "Subscribe" not in calls and "AddMatch" not in calls
        assert sd._subscription.holders == 1
    assert sd._subscription.holders == 0
