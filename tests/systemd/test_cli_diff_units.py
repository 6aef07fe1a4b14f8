"""The unit verbs of ``sysd`` and ``systemctl`` on the same inputs: stdout and exit status.

Each case runs ``systemctl`` (in a subprocess, with an environment that makes its output
deterministic), then ``sysd`` (in-process), then ``systemctl`` again: sysd must agree with
one of the two systemctl runs, so that a unit changing state while the case runs (a timer
firing, a counter moving) cannot make it fail, and nothing depends on timing.  ``show``
is compared line by line; a property whose two systemctl values differ is moving and is
not compared.

What is not compared, and why, is listed in docs/cli.md ("Intentional differences from
systemctl"); each intentional difference has a case here that checks it by name
(``INTENTIONAL``).  stderr is compared for the operations' errors (missing, masked,
broken units; refused to the unprivileged test user): systemctl's lines against sysd's
without their ``sysd: `` prefix.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from throwaway_units import RUNTIME_UNITS, Units

import sysd
from sysd.cli import main

ENV = {
    "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
    "SYSTEMD_COLORS": "0",
    "SYSTEMD_PAGER": "cat",
    "SYSTEMD_URLIFY": "0",
    "LANG": "C.UTF-8",
    "COLUMNS": "200",
    **({"TZ": os.environ["TZ"]} if "TZ" in os.environ else {}),
}

# The differences docs/cli.md lists under "Intentional differences from systemctl"
# (unit verbs), by the name used there.
INTENTIONAL = {
    "list-hint": "the list footer names `sysd list-unit-files`",
    "invalid-names": "names that cannot be units are refused (exit 1), not escaped",
    "status-processes": "the process tree under CGroup: is not compared",
    "error-hints": "error lines may end in sysd's hint: ' (hint: ...)'",
    "error-see-status": "'See system logs and 'sysd status UNIT' for details.' names sysd",
}
_LIST_HINT = re.compile(
    r"^To show all installed unit files use '(systemctl|sysd) list-unit-files'\.$"
)


def systemctl(*argv: str) -> tuple[int, str]:
    proc = subprocess.run(
        ["systemctl", "--no-pager", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=ENV,
    )
    return proc.returncode, proc.stdout


def sysd_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        rc = main(list(argv))
    except SystemExit as exc:  # bad arguments
        rc = int(exc.code or 0)
    return rc, capsys.readouterr().out


def agree(
    capsys: pytest.CaptureFixture[str],
    verb: tuple[str, str] | str,
    *args: str,
    normalize: Callable[[str], str] = str,
) -> tuple[int, str]:
    """Run systemctl, sysd, systemctl with ``args``; sysd must match one systemctl run."""
    theirs, mine = (verb, verb) if isinstance(verb, str) else verb
    norm = normalize
    before = systemctl(theirs, *args)
    got = sysd_cli(capsys, mine, *args)
    after = systemctl(theirs, *args)
    got_n = (got[0], norm(got[1]))
    wanted = [(rc, norm(out)) for rc, out in (before, after)]
    assert got_n in wanted, _diff(wanted[0], got_n, (theirs, *args))
    return got


def _diff(want: tuple[int, str], got: tuple[int, str], argv: Sequence[str]) -> str:
    import difflib

    lines = difflib.unified_diff(
        want[1].splitlines(), got[1].splitlines(), "systemctl", "sysd", lineterm="", n=1
    )
    body = "\n".join(list(lines)[:40])
    return f"{' '.join(argv)}: exit {want[0]} (systemctl) vs {got[0]} (sysd)\n{body}"


# ------------------------------------------------------------------------- the units

SLEEPER = "[Unit]\nDescription=Sleeps {tag}\n[Service]\nExecStart=/bin/sleep infinity\n"


@pytest.fixture(scope="module")
def zoo(systemd_host: None) -> Iterator[dict[str, str]]:
    """Units in the states the verbs tell apart, kept loaded while the module runs.

    The active unit orders itself after the inactive and the masked ones and the
    instance, so that systemd keeps them loaded (an unreferenced inactive unit is
    unloaded at once).
    """
    with sysd.connect() as sd:
        units = Units(sd)
        dirs: list[Path] = []

        def dropin(unit: str, name: str, text: str) -> None:
            directory = RUNTIME_UNITS / f"{unit}.d"
            directory.mkdir(exist_ok=True)
            (directory / name).write_text(text)
            units.paths.append(directory / name)
            dirs.append(directory)

        template = f"sysdt-tmpl-{units.tag}@.service"
        (RUNTIME_UNITS / template).write_text(
            "[Unit]\nDescription=Template %i\n[Service]\nExecStart=/bin/sleep infinity\n"
        )
        units.paths.append(RUNTIME_UNITS / template)
        dropin(template, "x.conf", "[Service]\nEnvironment=FROM_DROPIN=1\n")
        names = {
            "template": template,
            "instance": template.replace("@.", "@one."),
            "inactive": units.add("inactive", SLEEPER),
            "masked": units.mask("masked"),
            "failed": units.add(
                "failed", "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'exit 7'\n"
            ),
            "timer": units.add("timer", "[Timer]\nOnCalendar=2099-01-01\n", suffix="timer"),
            "enabled": units.add("enabled", SLEEPER + "[Install]\nWantedBy=multi-user.target\n"),
            "missing": units.name("missing"),
            # a start job that stays queued (running) until the unit is stopped
            "waiting": units.add(
                "waiting", "[Service]\nType=oneshot\nExecStart=/bin/sleep infinity\n"
            ),
        }
        units.add("timer", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
        after = " ".join(names[k] for k in ("inactive", "masked", "instance"))
        names["active"] = units.add(
            "active",
            SLEEPER.replace(
                "[Service]",
                f"Documentation=man:sleep(1) https://example.com\nAfter={after}\n[Service]",
            ),
        )
        dropin(names["active"], "b.conf", "[Service]\nEnvironment=B=1\n")
        dropin(names["active"], "a.conf", "[Unit]\nDescription=Sleeps, with drop-ins\n")
        units.reload()
        sd.enable(names["enabled"])
        units.enabled.append(names["enabled"])
        for key in ("active", "instance", "timer", "enabled"):
            sd.unit(names[key]).start()
        with pytest.raises(sysd.JobFailedError):
            sd.unit(names["failed"]).start()
        names["job"] = str(sd.unit(names["waiting"]).start(wait=False).id)
        try:
            yield names
        finally:
            for key in ("instance", "timer"):
                try:
                    sd.unit(names[key]).stop()
                except sysd.SysdError:
                    pass
            units.cleanup()
            for directory in dict.fromkeys(dirs):
                directory.rmdir()


def _pattern(zoo: dict[str, str]) -> str:
    """A glob for every unit of the zoo (``sysdt-*-TAG*``)."""
    tag = zoo["active"].rsplit(".", 1)[0].rsplit("-", 1)[1]
    return f"sysdt-*{tag}*"


def _loaded(zoo: dict[str, str]) -> list[str]:
    rc, out = systemctl("list-units", "--all", "--plain", "--no-legend", "--full")
    assert rc == 0
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return [*names, zoo["missing"], zoo["active"]]  # a not-found unit, a name twice


# ------------------------------------------------------------------------------ show


def _show_blocks(text: str) -> list[dict[str, list[str]]]:
    """``show`` output as one {property: lines} per unit (blank lines separate units)."""
    blocks: list[dict[str, list[str]]] = [{}]
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        if line == "":
            blocks.append({})
            continue
        blocks[-1].setdefault(line.partition("=")[0], []).append(line)
    return blocks


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--all"],
        ["-p", "Id,Names,ExecStart,Job,LoadError,Conditions,TTYRows,NoSuchProperty"],
    ],
    ids=["default", "all", "properties"],
)
def test_show_every_property_of_every_loaded_unit(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], flags: list[str]
) -> None:
    names = _loaded(zoo)
    argv = ["show", *flags, "--", *names]
    _, before = systemctl(*argv)
    rc, mine = sysd_cli(capsys, *argv)
    _, after = systemctl(*argv)
    assert rc == 0
    a, m, b = _show_blocks(before), _show_blocks(mine), _show_blocks(after)
    assert len(m) == len(a) == len(b) == len(names)
    compared = 0
    for i, name in enumerate(names):
        moving = {p for p in a[i].keys() | b[i].keys() if a[i].get(p) != b[i].get(p)}
        want = {p: v for p, v in a[i].items() if p not in moving}
        got = {p: v for p, v in m[i].items() if p not in moving}
        assert got == want, (name, {p: (want.get(p), got.get(p)) for p in want.keys() ^ got.keys()})
        assert list(got) == list(want), name  # and in systemctl's order
        compared += len(want)
    assert compared >= len(names) * (2 if flags and flags[0] == "-p" else 10)


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--all"],
        ["-p", "Version,Architecture,UnitPath,NoSuchProperty"],
        ["--value", "-p", "Version"],
    ],
    ids=["default", "all", "properties", "value"],
)
def test_show_the_manager(capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    """``show`` without units: the manager's properties (compared as for units)."""
    _, before = systemctl("show", *flags)
    rc, mine = sysd_cli(capsys, "show", *flags)
    _, after = systemctl("show", *flags)
    assert rc == 0
    [a], [m], [b] = _show_blocks(before), _show_blocks(mine), _show_blocks(after)
    moving = {p for p in a.keys() | b.keys() if a.get(p) != b.get(p)}
    want = {p: v for p, v in a.items() if p not in moving}
    got = {p: v for p, v in m.items() if p not in moving}
    assert got == want, {
        p: (want.get(p), got.get(p)) for p in want.keys() | got.keys() if want.get(p) != got.get(p)
    }
    assert list(got) == list(want)
    assert want


