"""systemd-run's option logic without I/O (sysd._core.run): tables of inputs and outcomes."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

import sysd
from sysd._core.properties import Assignment
from sysd._core.run import (
    DEVNULL,
    PIPE,
    STDOUT,
    InvalidRunOptionError,
    RunFailedError,
    RunResult,
    RunTimeoutError,
    UnknownUserError,
    env_name_is_valid,
    env_value_is_valid,
    make_unit_name,
    run_ended,
    run_result,
    scope_properties,
    scope_result,
    service_properties,
    systemd_run_exit_status,
    trigger_names,
    trigger_properties,
    user_name_is_valid,
    validate,
)

# ------------------------------------------------------------------ refused options

BAD: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("empty cmd", {"cmd": []}, InvalidRunOptionError, "cmd is empty"),
    ("cmd as str", {"cmd": "ls -l"}, InvalidRunOptionError, "list of str"),
    ("cmd as bytes", {"cmd": b"ls"}, InvalidRunOptionError, "list of str"),
    ("cmd item not str", {"cmd": ["ls", 3]}, InvalidRunOptionError, "must be a str"),
    ("NUL in cmd", {"cmd": ["ls", "a\0b"]}, InvalidRunOptionError, "NUL"),
    ("empty argv0", {"cmd": [""]}, InvalidRunOptionError, "cmd[0] is empty"),
    ("relative cwd", {"cwd": "tmp"}, InvalidRunOptionError, "relative"),
    ("dot cwd", {"cwd": "./x"}, InvalidRunOptionError, "relative"),
    ("cwd not str", {"cwd": 3}, InvalidRunOptionError, "must be a str"),
    ("empty property", {"properties": [""]}, sysd.InvalidPropertyError, "not an assignment"),
    ("property without =", {"properties": ["CPUQuota"]}, sysd.InvalidPropertyError, "assignment"),
    ("unknown property", {"properties": {"Bogus": "1"}}, sysd.InvalidPropertyError, "Bogus"),
    ("empty property name", {"properties": ["=1"]}, sysd.InvalidPropertyError, "unknown"),
    ("bad property value", {"properties": "CPUQuota=abc"}, sysd.InvalidPropertyError, "CPUQuota"),
    (
        "timer property on service",
        {"properties": ["OnCalendar=daily"]},
        sysd.InvalidPropertyError,
        "timer",
    ),
    ("properties not iterable", {"properties": 5}, InvalidRunOptionError, "mapping"),
    ("bad name", {"name": "bad name/x"}, sysd.InvalidUnitNameError, "invalid unit name"),
    ("empty name", {"name": ""}, sysd.InvalidUnitNameError, "invalid unit name"),
    ("template name", {"name": "foo@.service"}, sysd.InvalidUnitNameError, "template"),
    ("wrong suffix", {"name": "foo.socket"}, sysd.InvalidUnitNameError, ".service"),
    (
        "scope with service name",
        {"name": "x.service", "scope": True},
        sysd.InvalidUnitNameError,
        ".scope",
    ),
    ("bad slice", {"slice": "a/b"}, sysd.InvalidUnitNameError, "slice"),
    ("slice wrong suffix", {"slice": "x.service"}, sysd.InvalidUnitNameError, ".slice"),
    ("bad user name", {"user": "a:b"}, InvalidRunOptionError, "user"),
    ("user starting with -", {"user": "-x"}, InvalidRunOptionError, "user"),
    ("empty group", {"group": ""}, InvalidRunOptionError, "group"),
    ("nice out of range", {"nice": 20}, InvalidRunOptionError, "nice"),
    ("nice not int", {"nice": "5"}, InvalidRunOptionError, "nice"),
    ("nice bool", {"nice": True}, InvalidRunOptionError, "nice"),
    ("env not mapping", {"env": ["A=1"]}, InvalidRunOptionError, "mapping"),
    ("env bad name", {"env": {"1A": "x"}}, InvalidRunOptionError, "variable name"),
    ("env name with =", {"env": {"A=B": "x"}}, InvalidRunOptionError, "variable name"),
    ("env empty name", {"env": {"": "x"}}, InvalidRunOptionError, "variable name"),
    ("env control char", {"env": {"A": "x\x01"}}, InvalidRunOptionError, "control"),
    ("env value not str", {"env": {"A": 1}}, InvalidRunOptionError, "must be a str"),
    ("bad service type", {"service_type": "daemon"}, InvalidRunOptionError, "service_type"),
    ("scope + remain", {"scope": True, "remain_after_exit": True}, InvalidRunOptionError, "scope"),
    ("scope + type", {"scope": True, "service_type": "oneshot"}, InvalidRunOptionError, "scope"),
    ("pty + scope", {"scope": True, "pty": True}, InvalidRunOptionError, "pty"),
    ("pty + timer", {"pty": True, "on_active": "1s"}, InvalidRunOptionError, "pty"),
    ("stdio + timer", {"stdio": True, "on_active": "1s"}, InvalidRunOptionError, "timer"),
    ("scope + timer", {"scope": True, "on_active": "1s"}, InvalidRunOptionError, "scope"),
    ("wait + timer", {"wait": True, "on_calendar": "daily"}, InvalidRunOptionError, "wait"),
    (
        "two triggers",
        {"on_active": "1s", "socket_properties": ["ListenStream=/run/x"]},
        InvalidRunOptionError,
        "only one trigger",
    ),
    (
        "timer property alone",
        {"timer_properties": ["AccuracySec=1s"]},
        InvalidRunOptionError,
        "no effect",
    ),
    ("bad time span", {"on_active": "5 parsecs"}, sysd.InvalidPropertyError, "OnActiveSec"),
    ("negative span", {"on_boot": -1.0}, InvalidRunOptionError, "negative"),
    ("span as bool", {"on_boot": True}, InvalidRunOptionError, "bool"),
    ("span as list", {"on_boot": [1]}, InvalidRunOptionError, "time span"),
    ("bad calendar", {"on_calendar": "someday"}, sysd.InvalidCalendarSpecError, ""),
    ("empty calendar list", {"on_calendar": []}, sysd.InvalidCalendarSpecError, "empty"),
    ("calendar not str", {"on_calendar": [5]}, InvalidRunOptionError, "on_calendar"),
    ("empty socket props", {"socket_properties": []}, InvalidRunOptionError, "empty"),
    (
        "unknown socket prop",
        {"socket_properties": {"Listen": "x"}},
        sysd.InvalidPropertyError,
        "Listen",
    ),
    ("timeout without wait", {"timeout": 5}, InvalidRunOptionError, "wait=True"),
    ("zero timeout", {"timeout": 0, "wait": True}, InvalidRunOptionError, "timeout"),
    ("nan timeout", {"timeout": float("nan"), "wait": True}, InvalidRunOptionError, "timeout"),
    ("description not str", {"description": 5}, InvalidRunOptionError, "description"),
]


@pytest.mark.parametrize(("case", "options", "error", "text"), BAD, ids=[b[0] for b in BAD])
def test_refused_before_any_io(
    case: str, options: dict[str, Any], error: type[Exception], text: str
) -> None:
    options = dict(options)
    cmd = options.pop("cmd", ["/bin/true"])
    with pytest.raises(error) as info:
        validate(cmd, **options)
    assert text in str(info.value)
    assert isinstance(info.value, ValueError)  # every refusal is also a ValueError


def test_option_errors_name_the_option() -> None:
    with pytest.raises(InvalidRunOptionError) as info:
        validate(["/bin/true"], cwd="relative")
    assert info.value.option == "cwd"
    assert info.value.hint and "absolute" in info.value.hint
    err = pickle.loads(pickle.dumps(info.value))
    assert err.option == "cwd" and str(err) == str(info.value)


def test_unknown_user_error_is_a_lookup_error_and_pickles() -> None:
    err = UnknownUserError("unknown user 'x'", option="user", user="x")
    assert isinstance(err, LookupError) and isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert again.user == "x" and again.option == "user"


# ------------------------------------------------------------------ accepted options


def test_defaults() -> None:
    spec = validate(["/bin/true"])
    assert spec.mode == "service" and spec.trigger is None and spec.name is None
    assert spec.collect is True and spec.remain_after_exit is False
    assert spec.resolve_executable is True


@pytest.mark.parametrize(
    ("name", "scope", "expected"),
    [
        ("web", False, "web.service"),
        ("web.service", False, "web.service"),
        ("web@1", False, "web@1.service"),
        ("job", True, "job.scope"),
        ("job.scope", True, "job.scope"),
    ],
)
def test_names(name: str, scope: bool, expected: str) -> None:
    assert validate(["/bin/true"], name=name, scope=scope).name == expected


def test_cwd_forms() -> None:
    assert validate(["x"], cwd="~").cwd == "~"
    assert validate(["x"], cwd="/tmp").cwd == "/tmp"
    from pathlib import Path

    assert validate(["x"], cwd=Path("/srv")).cwd == "/srv"


def test_properties_forms_agree() -> None:
    a = validate(["x"], properties={"CPUQuota": "20%", "MemoryMax": "1G"}).properties
    b = validate(["x"], properties=["CPUQuota=20%", "MemoryMax=1G"]).properties
    c = validate(["x"], properties="CPUQuota=20%").properties
    assert a == b
    assert c == (Assignment("CPUQuotaPerSecUSec", "t", 200000),)


def test_root_directory_keeps_the_command_as_given() -> None:
    # systemd-run's shall_make_executable_absolute()
    assert validate(["x"], properties={"RootDirectory": "/srv/root"}).resolve_executable is False
    assert validate(["x"], properties={"DynamicUser": True}).dynamic_user is True


@pytest.mark.parametrize(
    ("options", "trigger", "names"),
    [
        ({"on_active": "2s"}, "timer", ["TimersMonotonic", "RemainAfterElapse"]),
        ({"on_active": 2}, "timer", ["TimersMonotonic", "RemainAfterElapse"]),
        ({"on_boot": 1.5}, "timer", ["TimersMonotonic", "RemainAfterElapse"]),
        (
            {"on_unit_inactive": timedelta(minutes=1)},
            "timer",
            ["TimersMonotonic", "RemainAfterElapse"],
        ),
        ({"on_calendar": "daily"}, "timer", ["TimersCalendar", "RemainAfterElapse"]),
        (
            {"on_calendar": ["daily", "hourly"]},
            "timer",
            ["TimersCalendar", "TimersCalendar", "RemainAfterElapse"],
        ),
        (
            {"timer_properties": {"OnCalendar": "daily"}},
            "timer",
            ["TimersCalendar", "RemainAfterElapse"],
        ),
        (
            {"on_startup": "1h", "timer_properties": ["AccuracySec=1s"]},
            "timer",
            ["TimersMonotonic", "AccuracyUSec", "RemainAfterElapse"],
        ),
        ({"socket_properties": {"ListenStream": "/run/x.sock"}}, "socket", ["Listen"]),
        ({"path_properties": ["PathExists=/run/x"]}, "path", ["Paths"]),
    ],
)
def test_triggers(options: dict[str, Any], trigger: str, names: list[str]) -> None:
    spec = validate(["/bin/true"], **options)
    assert spec.trigger == trigger
    props = trigger_properties(spec, add_ref=False)
    assert [p[0] for p in props] == ["Description", "CollectMode", *names]


def test_on_active_seconds_are_seconds() -> None:
    spec = validate(["x"], on_active=2.5)
    assert spec.trigger_properties[0].value == [("OnActiveSec", 2_500_000)]


@pytest.mark.parametrize(
    ("name", "suffix", "expected"),
    [
        ("foo", ".timer", ("foo.service", "foo.timer")),
        ("foo.service", ".timer", ("foo.service", "foo.timer")),
        ("foo.timer", ".timer", ("foo.service", "foo.timer")),
        ("foo.service", ".socket", ("foo.service", "foo.socket")),
        ("foo@a.path", ".path", ("foo@a.service", "foo@a.path")),
    ],
)
def test_trigger_names(name: str, suffix: str, expected: tuple[str, str]) -> None:
    assert trigger_names(name, suffix) == expected


def test_trigger_names_refuse_other_types() -> None:
    with pytest.raises(sysd.InvalidUnitNameError):
        trigger_names("foo.mount", ".timer")


# ------------------------------------------------------------------ unit names


@pytest.mark.parametrize(
    ("unique", "unit_type", "seq", "expected"),
    [
        (":1.5", "service", 0, "run-u5.service"),
        (":1.5", "service", 1, "run-u5-1.service"),
        (":1.1234", "scope", 7, "run-u1234-7.scope"),
        (":42", "service", 0, "run-u42.service"),
    ],
)
def test_make_unit_name_on_a_bus(unique: str, unit_type: str, seq: int, expected: str) -> None:
    assert make_unit_name(unique, unit_type, seq) == expected


def test_make_unit_name_without_a_bus() -> None:
    name = make_unit_name(None, "service", random_hex="0123456789abcdef" * 2)
    assert name == "run-r0123456789abcdef0123456789abcdef.service"
    with pytest.raises(ValueError):
        make_unit_name(None, "service", random_hex="xyz")
    with pytest.raises(ValueError):
        make_unit_name("org.example", "service")


# ------------------------------------------------------------------ properties


def test_service_properties_in_systemd_runs_order() -> None:
    spec = validate(
        ["/bin/echo", "hi"],
        properties={"CPUQuota": "20%"},
        slice="batch",
        remain_after_exit=True,
        service_type="oneshot",
        user="nobody",
        group="nogroup",
        nice=5,
        cwd="/tmp",
        env={"A": "1", "B": "x y"},
        send_sighup=True,
    )
    props = service_properties(
        spec,
        add_ref=True,
        stdio=[("StandardOutputFileDescriptor", "h", 5)],
        extra_env=["TERM=xterm"],
    )
    assert props == [
        ("Description", "s", "/bin/echo hi"),
        ("CollectMode", "s", "inactive-or-failed"),
        ("AddRef", "b", True),
        ("CPUQuotaPerSecUSec", "t", 200000),
        ("SendSIGHUP", "b", True),
        ("Slice", "s", "batch.slice"),
        ("RemainAfterExit", "b", True),
        ("Type", "s", "oneshot"),
        ("User", "s", "nobody"),
        ("Group", "s", "nogroup"),
        ("Nice", "i", 5),
        ("WorkingDirectory", "s", "/tmp"),
        ("StandardOutputFileDescriptor", "h", 5),
        ("Environment", "as", ["TERM=xterm"]),
        ("Environment", "as", ["A=1", "B=x y"]),
        ("ExecStart", "a(sasb)", [("/bin/echo", ["/bin/echo", "hi"], False)]),
    ]


def test_minimal_service_properties_and_description() -> None:
    spec = validate(["/bin/true"], collect=False, description="job")
    assert service_properties(spec, add_ref=False) == [
        ("Description", "s", "job"),
        ("ExecStart", "a(sasb)", [("/bin/true", ["/bin/true"], False)]),
    ]


def test_scope_properties_hold_the_pid() -> None:
    spec = validate(["/bin/sleep", "1"], scope=True, properties=["RuntimeMaxSec=5"])
    props = scope_properties(spec, add_ref=False, pid=4242)
    assert props[-1] == ("PIDs", "au", [4242])
    assert ("RuntimeMaxUSec", "t", 5_000_000) in props


# ------------------------------------------------------------------ results

CLD_EXITED, CLD_KILLED, CLD_DUMPED = 1, 2, 3


@pytest.mark.parametrize(
    ("result", "code", "signal", "status"),
    [
        ("success", 0, None, 0),
        ("success", 3, None, 0),  # SuccessExitStatus=3: systemd says success
        ("exit-code", 1, None, 1),
        ("exit-code", 7, None, 7),
        ("exit-code", 0, None, 1),
        ("signal", None, 9, 255),
        ("core-dump", None, 11, 1),
        ("timeout", None, 15, 1),
        ("oom-kill", None, 9, 1),
        ("resources", None, None, 1),
        (None, None, None, 1),
    ],
)
def test_systemd_run_exit_status(
    result: str | None, code: int | None, signal: int | None, status: int
) -> None:
    assert systemd_run_exit_status(result, code, signal) == status
    r = RunResult("u.service", result=result, exit_code=code, exit_signal=signal)
    assert r.exit_status == status


@pytest.mark.parametrize(
    ("props", "remain", "ended"),
    [
        ({}, False, False),
        ({"ActiveState": "inactive"}, False, False),  # before it started
        ({"ActiveState": "inactive", "InactiveExitTimestampMonotonic": 5}, False, True),
        ({"ActiveState": "failed"}, False, True),
        ({"ActiveState": "failed", "Job": (7, "/org/freedesktop/systemd1/job/7")}, False, False),
        (
            {"ActiveState": "inactive", "InactiveExitTimestampMonotonic": 5, "Job": (0, "/")},
            False,
            True,
        ),
        ({"ActiveState": "active", "SubState": "running"}, False, False),
        ({"ActiveState": "active", "SubState": "exited"}, False, False),
        ({"ActiveState": "active", "SubState": "exited"}, True, True),
        ({"ActiveState": "activating", "SubState": "start"}, True, False),
    ],
)
def test_run_ended(props: dict[str, Any], remain: bool, ended: bool) -> None:
    assert run_ended(props, remain) is ended


def test_run_result_from_properties() -> None:
    inv = bytes(range(16))
    props = {
        "Result": "exit-code",
        "ExecMainCode": CLD_EXITED,
        "ExecMainStatus": 7,
        "ExecMainPID": 321,
        "InvocationID": inv,
        "ExecMainStartTimestamp": 1_700_000_000_000_000,
        "ExecMainExitTimestamp": 1_700_000_000_250_000,
        "CPUUsageNSec": 1_500_000,
        "IOReadBytes": 2**64 - 1,
        "IPIngressBytes": 10,
    }
    r = run_result("x.service", props, stdout=b"out")
    assert r.exit_code == 7 and r.exit_signal is None and r.result == "exit-code"
    assert r.returncode == 7 and not r.ok and r.main_pid == 321
    assert r.invocation_id == UUID(bytes=inv)
    assert r.started_at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert r.runtime == timedelta(milliseconds=250)
    assert r.cpu_usage == timedelta(microseconds=1500)
    assert r.io_read_bytes is None and r.ip_ingress_bytes == 10 and r.memory_peak is None
    assert r.stdout == b"out" and r.stderr is None
    assert "exited with status 7" in r.describe()


@pytest.mark.parametrize(
    ("code", "status", "exit_code", "exit_signal", "returncode"),
    [
        (CLD_EXITED, 0, 0, None, 0),
        (CLD_KILLED, 9, None, 9, -9),
        (CLD_DUMPED, 11, None, 11, -11),
        (0, 0, None, None, None),  # never ran
    ],
)
def test_exit_code_and_signal(
    code: int, status: int, exit_code: int | None, exit_signal: int | None, returncode: int | None
) -> None:
    r = run_result("x.service", {"ExecMainCode": code, "ExecMainStatus": status})
    assert (r.exit_code, r.exit_signal, r.returncode) == (exit_code, exit_signal, returncode)


@pytest.mark.parametrize(
    ("returncode", "scope_result_", "result", "code", "signal"),
    [
        (0, "success", "success", 0, None),
        (3, "success", "exit-code", 3, None),
        (-9, None, "signal", None, 9),
        (-15, "timeout", "timeout", None, 15),  # RuntimeMaxSec= on the scope
    ],
)
def test_scope_result(
    returncode: int, scope_result_: str | None, result: str, code: int | None, signal: int | None
) -> None:
    r = scope_result(
        "s.scope",
        {"Result": scope_result_} if scope_result_ else {},
        returncode,
        pid=5,
        started_at=None,
        exited_at=None,
    )
    assert (r.result, r.exit_code, r.exit_signal, r.main_pid) == (result, code, signal, 5)


def test_check_returncode_raises_run_failed_error_with_the_result() -> None:
    ok = RunResult("a.service", result="success", exit_code=0)
    ok.check_returncode()
    bad = RunResult("a.service", result="exit-code", exit_code=3, stdout=b"o", stderr=b"e")
    with pytest.raises(RunFailedError) as info:
        bad.check_returncode()
    err = info.value
    assert isinstance(err, RuntimeError) and isinstance(err, sysd.SysdError)
    assert (err.unit, err.result, err.exit_code, err.stdout, err.stderr) == (
        "a.service",
        "exit-code",
        3,
        b"o",
        b"e",
    )
    assert err.run_result is bad
    again = pickle.loads(pickle.dumps(err))
    assert again.run_result == bad and again.exit_code == 3 and str(again) == str(err)


def test_run_timeout_error() -> None:
    r = RunResult("a.service", result="exit-code", stdout=b"partial")
    err = RunTimeoutError("late", unit="a.service", timeout=2.0, run_result=r)
    assert isinstance(err, TimeoutError) and err.stdout == b"partial"
    assert pickle.loads(pickle.dumps(err)).timeout == 2.0


def test_redirect_values() -> None:
    assert {PIPE, DEVNULL, STDOUT} == set(type(PIPE))
    assert repr(PIPE) == "sysd.PIPE"


# ------------------------------------------------------------------ small checks


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("A", True),
        ("_x1", True),
        ("1A", False),
        ("", False),
        ("A-B", False),
        ("A=B", False),
        ("Ä", False),
        ("A B", False),
    ],
)
def test_env_name_is_valid(name: str, ok: bool) -> None:
    assert env_name_is_valid(name) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("x y", True),
        ("a\tb\nc", True),
        ("ü", True),
        ("\x1b[0m", False),
        ("\x7f", False),
    ],
)
def test_env_value_is_valid(value: str, ok: bool) -> None:
    assert env_value_is_valid(value) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("root", True),
        ("0", True),
        ("1000", True),
        ("4294967295", False),
        ("65535", False),
        ("", False),
        ("-x", False),
        (".", False),
        ("a:b", False),
        ("a/b", False),
        (" a", False),
        ("a\nb", False),
        ("Ünïcode", True),
        ("x" * 256, False),
    ],
)
def test_user_name_is_valid(name: str, ok: bool) -> None:
    assert user_name_is_valid(name) is ok
