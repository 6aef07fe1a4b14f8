"""sysd._core.lint: systemd 252's unit-file parser (conf-parser.c, load-fragment.c) as a linter.

Every expected message is what ``systemd-analyze verify`` 252 prints for the same text; the
differential test against it is tests/systemd/test_lint_systemd.py.
"""

from __future__ import annotations

import pytest

from sysd._core.lint import CHECKED_PARSERS, MAX_FILE_SIZE, LintFinding, lint, unit_type_of
from sysd._core.lint_keys import KEYS, SECTIONS
from sysd._core.lint_values import FULL_SPECIFIERS, NAME_SPECIFIERS, bad_specifier
from sysd.errors import InvalidUnitFileError, SysdError

SVC = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n"


def _found(text: str, path: str = "t.service") -> list[tuple[int, str, str]]:
    return [(f.line, f.severity, f.message) for f in lint(path, text)]


# (text, expected (line, severity, message) list)
SYNTAX = [
    ("", [(0, "error", "Unit t.service is masked.")]),
    ("\n", []),
    (SVC, []),
    ("# c\n; c\n\n  \n" + SVC, []),
    ("\ufeff" + SVC, []),
    ("Description=x\n" + SVC, [(1, "warning", "Assignment outside of section. Ignoring.")]),
    ("[Unit\nDescription=x\n", [(1, "error", "Invalid section header '[Unit'")]),
    ('[Un"it]\nFoo=1\n', [(1, "error", "Bad characters in section header '[Un\"it]'")]),
    ("[Foo]\nA=1\nB\n", [(1, "warning", "Unknown section 'Foo'. Ignoring.")]),
    ("[X-Foo]\nA=1\n", []),
    ("[Unit]\nDescription\n", [(2, "warning", "Missing '=', ignoring line.")]),
    ("[Unit]\n=x\n", [(2, "warning", "Missing key name before '=', ignoring line.")]),
    ("[Unit]\nFoo=1\n", [(2, "warning", "Unknown key 'Foo' in section [Unit], ignoring.")]),
    ("[Unit]\nX-Foo=1\n", []),
    ("[Install]\nWantedBy=a.target\nBlah=1\n",
     [(3, "warning", "Unknown key 'Blah' in section [Install], ignoring.")]),
    # continuation: the message names the last physical line; comments inside are skipped
    ("[Unit]\nFoo=a \\\n# c\n  b \\\n  c\n",
     [(5, "warning", "Unknown key 'Foo' in section [Unit], ignoring.")]),
    ("[Unit]\nFoo=a\\\\\n", [(2, "warning", "Unknown key 'Foo' in section [Unit], ignoring.")]),
    ("[Unit]\nFoo=a \\", [(3, "warning", "Unknown key 'Foo' in section [Unit], ignoring.")]),
    ("[Unit]\r\nFoo=1\r\n", [(2, "warning", "Unknown key 'Foo' in section [Unit], ignoring.")]),
    ("[Service]\nTimer=1\n[Timer]\nOnCalendar=daily\nPersistent=maybe\n",
     [(2, "warning", "Unknown key 'Timer' in section [Service], ignoring."),
      (3, "warning", "Unknown section 'Timer'. Ignoring. ([Timer] belongs in .timer units)")]),
    ("[Unit]\nDescription=\udcff\n",
     [(2, "warning", "String is not UTF-8 clean, ignoring assignment: Description=\\xff")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), SYNTAX)
def test_syntax(text: str, expected: list[tuple[int, str, str]]) -> None:
    assert _found(text) == expected


VALUES = [
    ("Service", "Restart=sometimes", "warning",
     "Failed to parse service restart specifier, ignoring: sometimes"),
    ("Service", "Type=simpel", "warning", "Failed to parse service type, ignoring: simpel"),
    ("Service", "TimeoutSec=abc", "warning",
     "Failed to parse TimeoutSec= parameter, ignoring: abc"),
    ("Service", "RestartSec=5 parsecs", "warning",
     "Failed to parse sec value, ignoring: 5 parsecs"),
    ("Service", "RemainAfterExit=perhaps", "warning",
     "Failed to parse boolean value, ignoring: perhaps"),
    ("Service", "KillSignal=SIGFOO", "warning", "Failed to parse signal name, ignoring: SIGFOO"),
    ("Service", "KillSignal=0", "warning", "Failed to parse signal name, ignoring: 0"),
    ("Service", "UMask=0999", "warning", "Failed to parse mode value, ignoring: 0999"),
    ("Service", "KillMode=all", "warning",
     "Failed to parse kill mode specification, ignoring: all"),
    ("Service", "ProtectSystem=everything", "warning",
     "Failed to parse protect system value, ignoring: everything"),
    ("Service", "NotifyAccess=some", "warning",
     "Failed to parse notify access specifier, ignoring: some"),
    ("Service", "User=%Z", "error", "Failed to resolve unit specifiers in %Z: Invalid slot"),
    ("Service", "Environment=A=%Q", "warning",
     "Failed to resolve specifiers in A=%Q, ignoring: Invalid slot"),
    ("Service", "Environment=A-B=1", "warning", "Invalid environment assignment, ignoring: A-B=1"),
    ("Service", 'Environment="A=1 2" B=%n', None, None),
    ("Unit", "Description=%Z", "warning",
     "Failed to resolve unit specifiers in '%Z', ignoring: Invalid slot"),
    ("Unit", "Description=100%% %n %i %H %! % %", None, None),
    ("Unit", "After=%Q.service", "warning",
     "Failed to resolve unit specifiers in '%Q.service', ignoring: Invalid slot"),
    ("Unit", "After=%H.service", None, None),
    ("Unit", "Wants=foo@.service", None, None),  # resolve_template(): this unit's instance
    ("Unit", "Wants=no_suffix", "warning",
     "Failed to add dependency on no_suffix, ignoring: Invalid argument"),
    ("Unit", "Wants=a.service b@c.socket", None, None),
    ("Unit", "FailureAction=explode", "warning",
     "Failed to parse FailureAction=, ignoring: explode"),
    ("Unit", "JobTimeoutSec=soon", "warning",
     "Failed to parse JobTimeoutSec= parameter, ignoring: soon"),
    ("Unit", "Documentation=man:foo(1) foo", "warning", "Invalid URL, ignoring: foo"),
    ("Unit", "ConditionPathExists=!relative", "error",
     "ConditionPathExists= path is not absolute, ignoring: relative"),
    ("Unit", "ConditionPathExists=|!/etc/%Z", "warning",
     "Failed to resolve unit specifiers in /etc/%Z, ignoring: Invalid slot"),
    ("Unit", "IgnoreOnSnapshot=yes", "warning",
     "Support for option IgnoreOnSnapshot= has been removed and it is ignored"),
    ("Unit", "StartLimitBurst=-1", "warning", "Failed to parse unsigned value, ignoring: -1"),
    ("Unit", "StartLimitIntervalSec=", "warning", "Failed to parse sec value, ignoring: "),
]  # fmt: skip


VALUES += [
    ("Service", "LimitNOFILE=4096:1024", "warning",
     "Soft resource limit chosen higher than hard limit, ignoring: 4096:1024"),
    ("Service", "LimitNOFILE=lots", "warning", "Failed to parse resource value, ignoring: lots"),
    ("Service", "LimitNOFILE=1024:infinity", None, None),
    ("Service", "MemoryMax=lots", "warning",
     "Invalid memory limit 'lots', ignoring: Invalid argument"),
    ("Service", "MemoryMax=0", "warning", "Memory limit '0' out of range, ignoring."),
    ("Service", "MemoryLow=0", None, None),
    ("Service", "MemoryHigh=80%", None, None),
    ("Service", "TasksMax=-5", "warning",
     "Invalid maximum tasks value '-5', ignoring: Numerical result out of range"),
    ("Service", "CPUQuota=0%", "warning", "Invalid CPU quota '0%', ignoring."),
    ("Service", "Nice=20", "warning", "Nice priority out of range, ignoring: 20"),
    ("Service", "Nice=high", "warning",
     "Failed to parse nice priority 'high', ignoring: Invalid argument"),
    ("Service", "IOSchedulingClass=8", None, None),
    ("Service", "IOSchedulingClass=9", "warning",
     "Failed to parse IO scheduling class, ignoring: 9"),
    ("Service", "CPUWeight=idle", None, None),
    ("Service", "IOWeight=0", "warning", "Invalid weight, ignoring: 0"),
    ("Service", "StandardOutput=jounral", "warning",
     "Failed to parse output specifier, ignoring: jounral"),
    ("Service", "StandardOutput=append:/var/log/%Z", "warning",
     "Failed to resolve unit specifiers in /var/log/%Z, ignoring: Invalid slot"),
    ("Service", "StandardInput=data", None, None),
    ("Service", "ExecStart=/bin/%Z", "error",
     "Failed to resolve unit specifiers in '/bin/%Z': Invalid slot"),
    ("Service", "ExecStart=-/bin/true %Z", "warning",
     "Failed to resolve unit specifiers in %Z, ignoring: Invalid slot"),
    ("Service", "ExecStart=relative/path", "error",
     "Neither a valid executable name nor an absolute path: relative/path"),
    ("Service", "ExecStart=/usr/bin/", "error",
     "Executable path specifies a directory: /usr/bin/"),
    ("Service", "ExecStart=@/bin/sh", "error",
     "Empty executable name or zeroeth argument: @/bin/sh"),
    ("Service", 'ExecStart=/bin/echo "x', "error", 'Unbalanced quoting, ignoring: "/bin/echo "x"'),
    ("Service", "ExecStart=/bin/echo \\q", "warning",
     'Ignoring unknown escape sequences: "\\q"'),
    ("Service", "ExecStart=/bin/a ; /bin/b %Q", "error",
     "Failed to resolve unit specifiers in %Q: Invalid slot"),
    ("Service", "ExecStart=!!/bin/true ; -@/bin/sh sh -c 'a \\\\; b'", None, None),
    ("Service", "ExecStart=python3 -V", None, None),
]  # fmt: skip


@pytest.mark.parametrize(("section", "line", "severity", "message"), VALUES)
def test_values(section: str, line: str, severity: str | None, message: str | None) -> None:
    found = lint("t.service", f"[{section}]\n{line}\n")
    if severity is None:
        assert found == []
        return
    key = line.partition("=")[0]
    assert found == [LintFinding("t.service", 2, severity, section, key, message)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("OnCalendar=every tuesday",
         "Failed to parse calendar specification, ignoring: every tuesday"),
        ("OnBootSec=later", "Failed to parse timer value, ignoring: later"),
        ("OnCalendar=*-*-* 03:00 %Z",
         "Failed to resolve unit specifiers in '*-*-* 03:00 %Z', ignoring: Invalid slot"),
        ("AccuracySec=1x", "Failed to parse sec value, ignoring: 1x"),
    ],
)  # fmt: skip
def test_timer_values(line: str, message: str) -> None:
    assert _found(f"[Timer]\n{line}\n", "t.timer") == [(2, "warning", message)]


