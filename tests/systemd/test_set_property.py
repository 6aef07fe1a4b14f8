"""Unit.set_properties() and `sysd set-property` against the real systemd."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import sysd
import sysd.aio
from sysd.cli import main

SERVICE = "[Service]\nExecStart=/bin/sleep infinity\n"


@pytest.fixture
def unit(sd: sysd.Systemd) -> Iterator[sysd._sync.unit.Unit]:
    name = f"sysdt-setprop-{uuid.uuid4().hex[:8]}.service"
    path = Path("/run/systemd/system") / name
    path.write_text(SERVICE)
    sd.daemon_reload()
    u = sd.unit(name)
    u.start()
    yield u
    u.stop()
    path.unlink()
    for d in ("/etc/systemd/system.control", "/run/systemd/system.control"):
        subprocess.run(["rm", "-rf", f"{d}/{name}.d"], check=False)
    sd.daemon_reload()


def test_human_syntax_reaches_systemd(unit: sysd._sync.unit.Unit) -> None:
    sent = unit.set_properties({"CPUQuota": "20%", "MemoryMax": "1G"}, runtime=True)
    assert [(a.name, a.value) for a in sent] == [
        ("CPUQuotaPerSecUSec", 200_000),
        ("MemoryMax", 1024**3),
    ]
    assert unit.get("CPUQuotaPerSecUSec") == 200_000
    assert unit.get("MemoryMax") == 1024**3
    dropins = list(Path(f"/run/systemd/system.control/{unit.name}.d").glob("*.conf"))
    assert dropins, "a runtime change is a drop-in under /run"


def test_persistent_and_several_properties(unit: sysd._sync.unit.Unit) -> None:
    unit.set_properties(["TasksMax=100", "CPUWeight=50"])
    assert (unit.get("TasksMax"), unit.get("CPUWeight")) == (100, 50)
    assert Path(f"/etc/systemd/system.control/{unit.name}.d").is_dir()


def test_invalid_input_raises_before_the_bus(sd: sysd.Systemd, unit: sysd._sync.unit.Unit) -> None:
    before = unit.get("CPUQuotaPerSecUSec")
    for bad in ("CPUQuota=lots", "NoSuchProperty=1", "MemoryMax=-1", "=1", "Description"):
        with pytest.raises(sysd.InvalidPropertyError) as info:
            unit.set_properties(bad)
        assert isinstance(info.value, ValueError)
    with pytest.raises(sysd.InvalidPropertyError, match="CPUQuota"):
        unit.set_properties({"MemoryMax": "1G", "CPUQuota": "x"})
    assert unit.get("CPUQuotaPerSecUSec") == before  # nothing half-applied
    assert unit.get("MemoryMax") != 1024**3


def test_same_result_as_systemctl_set_property(
    sd: sysd.Systemd, unit: sysd._sync.unit.Unit
) -> None:
    twin = f"sysdt-setprop-twin-{uuid.uuid4().hex[:8]}.service"
    path = Path("/run/systemd/system") / twin
    path.write_text(SERVICE)
    sd.daemon_reload()
    try:
        other = sd.unit(twin)
        other.start()
        props = ["CPUQuota=33%", "IOWeight=200", "MemoryHigh=512M", "IPAddressDeny=any"]
        subprocess.run(["systemctl", "set-property", "--runtime", twin, *props], check=True)
        assert main(["set-property", "--runtime", unit.name, *props]) == 0
        for name in ("CPUQuotaPerSecUSec", "IOWeight", "MemoryHigh"):
            assert unit.get(name) == other.get(name)
        assert sorted(unit.get("IPAddressDeny")) == sorted(other.get("IPAddressDeny"))
        other.stop()
    finally:
        path.unlink()
        sd.daemon_reload()


def test_cli_bad_arguments_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["set-property", "x.service", "CPUQuota=many"]) == 1  # as systemctl
    assert "CPUQuota" in capsys.readouterr().err
    assert main(["set-property", "bad name!", "CPUQuota=1%"]) == 1


def test_async_twin(unit: sysd._sync.unit.Unit) -> None:
    async def go() -> None:
        async with sysd.aio.connect() as sd:
            u = await sd.unit(unit.name)
            await u.set_properties("CPUQuota=5%", runtime=True)
            assert await u.get("CPUQuotaPerSecUSec") == 50_000

    asyncio.run(go())


def test_properties_set_on_a_unit_points_to_set_properties(sd: sysd.Systemd, as_user) -> None:  # type: ignore[no-untyped-def]
    unit = sd.unit("systemd-journald")
    with pytest.raises(sysd.PropertyReadOnlyError) as info:
        sd.set_property(unit.path, "org.freedesktop.systemd1.Unit", "Description", "s", "x")
    assert "set_properties" in str(info.value)
    proc = as_user(
        f"""
        import sysd
        with sysd.connect() as sd:
            try:
                sd.set_property("{unit.path}", "org.freedesktop.systemd1.Unit", "Description",
                                "s", "x")
            except sysd.AccessDeniedError as e:
                print(type(e).__name__, "set_properties" in str(e))
        """
    )
    assert proc.stdout.split()[-1] == "True", proc.stdout + proc.stderr
