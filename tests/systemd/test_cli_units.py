"""The unit verbs of the ``sysd`` command against the real systemd, and against systemctl.

Most tests call ``sysd.cli.main`` in-process; where the issue asks for systemctl's
behaviour (exit codes, list and show values, status layout) the same question goes to
``systemctl`` in a subprocess and the answers are compared (RELIABILITY.md item 41).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from throwaway_units import RUNTIME_UNITS, Units

import sysd
import sysd.cli.control
import sysd.cli.lists
import sysd.cli.units
from sysd.cli import main

ROOT = Path(__file__).resolve().parents[2]


SLEEPER = "[Unit]\nDescription=Sleeps\n[Service]\nExecStart=/bin/sleep infinity\n"
INSTALLABLE = SLEEPER + "[Install]\nWantedBy=multi-user.target\n"
FAILING = "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exit 7'\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def systemctl(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemctl", "--no-pager", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "SYSTEMD_COLORS": "0", "LANG": "C.UTF-8"},
    )


@pytest.fixture
def zoo(sd: sysd.Systemd, units: Units) -> dict[str, str]:
    """One unit in each state the exit codes distinguish."""
    names = {
        "active": units.add("active", SLEEPER),
        "inactive": units.add("inactive", SLEEPER),
        "failed": units.add("failed", FAILING),
        "masked": units.mask("masked"),
        "static": units.add("static", SLEEPER),
        "enabled": units.add("enabled", INSTALLABLE),
        "disabled": units.add("disabled", INSTALLABLE),
        "not-found": units.name("missing"),
    }
    units.reload()
    sd.enable(names["enabled"])
    units.enabled.append(names["enabled"])
    sd.unit(names["active"]).start()
    with pytest.raises(sysd.JobFailedError):
        sd.unit(names["failed"]).start()
    # keep the inactive ones loaded while we look (ListUnits shows loaded units only)
    return names


# ------------------------------------------------------------------------ exit codes

STATES = ["active", "inactive", "failed", "not-found", "masked", "static", "enabled", "disabled"]


@pytest.mark.parametrize("verb", ["is-active", "is-failed", "is-enabled"])
@pytest.mark.parametrize("state", STATES)
def test_is_verbs_match_systemctl(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], verb: str, state: str
) -> None:
    name = zoo[state]
    want = systemctl(verb, name)
    rc, out, err = run(capsys, verb, name)
    assert (rc, out) == (want.returncode, want.stdout), (want.stderr, err)
    if want.stderr:
        assert err.count("\n") == 1 and err.startswith("sysd: ")
    quiet = run(capsys, verb, "-q", name)
    assert quiet == (want.returncode, "", err)


@pytest.mark.parametrize("verb", ["is-active", "is-failed", "is-enabled"])
@pytest.mark.parametrize("pair", [("active", "inactive"), ("inactive", "masked")])
def test_is_verbs_with_several_units(
    capsys: pytest.CaptureFixture[str],
    zoo: dict[str, str],
    verb: str,
    pair: tuple[str, str],
) -> None:
    names = [zoo[s] for s in pair]
    want = systemctl(verb, *names)
    rc, out, _err = run(capsys, verb, *names)
    assert (rc, out) == (want.returncode, want.stdout)


def test_is_enabled_of_a_transient_unit_matches_systemctl(
    capsys: pytest.CaptureFixture[str], units: Units
) -> None:
    name = units.name("transient")
    subprocess.run(
        ["systemd-run", "--unit", name, "--quiet", "/bin/sleep", "60"], check=True, timeout=30
    )
    try:
        want = systemctl("is-enabled", name)
        assert want.stdout == "transient\n"
        assert run(capsys, "is-enabled", name)[:2] == (want.returncode, want.stdout)
    finally:
        systemctl("stop", name)


@pytest.mark.parametrize("state", ["active", "inactive", "failed", "not-found", "masked"])
def test_status_exit_codes_match_systemctl(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], state: str
) -> None:
    want = systemctl("status", "-n0", zoo[state])
    rc, _out, err = run(capsys, "status", zoo[state])
    assert rc == want.returncode
    if state == "not-found":
        assert rc == 4
        assert f"Unit {zoo[state]} could not be found." in err


def test_status_of_several_units_returns_the_first_failure(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str]
) -> None:
    names = [zoo["active"], zoo["not-found"], zoo["failed"]]
    assert run(capsys, "status", *names)[0] == systemctl("status", "-n0", *names).returncode == 4


def _normalize(text: str) -> list[str]:
    """Status text without what moves between two runs: relative times, journal lines."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if re.match(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d ", line):  # a journal line
            continue
        if line.startswith(("Notice:", "Hint:", "Warning: journal")):
            continue
        lines.append(re.sub(r"; [^;]* (ago|left)$", "", line))
    return lines


