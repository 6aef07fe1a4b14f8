"""sysd._core.login without a bus: argument checks, power calls, rows and snapshots.
(What logind itself accepts is checked against it in tests/systemd/test_login.py.)"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from sysd._core import login as core
from sysd.errors import InvalidLoginCallError


@pytest.mark.parametrize(
    ("what", "mode", "field"),
    [
        ("sleep", "block", None),
        ("sleep:shutdown", "delay", None),
        ("shutdown:sleep:idle:handle-power-key", "block", None),
        ("handle-reboot-key", "block", None),
        ("", "block", "what"),
        ("sleep:", "block", "what"),
        (":sleep", "block", "what"),
        ("sleep::idle", "block", "what"),
        ("Sleep", "block", "what"),
        ("sleep", "block-weak", "mode"),
        ("sleep", "", "mode"),
        ("idle", "delay", "mode"),
        ("sleep:handle-lid-switch", "delay", "mode"),
    ],
)
def test_check_inhibit(what: str, mode: str, field: str | None) -> None:
    if field is None:
        core.check_inhibit(what, "who", "why", mode)
        return
    with pytest.raises(InvalidLoginCallError) as info:
        core.check_inhibit(what, "who", "why", mode)
    assert info.value.field == field
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("field", ["what", "who", "why", "mode"])
def test_check_inhibit_refuses_nul_and_non_strings(field: str) -> None:
    args = {"what": "sleep", "who": "w", "why": "y", "mode": "block"}
    with pytest.raises(InvalidLoginCallError) as info:
        core.check_inhibit(**{**args, field: args[field] + "\0"})
    assert info.value.field == field
    with pytest.raises(InvalidLoginCallError):
        core.check_inhibit(**{**args, field: 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("action", "kwargs", "expected"),
    [
        ("power-off", {}, ("PowerOff", "b", (False,))),
        ("power-off", {"interactive": True}, ("PowerOff", "b", (True,))),
        ("reboot", {"check_inhibitors": True}, ("RebootWithFlags", "t", (1,))),
        ("reboot", {"kexec": True}, ("RebootWithFlags", "t", (2,))),
        ("reboot", {"kexec": True, "check_inhibitors": True}, ("RebootWithFlags", "t", (3,))),
        ("suspend", {}, ("Suspend", "b", (False,))),
        ("halt", {"check_inhibitors": True}, ("HaltWithFlags", "t", (1,))),
        ("hybrid-sleep", {}, ("HybridSleep", "b", (False,))),
    ],
)
def test_power_call(action: str, kwargs: dict[str, bool], expected: tuple[object, ...]) -> None:
    options = {"interactive": False, "check_inhibitors": False, "kexec": False, **kwargs}
    assert core.power_call(action, **options) == expected


def test_power_call_refusals() -> None:
    with pytest.raises(InvalidLoginCallError, match="kexec"):
        core.power_call("power-off", interactive=False, check_inhibitors=False, kexec=True)
    with pytest.raises(InvalidLoginCallError) as info:
        core.power_call("explode", interactive=False, check_inhibitors=False, kexec=False)
    assert info.value.field == "action"


def test_rows() -> None:
    assert core.session_rows([["3", 1000, "ann", "seat0", "/s/_33"]]) == [
        core.SessionInfo("3", 1000, "ann", "seat0", "/s/_33")
    ]
    assert core.user_rows([[1000, "ann", "/u/_1000"]]) == [core.UserInfo(1000, "ann", "/u/_1000")]
    assert core.seat_rows([["seat0", "/seat/seat0"]]) == [core.SeatInfo("seat0", "/seat/seat0")]
    assert core.inhibitor_rows([["sleep", "w", "y", "delay", 0, 42]]) == [
        core.InhibitorInfo("sleep", "w", "y", "delay", 0, 42)
    ]


def test_session_snapshot_fields() -> None:
    raw = {
        "Id": "c1",
        "User": [1000, "/org/freedesktop/login1/user/_1000"],
        "Seat": ["", "/"],
        "Timestamp": 1_700_000_000_000_000,
        "TimestampMonotonic": 5_000_000,
        "Leader": 0,
        "Class": "user",
        "IdleSinceHint": 0,
        "Active": True,
    }
    st = core.SessionStatus.from_dbus(raw)
    assert st.id == "c1" and st["Id"] == "c1" and st.raw("Class") == "user"
    assert st.user == (1000, "/org/freedesktop/login1/user/_1000")
    assert st.seat == ("", "/")
    assert st.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert st.timestamp_monotonic == timedelta(seconds=5)
    assert st.leader is None  # 0: no leader
    assert st.idle_since_hint is None  # 0: never
    assert st.class_ == "user" and st.active is True
    assert st.remote_host is None  # absent: None, never KeyError
    assert repr(st) == "<SessionStatus 'c1'>"
    assert pickle.loads(pickle.dumps(st)) == st
    assert "class_" in st.as_dict() and st.to_json()


def test_user_and_seat_snapshots() -> None:
    user = core.UserStatus.from_dbus({"UID": 1000, "Name": "ann", "Linger": False,
                                      "Sessions": [["c1", "/s"]]})  # fmt: skip
    assert (user.uid, user.name, user.linger, user.sessions) == (
        1000,
        "ann",
        False,
        (("c1", "/s"),),
    )
    assert repr(user) == "<UserStatus 'ann'>"
    seat = core.SeatStatus.from_dbus({"Id": "seat0", "CanGraphical": True})
    assert seat.id == "seat0" and seat.can_graphical is True and seat.active_session is None
