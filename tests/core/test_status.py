"""sysd._core.status on recorded GetAll results, and the schema generator without systemd.

The fixtures in tests/core/data/*.getall are real GetAll replies of systemd 252 (recorded by
tests/core/data/record.py inside the sandbox); tests/systemd/test_schema.py checks the same
things against the live systemd.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import pickle
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from uuid import UUID

import pytest

from sysd._core import schema
from sysd._core.convert import ExecCommand, Field, MonotonicTimer
from sysd._core.status import (
    AutomountStatus,
    DeviceStatus,
    JobStatus,
    ManagerStatus,
    MountStatus,
    PathStatus,
    ScopeStatus,
    ServiceStatus,
    SliceStatus,
    Snapshot,
    SocketStatus,
    SwapStatus,
    TargetStatus,
    TimerStatus,
    UnitStatus,
    status_class_for,
    unit_status,
)

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "org.freedesktop.systemd1."
UNIT = PREFIX + "Unit"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


typecheck = _load("sysd_test_typecheck", ROOT / "tests/core/data/typecheck.py")
gen_schema = _load("sysd_gen_schema", ROOT / "tools/gen_schema.py")
FIXTURES: dict[str, dict[str, dict[str, Any]]] = typecheck.fixtures()
S = TypeVar("S", bound=Snapshot)


def typed(cls: type[S], name: str) -> S:
    st = snapshot(name)
    assert type(st) is cls
    return st


def snapshot(name: str) -> Snapshot:
    ifaces = FIXTURES[name]
    if name == "manager":
        return ManagerStatus.from_dbus(ifaces[PREFIX + "Manager"])
    if name.startswith("job"):
        return JobStatus.from_dbus(ifaces[PREFIX + "Job"])
    others = [v for k, v in ifaces.items() if k != UNIT]
    return unit_status(ifaces[UNIT], others[0] if others else None)


# ------------------------------------------------------------------- fixtures vs. schema


def test_fixtures_cover_every_interface() -> None:
    seen = {iface for ifaces in FIXTURES.values() for iface in ifaces}
    assert seen == set(schema.INTERFACES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_recorded_keys_are_the_schema(name: str) -> None:
    """Recorded from the same systemd the schema was generated from: same names, same order."""
    for iface, props in FIXTURES[name].items():
        assert list(props) == [p.name for p in schema.INTERFACES[iface].properties]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_field_converts_to_its_declared_type(name: str) -> None:
    st = snapshot(name)
    declared = typecheck.declared_types(type(st))
    assert list(declared) == list(type(st).FIELDS)
    for field_name, field in type(st).FIELDS.items():
        raw = st.raw(field.dbus_name)
        assert raw is not None, field.dbus_name  # all present: recorded from this systemd
        direct = field.convert(raw)  # raises, unlike the attribute, on a converter bug
        value = getattr(st, field_name)
        assert value == direct
        assert typecheck.conforms(value, declared[field_name]), (field_name, value)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_json(name: str) -> None:
    st = snapshot(name)
    data = st.as_json_dict()
    assert list(data) == list(type(st).FIELDS)
    assert json.loads(json.dumps(data)) == data
    assert json.loads(st.to_json()) == data
    assert st.to_json(indent=2) == json.dumps(data, indent=2)


# ---------------------------------------------------------------------------- the classes

CLASSES = {
    "service": ServiceStatus,
    "socket": SocketStatus,
    "target": TargetStatus,
    "device": DeviceStatus,
    "mount": MountStatus,
    "automount": AutomountStatus,
    "swap": SwapStatus,
    "timer": TimerStatus,
    "path": PathStatus,
    "slice": SliceStatus,
    "scope": ScopeStatus,
}


@pytest.mark.parametrize("unit_type", CLASSES)
def test_class_per_type(unit_type: str) -> None:
    cls = CLASSES[unit_type]
    for name in (f"foo.{unit_type}", unit_type, f".{unit_type}", f"a@b.c.{unit_type}"):
        assert status_class_for(name) is cls
    iface = schema.UNIT_TYPE_INTERFACES[unit_type]
    has_props = bool(schema.INTERFACES[iface].properties)
    got = (cls.UNIT_TYPE, cls.TYPE_INTERFACE, cls.INTERFACES)
    assert got == (unit_type, iface if has_props else None, (UNIT, iface) if has_props else (UNIT,))
    unit_fields = [p.field for p in schema.UNIT.properties]
    type_fields = [p.field for p in schema.INTERFACES[iface].properties]
    assert list(cls.FIELDS) == unit_fields + type_fields
    for field in type_fields:
        assert cls.FIELDS[field].source == "_type_props"


def test_target_reads_one_interface() -> None:
    assert TargetStatus.TYPE_INTERFACE is None
    assert schema.TARGET.properties == ()


def test_unknown_unit_type_is_the_unit_interface() -> None:
    for name in ("foo.newtype", "", "service.", "noext"):
        assert status_class_for(name) is UnitStatus
    st = unit_status({"Id": "foo.newtype", "ActiveState": "active"}, {"Whatever": 1})
    assert type(st) is UnitStatus
    assert st.unit_type == "newtype" and st.is_active
    assert st.INTERFACES == (UNIT,) and st.TYPE_INTERFACE is None
    assert st["Whatever"] == 1


def test_manager_and_job_classes() -> None:
    assert ManagerStatus.INTERFACES == (PREFIX + "Manager",)
    assert JobStatus.INTERFACES == (PREFIX + "Job",)
    assert list(ManagerStatus.FIELDS) == [p.field for p in schema.MANAGER.properties]
    manager = typed(ManagerStatus, "manager")
    assert manager.version.startswith("252")
    assert manager.system_state == "degraded"
    assert manager.default_timeout_start == timedelta(seconds=90)
    assert isinstance(manager.userspace_timestamp, datetime)
    assert repr(manager).startswith("<ManagerStatus systemd 252")
    job = typed(JobStatus, "job_running")
    assert (job.id, job.job_type, job.state) == (285, "start", "waiting")
    assert job.unit_name == "sysd-record-job.service"
    assert job.unit == (
        "sysd-record-job.service",
        "/org/freedesktop/systemd1/unit/sysd_2drecord_2djob_2eservice",
    )
    assert job.activation_details == ()
    assert repr(job) == "<JobStatus 285 start sysd-record-job.service: waiting>"


# ------------------------------------------------------------------------------- the values


def test_failed_service() -> None:
    st = typed(ServiceStatus, "service_failed")
    assert (st.id, st.load_state, st.active_state, st.sub_state) == (
        "sysd-record-failed.service",
        "loaded",
        "failed",
        "failed",
    )
    assert st.is_failed and not st.is_active
    assert (st.result, st.exec_main_code, st.exec_main_status) == ("exit-code", 1, 3)
    assert st.main_pid is None and st.control_pid is None
    assert st.exec_main_pid == 64
    assert st.exec_start is not None and st.exec_start_ex is not None
    (cmd,) = st.exec_start
    assert isinstance(cmd, ExecCommand)
    assert cmd.argv == ("/bin/sh", "-c", "exit 3") and (cmd.code, cmd.status) == (1, 3)
    assert cmd.start is not None and cmd.exit is not None and cmd.start <= cmd.exit
    assert st.exec_start_ex[0][:2] == cmd[:2]
    assert st.since == st.inactive_enter_timestamp and st.since is not None
    assert st.since.tzinfo is UTC
    assert isinstance(st.invocation_id, UUID)
    assert st.job is None and st.load_error is None
    assert st.cpu_accounting is True
    assert st.cpu_usage is None  # the sandbox has no CPU controller: systemd sends 2^64-1
    assert st["CPUUsageNSec"] == 2**64 - 1
    assert st.memory_max is None and st.runtime_max is None
    assert st.restart_sec == timedelta(milliseconds=100) and st.restart == "no"
    assert st.uid is None and st.gid is None
    assert st.tty_rows is None
    assert st.log_level_max is None
    assert repr(st) == "<ServiceStatus sysd-record-failed.service: loaded, failed (failed)>"


def test_running_service() -> None:
    st = typed(ServiceStatus, "service_dbus")
    assert st.is_active and st.sub_state == "running"
    assert isinstance(st.main_pid, int) and st.main_pid > 1
    assert st.since == st.active_enter_timestamp
    assert isinstance(st.exec_main_start_timestamp, datetime)
    assert isinstance(st.exec_main_start_timestamp_monotonic, timedelta)
    assert st.exec_main_exit_timestamp is None
    assert st.type == "notify" and st.unit_type == "service"
    assert isinstance(st.tasks_max, int) and st.limit_nofile_soft == 1024
    assert st.limit_cpu is None and st.limit_core_soft == 0
    assert st.timer_slack == timedelta(microseconds=50)
    assert st.names == ("dbus.service",)


def test_timer() -> None:
    st = typed(TimerStatus, "timer_tmpfiles_clean")
    assert st.timers_monotonic is not None
    assert st.timers_monotonic[0] == MonotonicTimer("OnUnitActiveUSec", timedelta(days=1), None)
    assert st.next_elapse_monotonic == timedelta(microseconds=2398420303)
    assert st.next_elapse_realtime is None and st.last_trigger is None
    assert st.accuracy == timedelta(minutes=1)
    assert st.unit == "systemd-tmpfiles-clean.service"


def test_target_and_others() -> None:
    target = typed(TargetStatus, "target_multi_user")
    assert target.is_active
    mount = typed(MountStatus, "mount_root")
    assert mount.where == "/"
    device = typed(DeviceStatus, "device_stub")
    assert device.sysfs_path == ""
    swap = typed(SwapStatus, "swap_not_found")
    assert swap.load_state == "not-found"
    assert swap.load_error is not None and swap.load_error[0].endswith("NoSuchUnit")
    assert swap.since is None  # never active
    scope = typed(ScopeStatus, "scope_init")
    assert scope.id == "init.scope"
    slice_ = typed(SliceStatus, "slice_system")
    assert slice_.unit_type == "slice"


# ------------------------------------------------------------- missing, unknown, misshapen


def test_missing_properties_are_none() -> None:
    unit = dict(FIXTURES["service_dbus"][UNIT])
    service = dict(FIXTURES["service_dbus"][PREFIX + "Service"])
    del service["ExitType"], unit["ActivationDetails"], unit["Id"]  # an older systemd
    st = ServiceStatus.from_dbus(unit, service)
    assert st.exit_type is None and st.activation_details is None
    assert st.id == ""  # typed str: systemd always sends it
    assert st.raw("ExitType") is None and "ExitType" not in st
    # no type interface at all: every Service field is None, Unit fields are there
    bare = ServiceStatus.from_dbus(unit)
    assert bare.main_pid is None and bare.exec_start is None and bare.active_state == "active"
    empty = UnitStatus.from_dbus({})
    assert (empty.id, empty.active_state, empty.load_state, empty.sub_state) == ("", "", "", "")
    assert empty.since is None and not empty.is_active and not empty.is_failed
    assert empty.as_dict()["names"] is None


def test_unknown_enum_strings_pass_through() -> None:
    st = ServiceStatus.from_dbus(
        {"Id": "x.service", "ActiveState": "refurbishing", "SubState": "new-thing"},
        {"Result": "some-future-result", "Type": "notify-reload"},
    )
    assert (st.active_state, st.sub_state, st.result, st.type) == (
        "refurbishing",
        "new-thing",
        "some-future-result",
        "notify-reload",
    )
    assert not st.is_active and not st.is_failed


def test_misshapen_value_is_none_and_raw_stays() -> None:
    st = ServiceStatus.from_dbus(
        {"ActiveStateTimestamp": 0}, {"ExecMainStartTimestamp": "soon", "MainPID": None}
    )
    assert st.exec_main_start_timestamp is None
    assert st["ExecMainStartTimestamp"] == "soon"
    assert st.main_pid is None


# --------------------------------------------------------------------------- value semantics


def test_raw_access() -> None:
    st = typed(ServiceStatus, "service_failed")
    assert st.raw("ExecMainStatus") == 3 == st["ExecMainStatus"]
    assert st.raw("Id") == "sysd-record-failed.service"
    assert st.raw("NoSuchProperty") is None and st["NoSuchProperty"] is None
    assert "ExecMainStatus" in st and "Id" in st and "Nope" not in st
    dbus = st.dbus
    assert dbus["ExecMainStatus"] == 3 and dbus["Id"] == st.id
    assert len(dbus) == len(FIXTURES["service_failed"][UNIT]) + len(
        FIXTURES["service_failed"][PREFIX + "Service"]
    )
    with pytest.raises(TypeError):
        dbus["Id"] = "x"  # type: ignore[index]
    assert ServiceStatus.main_pid.dbus_name == "MainPID"
    assert ServiceStatus.FIELDS["cpu_usage"].dbus_name == "CPUUsageNSec"


def test_immutable() -> None:
    st = typed(ServiceStatus, "service_failed")
    with pytest.raises(AttributeError):
        st.active_state = "active"  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        st.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del st.active_state
    assert st.active_state == "failed"


def test_equality_pickle_copy() -> None:
    a = typed(ServiceStatus, "service_failed")
    b = typed(ServiceStatus, "service_failed")
    assert a == b
    assert (a != b) is False
    a.main_pid  # a cache does not change equality  # noqa: B018
    assert a == b
    assert a != snapshot("service_dbus")
    assert a != UnitStatus.from_dbus(
        FIXTURES["service_failed"][UNIT], FIXTURES["service_failed"][PREFIX + "Service"]
    )
    assert a != "not a snapshot"
    for restored in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert type(restored) is ServiceStatus and restored == a
        assert restored.as_dict() == a.as_dict()
    with pytest.raises(TypeError):
        hash(a)


def test_not_iterable() -> None:
    with pytest.raises(TypeError):
        iter(snapshot("service_dbus"))  # type: ignore[call-overload]


def test_as_dict() -> None:
    st = typed(TimerStatus, "timer_tmpfiles_clean")
    d = st.as_dict()
    assert list(d) == list(TimerStatus.FIELDS)
    assert d["active_state"] == "active" and isinstance(d["timers_monotonic"], tuple)


def test_from_dbus_does_not_convert() -> None:
    calls: list[Any] = []
    field = ServiceStatus.FIELDS["main_pid"]
    real = field.convert

    def spy(value: Any) -> Any:
        calls.append(value)
        return real(value)

    field.convert = spy
    try:
        st = typed(ServiceStatus, "service_dbus")
        assert calls == []
        st.main_pid  # noqa: B018
        st.main_pid  # noqa: B018
        assert len(calls) == 1
    finally:
        field.convert = real
    assert isinstance(field, Field)


# ------------------------------------------------------------------------- the generator


def test_generated_python_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    """What CI runs: python tools/gen_schema.py --from-xml --check."""
    assert gen_schema.main(["--from-xml", "--check"]) == 0, capsys.readouterr().out


def test_xml_is_canonical() -> None:
    interfaces = gen_schema.read_xml_dir()
    for iface in interfaces.values():
        path = gen_schema.XML_DIR / f"{iface.short}.xml"
        assert path.read_text() == gen_schema.interface_file(iface)
    assert [p.name for p in schema.SERVICE.properties] == [
        m.name for m in interfaces[PREFIX + "Service"].of("property")
    ]


def test_documentation_fallback_reads_the_same_interfaces() -> None:
    docs = gen_schema._find_docs(None)
    if docs is None:
        pytest.skip("systemd's man/org.freedesktop.systemd1.xml is not available here")
    documented = gen_schema.from_docs(docs, "252")
    for name, iface in gen_schema.read_xml_dir().items():
        assert gen_schema.interface_body(documented[name]) == gen_schema.interface_body(iface)


NAMES = [
    ("ActiveState", "s", "active_state"),
    ("ExecMainStartTimestamp", "t", "exec_main_start_timestamp"),
    ("ExecMainStartTimestampMonotonic", "t", "exec_main_start_timestamp_monotonic"),
    ("CPUUsageNSec", "t", "cpu_usage"),
    ("TimeoutStartUSec", "t", "timeout_start"),
    ("NextElapseUSecRealtime", "t", "next_elapse_realtime"),
    ("LastTriggerUSecMonotonic", "t", "last_trigger_monotonic"),
    ("CPUQuotaPerSecUSec", "t", "cpu_quota_per_sec"),
    ("RestartUSec", "t", "restart_sec"),
    ("IODeviceLatencyTargetUSec", "a(st)", "io_device_latency_target"),
    ("IOReadIOPSMax", "a(st)", "io_read_iops_max"),
    ("IPIngressBytes", "t", "ip_ingress_bytes"),
    ("AllowedCPUs", "ay", "allowed_cpus"),
    ("SELinuxContext", "(bs)", "selinux_context"),
    ("AppArmorProfile", "(bs)", "apparmor_profile"),
    ("BindIPv6Only", "s", "bind_ipv6_only"),
    ("SysFSPath", "s", "sysfs_path"),
    ("InitRDTimestamp", "t", "initrd_timestamp"),
    ("KExecWatchdogUSec", "t", "kexec_watchdog"),
    ("MountAPIVFS", "b", "mount_api_vfs"),
    ("IPTOS", "i", "ip_tos"),
    ("TTYVHangup", "b", "tty_vhangup"),
    ("TTYVTDisallocate", "b", "tty_vt_disallocate"),
    ("UMask", "u", "umask"),
    ("RestrictSUIDSGID", "b", "restrict_suid_sgid"),
    ("NRestarts", "u", "n_restarts"),
    ("MainPID", "u", "main_pid"),
    ("PIDFile", "s", "pid_file"),
    ("OOMScoreAdjust", "i", "oom_score_adjust"),
    ("LimitNOFILESoft", "t", "limit_nofile_soft"),
    ("DefaultLimitRTTIME", "t", "default_limit_rttime"),
    ("InvocationID", "ay", "invocation_id"),
    ("USBFunctionDescriptors", "s", "usb_function_descriptors"),
]


@pytest.mark.parametrize(("name", "signature", "field"), NAMES, ids=[n[0] for n in NAMES])
def test_field_names(name: str, signature: str, field: str) -> None:
    from sysd._core.convert import kind_for

    assert gen_schema.field_name(name, kind_for(name, signature)) == field


def test_schema_feature_detection() -> None:
    assert schema.SYSTEMD_VERSION.startswith("252")
    assert schema.SERVICE.has_method("BindMount") and not schema.SERVICE.has_method("Nope")
    assert schema.MANAGER.has_signal("JobRemoved")
    start = schema.MANAGER.method("StartTransientUnit")
    assert start is not None
    assert (start.in_signature, start.out_signature) == ("ssa(sv)a(sa(sv))", "o")
    assert start.in_names == ("name", "mode", "properties", "aux")
    prop = schema.UNIT.property("ActiveState")
    assert prop == schema.Property("ActiveState", "s", "active_state", "raw", "read", "true")
    assert schema.UNIT.property("Nope") is None
    assert schema.MANAGER.property("LogLevel").access == "readwrite"  # type: ignore[union-attr]
    reexec = schema.MANAGER.method("Reexecute")
    assert (
        reexec is not None and ("org.freedesktop.DBus.Method.NoReply", "true") in reexec.annotations
    )
    assert set(schema.UNIT_TYPE_INTERFACES) == set(CLASSES)