def test_status_looks_like_systemctl(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], units: Units
) -> None:
    dropin = RUNTIME_UNITS / f"{zoo['active']}.d"
    dropin.mkdir()
    units.paths.append(dropin / "b.conf")
    units.paths.append(dropin / "a.conf")
    (dropin / "a.conf").write_text("[Unit]\nDocumentation=man:true(1) https://example.com\n")
    (dropin / "b.conf").write_text("[Service]\nEnvironment=X=1\n")
    units.reload()
    try:
        names = [zoo["active"], zoo["failed"], zoo["enabled"], zoo["masked"]]
        want = systemctl("status", "-n0", *names)
        rc, out, _err = run(capsys, "status", *names)
        assert rc == want.returncode
        assert _normalize(out) == _normalize(want.stdout)
    finally:
        for path in dropin.iterdir():
            path.unlink()
        dropin.rmdir()


def test_status_of_the_manager(capsys: pytest.CaptureFixture[str]) -> None:
    want = systemctl("status")
    rc, out, _err = run(capsys, "status")
    assert rc == want.returncode == 0
    mine, theirs = _normalize(out), _normalize(want.stdout)
    # counts can move between the two runs; the shape and the stable lines cannot
    assert [line.split(":")[0] for line in mine[:9]] == [line.split(":")[0] for line in theirs[:9]]
    assert [line for line in mine if "systemd:" in line] == [
        line for line in theirs if "systemd:" in line
    ]


# ------------------------------------------------------------------------------ lists


def _columns(text: str, n: int) -> set[tuple[str, ...]]:
    return {tuple(line.split()[:n]) for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("flags", [[], ["--all"], ["--state=failed"], ["--all", "-t", "service"]])
def test_list_agrees_with_systemctl(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], units: Units, flags: list[str]
) -> None:
    pattern = f"sysdt-*-{units.tag}.*"
    want = systemctl("list-units", "--plain", "--no-legend", *flags, pattern)
    rc, out, _err = run(capsys, "list", "--json", *flags, pattern)
    assert rc == 0
    got = {
        (u["unit"], u["load_state"], u["active_state"], u["sub_state"])
        for u in json.loads(out)["units"]
    }
    assert got == _columns(want.stdout, 4)
    assert zoo["active"] in {g[0] for g in got} or flags == ["--state=failed"]
    rc, text, _err = run(capsys, "list", "--plain", "--no-legend", *flags, pattern)
    assert _columns(text, 4) == got


def test_list_table(capsys: pytest.CaptureFixture[str], zoo: dict[str, str], units: Units) -> None:
    rc, out, _err = run(capsys, "list", "--all", f"sysdt-*-{units.tag}.*")
    lines = out.splitlines()
    assert rc == 0
    assert lines[0].split() == ["UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION"]
    failed = next(line for line in lines if zoo["failed"] in line)
    assert failed.startswith("\u25cf ")  # the failed mark, no colour into a pipe
    assert "\x1b" not in out
    assert any(re.fullmatch(r"\d+ loaded units listed\.", line) for line in lines)


def test_list_unit_files_agrees_with_systemctl(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], units: Units
) -> None:
    pattern = f"sysdt-*-{units.tag}.*"
    want = systemctl("list-unit-files", "--no-legend", pattern)
    rc, out, _err = run(capsys, "list-unit-files", "--json", pattern)
    assert rc == 0
    got = {(f["unit_file"], f["state"]) for f in json.loads(out)["unit_files"]}
    assert got == _columns(want.stdout, 2)
    assert (zoo["enabled"], "enabled") in got and (zoo["masked"], "masked-runtime") in got
    rc, out, _err = run(capsys, "list-unit-files", "--state=enabled", pattern)
    assert zoo["enabled"] in out and zoo["disabled"] not in out


