"""``sysd ensure`` in-process against the sandbox's real systemd: the lines, --json, the
exit status (0 when the state holds, changed or not; 1 when it could not be reached),
and bad options refused before anything connects."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import sysd
from sysd.cli import main, parse

RUNTIME_UNITS = Path("/run/systemd/system")
ETC = Path("/etc/systemd/system")
SLEEPER = "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"


def systemctl(*args: str) -> str:
    proc = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


@pytest.fixture
def unit(systemd_host: None) -> Iterator[str]:
    """A throwaway unit in /run/systemd/system, stopped, disabled and removed after."""
    name = f"sysdt-cli-ensure-{uuid.uuid4().hex[:8]}.service"
    (RUNTIME_UNITS / name).write_text(SLEEPER)
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    yield name
    subprocess.run(["systemctl", "disable", "--now", name], capture_output=True, check=False)
    subprocess.run(["systemctl", "unmask", name], capture_output=True, check=False)
    (RUNTIME_UNITS / name).unlink(missing_ok=True)
    subprocess.run(["systemctl", "reset-failed", name], capture_output=True, check=False)
    subprocess.run(["systemctl", "daemon-reload"], check=True)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["ensure", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_parser_options() -> None:
    args = parse(["ensure", "a", "b.socket", "--active", "--disabled", "--settle=5s"])
    assert args.units == ["a", "b.socket"]  # completed to a.service by ensure()
    assert (args.active, args.enabled, args.masked) == (True, False, None)
    assert (args.settle, args.daemon_reload, args.dry_run) == ("5s", "auto", False)
    args = parse(["ensure", "a", "--inactive", "--unmasked", "--daemon-reload=no"])
    assert (args.active, args.masked, args.daemon_reload) == (False, False, "no")


@pytest.mark.parametrize(
    "argv",
    [
        ["x", "--active", "--inactive"],
        ["x", "--restart", "--reload"],
        ["x", "--daemon-reload=maybe"],
        [],
    ],
)
def test_bad_arguments_exit_1(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ensure", *argv]) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--active", "--masked"], "masked unit cannot be active"),
        (["--inactive", "--restart"], "contradicts active=False"),
        (["--active", "--settle=-5s"], "settle"),
        (["--active", "--settle=soon"], "settle"),
    ],
)
def test_contradictions_refused_before_connecting(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # an address nobody listens on: connecting would fail with another message
    rc, out, err = run(capsys, "x.service", "--address=unix:path=/run/nothing/here", *argv)
    assert rc == 1 and out == ""
    assert message in err and "no such socket" not in err


def test_start_enable_then_unchanged(unit: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, unit, "--active", "--enabled")
    assert (rc, err) == (0, "")
    assert out == f"{unit}: done: enable, start\n"
    assert systemctl("is-active", unit) == "active"
    assert systemctl("is-enabled", unit) == "enabled"
    rc, out, err = run(capsys, unit, "--active", "--enabled")
    assert (rc, out, err) == (0, f"{unit}: unchanged\n", "")


def test_json_and_dry_run(unit: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, unit, "--active", "--dry-run", "--json")
    assert (rc, err) == (0, "")
    [record] = json.loads(out)["changes"]
    assert record["unit"] == unit and record["dry_run"] and record["changed"]
    assert record["actions"] == ["start"] and record["jobs"] == []
    assert record["before"]["active_state"] == record["after"]["active_state"] == "inactive"
    assert systemctl("is-active", unit) == "inactive"
    rc, out, err = run(capsys, unit, "--dry-run")
    assert (rc, out) == (0, f"{unit}: unchanged\n")
    rc, out, err = run(capsys, unit, "--active", "--json")
    [record] = json.loads(out)["changes"]
    assert record["actions"] == ["start"] and record["ok"]
    assert record["jobs"][0]["action"] == "start" and record["jobs"][0]["result"] == "done"


def test_unreachable_state_exits_1(unit: str, capsys: pytest.CaptureFixture[str]) -> None:
    missing = "sysdt-cli-ensure-missing.service"
    rc, out, err = run(capsys, missing, unit, "--active", "--json")
    assert rc == 1  # the missing one failed; the other was still done
    first, second = json.loads(out)["changes"]
    assert first["unit"] == missing and first["error"]["type"] == "UnitNotFoundError"
    assert second["unit"] == unit and second["actions"] == ["start"]
    assert f"{missing}: unit {missing} not found" in err
    assert systemctl("is-active", unit) == "active"


def test_settle_failure_exits_1(systemd_host: None, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"sysdt-cli-dies-{uuid.uuid4().hex[:8]}.service"
    (RUNTIME_UNITS / name).write_text("[Service]\nExecStart=/bin/sh -c 'sleep 0.3; exit 3'\n")
    try:
        with sysd.connect() as sd:
            sd.daemon_reload()
        rc, out, err = run(capsys, name, "--active", "--settle=5s")
        assert rc == 1 and out == ""
        assert name in err and "left active" in err and "exit-code" in err
    finally:
        (RUNTIME_UNITS / name).unlink()
        subprocess.run(["systemctl", "reset-failed", name], capture_output=True, check=False)
        subprocess.run(["systemctl", "daemon-reload"], check=True)


def test_json_follows_the_documented_example(unit: str, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- ensure schema -->\s*```json\n(.*?)```", doc, re.S)
    assert block is not None
    change_doc, error_doc = json.loads(block.group(1))["changes"]
    rc, out, _ = run(capsys, unit, "sysdt-cli-ensure-missing.service", "--active", "--json")
    assert rc == 1
    change, error = json.loads(out)["changes"]
    assert set(change) == set(change_doc) and set(error) == set(error_doc)
    for key in ("before", "after"):
        assert set(change[key]) == set(change_doc[key])
    assert set(change["jobs"][0]) == set(change_doc["jobs"][0])
    assert set(error["error"]) == set(error_doc["error"])
