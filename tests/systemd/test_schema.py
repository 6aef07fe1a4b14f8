"""The generated schema and the typed snapshots against the live systemd (RELIABILITY 26, 29).

For every unit type a real unit (the first loaded one; a LoadUnit stub where the sandbox has
none, as for devices and swaps) must GetAll exactly the properties the schema lists, and every
property must convert to the type its snapshot field declares.  Then the generator itself:
``tools/gen_schema.py --check`` passes here and fails on a checked-in file that differs.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import sysd
from sysd import Variant
from sysd._core import schema
from sysd._core.convert import CalendarTimer, MonotonicTimer
from sysd._core.status import (
    JobStatus,
    ManagerStatus,
    ServiceStatus,
    Snapshot,
    TimerStatus,
    status_class_for,
)

ROOT = Path(__file__).resolve().parents[2]
PATH = "/org/freedesktop/systemd1"
PREFIX = "org.freedesktop.systemd1."
MANAGER = PREFIX + "Manager"
UNIT = PREFIX + "Unit"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


typecheck = _load("sysd_test_typecheck", ROOT / "tests/core/data/typecheck.py")


def manager(sd: sysd.Systemd, member: str, signature: str = "", args: tuple[Any, ...] = ()) -> Any:
    return sd.call(None, PATH, MANAGER, member, signature, args)


def assert_converts(st: Snapshot) -> None:
    """Every field: the converter accepts the live value and gives the declared type."""
    declared = typecheck.declared_types(type(st))
    for name, field in type(st).FIELDS.items():
        raw = st.raw(field.dbus_name)
        assert raw is not None, f"{field.dbus_name} missing from GetAll"
        assert field.convert(raw) == getattr(st, name)
        assert typecheck.conforms(getattr(st, name), declared[name]), (name, raw)


def some_unit(sd: sysd.Systemd, unit_type: str) -> str:
    """A loaded unit of this type, else a name LoadUnit makes a stub for."""
    for unit in manager(sd, "ListUnits"):
        if unit[0].endswith(f".{unit_type}") and unit[2] == "loaded":
            return str(unit[0])
    return "sysd\\x2dtest.mount" if unit_type == "mount" else f"sysd-test-stub.{unit_type}"


@pytest.mark.parametrize("unit_type", sorted(schema.UNIT_TYPE_INTERFACES))
def test_unit_type_matches_schema(sd: sysd.Systemd, unit_type: str) -> None:
    name = some_unit(sd, unit_type)
    path = manager(sd, "LoadUnit", "s", (name,))
    iface = schema.UNIT_TYPE_INTERFACES[unit_type]
    unit_props = sd.get_all(path, UNIT)
    type_props = sd.get_all(path, iface)
    assert list(unit_props) == [p.name for p in schema.UNIT.properties]
    assert list(type_props) == [p.name for p in schema.INTERFACES[iface].properties]
    cls = status_class_for(name)
    assert (cls.UNIT_TYPE, cls.TYPE_INTERFACE in (iface, None)) == (unit_type, True)
    st = cls.from_dbus(unit_props, type_props if cls.TYPE_INTERFACE else None)
    assert st.id == name
    assert_converts(st)


def test_manager_matches_schema(sd: sysd.Systemd) -> None:
    props = sd.get_all(PATH, MANAGER)
    assert list(props) == [p.name for p in schema.MANAGER.properties]
    st = ManagerStatus.from_dbus(props)
    assert_converts(st)
    assert st.version == sd.version
    assert isinstance(st.userspace_timestamp, datetime)
    assert st.userspace_timestamp.tzinfo is UTC


@pytest.fixture
def tag(sd: sysd.Systemd) -> Iterator[str]:
    tag = uuid.uuid4().hex[:8]
    yield tag
    for unit in manager(sd, "ListUnits"):
        if tag in unit[0]:
            try:
                manager(sd, "StopUnit", "ss", (unit[0], "replace"))
                manager(sd, "ResetFailedUnit", "s", (unit[0],))
            except sysd.DBusError:
                pass


def start_transient(sd: sysd.Systemd, name: str, props: list[tuple[str, Variant]]) -> str:
    job: str = manager(sd, "StartTransientUnit", "ssa(sv)a(sa(sv))", (name, "replace", props, []))
    return job


def sleep(argv_tail: str) -> tuple[str, Variant]:
    return ("ExecStart", Variant("a(sasb)", [("/bin/sleep", ["/bin/sleep", argv_tail], False)]))


def test_job_matches_schema(sd: sysd.Systemd, tag: str) -> None:
    job = start_transient(
        sd, f"sysdt-job-{tag}.service", [("Type", Variant("s", "oneshot")), sleep("30")]
    )
    props = sd.get_all(job, PREFIX + "Job")
    assert list(props) == [p.name for p in schema.JOB.properties]
    st = JobStatus.from_dbus(props)
    assert_converts(st)
    assert st.unit_name == f"sysdt-job-{tag}.service" and st.job_type == "start"


def test_conversions_of_a_configured_service_and_timer(sd: sysd.Systemd, tag: str) -> None:
    """Values set through the bus come back converted: the special converters on real data."""
    service = f"sysdt-rich-{tag}.service"
    start_transient(
        sd,
        service,
        [
            sleep("infinity"),
            (
                "IPAddressAllow",
                Variant("a(iayu)", [(2, bytes([10, 0, 0, 0]), 8), (10, bytes(15) + b"\x01", 128)]),
            ),
            ("CPUAffinity", Variant("ay", b"\x01")),
            ("IODeviceLatencyTargetUSec", Variant("a(st)", [("/dev/null", 25_000)])),
            ("LimitCPU", Variant("t", 30)),
            ("LimitCPUSoft", Variant("t", 20)),
            ("MemoryMax", Variant("t", 512 << 20)),
            ("RuntimeMaxUSec", Variant("t", 300_000_000)),
            ("LogLevelMax", Variant("i", 6)),
            ("Environment", Variant("as", ["A=1", "B=2"])),
        ],
    )
    path = manager(sd, "GetUnit", "s", (service,))
    for _ in range(100):
        st = ServiceStatus.from_dbus(sd.get_all(path, UNIT), sd.get_all(path, PREFIX + "Service"))
        if st.sub_state == "running":
            break
    assert st.is_active and st.sub_state == "running"
    assert_converts(st)
    # systemd keeps address prefixes in a set: the order it sends them in varies
    assert set(st.ip_address_allow or ()) == {IPv4Network("10.0.0.0/8"), IPv6Network("::1/128")}
    assert st.cpu_affinity == frozenset({0})
    assert st.io_device_latency_target == (("/dev/null", timedelta(milliseconds=25)),)
    assert (st.limit_cpu, st.limit_cpu_soft) == (timedelta(seconds=30), timedelta(seconds=20))
    assert st.memory_max == 512 << 20
    assert st.runtime_max == timedelta(minutes=5)
    assert st.log_level_max == 6
    assert st.environment == ("A=1", "B=2")
    assert isinstance(st.main_pid, int) and st.main_pid > 1
    (cmd,) = st.exec_start or ()
    assert cmd.argv == ("/bin/sleep", "infinity") and cmd.pid == st.main_pid
    assert isinstance(cmd.start, datetime) and cmd.exit is None
    now = datetime.now(UTC)
    assert st.since is not None and abs(now - st.since) < timedelta(minutes=1)
    assert st.since == st.active_enter_timestamp

    timer = f"sysdt-rich-{tag}.timer"  # triggers the service of the same name
    start_transient(
        sd,
        timer,
        [
            ("TimersCalendar", Variant("a(ss)", [("OnCalendar", "daily")])),
            # written with the unit-file name, read back renamed (s/Sec/USec/ in dbus-timer.c)
            ("TimersMonotonic", Variant("a(st)", [("OnActiveSec", 3_600_000_000)])),
        ],
    )
    tpath = manager(sd, "GetUnit", "s", (timer,))
    ts = TimerStatus.from_dbus(sd.get_all(tpath, UNIT), sd.get_all(tpath, PREFIX + "Timer"))
    assert_converts(ts)
    assert ts.unit == service
    (cal,) = ts.timers_calendar or ()
    assert isinstance(cal, CalendarTimer) and cal.spec == "*-*-* 00:00:00"
    assert cal.next_elapse is not None and cal.next_elapse > now
    (mono,) = ts.timers_monotonic or ()
    assert isinstance(mono, MonotonicTimer)
    assert (mono.base, mono.value) == ("OnActiveUSec", timedelta(hours=1))
    assert isinstance(ts.next_elapse_monotonic, timedelta)


# ---------------------------------------------------------------------------- the generator


def test_generator_check_passes_against_this_systemd() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools/gen_schema.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up to date" in proc.stdout


def test_generator_check_fails_on_a_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gen: Any = _load("sysd_gen_schema_live", ROOT / "tools/gen_schema.py")
    xml = tmp_path / "introspection"
    shutil.copytree(gen.XML_DIR, xml)
    shutil.copy(gen.SCHEMA_PY, tmp_path / "schema.py")
    shutil.copy(gen.STATUS_PY, tmp_path / "status_generated.py")
    gen.XML_DIR, gen.SCHEMA_PY, gen.STATUS_PY = (
        xml,
        tmp_path / "schema.py",
        tmp_path / "status_generated.py",
    )
    assert gen.main(["--check"]) == 0
    timer = xml / "Timer.xml"
    timer.write_text(timer.read_text().replace('name="WakeSystem"', 'name="SleepSystem"'))
    capsys.readouterr()
    assert gen.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "SleepSystem" in out and "WakeSystem" in out
