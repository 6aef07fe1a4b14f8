"""Failure reports, the pure part: which step failed, conditions, matches, rendering."""

from __future__ import annotations

import pickle
from typing import Any
from uuid import UUID

import pytest

from sysd import FailureReport
from sysd._core.report import (
    FailedStep,
    LogLine,
    activation_pids,
    failed_conditions,
    failed_step,
    invocation_hex,
    job_logs_done,
    journal_matches,
    report_from_status,
)
from sysd._core.status import status_class_for

ID = "0123456789abcdef0123456789abcdef"


def cmd(argv: str, code: int, status: int, start: int, *, pid: int = 7, ignore: bool = False):  # type: ignore[no-untyped-def]
    """One ExecXxx entry as D-Bus sends it: (path, argv, ignore, start, start_mono,
    exit, exit_mono, pid, code, status)."""
    words = argv.split()
    return (words[0], words, ignore, start, start, start + 1, start + 1, pid, code, status)


def snapshot(unit_props: dict[str, Any], type_props: dict[str, Any], name: str = "a.service"):  # type: ignore[no-untyped-def]
    return status_class_for(name).from_dbus(unit_props, type_props)


STEP_CASES = [
    # (what, ConditionTimestampMonotonic, type props, expected step or None)
    ("nothing ran", 0, {}, None),
    ("a clean run", 100, {"ExecStart": [cmd("/bin/true", 1, 0, 110)]}, None),
    (
        "ExecStartPre exits 1",
        100,
        {"ExecStartPre": [cmd("/bin/false", 1, 1, 110)], "ExecStart": [cmd("/bin/x", 0, 0, 0)]},
        FailedStep("ExecStartPre", ("/bin/false",), 7, 1, 1),
    ),
    (
        "ExecStart exits 3 after a clean pre",
        100,
        {
            "ExecStartPre": [cmd("/bin/true", 1, 0, 110)],
            "ExecStart": [cmd("/bin/sh -c x", 1, 3, 120)],
        },
        FailedStep("ExecStart", ("/bin/sh", "-c", "x"), 7, 1, 3),
    ),
    (
        "an ignored failure (-) is not the step",
        100,
        {
            "ExecStartPre": [cmd("/bin/false", 1, 1, 110, ignore=True)],
            "ExecStart": [cmd("/bin/true", 1, 0, 120)],
        },
        None,
    ),
    (
        "a failure of an earlier activation is not this one's",
        200,
        {"ExecStartPre": [cmd("/bin/false", 1, 1, 110)], "ExecStart": [cmd("/bin/sh", 2, 9, 210)]},
        FailedStep("ExecStart", ("/bin/sh",), 7, 2, 9),
    ),
    (
        "the last one started wins (ExecStopPost after ExecStart)",
        100,
        {"ExecStart": [cmd("/bin/a", 1, 2, 110)], "ExecStopPost": [cmd("/bin/b", 1, 4, 130)]},
        FailedStep("ExecStopPost", ("/bin/b",), 7, 1, 4),
    ),
]


@pytest.mark.parametrize(
    ("what", "since", "props", "want"), STEP_CASES, ids=[c[0] for c in STEP_CASES]
)
def test_failed_step(what: str, since: int, props: dict[str, Any], want: FailedStep | None) -> None:
    st = snapshot({"ConditionTimestampMonotonic": since}, props)
    assert failed_step(st) == want


def test_activation_pids() -> None:
    st = snapshot(
        {"ConditionTimestampMonotonic": 100},
        {
            "ExecStartPre": [cmd("/bin/a", 1, 0, 50, pid=3), cmd("/bin/b", 1, 0, 110, pid=4)],
            "ExecStart": [cmd("/bin/c", 1, 1, 120, pid=5)],
            "ExecMainPID": 5,
            "ExecMainStartTimestampMonotonic": 120,
        },
    )
    assert activation_pids(st) == (4, 5)  # 3 ran in an earlier activation
    assert activation_pids(st, last_run=True) == (3, 4, 5)