def test_show_jobs(capsys: pytest.CaptureFixture[str], zoo: dict[str, str]) -> None:
    """A number is a job id; jobs come before units; a missing job ends it (exit 1)."""
    agree(capsys, "show", zoo["active"], zoo["job"])
    agree(capsys, "show", "--all", zoo["job"])
    agree(capsys, "show", "--value", "-p", "JobType,State,Unit", zoo["job"])
    agree(capsys, "show", "-p", "Id", zoo["job"], "4000000000", zoo["active"])


def test_show_value_and_patterns(capsys: pytest.CaptureFixture[str], zoo: dict[str, str]) -> None:
    props = "Id,ActiveState,Names,NoSuchProperty,StatusText,ExecStart,DropInPaths,Job"
    pattern = _pattern(zoo)
    agree(capsys, "show", "--value", "-p", props, zoo["active"], zoo["failed"], zoo["missing"])
    # patterns after names, inactive units only with --all, duplicates kept
    agree(capsys, "show", "-p", "Id", pattern, zoo["active"], zoo["missing"], zoo["active"])
    agree(capsys, "show", "-p", "Id", "--all", pattern, zoo["failed"])
    agree(capsys, "show", "-p", "Id", "--state=failed", pattern)
    agree(capsys, "show", "-p", "Id", "-t", "timer", pattern)
    agree(capsys, "show", "-p", "Id", "nomatch-*")