def test_list_jobs_and_no_block(
    capsys: pytest.CaptureFixture[str], sd: sysd.Systemd, units: Units
) -> None:
    name = units.add("slow", "[Service]\nType=oneshot\nExecStart=/bin/sleep 30\n")
    units.reload()
    rc, out, _err = run(capsys, "start", "--no-block", "--json", name)
    assert rc == 0
    [job] = json.loads(out)["jobs"]
    assert job["unit"] == name and job["job_type"] == "start" and job["result"] is None
    assert isinstance(job["job_id"], int) and job["error"] is None
    # a queued job is "waiting" until the manager dispatches it: read until it runs
    deadline = time.monotonic() + 30
    while True:
        rc, out, _err = run(capsys, "list-jobs", "--json")
        listed = json.loads(out)["jobs"]
        waiting = [j for j in listed if j["id"] == job["job_id"] and j["state"] == "waiting"]
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert {"id": job["job_id"], "unit": name, "job_type": "start", "state": "running"} in listed
    rc, text, _err = run(capsys, "list-jobs")
    assert text.splitlines()[0].split() == ["JOB", "UNIT", "TYPE", "STATE"]
    assert name in text and "jobs listed." in text
    assert run(capsys, "stop", name)[0] == 0
    rc, out, _err = run(capsys, "list-jobs", "--json")
    assert all(j["unit"] != name for j in json.loads(out)["jobs"])


# ------------------------------------------------------------------------------- show

SHOW = [
    "Id",
    "Names",
    "Description",
    "LoadState",
    "ActiveState",
    "SubState",
    "FragmentPath",
    "UnitFileState",
    "MainPID",
    "ExecMainStatus",
    "Type",
    "Restart",
    "TimeoutStartUSec",
    "RuntimeMaxUSec",
    "RemainAfterExit",
    "ActiveEnterTimestamp",
    "InactiveEnterTimestamp",
    "UMask",
    "LimitNOFILE",
    "MemoryMax",
    "TasksMax",
    "NRestarts",
    "Requires",
    "After",
    "Documentation",
    "CPUUsageNSec",
    "StatusText",
    "SuccessActionExitStatus",
    "NoSuchProperty",
]


@pytest.mark.parametrize("state", ["active", "failed", "enabled"])
def test_show_values_agree_with_systemctl(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], state: str
) -> None:
    name = zoo[state]
    want = systemctl("show", "-p", ",".join(SHOW), name)
    rc, out, _err = run(capsys, "show", "-p", ",".join(SHOW[:10]), "-p", ",".join(SHOW[10:]), name)
    assert rc == 0
    assert sorted(out.splitlines()) == sorted(want.stdout.splitlines())
    want = systemctl("show", "--value", "-p", "ActiveState", name)
    assert run(capsys, "show", "--value", "-p", "ActiveState", name)[1] == want.stdout


def test_show_everything(capsys: pytest.CaptureFixture[str], zoo: dict[str, str]) -> None:
    rc, out, _err = run(capsys, "show", zoo["active"])
    assert rc == 0
    props = dict(line.split("=", 1) for line in out.splitlines())
    assert props["Id"] == zoo["active"] and props["ActiveState"] == "active"
    assert "StatusText" not in props  # empty values are left out without -p / --all
    rc, out, _err = run(capsys, "show", "--all", zoo["active"])
    assert "StatusText=" in out.splitlines()


# ---------------------------------------------------------------------------- actions


def test_start_of_a_failing_unit(
    capsys: pytest.CaptureFixture[str], sd: sysd.Systemd, units: Units
) -> None:
    name = units.add("boom", FAILING)
    units.reload()
    rc, out, err = run(capsys, "start", "--no-report", name)
    assert rc == 1 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"sysd: Job for {name} failed because the control process exited")
    assert "(7)" in err and "(hint: see `sysd status" in err
    sd.unit(name).reset_failed()
    assert systemctl("start", name).returncode == rc