def test_fatal_error_stops_the_parse() -> None:
    # systemd stops reading the file at a fatal error: the unit fails to load
    text = "[Service]\nUser=%Z\nFoo=1\n[Timer]\n"
    assert _found(text) == [(2, "error", "Failed to resolve unit specifiers in %Z: Invalid slot")]
    text = "[Service\nFoo=1\n"
    assert _found(text) == [(1, "error", "Invalid section header '[Service'")]


def test_sections_per_unit_type() -> None:
    assert _found("[Socket]\nListenStream=1\n", "a.socket") == []
    assert _found("[Target]\nFoo=1\n", "a.target") == [
        (2, "warning", "Unknown key 'Foo' in section [Target], ignoring.")
    ]
    assert _found("[Service]\nExecStart=/bin/true\n", "a.socket")[0][2].startswith(
        "Unknown section 'Service'. Ignoring."
    )
    for unit_type, sections in SECTIONS.items():
        assert sections[0] == "Unit" and sections[-1] == "Install", unit_type


def test_dropins() -> None:
    path = "/etc/systemd/system/foo.timer.d/10-x.conf"
    assert unit_type_of(path) == ("timer", True)
    assert [(f.line, f.section, f.key) for f in lint(path, "[Timer]\nOnBootSec=x\n")] == [
        (2, "Timer", "OnBootSec")
    ]
    assert unit_type_of("foo@.service") == ("service", False)