# ----------------------------------------------------------------------------- lists


def _list_hint(text: str) -> str:
    """INTENTIONAL["list-hint"]: the footer names the tool that prints it."""
    return "\n".join("HINT" if _LIST_HINT.match(line) else line for line in text.split("\n"))


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--all"],
        ["--all", "--type=service,timer"],
        ["--state=failed"],
        ["--state=inactive", "-t", "service"],
        ["--no-legend", "--all"],
        ["--plain", "--all"],
        ["PATTERN"],
        ["--all", "PATTERN"],
        ["--all", "nomatch-*"],
        ["--no-legend", "nomatch-*"],
        ["--failed", "PATTERN"],
        ["-t", "masked", "--all"],
        ["-t", "bogus"],
    ],
)
def test_list_units(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], args: list[str]
) -> None:
    args = [_pattern(zoo) if a == "PATTERN" else a for a in args]
    agree(capsys, ("list-units", "list"), "--full", *args, normalize=_list_hint)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["PATTERN"],
        ["--state=enabled,masked-runtime", "PATTERN"],
        ["-t", "timer", "PATTERN"],
        ["--no-legend", "PATTERN"],
        ["*@*"],
        ["nomatch-*"],
        ["--no-legend", "nomatch-*"],
        ["--state=bogus"],
        ["-t", "bogus"],
    ],
)
def test_list_unit_files(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], args: list[str]
) -> None:
    args = [_pattern(zoo) if a == "PATTERN" else a for a in args]
    rc, out = agree(capsys, "list-unit-files", "--full", *args)
    if "nomatch-*" in args:
        assert rc == 1  # nothing listed
    if args == [_pattern(zoo)]:
        assert re.search(rf"^{re.escape(zoo['enabled'])} +enabled +enabled$", out, re.M)
        assert re.search(rf"^{re.escape(zoo['template'])} +static +-$", out, re.M)