def test_start_of_a_missing_unit(capsys: pytest.CaptureFixture[str], units: Units) -> None:
    name = units.name("nothere")
    rc, _out, err = run(capsys, "start", name)
    theirs = systemctl("start", name)
    assert rc == theirs.returncode == 5
    assert err == f"sysd: Failed to start {name}: Unit {name} not found.\n"
    assert err == "sysd: " + theirs.stderr  # systemctl's words
    # the D-Bus error name stays in the JSON
    rc, out, _err = run(capsys, "start", "--json", name)
    error = json.loads(out)["jobs"][0]["error"]
    assert rc == 5 and error["dbus_name"] == "org.freedesktop.systemd1.NoSuchUnit"
    assert error["message"] == f"Unit {name} not found."


def test_start_of_a_masked_unit(capsys: pytest.CaptureFixture[str], zoo: dict[str, str]) -> None:
    rc, _out, err = run(capsys, "start", zoo["masked"])
    assert rc == systemctl("start", zoo["masked"]).returncode
    assert err == (
        f"sysd: Failed to start {zoo['masked']}: Unit {zoo['masked']} is masked. "
        "(hint: unmask it first)\n"
    )
    assert run(capsys, "try-restart", zoo["masked"])[0] == 0  # ignored, as systemctl does


def test_job_verbs_cycle(
    capsys: pytest.CaptureFixture[str], sd: sysd.Systemd, units: Units
) -> None:
    name = units.add("cycle", SLEEPER)
    units.reload()
    unit = sd.unit(name)
    for verb, state in [
        ("start", "active"),
        ("restart", "active"),
        ("try-restart", "active"),
        ("reload-or-restart", "active"),
        ("try-reload-or-restart", "active"),
        ("stop", "inactive"),
        ("try-restart", "inactive"),
    ]:
        rc, out, err = run(capsys, verb, "--json", name)
        assert rc == 0, err
        [job] = json.loads(out)["jobs"]
        assert job["result"] in ("done", "skipped") and job["error"] is None
        assert unit.active_state() == state, verb
    rc, _out, err = run(capsys, "reload", name)  # no ExecReload=
    theirs = systemctl("reload", name)
    assert rc == theirs.returncode == 3
    assert err == "sysd: " + theirs.stderr  # "Job type reload is not applicable for unit"


def test_kill_and_reset_failed(
    capsys: pytest.CaptureFixture[str], sd: sysd.Systemd, units: Units
) -> None:
    name = units.add("victim", SLEEPER)
    units.reload()
    unit = sd.unit(name)
    unit.start()
    rc, out, _err = run(capsys, "kill", "--json", "-s", "KILL", "--kill-whom", "main", name)
    assert rc == 0 and json.loads(out) == {"verb": "kill", "units": [name]}
    for _ in range(100):
        if unit.active_state() == "failed":
            break
        time.sleep(0.05)
    assert unit.active_state() == "failed"
    assert run(capsys, "is-failed", name)[0] == 0
    rc, out, _err = run(capsys, "reset-failed", "--json")
    assert rc == 0 and name in json.loads(out)["units"]
    assert unit.active_state() == "inactive"


def test_enable_disable_mask_print_like_systemctl(
    capsys: pytest.CaptureFixture[str], sd: sysd.Systemd, units: Units
) -> None:
    name = units.add("install", INSTALLABLE)
    units.reload()
    want_enable = systemctl("enable", name)
    want_disable = systemctl("disable", name)
    rc, _out, err = run(capsys, "enable", name)
    assert rc == 0 and err == want_enable.stderr
    assert "Created symlink" in err and "\u2192" in err
    rc, _out, err = run(capsys, "disable", name)
    assert rc == 0 and err == want_disable.stderr and err.startswith("Removed ")
    rc, out, _err = run(capsys, "enable", "--json", "--now", name)
    changes = json.loads(out)["changes"]
    assert rc == 0 and changes[0]["type"] == "symlink"
    assert sd.unit(name).is_active()
    rc, out, _err = run(capsys, "disable", "--json", "--now", name)
    assert rc == 0 and json.loads(out)["changes"][0]["destination"] is None
    assert not sd.unit(name).is_active()
    other = units.name("masking")
    rc, out, _err = run(capsys, "mask", "--runtime", "--json", other)
    units.paths.append(RUNTIME_UNITS / other)
    assert rc == 0 and json.loads(out)["changes"][0]["destination"] == "/dev/null"
    assert sd.unit(other).unit_file_state() == "masked-runtime"
    rc, _out, _err = run(capsys, "unmask", "--runtime", other)
    assert rc == 0 and not (RUNTIME_UNITS / other).exists()