@pytest.mark.parametrize(
    ("step", "text"),
    [
        (
            FailedStep("ExecStartPre", ("/bin/false",), 7, 1, 1),
            "ExecStartPre=/bin/false (code=exited, status=1/FAILURE)",
        ),
        (
            FailedStep("ExecStart", ("/bin/sleep", "9"), 7, 2, 9),
            "ExecStart=/bin/sleep 9 (code=killed, signal=KILL)",
        ),
        (
            FailedStep("ExecStart", ("/x",), 7, 1, 203),
            "ExecStart=/x (code=exited, status=203/EXEC)",
        ),
        (FailedStep("ExecStop", ("/x",), 7, 3, 6), "ExecStop=/x (code=dumped, signal=ABRT)"),
    ],
)
def test_failed_step_text(step: FailedStep, text: str) -> None:
    assert str(step) == text


@pytest.mark.parametrize(
    ("entries", "want"),
    [
        (None, ()),
        (
            [
                ("ConditionPathExists", False, False, "/x", 1),
                ("ConditionUser", False, False, "0", 1),
            ],
            (),
        ),
        # nothing tested (the unit was read again after being unloaded)
        ([("ConditionPathExists", False, False, "/x", 0)], ("ConditionPathExists=/x",)),
        (
            [
                ("ConditionPathExists", False, False, "/x", 0),
                ("ConditionUser", False, False, "0", 0),
            ],
            ("ConditionPathExists=/x (one of these)", "ConditionUser=0 (one of these)"),
        ),
        ([("ConditionPathExists", False, False, "/x", -1)], ("ConditionPathExists=/x",)),
        ([("ConditionPathExists", False, True, "/x", -1)], ("ConditionPathExists=!/x",)),
        (
            [("ConditionHost", True, True, "box", -1), ("ConditionUser", False, False, "0", 0)],
            ("ConditionHost=|!box",),
        ),
        ([("AssertPathExists", False, False, "/y", -1)], ("AssertPathExists=/y",)),
    ],
)
def test_failed_conditions(entries: Any, want: tuple[str, ...]) -> None:
    assert failed_conditions(entries) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (None, None),
        (b"", None),
        ([], None),
        (bytes(16), None),
        (bytes.fromhex(ID), ID),
        (list(bytes.fromhex(ID)), ID),
        (UUID(ID), ID),
        (str(UUID(ID)), ID),
        (ID, ID),
    ],
)
def test_invocation_hex(value: Any, want: str | None) -> None:
    assert invocation_hex(value) == want


@pytest.mark.parametrize(
    ("kwargs", "want"),
    [
        (
            {"invocation_id": ID, "job_id": None},
            [f"_SYSTEMD_INVOCATION_ID={ID}", "+", f"INVOCATION_ID={ID}", "_PID=1"],
        ),
        (
            {"invocation_id": ID, "job_id": 42, "boot_id": "b" * 32},
            [
                f"_SYSTEMD_INVOCATION_ID={ID}", "+", f"INVOCATION_ID={ID}", "_PID=1", "+",
                "JOB_ID=42", "UNIT=a.service", "_PID=1", f"_BOOT_ID={'b' * 32}",
            ],
        ),
        ({"invocation_id": None, "job_id": 42}, ["JOB_ID=42", "UNIT=a.service", "_PID=1"]),
        (
            {"invocation_id": ID, "job_id": 5, "scope": "user", "uid": 1000},
            [
                f"_SYSTEMD_INVOCATION_ID={ID}", "+", f"USER_INVOCATION_ID={ID}", "_UID=1000", "+",
                "JOB_ID=5", "USER_UNIT=a.service", "_UID=1000",
            ],
        ),
        ({"invocation_id": None, "job_id": None}, []),
        (
            {"invocation_id": ID, "job_id": None, "pids": (5, 6), "boot_id": "b" * 32},
            [
                f"_SYSTEMD_INVOCATION_ID={ID}", "+", f"INVOCATION_ID={ID}", "_PID=1", "+",
                "_SYSTEMD_UNIT=a.service", "_PID=5", "_PID=6", f"_BOOT_ID={'b' * 32}",
            ],
        ),
    ],
)  # fmt: skip
def test_journal_matches(kwargs: dict[str, Any], want: list[str]) -> None:
    assert journal_matches(unit="a.service", **kwargs) == want