# --------------------------------------------------------------------------- is-verbs

IS_CASES = [
    ["active"],
    ["inactive"],
    ["failed"],
    ["masked"],
    ["missing"],
    ["active", "inactive", "failed"],
    ["missing", "masked", "active"],
    ["PATTERN"],
    ["--all", "PATTERN"],
    ["--state=failed", "PATTERN"],
    ["-t", "timer", "PATTERN"],
    ["nomatch-*"],
    ["missing", "PATTERN", "active"],
    ["-q", "active", "inactive"],
]


@pytest.mark.parametrize("verb", ["is-active", "is-failed"])
@pytest.mark.parametrize("case", IS_CASES, ids="+".join)
def test_is_active_and_is_failed(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], verb: str, case: list[str]
) -> None:
    args = [_pattern(zoo) if a == "PATTERN" else zoo.get(a, a) for a in case]
    agree(capsys, verb, *args)


@pytest.mark.parametrize(
    "case",
    [
        ["enabled"],
        ["active"],
        ["masked"],
        ["template"],
        ["instance"],
        ["missing"],
        ["enabled", "active", "masked"],
        ["active", "missing", "enabled"],  # the error ends it: enabled is not asked about
        ["missing", "enabled"],
        ["-q", "masked", "enabled"],
    ],
    ids="+".join,
)
def test_is_enabled(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str], case: list[str]
) -> None:
    agree(capsys, "is-enabled", *[zoo.get(a, a) for a in case])


def test_invalid_names_are_refused_where_systemctl_escapes_them(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str]
) -> None:
    """INTENTIONAL["invalid-names"]: exit 1 before connecting, nothing on stdout."""
    cases = [
        ("is-enabled", _pattern(zoo)),  # is-enabled takes no patterns
        ("is-active", "bad name"),
        ("status", zoo["template"]),  # a template where a unit is needed
        ("show", zoo["template"]),
        ("is-active", zoo["template"]),
    ]
    for verb, name in cases:
        theirs = systemctl(verb, name)
        assert theirs[0] != 0 and theirs[1] in ("", "inactive\n"), (verb, name)
        assert sysd_cli(capsys, verb, name) == (1, ""), (verb, name)


# ------------------------------------------------------------------------------- cat


@pytest.mark.parametrize(
    "case",
    [
        ["active"],  # fragment and two drop-ins
        ["template"],  # a template: its file and drop-in, found on disk
        ["instance"],
        ["masked"],
        ["missing"],
        ["active", "masked", "failed"],
        ["masked", "active"],
        ["missing", "active"],
        ["PATTERN"],
        ["--all", "PATTERN"],
        ["nomatch-*"],
        ["getty@.service", "autovt@.service", "user@.service"],
        ["nosuch@.service"],
    ],
    ids="+".join,
)
def test_cat(capsys: pytest.CaptureFixture[str], zoo: dict[str, str], case: list[str]) -> None:
    args = [_pattern(zoo) if a == "PATTERN" else zoo.get(a, a) for a in case]
    rc, out = agree(capsys, "cat", *args)
    if case == ["template"]:
        assert rc == 0 and "FROM_DROPIN=1" in out


# ---------------------------------------------------------------------------- status

_RELATIVE = re.compile(r"; [^;]* (ago|left)$")


def _status(text: str) -> str:
    """Status text without what moves: relative times; INTENTIONAL["status-processes"]:
    the lines of the process tree under ``CGroup:`` (GetUnitProcesses fails now and then
    in the sandbox, for systemctl too, and processes come and go)."""
    out = []
    tree = False
    for line in text.split("\n"):
        if re.match(r"^ {5}CGroup: |^ {3}CGroup: ", line):
            tree = True
            out.append(line)
            continue
        if tree and line.startswith(" " * 11) and re.match(r"^ +[│├└`|]", line):
            continue
        tree = False
        out.append(_RELATIVE.sub("", line))
    return "\n".join(out)


