"""sysd._core.ensure: the checks of ensure()'s options and the plan from a state (tables)."""

from __future__ import annotations

import pickle
from datetime import timedelta
from typing import Any

import pytest

from sysd._core.ensure import Change, JobResult, UnitState, holds, plan, request, settle_seconds
from sysd.errors import InvalidEnsureError, UnitNotFoundError, UnitSettleError


def st(active: str = "inactive", file: str = "disabled", load: str = "loaded") -> UnitState:
    sub = {"active": "running", "failed": "failed", "activating": "auto-restart"}.get(
        active, "dead"
    )
    return UnitState(active, sub, file, load)


# (options, state before, NeedDaemonReload, actions)
PLANS: list[tuple[dict[str, Any], UnitState, bool, tuple[str, ...]]] = [
    # no-ops: already as asked (as systemctl is-active / is-enabled decide)
    ({"active": True}, st("active"), False, ()),
    ({"active": True}, st("reloading"), False, ()),
    ({"active": False}, st("inactive"), False, ()),
    ({"active": False}, st("failed"), False, ()),
    ({"enabled": True}, st(file="enabled"), False, ()),
    ({"enabled": True}, st(file="enabled-runtime"), False, ()),
    ({"enabled": True}, st(file="static"), False, ()),
    ({"enabled": True}, st(file="alias"), False, ()),
    ({"enabled": True}, st(file="indirect"), False, ()),
    ({"enabled": True}, st(file="generated"), False, ()),
    ({"enabled": False}, st(file="disabled"), False, ()),
    ({"enabled": False}, st(file="static"), False, ()),  # nothing disable could remove
    ({"masked": True}, st(file="masked", load="masked"), False, ()),
    ({"masked": True}, st(file="masked-runtime", load="masked"), False, ()),
    ({"masked": False}, st(file="enabled"), False, ()),
    ({}, st("active"), False, ()),
    ({"daemon_reload": False}, st(), True, ()),
    # transitions
    ({"active": True}, st("inactive"), False, ("start",)),
    ({"active": True}, st("failed"), False, ("start",)),
    ({"active": True}, st("activating"), False, ("start",)),  # is-active says no
    ({"active": False}, st("active"), False, ("stop",)),
    ({"active": False}, st("activating"), False, ("stop",)),  # an auto-restart loop
    ({"enabled": True}, st(file="disabled"), False, ("enable",)),
    ({"enabled": False}, st(file="enabled"), False, ("disable",)),
    ({"enabled": False}, st(file="enabled-runtime"), False, ("disable",)),
    ({"masked": True}, st(file="enabled"), False, ("mask",)),
    ({"masked": False}, st(file="masked", load="masked"), False, ("unmask",)),
    ({"restart": True}, st("active"), False, ("restart",)),
    ({"restart": True}, st("inactive"), False, ("restart",)),
    ({"reload": True}, st("active"), False, ("reload",)),
    ({"reload": True}, st("inactive"), False, ("start",)),  # as Ansible's reloaded
    # daemon-reload: auto on NeedDaemonReload, always with True, never with False
    ({"active": True}, st("inactive"), True, ("daemon-reload", "start")),
    ({"active": True}, st("active"), True, ("daemon-reload",)),
    ({"daemon_reload": True}, st("active"), False, ("daemon-reload",)),
    ({"active": True, "daemon_reload": False}, st("inactive"), True, ("start",)),
    # the order: daemon-reload, unmask, enable/disable, mask, start/stop/restart/reload
    (
        {"masked": False, "enabled": True, "active": True},
        st(file="masked", load="masked"),
        True,
        ("daemon-reload", "unmask", "enable", "start"),
    ),
    ({"masked": True, "active": False}, st("active", "enabled"), False, ("mask", "stop")),
    (
        {"enabled": False, "masked": True, "active": False},
        st("active", "enabled"),
        False,
        ("disable", "mask", "stop"),
    ),
    ({"enabled": True, "restart": True}, st("active"), False, ("enable", "restart")),
    # a unit that does not exist may be masked, stopped, disabled: nothing to do
    ({"masked": True}, st(file="", load="not-found"), False, ("mask",)),
    ({"active": False, "enabled": False}, st(file="", load="not-found"), False, ()),
]


@pytest.mark.parametrize(("options", "before", "need_reload", "actions"), PLANS)
def test_plan(
    options: dict[str, Any], before: UnitState, need_reload: bool, actions: tuple[str, ...]
) -> None:
    req = request(**options)
    assert plan(req, "x.service", before, need_reload) == actions
    if not actions:  # nothing planned: the state asked for holds
        assert holds(req, before)


BAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"active": True, "masked": True}, "masked unit cannot be active"),
    ({"enabled": True, "masked": True}, "masked unit cannot be enabled"),
    ({"restart": True, "masked": True}, "masked unit cannot be restarted"),
    ({"restart": True, "active": False}, "restart=True contradicts active=False"),
    ({"reload": True, "active": False}, "reload=True contradicts active=False"),
    ({"restart": True, "reload": True}, "choose one"),
    ({"active": True, "settle": -1}, "settle must be a finite duration >= 0"),
    ({"active": True, "settle": timedelta(seconds=-1)}, ">= 0"),
    ({"active": True, "settle": float("inf")}, ">= 0"),
    ({"active": True, "settle": float("nan")}, ">= 0"),
    ({"active": True, "settle": "5 parsecs"}, "settle"),
    ({"active": True, "settle": "-5s"}, "settle"),
    ({"active": True, "settle": "infinity"}, "finite"),
    ({"active": True, "settle": True}, "settle must be"),
    ({"active": True, "settle": [5]}, "settle must be"),
    ({"settle": "5s"}, "needs active=True"),
    ({"active": False, "settle": "5s"}, "needs active=True"),
    ({"active": "yes"}, "active must be True, False or None"),
    ({"enabled": 1}, "enabled must be"),
    ({"masked": "no"}, "masked must be"),
    ({"restart": None}, "restart must be True or False"),
    ({"dry_run": 1}, "dry_run must be"),
    ({"daemon_reload": "yes"}, "daemon_reload must be 'auto', True or False"),
    ({"daemon_reload": 1}, "daemon_reload must be"),
]


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS)
def test_bad_options_are_typed(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEnsureError, match=message) as info:
        request(**options)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        (0, 0.0),
        (2, 2.0),
        (0.5, 0.5),
        (timedelta(milliseconds=1500), 1.5),
        ("5s", 5.0),
        ("1min 30s", 90.0),
        ("500ms", 0.5),
        ("3", 3.0),
    ],
)
def test_settle_values(value: object, seconds: float | None) -> None:
    assert settle_seconds(value) == seconds


UNREACHABLE: list[tuple[dict[str, Any], UnitState, type[Exception], str]] = [
    ({"active": True}, st(file="", load="not-found"), UnitNotFoundError, "not found"),
    ({"enabled": True}, st(file="", load="not-found"), UnitNotFoundError, "not found"),
    ({"restart": True}, st(file="", load="not-found"), UnitNotFoundError, "not found"),
    ({"active": True}, st(file="masked", load="masked"), InvalidEnsureError, "is masked"),
    ({"enabled": True}, st(file="masked", load="masked"), InvalidEnsureError, "is masked"),
    ({"reload": True}, st(file="masked-runtime", load="masked"), InvalidEnsureError, "masked"),
]


@pytest.mark.parametrize(("options", "before", "error", "message"), UNREACHABLE)
def test_unreachable_state_is_typed_before_any_action(
    options: dict[str, Any], before: UnitState, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        plan(request(**options), "x.service", before, True)
    assert isinstance(info.value, InvalidEnsureError)
    if error is UnitNotFoundError:
        assert isinstance(info.value, LookupError)
        assert info.value.hint and "daemon-reload" in info.value.hint
    else:
        assert "masked=False" in str(info.value)


HOLDS: list[tuple[dict[str, Any], UnitState, bool]] = [
    ({"active": True}, st("active"), True),
    ({"active": True}, st("inactive"), False),  # e.g. a failed Condition: job done, not up
    ({"active": False}, st("activating"), False),
    ({"enabled": True}, st(file="disabled"), False),  # enable without [Install]
    ({"masked": False}, st(file="masked", load="masked"), False),
    ({"masked": True}, st(file="disabled", load="masked"), True),
    ({"restart": True}, st("failed"), False),
]


@pytest.mark.parametrize(("options", "state", "expected"), HOLDS)
def test_holds(options: dict[str, Any], state: UnitState, expected: bool) -> None:
    assert holds(request(**options), state) is expected


def test_change_is_frozen_slotted_and_json_ready() -> None:
    before, after = st(), st("active", "enabled")
    change = Change(
        "x.service", True, ("enable", "start"), before, after, (JobResult("start", 7, "done"),)
    )
    assert not hasattr(change, "__dict__")
    with pytest.raises(AttributeError):
        change.changed = False  # type: ignore[misc]
    assert change.to_dict() == {
        "unit": "x.service",
        "changed": True,
        "ok": True,
        "dry_run": False,
        "actions": ["enable", "start"],
        "before": {
            "active_state": "inactive",
            "sub_state": "dead",
            "unit_file_state": "disabled",
            "load_state": "loaded",
        },
        "after": {
            "active_state": "active",
            "sub_state": "running",
            "unit_file_state": "enabled",
            "load_state": "loaded",
        },
        "jobs": [{"action": "start", "job_id": 7, "result": "done"}],
    }
    assert pickle.loads(pickle.dumps(change)) == change


def test_settle_error_is_a_job_error_that_pickles() -> None:
    from sysd.errors import JobError

    error = UnitSettleError("x.service left active", unit="x.service", job_type="start")
    error.reason = "left-active"
    assert isinstance(error, JobError)
    assert error.report is None
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.unit, copy.report) == ("left-active", "x.service", None)
    assert "\n" not in str(copy)
