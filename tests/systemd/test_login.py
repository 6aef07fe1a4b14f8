"""sysd.login against the sandbox's real logind, compared with busctl, loginctl and
systemd-inhibit on the same objects.

A session exists only while the ``session`` fixture runs a PAM service as the test user
(``systemd-run -p PAMName=login -p User=tester``: pam_systemd registers it with logind).
Power actions are only ever asked about (``Can*``) or run with ``dry_run=True`` as root;
the one real call is the unprivileged user's, which logind must refuse — and the test
checks first that it will (``CanPowerOff`` is not ``yes`` for that user) and holds a root
block inhibitor on shutdown meanwhile, so that nothing can power the sandbox off.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sysd
import sysd.aio
from sysd import login
from sysd._core.login import POWER_ACTIONS
from sysd.errors import (
    InvalidLoginCallError,
    NoSuchSeatError,
    NoSuchSessionError,
    NoSuchUserError,
)

ROOT = Path(__file__).resolve().parents[2]
LOGIN = ("org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager")


def busctl_json(*args: str) -> Any:
    proc = subprocess.run(
        ["busctl", "--json=short", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(proc.stdout)


def manager_call(member: str) -> Any:
    return busctl_json("call", *LOGIN, member)["data"][0]


def get_all(path: str, interface: str) -> dict[str, Any]:
    data = busctl_json(
        "call", LOGIN[0], path, "org.freedesktop.DBus.Properties", "GetAll", "s", interface
    )["data"][0]
    return {name: value["data"] for name, value in data.items()}


def plain(value: Any) -> Any:
    """Tuples as lists, as busctl's JSON has them."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def inhibit_list() -> str:
    return subprocess.run(
        ["systemd-inhibit", "--list", "--no-pager"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


@pytest.fixture
def lg(systemd_host: None) -> Iterator[login.Login]:
    with login.connect() as conn:
        yield conn


@pytest.fixture
def session(test_user: tuple[str, int], lg: login.Login) -> Iterator[login.SessionInfo]:
    """A real logind session of the test user, for the duration of the test."""
    name, uid = test_user
    before = {x.id for x in lg.sessions()}
    unit = f"sysd-test-session-{uuid.uuid4().hex[:8]}.service"
    subprocess.run(
        ["systemd-run", "--quiet", f"--unit={unit}",
         "-p", "PAMName=login", "-p", f"User={name}", "sleep", "infinity"],
        check=True, timeout=60,
    )  # fmt: skip
    try:
        new = wait_for(
            lambda: [x for x in lg.sessions() if x.uid == uid and x.id not in before],
            what="pam_systemd to register the session",
        )
        # settled: a test comparing two reads must not see "opening" then "active"
        wait_for(
            lambda: lg.session(new[0].id).state != "opening",
            what="the session to finish opening",
        )
        yield new[0]
    finally:
        subprocess.run(["systemctl", "stop", unit], check=False, timeout=60)


def wait_for(condition: Any, *, what: str, limit: float = 15.0) -> Any:
    """Poll an asynchronous state change of logind's (a session appearing, an inhibitor
    going away after its fd closed) until ``limit`` seconds."""
    import time

    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


# ------------------------------------------------------------------------------- lists


def test_lists_are_logind_s(lg: login.Login, session: login.SessionInfo) -> None:
    assert plain(lg.sessions()) == manager_call("ListSessions")
    assert plain(lg.users()) == manager_call("ListUsers")
    assert plain(lg.seats()) == manager_call("ListSeats")
    assert plain(lg.inhibitors()) == manager_call("ListInhibitors")
    assert session in lg.sessions()
    # loginctl's table shows the same session
    text = subprocess.run(
        ["loginctl", "list-sessions", "--no-legend"], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in text.splitlines() if line.strip()]
    assert [session.id, str(session.uid), session.user] in [r[:3] for r in rows]


def test_session_properties(lg: login.Login, session: login.SessionInfo) -> None:
    st = lg.session(session.id)
    raw = get_all(session.path, "org.freedesktop.login1.Session")
    assert {k: plain(v) for k, v in st.dbus.items()} == raw
    # every typed field names a property logind has, and reads it
    assert {f.dbus_name for f in type(st).FIELDS.values()} <= set(raw)
    assert st.id == session.id and st["Id"] == session.id
    assert st.user == (session.uid, f"/org/freedesktop/login1/user/_{session.uid}")
    assert st.service == "login" and st.scope == f"session-{session.id}.scope"
    assert st.class_ == raw["Class"] and st.state == raw["State"]
    assert st.leader is not None and st.leader > 1
    assert st.timestamp is not None and st.timestamp.tzinfo is not None
    shown = subprocess.run(
        ["loginctl", "show-session", session.id, "-p", "Name", "-p", "Scope", "-p", "Leader"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert dict(line.split("=", 1) for line in shown.split()) == {
        "Name": st.name,
        "Scope": st.scope,
        "Leader": str(st.leader),
    }
    assert lg.session_by_pid(st.leader).id == st.id


def test_user_properties(lg: login.Login, test_user: tuple[str, int]) -> None:
    name, uid = test_user  # lingering in the sandbox: known to logind without a session
    # an earlier test's session of this user may still be closing: logind drops it (and
    # the user's State goes back to "lingering") asynchronously, between any two reads
    wait_for(
        lambda: (u := lg.user(uid)).state == "lingering" and not u.sessions,
        what="the test user's earlier sessions to close",
        limit=60.0,
    )
    st = lg.user(uid)
    raw = get_all(f"/org/freedesktop/login1/user/_{uid}", "org.freedesktop.login1.User")
    assert {k: plain(v) for k, v in st.dbus.items()} == raw
    assert {f.dbus_name for f in type(st).FIELDS.values()} <= set(raw)
    assert (st.uid, st.name, st.runtime_path) == (uid, name, f"/run/user/{uid}")
    assert st.linger is True
    shown = subprocess.run(
        ["loginctl", "show-user", str(uid), "-p", "State", "-p", "Slice", "-p", "Service"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert dict(line.split("=", 1) for line in shown.split()) == {
        "State": st.state,
        "Slice": st.slice,
        "Service": st.service,
    }


def test_seat_properties(lg: login.Login) -> None:
    seats = lg.seats()
    for seat in seats:
        st = lg.seat(seat.id)
        raw = get_all(seat.path, "org.freedesktop.login1.Seat")
        assert {k: plain(v) for k, v in st.dbus.items()} == raw
        assert {f.dbus_name for f in type(st).FIELDS.values()} <= set(raw)
        assert st.id == seat.id


def test_lookups_that_fail_are_typed(lg: login.Login) -> None:
    with pytest.raises(NoSuchSessionError) as s:
        lg.session("nonexistent")
    assert isinstance(s.value, LookupError) and s.value.name.endswith("NoSuchSession")
    with pytest.raises(NoSuchUserError):
        lg.user(54321)
    with pytest.raises(NoSuchSeatError):
        lg.seat("seat-nonexistent")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda lg: lg.session(""), "session_id"),
        (lambda lg: lg.user(-1), "uid"),
        (lambda lg: lg.user(True), "uid"),
        (lambda lg: lg.seat(""), "seat_id"),
        (lambda lg: lg.session_by_pid(-5), "pid"),
        (lambda lg: lg.can("explode"), "action"),
        (lambda lg: lg.power_off(kexec=True), None),  # TypeError: no such argument
        (lambda lg: lg.inhibit("bogus"), "what"),
        (lambda lg: lg.inhibit("sleep", mode="block-weak"), "mode"),
        (lambda lg: lg.inhibit("idle", mode="delay"), "mode"),
        (lambda lg: lg.inhibit("sleep::shutdown"), "what"),
        (lambda lg: lg.inhibit(""), "what"),
        (lambda lg: lg.inhibit("sleep", who="a\0b"), "who"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    lg: login.Login, call: Any, field: str | None
) -> None:
    if field is None:
        with pytest.raises(TypeError):
            call(lg)
        return
    with pytest.raises(InvalidLoginCallError) as info:
        call(lg)
    assert info.value.field == field and isinstance(info.value, ValueError)


# ----------------------------------------------------------------------------- inhibit


def _mine(lg: login.Login, who: str) -> list[login.InhibitorInfo]:
    return [i for i in lg.inhibitors() if i.who == who and i.pid == os.getpid()]


def test_inhibit_is_listed_while_held(lg: login.Login) -> None:
    who = f"sysd-test-{uuid.uuid4().hex[:8]}"
    with lg.inhibit("sleep:shutdown", who=who, why="testing the lock", mode="delay") as lock:
        assert lock.held and lock.fd is not None and lock.fileno() == lock.fd
        assert _mine(lg, who) == [
            login.InhibitorInfo("shutdown:sleep", who, "testing the lock", "delay", 0, os.getpid())
        ]
        listed = inhibit_list()
        assert who in listed and "testing the lock" in listed
        assert os.readlink(f"/proc/self/fd/{lock.fd}").startswith("/run/systemd/inhibit/")
    assert not lock.held and lock.fd is None
    wait_for(lambda: who not in inhibit_list(), what="the inhibitor to go")
    assert _mine(lg, who) == []


def test_inhibit_released_on_exception(lg: login.Login) -> None:
    who = f"sysd-test-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ZeroDivisionError), login.inhibit("idle", who=who, why="boom"):
        assert who in inhibit_list()
        1 / 0  # noqa: B018
    wait_for(lambda: who not in inhibit_list(), what="the inhibitor to go")


def test_inhibit_from_a_systemd_connection(sd: sysd.Systemd) -> None:
    """sd.inhibit() works on the private socket too (it opens the system bus for the call)."""
    who = f"sysd-test-{uuid.uuid4().hex[:8]}"
    with sd.inhibit("shutdown", who=who, why="via sd", mode="block"):
        assert who in inhibit_list()
    wait_for(lambda: who not in inhibit_list(), what="the inhibitor to go")
    with sd.login() as lg:  # a new system bus connection here (sd is on the private socket)
        assert plain(lg.sessions()) == manager_call("ListSessions")
    assert lg.closed
    with sysd.connect(private=False) as bus_sd, bus_sd.login() as shared:
        assert shared.bus is bus_sd.bus  # on the system bus: the same connection
        assert plain(shared.users()) == manager_call("ListUsers")


def test_inhibit_acquire_twice_and_release_twice(lg: login.Login) -> None:
    lock = lg.inhibit("sleep", who="sysd-test-twice")
    lock.acquire()
    try:
        with pytest.raises(InvalidLoginCallError):
            lock.acquire()
    finally:
        lock.release()
    lock.release()  # harmless
    with pytest.raises(ValueError):
        lock.fileno()


def test_dropped_lock_is_released_with_a_resource_warning(lg: login.Login) -> None:
    who = f"sysd-test-{uuid.uuid4().hex[:8]}"
    lock = lg.inhibit("sleep", who=who).acquire()
    assert who in inhibit_list()
    with pytest.warns(ResourceWarning, match="dropped while held"):
        del lock
    wait_for(lambda: who not in inhibit_list(), what="the inhibitor to go")


async def _async_inhibit(who: str) -> list[str]:
    seen = []
    lg = await sysd.aio.login.connect()
    async with lg:
        async with lg.inhibit("sleep", who=who, why="async") as lock:
            assert lock.held
            seen.append(inhibit_list())
        async with sysd.aio.login.inhibit("shutdown", who=who + "-2", mode="delay"):
            seen.append(inhibit_list())
    return seen


def test_async_inhibit() -> None:
    import asyncio

    who = f"sysd-test-{uuid.uuid4().hex[:8]}"
    first, second = asyncio.run(_async_inhibit(who))
    assert who in first and who + "-2" in second
    wait_for(lambda: who not in inhibit_list(), what="the inhibitors to go")


# ------------------------------------------------------------------------------- power


def test_can_answers_are_logind_s(lg: login.Login) -> None:
    for action, (_method, can) in POWER_ACTIONS.items():
        assert lg.can(action) == manager_call(can), action
    assert lg.can_power_off() == manager_call("CanPowerOff")
    assert lg.can_reboot() == manager_call("CanReboot")
    assert lg.can_halt() == manager_call("CanHalt")
    assert lg.can_suspend() == manager_call("CanSuspend")


def test_dry_run_calls_nothing(lg: login.Login, sd: sysd.Systemd) -> None:
    before = sd.manager_property("SystemState")
    for name in ("power_off", "reboot", "halt", "suspend"):
        action = getattr(lg, name)(dry_run=True)
        assert action.called is False
        assert action.can == manager_call(POWER_ACTIONS[action.action][1])
        assert action.args == (False,)
    assert lg.power_off(dry_run=True).method == "PowerOff"
    assert lg.reboot(dry_run=True, interactive=True).args == (True,)
    flagged = lg.power_off(dry_run=True, check_inhibitors=True)
    assert (flagged.method, flagged.args) == ("PowerOffWithFlags", (1,))
    kexec = lg.reboot(dry_run=True, kexec=True)
    assert (kexec.method, kexec.args) == ("RebootWithFlags", (2,))
    assert sd.manager_property("SystemState") == before  # still running, nothing queued
    assert not [j for j in sd.list_jobs() if j.unit in ("poweroff.target", "reboot.target")]


UNPRIVILEGED_POWER = """
import json, sys
from sysd import login
out = {}
with login.connect() as lg:
    out["can"] = lg.can_power_off()
    out["dry"] = list(lg.power_off(dry_run=True))
    if out["can"] == "yes":   # never call what would be allowed
        out["refused"] = None
    else:
        try:
            lg.power_off()
            out["refused"] = None
        except PermissionError as exc:
            out["refused"] = [type(exc).__name__, exc.name, str(exc)]
    try:
        lg.inhibit("shutdown", who="tester", mode="block").acquire().release()
        out["block"] = None
    except PermissionError as exc:
        out["block"] = [type(exc).__name__, exc.name]
    lock = lg.inhibit("sleep", who="tester-delay", mode="delay").acquire()
    out["delay"] = [i.who for i in lg.inhibitors()]
    lock.release()
print(json.dumps(out))
"""


def test_unprivileged_user_is_refused(as_user, lg: login.Login) -> None:  # type: ignore[no-untyped-def]
    with lg.inhibit("shutdown", who="sysd-test-guard", why="nothing powers off here"):
        proc = as_user(UNPRIVILEGED_POWER, env={"PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["can"] in ("challenge", "no")
    assert out["dry"][:2] == ["power-off", out["can"]] and out["dry"][-1] is False
    kind, name, text = out["refused"]
    assert kind in ("InteractiveAuthorizationRequiredError", "AccessDeniedError")
    assert name in (
        "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
        "org.freedesktop.DBus.Error.AccessDenied",
    )
    assert "hint" in text
    assert out["block"][0] == "AccessDeniedError" or out["block"][0].endswith("RequiredError")
    assert "tester-delay" in out["delay"]


def test_login_over_a_bridge_cannot_pass_the_lock_fd(systemd_host: None) -> None:
    """machine=/host= connections go through a stdio bridge: no fds, a clear error."""
    from sysd._bus.address import Target, Transport

    bridge = Target(
        (Transport("unixexec", path="systemd-stdio-bridge", argv=("systemd-stdio-bridge",)),),
        True,
        "remote",
        "system bus through systemd-stdio-bridge",
        False,
    )
    lock = login.Inhibitor("sleep", who="sysd-test-bridge", target=bridge)
    with pytest.raises(InvalidLoginCallError, match="file descriptors"):
        lock.acquire()
    assert not lock.held


# --------------------------------------------------------------------------------- CLI

CLI_ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "LANG": "C.UTF-8",
    "SYSTEMD_COLORS": "0",
    "SYSTEMD_PAGER": "",
    "PYTHONPATH": str(ROOT / "src"),
}


def _both(verb: str, *args: str) -> tuple[subprocess.CompletedProcess[str], ...]:
    import sys

    run: Any = lambda argv: subprocess.run(  # noqa: E731
        argv, capture_output=True, text=True, timeout=60, check=False, env=CLI_ENV
    )
    want = run(["loginctl", f"list-{verb}", "--no-pager", *args])
    got = run([sys.executable, "-m", "sysd", verb, *args])
    return want, got


@pytest.mark.parametrize("verb", ["sessions", "users", "seats"])
@pytest.mark.parametrize("args", [[], ["--no-legend"], ["-o", "json"], ["-o", "json-pretty"]])
def test_cli_lists_are_loginctl_s(verb: str, args: list[str], session: login.SessionInfo) -> None:
    want, got = _both(verb, *args)
    assert (got.stdout, got.returncode) == (want.stdout, want.returncode)
    assert got.stderr == ""


@pytest.mark.parametrize(
    ("what", "mode"),
    [
        ("sleep", "block"),
        ("sleep:", "block"),
        (":sleep", "block"),
        ("sleep::shutdown", "block"),
        ("", "block"),
        ("shutdown:sleep:idle", "block"),
        ("handle-reboot-key:handle-lid-switch", "block"),
        ("bogus", "block"),
        ("sleep:bogus", "block"),
        ("SLEEP", "block"),
        ("sleep", "delay"),
        ("idle", "delay"),
        ("sleep:handle-power-key", "delay"),
        ("sleep", "block-weak"),
        ("sleep", ""),
    ],
)
def test_inhibit_checks_are_logind_s(what: str, mode: str, systemd_host: None) -> None:
    """check_inhibit() refuses exactly what logind 252 refuses (busctl closes the fd)."""
    from sysd._core.login import check_inhibit

    proc = subprocess.run(
        ["busctl", "call", *LOGIN, "Inhibit", "ssss", what, "sysd-test-check", "x", mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        check_inhibit(what, "sysd-test-check", "x", mode)
        ours = True
    except InvalidLoginCallError:
        ours = False
    assert ours == (proc.returncode == 0), proc.stderr