@pytest.mark.parametrize(
    "case",
    [
        ["active"],  # drop-ins, docs
        ["timer"],  # Trigger: the next calendar elapse
        ["failed"],
        ["missing"],
        ["masked"],
        ["active", "missing", "failed"],
        ["PATTERN"],
        ["--all", "PATTERN"],
        ["-t", "timer", "PATTERN"],
        ["nomatch-*"],
        ["instance", "PATTERN", "timer"],
    ],
    ids="+".join,
)
def test_status(capsys: pytest.CaptureFixture[str], zoo: dict[str, str], case: list[str]) -> None:
    """With the journal lines (10 by default; the zoo's units have logged all they will)."""
    args = [_pattern(zoo) if a == "PATTERN" else zoo.get(a, a) for a in case]
    _rc, out = agree(capsys, "status", *args, normalize=_status)
    if case == ["timer"]:
        assert "Trigger: Thu 2099-01-01 00:00:00" in out
    if case == ["failed"]:
        assert "Failed with result 'exit-code'." in out  # a journal line


def test_status_journal_lines(capsys: pytest.CaptureFixture[str], zoo: dict[str, str]) -> None:
    for lines in ("0", "1", "3", "1000"):
        agree(capsys, "status", "-n", lines, zoo["failed"], zoo["active"], normalize=_status)


def test_status_of_every_loaded_unit(
    capsys: pytest.CaptureFixture[str], zoo: dict[str, str]
) -> None:
    """-n0: the journals of the whole system move while the suite runs."""
    names = _loaded(zoo)
    agree(capsys, "status", "-n0", "--", *names, normalize=_status)


def test_every_intentional_difference_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    section = doc.partition("## Intentional differences from systemctl")[2]
    assert section, "docs/cli.md has no 'Intentional differences from systemctl' section"
    for name in INTENTIONAL:
        assert f"`{name}`" in section, name


# ------------------------------------------------------------------- operation errors

_HINT = re.compile(r" \(hint: [^()]*(\([^()]*\)[^()]*)*\)$")
_SEE_LOGS = re.compile(r"^(See (system|user) logs and ')(sysd|systemctl)( .*' for details\.)$")


def _error_lines(text: str, *, ours: bool) -> list[str]:
    """stderr as lines to compare: sysd's without its ``sysd: `` prefix and, by name,
    INTENTIONAL["error-hints"] (the hint sysd adds after systemctl's words) and
    INTENTIONAL["error-see-status"] (the second line names the tool that prints it)."""
    lines = []
    for line in text.splitlines():
        bare = _HINT.sub("", line.removeprefix("sysd: ")) if ours else line
        lines.append(_SEE_LOGS.sub(r"\1TOOL\4", bare))
    return lines


def _as(user: str | None, argv: list[str]) -> list[str]:
    if user is None:
        return argv
    env = [f"{k}={v}" for k, v in ENV.items()]
    return ["runuser", "-u", user, "--", "env", "-i", *env, *argv]


def _stderr_of(user: str | None, argv: list[str]) -> tuple[int, str]:
    proc = subprocess.run(
        _as(user, argv), capture_output=True, text=True, timeout=60, check=False, env=ENV
    )
    return proc.returncode, proc.stderr


@pytest.fixture(scope="module")
def broken(systemd_host: None) -> Iterator[str]:
    """A unit file systemd cannot parse ("Bad message"), referenced by nothing: every
    call loads it anew and finds it broken."""
    with sysd.connect() as sd:
        units = Units(sd)
        name = units.add("broken", "[Service\nExecStart=/bin/true\n")
        units.reload()
        try:
            yield name
        finally:
            units.cleanup()


ERROR_CASES = [
    *[[verb, "missing"] for verb in ("start", "stop", "restart", "reload", "try-restart",
                                     "reload-or-restart", "try-reload-or-restart")],
    *[[verb, "masked"] for verb in ("start", "restart", "reload", "reload-or-restart")],
    *[[verb, "broken"] for verb in ("start", "restart", "reload", "try-restart")],
    ["reload", "active"],  # no ExecReload=: the job type does not apply
    ["start", "missing", "masked"],  # both tried, both reported
    ["kill", "missing"], ["kill", "inactive", "missing"],
    ["reset-failed", "missing"],
    ["freeze", "missing"], ["thaw", "missing"], ["freeze", "active"], ["thaw", "active"],
    ["freeze", "missing", "active"],
    ["enable", "missing"], ["enable", "masked"], ["enable", "broken"],
    ["disable", "missing"], ["disable", "broken"],
    ["is-enabled", "missing"], ["is-enabled", "broken"],
    ["set-property", "missing", "CPUQuota=10%"], ["set-property", "masked", "CPUQuota=10%"],
]  # fmt: skip


