"""An offline unit-file linter: systemd 252's unit-file parser, reporting what it would log.

A port of ``config_parse()`` (``src/shared/conf-parser.c``) as ``unit_load_fragment()`` and
``unit_load_dropin()`` run it, with the key table systemd compiles in
(:mod:`sysd._core.lint_keys`, generated from ``load-fragment-gperf.gperf.in``) and the value
checks of the ``config_parse_*`` functions in ``src/core/load-fragment.c`` listed in
:data:`CHECKED_PARSERS`.  Each problem becomes a :class:`LintFinding` with the file, the line
systemd names (the *last* physical line of a continued line), ``"warning"`` or ``"error"``
(systemd's ``LOG_WARNING`` / ``LOG_ERR``) and systemd's own message.

What systemd does, sysd does: comment lines (``#``, ``;``) are skipped even inside a continued
line; a byte-order mark is dropped; a line ending in an odd backslash continues on the next one;
an unknown section is warned about once and its assignments ignored silently; an ``X-`` section or
key is never warned about; a fatal error (``LOG_ERR`` from a parser that returns ``-ENOEXEC``, or
a broken section header) stops the parse of that file, as the unit then fails to load -- later
lines are not looked at.  :func:`lint` is a function of the path and the bytes (no I/O);
:mod:`sysd._async.lint` reads the files.
"""

from __future__ import annotations

import posixpath
from typing import Final, Literal, NamedTuple

from ..errors import InvalidUnitFileError
from . import (
    lint_cgroup,
    lint_exec,
    lint_resources,
    lint_sandbox,
    lint_units,
    lint_values,
    unitname,
)
from .lint_keys import KEYS, SECTIONS

#: Every ``config_parse_*`` whose values sysd checks; the others are accepted as written.
CHECKS: Final = {
    **lint_values.CHECKS,
    **lint_sandbox.CHECKS,
    **lint_resources.CHECKS,
    **lint_cgroup.CHECKS,
    **lint_exec.CHECKS,
    **lint_units.CHECKS,
}
#: The ``config_parse_*`` functions whose values sysd checks (see docs/analyze.md).
CHECKED_PARSERS: Final = frozenset(CHECKS) | frozenset(lint_units.NAMED_CHECKS)

__all__ = [
    "CHECKED_PARSERS",
    "MAX_FILE_SIZE",
    "LintFinding",
    "LintReport",
    "Severity",
    "lint",
    "unit_type_of",
]

Severity = Literal["warning", "error"]

#: Larger files are refused (no unit file comes near; systemd reads lines up to 1 MiB each).
MAX_FILE_SIZE: Final = 4 * 1024 * 1024
_LONG_LINE_MAX: Final = 1024 * 1024
_WHITESPACE: Final = " \t\n\r"
_COMMENTS: Final = "#;"
_BOM: Final = "\ufeff"