def test_daemon_reload(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "daemon-reload") == (0, "", "")
    rc, out, _err = run(capsys, "daemon-reload", "--json")
    assert rc == 0 and json.loads(out) == {"verb": "daemon-reload"}


def test_cat(capsys: pytest.CaptureFixture[str], zoo: dict[str, str]) -> None:
    want = systemctl("cat", zoo["active"])
    rc, out, _err = run(capsys, "cat", zoo["active"])
    assert rc == 0 and out == want.stdout
    want = systemctl("cat", zoo["masked"])
    assert run(capsys, "cat", zoo["masked"]) == (want.returncode, want.stdout, "")
    name = zoo["not-found"]
    rc, _out, err = run(capsys, "cat", name)
    assert rc == systemctl("cat", name).returncode == 1
    assert err == f"sysd: No files found for {name}.\n"


# ----------------------------------------------------------------------- bad arguments


@pytest.fixture
def no_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("connected to a bus")

    for module in (sysd.cli.units, sysd.cli.lists, sysd.cli.control):
        monkeypatch.setattr(module, "connect", refuse)
    monkeypatch.setattr(sysd, "connect", refuse)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["start", "bad name"], "invalid unit name 'bad name'"),
        (["stop", "foo@.service"], "is a template"),
        (["status", "a/b"], "invalid unit name"),
        (["is-active"], "the following arguments are required: UNIT"),
        (["is-enabled", "x*"], "invalid unit name"),
        (["show", "bad name"], "invalid unit name"),
        (["kill", "-s", "NOPE", "x"], "unknown signal 'NOPE'"),
        (["start", "--job-mode", "bogus", "x"], "invalid choice: 'bogus'"),
        (["enable", "bad name"], "invalid unit name"),
        (["list", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_1_before_connecting(
    capsys: pytest.CaptureFixture[str], no_bus: None, argv: list[str], message: str
) -> None:
    assert main(argv) == 1  # as systemctl
    err = capsys.readouterr().err
    assert message in err
    assert re.match(rf"sysd {argv[0]}: ", err) and len(err.splitlines()) == 1


# ----------------------------------------------------------------------------- as a user


def test_access_denied_in_systemctls_words(as_user: Any, zoo: dict[str, str]) -> None:
    code = f"""
        import sys
        from sysd.cli import main
        sys.exit(main(["stop", {zoo["active"]!r}]))
    """
    proc = as_user(code)
    want = as_user(
        f"""
        import subprocess, sys
        p = subprocess.run(["systemctl", "--no-ask-password", "stop", {zoo["active"]!r}])
        sys.exit(p.returncode)
        """
    )
    assert proc.returncode == want.returncode == 1, (proc.stderr, want.stderr)
    first, see = proc.stderr.splitlines()
    assert first == (
        f"sysd: Failed to stop {zoo['active']}: Interactive authentication required. "
        "(hint: run as root, add a polkit rule, or pass --interactive to let polkit ask)"
    )
    assert see == f"sysd: See system logs and 'sysd status {zoo['active']}' for details."
    # the D-Bus error name is in the JSON
    proc = as_user(code.replace('"stop", ', '"stop", "--json", '))
    error = json.loads(proc.stdout)["jobs"][0]["error"]
    assert error["dbus_name"] == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"


def test_user_manager(as_user: Any) -> None:
    proc = as_user(
        """
        import subprocess, sys
        from sysd.cli import main
        rc = main(["is-active", "--user", "default.target"])
        p = subprocess.run(["systemctl", "--user", "is-active", "default.target"])
        print(rc, p.returncode)
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[-2] == lines[-1] == "0"


# ------------------------------------------------------------------------ JSON schemas

SCHEMA_BLOCK = re.compile(r"<!-- schema: ([\w-]+) -->\s*```json\n(.*?)```", re.S)
SCHEMAS: dict[str, Any] = {
    m.group(1): json.loads(m.group(2))
    for m in SCHEMA_BLOCK.finditer((ROOT / "docs" / "cli.md").read_text(encoding="utf-8"))
}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def follows(doc: Any, example: Any, where: str = "$") -> None:
    """``doc`` has the example's keys and value types (null may stand for any value)."""
    if example is None or doc is None:
        return
    assert _kind(doc) == _kind(example), f"{where}: {doc!r} is not like {example!r}"
    if isinstance(example, dict):
        if where.endswith(".properties"):  # D-Bus property names vary by unit type
            return
        assert set(example) <= set(doc), f"{where}: missing {set(example) - set(doc)}"
        for key, value in example.items():
            follows(doc[key], value, f"{where}.{key}")
    elif isinstance(example, list) and example:
        for i, item in enumerate(doc):
            follows(item, example[0], f"{where}[{i}]")


def test_docs_have_every_schema() -> None:
    assert set(SCHEMAS) == {
        "status",
        "status-manager",
        "list",
        "list-unit-files",
        "list-jobs",
        "show",
        "cat",
        "jobs",
        "unit-action",
        "changes",
        "daemon",
        "is",
    }
    assert set(SCHEMAS["status"]["units"][0]) == {
        "unit",
        *sysd.cli.units.STATUS_FIELDS,
        "since",
        "main_exit",
        "processes",
    }


def test_json_outputs_follow_the_documented_schema(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], units: Units
) -> None:
    pattern = f"sysdt-*-{units.tag}.*"
    cases = [
        ("status", ["status", zoo["active"], zoo["failed"], zoo["not-found"]]),
        ("status-manager", ["status"]),
        ("list", ["list", "--all", pattern]),
        ("list-unit-files", ["list-unit-files", pattern]),
        ("list-jobs", ["list-jobs"]),
        ("show", ["show", zoo["active"], zoo["failed"]]),
        ("cat", ["cat", zoo["active"]]),
        ("jobs", ["restart", zoo["active"], zoo["failed"]]),
        ("unit-action", ["reset-failed", zoo["failed"]]),
        ("changes", ["disable", zoo["enabled"]]),
        ("changes", ["enable", zoo["enabled"]]),
        ("changes", ["enable", zoo["not-found"]]),  # the error, with its D-Bus name
        ("daemon", ["daemon-reload"]),
        ("is", ["is-active", zoo["active"], zoo["inactive"]]),
        ("is", ["is-enabled", zoo["enabled"], zoo["not-found"]]),
    ]
    for schema, argv in cases:
        rc, out, err = run(capsys, argv[0], "--json", *argv[1:])
        doc = json.loads(out)
        follows(doc, SCHEMAS[schema])
        assert rc in (0, 1, 3, 4), (argv, rc, err)
    rc, out, _err = run(capsys, "enable", "--json", zoo["not-found"])
    error = json.loads(out)["error"]
    assert rc == 1 and error["dbus_name"] == "org.freedesktop.systemd1.NoSuchUnit"
    assert error["message"] == f"Unit file {zoo['not-found']} does not exist."
    rc, out, _err = run(capsys, "status", "--json", zoo["active"])
    [record] = json.loads(out)["units"]
    assert record["active_state"] == "active" and record["main_pid"] > 1
    assert record["since"].endswith("+00:00") and record["unit_file_state"] == "static"
    rc, out, _err = run(capsys, "restart", "--json", zoo["failed"])
    [job] = json.loads(out)["jobs"]
    assert rc == 1 and job["result"] == "failed"
    assert job["error"]["type"] == "JobFailedError" and job["error"]["exit_code"] == 7
    rc, out, _err = run(capsys, "show", "--json", "-p", "MainPID,Names", zoo["active"])
    [shown] = json.loads(out)["units"]
    assert set(shown["properties"]) == {"MainPID", "Names"}
    assert shown["properties"]["Names"] == [zoo["active"]]