def failed_pre() -> Any:
    return snapshot(
        {
            "Id": "a.service",
            "Description": "demo",
            "ActiveState": "failed",
            "SubState": "failed",
            "InvocationID": bytes.fromhex(ID),
            "ConditionTimestampMonotonic": 100,
            "NeedDaemonReload": False,
            "ConditionResult": True,
            "ConditionTimestamp": 1_700_000_000_000_000,
            "AssertResult": False,
            "AssertTimestamp": 0,  # never checked: not a failure
        },
        {
            "Result": "exit-code",
            "NRestarts": 2,
            "ExecMainCode": 0,
            "ExecMainStatus": 0,
            "ExecStartPre": [cmd("/bin/false", 1, 1, 110, pid=42)],
        },
    )


LOGS = (
    LogLine(
        "Dec 07 12:00:00 box sh[42]: boom\n",
        "Dec 07 12:00:00 box sh[42]: \x1b[0;1;31mboom\x1b[0m\n",
        3,
    ),
    LogLine("Dec 07 12:00:00 box systemd[1]: a.service: Failed.\n", "same\n", 4),
)


def test_report_from_status_and_render() -> None:
    report = report_from_status(
        "a.service",
        failed_pre(),
        job_id=9,
        job_type="start",
        job_result="failed",
        ran=True,
        logs=LOGS,
    )
    assert report.invocation_id == ID and report.result == "exit-code"
    assert report.failed_step == FailedStep("ExecStartPre", ("/bin/false",), 42, 1, 1)
    assert report.condition_result is True and report.assert_result is None
    assert report.exec_main_code is None and report.exec_main_status is None
    assert report.exit_code is None and report.exit_signal is None
    assert report.n_restarts == 2 and report.need_daemon_reload is False
    assert report.render() == (
        "\u00d7 a.service - demo\n"
        "       Job: start (job 9): failed\n"
        "    Active: failed (Result: exit-code)\n"
        "    Failed: 42 ExecStartPre=/bin/false (code=exited, status=1/FAILURE)\n"
        "  Restarts: 2\n"
        f"Invocation: {ID}\n"
        "\n"
        "Dec 07 12:00:00 box sh[42]: boom\n"
        "Dec 07 12:00:00 box systemd[1]: a.service: Failed.\n"
    )
    assert str(report) == report.render()
    colored = report.render(color=True)
    assert colored.startswith("\x1b[0;1;31m\u00d7\x1b[0m a.service - demo\n")
    assert "\x1b[0;1;31m(code=exited, status=1/FAILURE)\x1b[0m" in colored
    assert colored.endswith("\x1b[0;1;31mboom\x1b[0m\nsame\n")


def test_report_conditions_asserts_and_missing_parts() -> None:
    st = snapshot(
        {
            "Id": "c.service",
            "ActiveState": "inactive",
            "SubState": "dead",
            "ConditionResult": False,
            "ConditionTimestamp": 1_700_000_000_000_000,
            "Conditions": [("ConditionPathExists", False, False, "/nonexistent", -1)],
            "AssertResult": False,
            "AssertTimestamp": 1_700_000_000_000_000,
            "Asserts": [("AssertPathExists", False, True, "/etc", -1)],
            "NeedDaemonReload": True,
        },
        {"Result": "success", "ExecMainCode": 1, "ExecMainStatus": 0, "ExecMainPID": 5},
        "c.service",
    )
    report = report_from_status(
        "c.service",
        st,
        job_result="done",
        job_type="start",
        ran=False,
        logs_missing_reason="not fetched: lines=0",
    )
    assert report.failed_conditions == ("ConditionPathExists=/nonexistent",)
    assert report.failed_asserts == ("AssertPathExists=!/etc",)
    assert report.exit_code == 0 and report.invocation_id is None
    assert report.render().splitlines() == [
        "\u25cb c.service",
        "       Job: start: done",
        "    Active: inactive (dead)",
        "  Main PID: 5 (code=exited, status=0/SUCCESS)",
        " Condition: start condition failed",
        "            \u2514\u2500 ConditionPathExists=/nonexistent was not met",
        "    Assert: start assertion failed",
        "            \u2514\u2500 AssertPathExists=!/etc was not met",
        "Warning: The unit file, source configuration file or drop-ins of c.service changed on"
        " disk. Run 'sysd daemon-reload' to reload units.",
        "      Logs: not fetched: lines=0",
    ]