@pytest.mark.parametrize(
    "path", ["foo", "foo.txt", "foo.conf", "x.d/foo.conf", "foo.bar.d/a.conf", ".service"]
)
def test_bad_names(path: str) -> None:
    with pytest.raises(InvalidUnitFileError) as exc:
        lint(path, SVC)
    assert path in str(exc.value)
    assert "\n" not in str(exc.value)


def test_bad_data() -> None:
    with pytest.raises(InvalidUnitFileError, match=r"^x\.service: not a unit file: binary"):
        lint("x.service", b"\x7fELF\x02\x01\x00\x00")
    with pytest.raises(InvalidUnitFileError, match=r"^x\.service: too large"):
        lint("x.service", b"#" * (MAX_FILE_SIZE + 1))
    with pytest.raises(InvalidUnitFileError, match="unknown unit type"):
        lint("x.service", SVC, unit_type="sevice")
    assert isinstance(InvalidUnitFileError("x"), SysdError)


def test_line_too_long() -> None:
    found = lint("x.service", b"[Unit]\nDescription=" + b"a" * (1024 * 1024) + b"\n")
    assert [(f.line, f.severity, f.message) for f in found] == [(1, "error", "Line too long")]


@pytest.mark.parametrize(
    ("text", "table", "expected"),
    [
        ("plain", NAME_SPECIFIERS, None),
        ("%n %i %%Z %", NAME_SPECIFIERS, None),
        ("%h", NAME_SPECIFIERS, "%h"),
        ("%h", FULL_SPECIFIERS, None),
        ("a%-b %Z", FULL_SPECIFIERS, "%Z"),
        ("%5", FULL_SPECIFIERS, "%5"),
    ],
)
def test_bad_specifier(text: str, table: frozenset[str], expected: str | None) -> None:
    assert bad_specifier(text, table) == expected


def test_tables_agree() -> None:
    parsers = {"config_parse_" + func for func, _ in KEYS.values()}
    assert parsers >= CHECKED_PARSERS
    assert KEYS["Service.Restart"] == ("service_restart", "0")
    assert KEYS["Install.WantedBy"] == ("", "0")
    assert "Service.ExecStart" in KEYS and "Socket.ExecStart" not in KEYS


def test_finding_str_and_record() -> None:
    (f,) = lint("/x/a.service", "[Unit]\nFoo=1\n")
    assert str(f) == "/x/a.service:2: Unknown key 'Foo' in section [Unit], ignoring."
    assert (f.section, f.key, f.severity) == ("Unit", "Foo", "warning")
    with pytest.raises(AttributeError):
        f.line = 3  # type: ignore[misc]