@pytest.mark.parametrize("case", ERROR_CASES, ids="+".join)
def test_operation_errors_in_systemctls_words(
    zoo: dict[str, str], broken: str, case: list[str]
) -> None:
    """stderr and exit status of the common failures, as root."""
    names = {**zoo, "broken": broken}
    args = [names.get(a, a) for a in case]
    rc, theirs = _stderr_of(None, ["systemctl", *args])
    assert theirs, args
    mine_rc, mine = _stderr_of(None, [sys.executable, "-m", "sysd", *args])
    assert (mine_rc, _error_lines(mine, ours=True)) == (rc, _error_lines(theirs, ours=False))


REFUSED_CASES = [
    ["start", "active"], ["stop", "active"], ["restart", "inactive"], ["reload", "active"],
    ["start", "missing"], ["kill", "active"], ["kill", "missing"], ["reset-failed", "active"],
    ["enable", "enabled"], ["disable", "enabled"], ["mask", "active"], ["mask", "missing"],
    ["unmask", "masked"], ["set-property", "active", "CPUQuota=10%"],
    ["is-enabled", "missing"], ["freeze", "active"], ["thaw", "missing"],
]  # fmt: skip


@pytest.mark.parametrize("case", REFUSED_CASES, ids="+".join)
def test_refused_operations_in_systemctls_words(
    zoo: dict[str, str], test_user: tuple[str, int], case: list[str]
) -> None:
    """As the unprivileged test user: polkit (or the bus policy) refuses."""
    user = test_user[0]
    args = [zoo.get(a, a) for a in case]
    rc, theirs = _stderr_of(user, ["systemctl", *args])
    assert theirs, args
    mine_rc, mine = _stderr_of(user, [sys.executable, "-m", "sysd", *args])
    assert (mine_rc, _error_lines(mine, ours=True)) == (rc, _error_lines(theirs, ours=False))


def test_mask_of_a_missing_unit_says_so(zoo: dict[str, str]) -> None:
    """mask/unmask of a unit that does not exist: systemctl's notice, then the change."""
    name = zoo["missing"]
    want = []
    for tool in (["systemctl"], [sys.executable, "-m", "sysd"]):
        try:
            want.append(_stderr_of(None, [*tool, "mask", "--runtime", name]))
        finally:
            _stderr_of(None, ["systemctl", "unmask", "--runtime", name])
    (rc, theirs), (mine_rc, mine) = want
    assert theirs.startswith(f"Unit {name} does not exist, proceeding anyway.\n")
    assert (mine_rc, mine) == (rc, theirs)


@pytest.mark.parametrize("extra", [[], ["-q"], ["--now"]], ids=" ".join)
def test_enable_without_install_section_says_so(zoo: dict[str, str], extra: list[str]) -> None:
    """enable of a unit file without [Install]: nothing to enable, systemctl's notice (not
    with -q); --now still starts it.  Also the library's carries_install_info."""
    name = zoo["inactive"]  # a [Service] without [Install]
    seen = []
    try:
        for tool in (["systemctl"], [sys.executable, "-m", "sysd"]):
            seen.append(_stderr_of(None, [*tool, "enable", *extra, name]))
            _stderr_of(None, ["systemctl", "stop", name])
    finally:
        _stderr_of(None, ["systemctl", "stop", name])
    (rc, theirs), (mine_rc, mine) = seen
    assert ("no installation config" in theirs) == ("-q" not in extra)
    assert (mine_rc, mine) == (rc, theirs)
    with sysd.connect() as sd:
        assert sd.enable(name).carries_install_info is False
        assert sd.disable(name).carries_install_info is None  # DisableUnitFiles does not say


def test_freeze_no_block_skips_the_reference(zoo: dict[str, str]) -> None:
    """freeze --no-block: no RefUnit first, so the freezer call's own error (systemctl 252
    aborts here on an assertion in bus_wait_for_units_run(): not compared)."""
    name = zoo["missing"]
    rc, err = _stderr_of(None, [sys.executable, "-m", "sysd", "freeze", "--no-block", name])
    assert rc == 1
    assert _error_lines(err, ours=True) == [
        f"Failed to freeze unit {name}: Unit {name} not loaded."
    ]