class LintFinding(NamedTuple):
    """One problem systemd 252 logs (or sysd adds) for a unit file, at ``path:line``.

    ``line`` is 1-based (0: the file as a whole); ``section`` and ``key`` are None where the
    problem is not in an assignment.  ``str()`` gives ``path:line: message``, as systemd prints.
    """

    path: str
    line: int
    severity: Severity
    section: str | None
    key: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class LintReport(NamedTuple):
    """What :func:`sysd.analyze.verify` found in the files it was given, in file and line order.

    ``ok``: no error -- and with ``strict``, no warning either (the exit status of ``sysd
    lint``: 0 when ok, else 1).
    """

    findings: tuple[LintFinding, ...]
    paths: tuple[str, ...]
    strict: bool = False

    @property
    def errors(self) -> tuple[LintFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[LintFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not (self.findings if self.strict else self.errors)


# ----------------------------------------------------------------------------- the parser


def unit_type_of(path: str) -> tuple[str, bool]:
    """``(unit type, is a drop-in)`` for a unit file or a ``NAME.TYPE.d/*.conf`` drop-in.

    >>> unit_type_of("/etc/systemd/system/foo.service.d/override.conf")
    ('service', True)

    Raises :class:`~sysd.errors.InvalidUnitFileError` naming the file for any other name.
    """
    base = posixpath.basename(path)
    if base.endswith(".conf"):
        parent = posixpath.basename(posixpath.dirname(path))
        if parent.endswith(".d"):
            kind = parent[:-2].rpartition(".")[2]
            if kind in SECTIONS:
                return kind, True
        raise InvalidUnitFileError(
            f"{path}: not a unit file: a drop-in must be in a NAME.TYPE.d/ directory",
            hint="e.g. foo.service.d/override.conf",
        )
    kind = base.rpartition(".")[2]
    if kind not in SECTIONS or not unitname.is_valid(base):
        raise InvalidUnitFileError(
            f"{path}: not a unit file name: expected a suffix such as .service or .timer",
            hint="unit types: " + ", ".join(SECTIONS),
        )
    return kind, False


def _decode(path: str, data: bytes) -> str:
    if len(data) > MAX_FILE_SIZE:
        raise InvalidUnitFileError(
            f"{path}: too large for a unit file ({len(data)} bytes, at most {MAX_FILE_SIZE})"
        )
    if b"\0" in data:
        raise InvalidUnitFileError(
            f"{path}: not a unit file: binary data (a NUL byte at offset {data.index(0)})"
        )
    return data.decode("utf-8", "surrogateescape")


def _lines(text: str) -> list[str]:
    """read_line(): lines end at LF, CR or CRLF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[: None if text else 0]


def _string_is_safe(s: str) -> bool:
    return all(c >= " " and c not in "\x7f\\\"'" for c in s)


class _Parser:
    def __init__(self, path: str, unit_type: str, is_dropin: bool) -> None:
        self.path = path
        self.unit_type = unit_type
        self.sections = SECTIONS[unit_type]
        self.section: str | None = None
        self.section_ignored = False
        self.out: list[LintFinding] = []
        self.triggers = 0  # UNIT_TRIGGER(u): a second Unit= in a .timer or .path is ignored
        base = posixpath.basename(path)
        self.unit_name = posixpath.basename(posixpath.dirname(path))[:-2] if is_dropin else base

    def add(self, line: int, severity: Severity, message: str, key: str | None = None) -> None:
        self.out.append(LintFinding(self.path, line, severity, self.section, key, message))

    def parse(self, text: str) -> list[LintFinding]:
        continuation: str | None = None
        bom_seen = False
        line = 0
        for physical in _lines(text):
            buf = physical
            line += 1
            if len(buf) > _LONG_LINE_MAX:
                self.add(line - 1, "error", "Line too long")
                return self.out
            stripped = buf.lstrip(_WHITESPACE)
            if stripped and stripped[0] in _COMMENTS:
                continue
            if not bom_seen and buf.startswith(_BOM):
                buf = buf[1:]
                bom_seen = True
            p = buf if continuation is None else continuation + buf
            if continuation is not None and len(p) > _LONG_LINE_MAX:
                self.add(line, "error", "Continuation line too long")
                return self.out
            trailing = len(p) - len(p.rstrip("\\"))
            if trailing % 2:
                continuation = p[:-1] + " "
                continue
            if not self.parse_line(line, p):
                return self.out
            continuation = None
        if continuation is not None:
            self.parse_line(line + 1, continuation)
        return self.out

    def parse_line(self, line: int, text: str) -> bool:
        """One logical line; False when the parse of the file stops here."""
        lt = text.strip(_WHITESPACE)
        if not lt:
            return True
        try:
            lt.encode("utf-8")
        except UnicodeEncodeError:
            shown = lt.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            self.add(line, "warning", f"String is not UTF-8 clean, ignoring assignment: {shown}")
            return True
        if lt[0] == "[":
            if lt[-1] != "]":
                self.add(line, "error", f"Invalid section header '{lt}'")
                return False
            name = lt[1:-1]
            if not _string_is_safe(name):
                self.add(line, "error", f"Bad characters in section header '{lt}'")
                return False
            if name not in self.sections:
                self.section = None
                if not name.startswith("X-"):
                    self.add(line, "warning", f"Unknown section '{name}'. Ignoring.")
                    self.add_misplaced(line, name)
                self.section_ignored = True
            else:
                self.section = name
                self.section_ignored = False
            return True
        if self.section is None:
            if not self.section_ignored:
                self.add(line, "warning", "Assignment outside of section. Ignoring.")
            return True
        key, sep, value = lt.partition("=")
        if not sep:
            self.add(line, "warning", "Missing '=', ignoring line.")
            return True
        if not key:
            self.add(line, "warning", "Missing key name before '=', ignoring line.")
            return True
        key = key.strip(_WHITESPACE)
        value = value.strip(_WHITESPACE)
        entry = KEYS.get(f"{self.section}.{key}")
        if entry is None:
            if not key.startswith("X-"):
                self.add(
                    line,
                    "warning",
                    f"Unknown key '{key}' in section [{self.section}], ignoring.",
                    key,
                )
            return True
        func, ltype = entry
        name = "config_parse_" + func
        check = CHECKS.get(name)
        if name in lint_units.NAMED_CHECKS:
            if func == "trigger_unit" and self.triggers:
                message = f"Multiple units to trigger specified, ignoring: {value}"
                self.add(line, "warning", message, key)
                return True
            problems = lint_units.NAMED_CHECKS[name](
                key, value, ltype, self.unit_type, self.unit_name
            )
            self.triggers += func == "trigger_unit" and not problems
        elif check is None:
            return True
        else:
            problems = check(key, value, ltype, self.unit_type)
        for problem in problems:
            self.add(line, problem.severity, problem.message, key)
            if problem.fatal:
                return False
        if not problems and self.path.startswith("/etc/"):  # LOG_NOTICE for /etc only
            notice = lint_resources.var_run_notice(func, key, value, ltype)
            if notice:
                self.add(line, "warning", notice, key)
        return True

    def add_misplaced(self, line: int, name: str) -> None:
        """Say where a section belongs, when it is another unit type's (same line, a hint)."""
        owners = [t for t, s in SECTIONS.items() if name in s and name not in ("Unit", "Install")]
        if owners:
            last = self.out[-1]
            self.out[-1] = last._replace(
                message=f"{last.message} ([{name}] belongs in .{owners[0]} units)"
            )


def lint(path: str, data: bytes | str, unit_type: str | None = None) -> list[LintFinding]:
    """The problems systemd 252 logs when it loads the unit file ``path`` with contents ``data``.

    An empty unit file (not a drop-in) masks its unit: one error at line 0, as
    ``systemd-analyze verify`` refuses a masked unit.

    ``unit_type`` defaults to the type the name says (``foo.service``, or ``NAME.TYPE.d/*.conf``
    for a drop-in).  Raises :class:`~sysd.errors.InvalidUnitFileError` naming the file for a
    name that is no unit file's, binary data (a NUL byte) or more than :data:`MAX_FILE_SIZE`
    bytes.

    >>> [str(f) for f in lint("a.service", "[Service]\\nExecStart=/bin/true\\nFoo=1\\n")]
    ["a.service:3: Unknown key 'Foo' in section [Service], ignoring."]
    """
    if unit_type is None:
        unit_type, is_dropin = unit_type_of(path)
    elif unit_type not in SECTIONS:
        raise InvalidUnitFileError(
            f"{path}: unknown unit type {unit_type!r}", hint="unit types: " + ", ".join(SECTIONS)
        )
    else:
        is_dropin = False
    if isinstance(data, str):
        if len(data) > MAX_FILE_SIZE:
            raise InvalidUnitFileError(f"{path}: too large for a unit file ({len(data)} chars)")
        if "\0" in data:
            raise InvalidUnitFileError(f"{path}: not a unit file: binary data (a NUL character)")
        text = data
    else:
        text = _decode(path, data)
    if not text and not is_dropin:  # null_or_empty(): an empty unit file masks the unit
        return [LintFinding(path, 0, "error", None, None, masked_message(path))]
    return _Parser(path, unit_type, is_dropin).parse(text)


def masked_message(path: str) -> str:
    """What systemd-analyze verify says of a unit whose file is empty or /dev/null."""
    return f"Unit {posixpath.basename(path)} is masked."