def test_report_without_a_snapshot_uses_the_fallback() -> None:
    report = report_from_status(
        "run-x.service",
        None,
        invocation_id=ID,
        fallback={"result": "exit-code", "exec_main_code": 1, "exec_main_status": 3},
        properties_missing_reason="the unit was unloaded (collected) after it ended",
    )
    assert report.result == "exit-code" and report.exit_code == 3
    assert report.render().splitlines() == [
        "\u25cb run-x.service",
        f"Invocation: {ID}",
        "Properties: the unit was unloaded (collected) after it ended",
    ]


def test_report_of_a_job_that_did_not_run_the_unit() -> None:
    report = FailureReport(
        unit="b.service",
        job_result="dependency",
        job_type="start",
        active_state="inactive",
        invocation_id=ID,
        ran=False,
        failed_dependencies=("dep.service",),
    )
    lines = report.render().splitlines()
    assert "Failed dep: dep.service" in lines
    assert f"Invocation: {ID} (an earlier run: this job did not run it)" in lines


def test_report_is_immutable_and_pickles() -> None:
    report = report_from_status("a.service", failed_pre(), job_result="failed", logs=LOGS)
    with pytest.raises(AttributeError):
        report.unit = "x"  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(report))
    assert again == report and again.render() == report.render()
    assert hash(FailedStep("ExecStart", ("/x",), 1, 1, 1))  # parts are hashable values


def test_report_rides_on_errors_through_pickle() -> None:
    from sysd.errors import JobFailedError, RunFailedError

    report = report_from_status("a.service", failed_pre(), job_result="failed", logs=LOGS)
    for error in (
        JobFailedError("Job for a.service failed.", unit="a.service"),
        RunFailedError("x"),
    ):
        assert error.report is None
        error.report = report
        again = pickle.loads(pickle.dumps(error))
        assert again.report == report and str(again) == str(error)


@pytest.mark.parametrize(
    ("job_type", "result", "logged"),
    [
        ("start", "failed", True),
        ("start", "done", True),
        ("start", "dependency", True),
        ("start", "assert", True),
        ("start", "canceled", False),
        ("restart", "failed", True),
        ("restart", "canceled", False),
        ("stop", "failed", True),
        ("stop", "dependency", False),
        ("reload", "failed", True),
        ("reload", "invalid", False),
        (None, "failed", False),
    ],
)
def test_job_logs_done(job_type: str | None, result: str, logged: bool) -> None:
    assert job_logs_done(job_type, result) is logged


def test_as_dict_is_json_ready() -> None:
    import json

    report = report_from_status(
        "a.service", failed_pre(), job_id=9, job_type="start", job_result="failed", logs=LOGS
    )
    data = json.loads(json.dumps(report.as_dict()))
    assert data["unit"] == "a.service" and data["job_result"] == "failed"
    assert data["failed_step"] == {
        "name": "ExecStartPre", "argv": ["/bin/false"], "pid": 42, "code": 1, "status": 1,
    }  # fmt: skip
    assert data["logs"] == [
        "Dec 07 12:00:00 box sh[42]: boom",
        "Dec 07 12:00:00 box systemd[1]: a.service: Failed.",
    ]
    assert data["failed_conditions"] == [] and data["invocation_id"] == ID
    assert set(data) == set(FailureReport.__dataclass_fields__)
