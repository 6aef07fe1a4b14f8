"""Presentation for the unit verbs: colours, glyphs, tables, the status layout, the spinner.

Everything here is a pure function of values already fetched (the spinner only writes to a
terminal), so it is tested without systemd (tests/cli/test_render.py).  The layouts follow
systemd 252's systemctl: ``print_status_info()`` (systemctl-show.c), ``dump_processes()``
(bus-unit-procs.c), ``format_bytes()`` (format-util.c) and its tables (format-table.c,
simplified).  ``sysd show``'s property printer is :mod:`sysd.cli._show`.

Colour is used when ``SYSTEMD_COLORS`` says so, else when ``NO_COLOR`` is unset, ``TERM`` is
not ``dumb`` and the stream is a terminal (systemd's ``colors_enabled()``).
"""

from __future__ import annotations

import itertools
import os
import signal as _signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Final, NamedTuple

from .. import timespan
from .._core.exitstatus import exit_text, signal_name
from .._core.status import TimerStatus
from .._core.table import column_widths
from ..calendar import format_timestamp, format_timestamp_relative

__all__ = [
    "ASCII",
    "UNICODE",
    "Cell",
    "Glyphs",
    "Spinner",
    "Style",
    "active_color",
    "color_enabled",
    "ellipsize",
    "exit_text",
    "format_bytes",
    "glyphs_for",
    "process_tree",
    "shell_quote",
    "signal_name",
    "status_lines",
    "system_status_lines",
    "table",
    "timestamp_text",
]

# ------------------------------------------------------------------------------- colours

NORMAL: Final = "\x1b[0m"
RED: Final = "\x1b[0;1;31m"
GREEN: Final = "\x1b[0;1;32m"
YELLOW: Final = "\x1b[0;1;38;5;185m"
GREY: Final = "\x1b[0;38;5;245m"
HIGHLIGHT: Final = "\x1b[0;1;39m"
UNDERLINE: Final = "\x1b[0;4m"

_TRUE: Final = frozenset({"1", "yes", "y", "true", "t", "on", "16", "256", "24bit"})
_FALSE: Final = frozenset({"0", "no", "n", "false", "f", "off"})


def color_enabled(stream: IO[str] | Any, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour output written to ``stream`` (systemd's ``colors_enabled()``).

    ``SYSTEMD_COLORS`` (a boolean, or 16/256/24bit) decides when set; otherwise ``NO_COLOR``
    or ``TERM=dumb`` turn colour off, and it is on only when ``stream`` is a terminal.
    """
    env = os.environ if environ is None else environ
    forced = env.get("SYSTEMD_COLORS", "").strip().lower()
    if forced in _TRUE:
        return True
    if forced in _FALSE:
        return False
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


class Style:
    """Wraps text in ANSI colour sequences, or leaves it alone when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        if not (self.enabled and code and text):
            return text
        return f"{code}{text}{NORMAL}"

    def code(self, code: str) -> str:
        """The raw sequence (empty when colour is off), for text spanning several parts."""
        return code if self.enabled else ""


def active_color(active_state: str | None) -> str:
    """The colour systemctl gives an ActiveState (``format_active_state()``)."""
    if active_state == "failed":
        return RED
    if active_state in ("active", "reloading", "refreshing"):
        return GREEN
    return ""


def _enable_color(state: str | None) -> str:
    if state == "disabled":
        return YELLOW
    if state == "enabled":
        return GREEN
    return ""


# -------------------------------------------------------------------------------- glyphs


class Glyphs(NamedTuple):
    """systemd's special glyphs (glyph-util.c), UTF-8 or ASCII."""

    black_circle: str
    white_circle: str
    multiplication_sign: str
    circle_arrow: str
    tree_branch: str
    tree_right: str
    tree_vertical: str
    tree_space: str
    triangular_bullet: str
    arrow_right: str
    ellipsis: str
    spinner: str
    bullet: str

    def for_state(self, active_state: str | None) -> str:
        """``unit_active_state_to_glyph()``."""
        if active_state == "reloading":
            return self.circle_arrow
        if active_state in ("inactive", "maintenance"):
            return self.white_circle
        if active_state == "failed":
            return self.multiplication_sign
        return self.black_circle


UNICODE: Final = Glyphs(
    "\u25cf", "\u25cb", "\u00d7", "\u21bb", "\u251c\u2500", "\u2514\u2500", "\u2502 ", "  ",
    "\u2023", "\u2192", "\u2026", "\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f",
    "\u2022",
)  # fmt: skip
ASCII: Final = Glyphs("*", "*", "x", "*", "|-", "`-", "| ", "  ", ">", "->", "...", "|/-\\", "*")


def glyphs_for(stream: IO[str] | Any) -> Glyphs:
    """UTF-8 glyphs when the stream's encoding is UTF-8, else ASCII (``is_locale_utf8()``)."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return UNICODE if encoding in ("utf8", "utf8mb4") else ASCII


# ------------------------------------------------------------------------ values as text


def format_bytes(n: int | None) -> str | None:
    """systemd's ``FORMAT_BYTES()``: IEC units, one decimal, ``B`` below 1K; None for None."""
    if n is None or n < 0 or n >= 2**64 - 1:
        return None
    factors = [(suffix, 1024 ** (6 - i)) for i, suffix in enumerate("EPTGMK")]
    for i, (suffix, factor) in enumerate(factors):
        if n >= factor:
            if i != len(factors) - 1:
                decimal = (n // factors[i + 1][1] * 10 // 1024) % 10
            else:
                decimal = (n * 10 // factor) % 10
            return f"{n // factor}.{decimal}{suffix}"
    return f"{n}B"


def _usec(dt: datetime) -> int:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def timestamp_text(dt: datetime | None, now_usec: int | None = None) -> str | None:
    """``"Fri 2026-11-27 08:03:10 UTC"``, with ``"; 5min ago"`` when ``now_usec`` is given."""
    if dt is None:
        return None
    usec = _usec(dt)
    text = format_timestamp(usec)
    if now_usec is not None:
        text += "; " + format_timestamp_relative(usec, now_usec)
    return text


def ellipsize(text: str, width: int, glyphs: Glyphs = UNICODE) -> str:
    """Cut ``text`` to ``width`` characters, ending in an ellipsis when cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    mark = glyphs.ellipsis
    if width <= len(mark):
        return text[:width]
    return text[: width - len(mark)].rstrip() + mark


_SHELL_NEED_QUOTES: Final = frozenset(" \t\n\r\"\\`$*?['()<>|&;!")
_SHELL_NEED_ESCAPE: Final = frozenset('"\\`$')


def shell_quote(word: str) -> str:
    """systemd's ``shell_maybe_quote()`` (non-POSIX): ``"..."`` only when needed."""
    if not any(c in _SHELL_NEED_QUOTES or ord(c) < 32 or ord(c) == 127 for c in word):
        return word
    out = ['"']
    for c in word:
        if c in _SHELL_NEED_ESCAPE:
            out.append("\\" + c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append(c.encode("unicode_escape").decode("ascii"))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------------- tables


def underlined(style: Style, color: str = NORMAL) -> str:
    """systemd 252's ``ansi_*_underline()``: the colour followed by ANSI_UNDERLINE (which
    in 252 resets the colour first: ``ANSI_##NAME ANSI_UNDERLINE``), the colour alone where
    underlining is off (the Linux console), nothing without colours."""
    if not style.enabled:
        return ""
    import os

    if os.environ.get("TERM") == "linux":
        return color
    return color + UNDERLINE


class Cell(NamedTuple):
    """A table cell: its text, its colour and the colour of the gap to its right (ANSI
    sequences from this module, or "": systemd's TABLE_SET_COLOR and TABLE_SET_RGAP_COLOR;
    TABLE_SET_BOTH_COLORS sets both)."""

    text: str
    color: str = ""
    rgap: str = ""


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str | Cell]],
    *,
    style: Style,
    width: int | None = None,
    glyphs: Glyphs = UNICODE,
    show_header: bool = True,
) -> list[str]:
    """Rows as systemd 252's ``table_print()`` lays them out (format-table.c).

    Left-aligned columns one space apart, the header upper-cased (and underlined, with
    its gaps, in colour).  ``width`` is the terminal's when systemd would fit the table to
    it (a terminal, no pager, no ``--full``): the columns are then shrunk by their
    weights (all equal here) and cut with an ellipsis; None lays the table out at its
    natural width.  The last column's trailing blanks are dropped unless the cell is
    coloured (or the header, in colour); an empty last cell still leaves its gap.
    """
    cells = [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in rows]
    head = [Cell(h.upper()) for h in header]
    every = [head, *cells] if show_header else cells
    ncol = len(header)
    if not every or not ncol:
        return []
    requested = [max(max((_console_width(r[i].text) for r in every), default=1), 1)
                 for i in range(ncol)]  # fmt: skip
    widths = column_widths(requested, width)
    colors = style.enabled
    header_underline = underlined(style)
    lines = []
    for n, row in enumerate(every):
        is_header = show_header and n == 0
        out: list[str] = []
        gap = ""
        for j, cell in enumerate(row):
            field = cell.text
            length = _console_width(field)
            if length > widths[j]:
                field = _ellipsize(field, widths[j], glyphs)
            elif length < widths[j]:
                field += " " * (widths[j] - length)
                if j == ncol - 1 and (not colors or (not cell.color and not is_header)):
                    field = field.rstrip(" \t\n\r")
            if colors:
                if gap:
                    out.append(gap)
                elif is_header:
                    out.append(header_underline)
            if j > 0:
                out.append(" ")
            if colors:
                if gap or (cell.color and is_header):
                    out.append(NORMAL)
                if cell.color:
                    out.append(cell.color)
                elif gap and is_header:
                    out.append(header_underline)
            out.append(field)
            if colors and (cell.color or is_header):
                out.append(NORMAL)
            gap = cell.rgap
        lines.append("".join(out))
    return lines


def _console_width(text: str) -> int:
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _ellipsize(text: str, width: int, glyphs: Glyphs) -> str:
    """ellipsize(text, width, 100): cut at the end (``…``, or ``...`` without UTF-8)."""
    from ..journal._format import ellipsize_mem

    data = ellipsize_mem(text.encode(), width, 100, utf8=glyphs is UNICODE)
    return data.decode("utf-8", "replace")


# ----------------------------------------------------------------------- the process tree


class _CGroup:
    __slots__ = ("children", "done", "path", "pids")

    def __init__(self, path: str) -> None:
        self.path = path
        self.pids: dict[int, str] = {}
        self.children: list[_CGroup] = []
        self.done = False


def _add_cgroup(groups: dict[str, _CGroup], path: str) -> _CGroup:
    path = path or "/"
    group = groups.get(path)
    if group is not None:
        return group
    group = groups[path] = _CGroup(path)
    if path != "/":
        parent = _add_cgroup(groups, path.rpartition("/")[0] or "/")
        parent.children.append(group)
    return group


def process_tree(
    cgroup: str,
    processes: Iterable[tuple[str, int, str]],
    *,
    prefix: str = "",
    glyphs: Glyphs = UNICODE,
    style: Style | None = None,
    width: int | None = None,
) -> list[str]:
    """The cgroup tree under ``cgroup`` as ``systemctl status`` draws it (``dump_processes``).

    ``processes`` are ``(cgroup, pid, command)`` rows (``Unit.processes()``).  Processes
    directly in a cgroup come first, by PID; sub-cgroups follow by name; processes outside
    the tree are listed last with a bullet.  ``width`` (a terminal's) ellipsizes commands.
    """
    style = style or Style(False)
    groups: dict[str, _CGroup] = {}
    for path, pid, command in processes:
        _add_cgroup(groups, path).pids[pid] = command
    lines: list[str] = []

    def dump(path: str, prefix: str, columns: int | None) -> None:
        group = groups.get(path or "/")
        if group is None:
            return
        if group.pids:
            pids = sorted(group.pids)
            w = len(str(pids[-1]))
            for i, pid in enumerate(pids):
                name = group.pids[pid]
                if columns is not None:
                    name = ellipsize(name, max(columns - (2 + w + 1), 20), glyphs)
                more = i + 1 < len(pids) or bool(group.children)
                branch = glyphs.tree_branch if more else glyphs.tree_right
                lines.append(f"{prefix}{branch}{style(f'{pid:>{w}} {name}', GREY)}")
        children = sorted(group.children, key=lambda g: g.path)
        if columns is not None:
            columns = max(columns - 2, 20)
        for i, child in enumerate(children):
            more = i + 1 < len(children)
            lines.append(
                f"{prefix}{glyphs.tree_branch if more else glyphs.tree_right}"
                f"{child.path.rpartition('/')[2]}"
            )
            dump(
                child.path, prefix + (glyphs.tree_vertical if more else glyphs.tree_space), columns
            )
        group.done = True

    dump(cgroup, prefix, width)
    extra = {pid: cmd for g in groups.values() if not g.done for pid, cmd in g.pids.items()}
    if extra:
        w = len(str(max(extra)))
        for pid in sorted(extra):
            name = extra[pid]
            if width is not None:
                name = ellipsize(name, max(width - (2 + w + 1), 20), glyphs)
            lines.append(f"{prefix}{glyphs.triangular_bullet} {pid:>{w}} {name}")
    return lines


# ------------------------------------------------------------------------ unit status

_EXEC_FIELDS: Final = (
    ("exec_condition", "ExecCondition"),
    ("exec_start_pre", "ExecStartPre"),
    ("exec_start", "ExecStart"),
    ("exec_start_post", "ExecStartPost"),
    ("exec_reload", "ExecReload"),
    ("exec_stop", "ExecStop"),
    ("exec_stop_post", "ExecStopPost"),
    ("exec_mount", "ExecMount"),
    ("exec_unmount", "ExecUnmount"),
    ("exec_remount", "ExecRemount"),
    ("exec_activate", "ExecActivate"),
    ("exec_deactivate", "ExecDeactivate"),
)
_LABEL: Final = 11  # "     Loaded:" is 12 columns: labels are right-aligned to 11 then ":"


def _label(name: str) -> str:
    return f"{name:>{_LABEL}}: " if name else " " * (_LABEL + 2)


def _clean_exit(code: int, status: int) -> bool:
    """``is_clean_exit(..., EXIT_CLEAN_DAEMON)``: exit 0, or death by HUP/INT/TERM/PIPE."""
    if code == 1:
        return status == 0
    return code == 2 and status in (
        _signal.SIGHUP,
        _signal.SIGINT,
        _signal.SIGTERM,
        _signal.SIGPIPE,
    )


def next_elapse(
    realtime: datetime | None,
    monotonic: timedelta | None,
    now_usec: int,
    now_mono: int | None = None,
) -> datetime | None:
    """systemctl's ``calc_next_elapse()``: a timer's next elapse on the wall clock, the
    monotonic one converted with this machine's clocks (as systemctl does), the earlier of
    the two when both are set."""
    if not monotonic:
        return realtime
    mono = time.monotonic_ns() // 1000 if now_mono is None else now_mono
    converted = datetime.fromtimestamp(0, UTC) + timedelta(
        microseconds=now_usec + monotonic // timedelta(microseconds=1) - mono
    )
    return converted if realtime is None else min(converted, realtime)


def _get(st: Any, name: str) -> Any:
    return getattr(st, name, None)


def status_lines(
    st: Any,
    *,
    style: Style,
    glyphs: Glyphs = UNICODE,
    now_usec: int | None = None,
    processes: Sequence[tuple[str, int, str]] | None = None,
    states: Mapping[str, str] | None = None,
    comm: Mapping[int, str] | None = None,
    width: int | None = None,
) -> list[str]:
    """``systemctl status UNIT`` for one unit snapshot (``unit.status()``), without the journal.

    ``processes``: the unit's processes for the cgroup tree (None: not shown).  ``states``:
    ActiveState of the units in TriggeredBy/Triggers.  ``comm``: process names of the main
    and control PID (local connections only, as systemctl).  ``width``: a terminal's
    columns, to ellipsize the tree; None when writing to a pipe.
    """
    now = time.time_ns() // 1000 if now_usec is None else now_usec
    states = states or {}
    comm = comm or {}
    out: list[str] = []
    active = st.active_state or None
    on = active_color(active)
    unit_id = st.id or "n/a"

    head = f"{style(glyphs.for_state(active), on)} {unit_id}"
    if st.description and st.description != st.id:
        head += f" - {st.description}"
    out.append(head)

    if _get(st, "following"):
        out.append(_label("Follows") + f"unit currently follows state of {st.following}")

    load = st.load_state or "n/a"
    load_text = style(load, RED if load in ("error", "not-found", "bad-setting") else "")
    path = _get(st, "source_path") or _get(st, "fragment_path")
    load_error = _get(st, "load_error")
    file_state = _get(st, "unit_file_state")
    preset = _get(st, "unit_file_preset")
    if load_error and load_error[1]:
        out.append(_label("Loaded") + f"{load_text} (Reason: {load_error[1]})")
    elif path and file_state:
        text = f"{path}; {style(file_state, _enable_color(file_state))}"
        if preset and file_state not in ("alias", "static", "generated", "transient"):
            text += f"; preset: {style(preset, _enable_color(preset))}"
        out.append(_label("Loaded") + f"{load_text} ({text})")
    elif path:
        out.append(_label("Loaded") + f"{load_text} ({path})")
    else:
        out.append(_label("Loaded") + load_text)

    if _get(st, "transient"):
        out.append(_label("Transient") + "yes")

    dropins = _get(st, "drop_in_paths") or ()
    directory: str | None = None
    line = ""
    for i, dropin in enumerate(dropins):
        folder, _, base = dropin.rpartition("/")
        if directory != folder:
            if line:
                out.append(line)
            out.append(_label("Drop-In" if directory is None else "") + folder)
            directory = folder
            line = " " * (_LABEL + 2) + glyphs.tree_right + base
        else:
            line += ", " + base
        if i == len(dropins) - 1:
            out.append(line)

    sub = st.sub_state if st.sub_state and st.sub_state != active else None
    text = f"{active or 'n/a'} ({sub})" if sub else (active or "n/a")
    line = _label("Active") + style(text, on)
    freezer = _get(st, "freezer_state")
    if freezer and freezer != "running":
        line += " " + style(f"({freezer})", YELLOW)
    result = _get(st, "result")
    if result and result != "success":
        line += f" (Result: {result})"
    since = st.since
    if since is not None:
        line += f" since {timestamp_text(since, now)}"
    out.append(line)
    if since is not None:
        runtime_max = _get(st, "runtime_max")
        if active == "active" and runtime_max is not None:
            until = since + runtime_max
            out.append(_label("Until") + str(timestamp_text(until, now)))
        enter, leave = st.active_enter_timestamp, st.active_exit_timestamp
        if (
            not unit_id.endswith(".target")
            and active in ("inactive", "failed")
            and enter is not None
            and leave is not None
            and leave >= enter
        ):
            duration = timespan.format(leave - enter, accuracy=timedelta(milliseconds=1))
            out.append(_label("Duration") + duration)

    for i, name in enumerate(_get(st, "triggered_by") or ()):
        state = states.get(name)
        mark = style(glyphs.for_state(state), active_color(state))
        out.append(f"{'TriggeredBy:' if i == 0 else ' ' * 12} {mark} {name}")

    if unit_id.endswith(".timer"):
        nxt = None
        if isinstance(st, TimerStatus):  # typed: a wrong field name fails mypy, not silently
            nxt = next_elapse(st.next_elapse_realtime, st.next_elapse_monotonic, now)
        out.append(_label("Trigger") + (str(timestamp_text(nxt, now)) if nxt else "n/a"))

    for i, name in enumerate(_get(st, "triggers") or ()):
        state = states.get(name)
        mark = style(glyphs.black_circle, active_color(state))
        out.append(f"{'   Triggers:' if i == 0 else ' ' * 12} {mark} {name}")

    condition_at = _get(st, "condition_timestamp")
    if _get(st, "condition_result") is False and condition_at is not None:
        out.append(
            _label("Condition")
            + f"start {style('condition failed', YELLOW)} at {timestamp_text(condition_at, now)}"
        )
        failed = [c for c in (_get(st, "conditions") or ()) if len(c) >= 5 and c[4] < 0]
        for i, (cname, trigger, negate, param, _state) in enumerate(failed):
            branch = glyphs.tree_branch if i + 1 < len(failed) else glyphs.tree_right
            out.append(
                " "
                * (_LABEL + 2)
                + f"{branch} {cname}={'|' if trigger else ''}{'!' if negate else ''}{param}"
                " was not met"
            )
    assert_at = _get(st, "assert_timestamp")
    if _get(st, "assert_result") is False and assert_at is not None:
        out.append(
            _label("Assert")
            + f"start {style('assertion failed', RED)} at {timestamp_text(assert_at, now)}"
        )

    for label, field in (("Device", "sys_fs_path"), ("Where", "where"), ("What", "what")):
        value = _get(st, field)
        if value:
            out.append(_label(label) + value)

    for i, doc in enumerate(_get(st, "documentation") or ()):
        out.append(_label("Docs" if i == 0 else "") + doc)

    for i, entry in enumerate(_get(st, "listen") or ()):
        kind, address = entry[0], entry[1]
        out.append(_label("Listen" if i == 0 else "") + f"{address} ({kind})")
    if _get(st, "accept"):
        line = (
            f"   Accepted: {_get(st, 'n_accepted') or 0}; "
            f"Connected: {_get(st, 'n_connections') or 0};"
        )
        if _get(st, "n_refused"):
            line += f"   Refused: {st.n_refused}"
        out.append(line)

    main_pid = _get(st, "exec_main_pid") or _get(st, "main_pid") or 0
    running = bool(_get(st, "main_pid"))
    control_pid = _get(st, "control_pid") or 0
    for field, label in _EXEC_FIELDS:
        for cmd in _get(st, field) or ():
            if not cmd.code:
                continue
            argv = " ".join(cmd.argv) or "n/a"
            good = _clean_exit(cmd.code, cmd.status)
            color = "" if good else (YELLOW if cmd.ignore_failure else RED)
            pid = cmd.pid or 0
            out.append(
                _label("Process")
                + f"{pid} {label}={argv} "
                + style(f"({exit_text(cmd.code, cmd.status)})", color)
            )
            if (
                pid == main_pid
                and cmd.start == _get(st, "exec_main_start_timestamp")
                and cmd.start == _get(st, "exec_main_exit_timestamp")
            ):
                main_pid = 0
            if pid == control_pid:
                control_pid = 0

    if main_pid or control_pid:
        line = ""
        if main_pid:
            line = _label("Main PID") + str(main_pid)
            code = _get(st, "exec_main_code") or 0
            if running:
                if main_pid in comm:
                    line += f" ({comm[main_pid]})"
            elif code > 0:
                line += f" ({exit_text(code, _get(st, 'exec_main_status') or 0)})"
        if control_pid:
            line += "; Control PID: " if main_pid else "  Cntrl PID: "
            line += str(control_pid)
            if control_pid in comm:
                line += f" ({comm[control_pid]})"
        out.append(line)

    status_text = _get(st, "status_text")
    if status_text:
        out.append(_label("Status") + f'"{status_text}"')
    status_errno = _get(st, "status_errno")
    if status_errno and status_errno > 0:
        out.append(_label("Error") + f"{status_errno} ({os.strerror(status_errno)})")

    ip_in, ip_out = _get(st, "ip_ingress_bytes"), _get(st, "ip_egress_bytes")
    if ip_in is not None and ip_out is not None:
        out.append(_label("IP") + f"{format_bytes(ip_in)} in, {format_bytes(ip_out)} out")
    io_read, io_write = _get(st, "io_read_bytes"), _get(st, "io_write_bytes")
    if io_read is not None and io_write is not None:
        out.append(_label("IO") + f"{format_bytes(io_read)} read, {format_bytes(io_write)} written")

    tasks = _get(st, "tasks_current")
    if tasks is not None:
        line = _label("Tasks") + str(tasks)
        tasks_max = _get(st, "tasks_max")
        if tasks_max is not None:
            line += style(f" (limit: {tasks_max})", GREY)
        out.append(line)

    memory = _get(st, "memory_current")
    if memory is not None:
        line = _label("Memory") + str(format_bytes(memory))
        limits = []
        for key, field in (("min", "memory_min"), ("low", "memory_low")):
            value = _get(st, field)
            if value:
                limits.append(f"{key}: {format_bytes(value) or 'infinity'}")
        for key, field in (
            ("high", "memory_high"),
            ("max", "memory_max"),
            ("swap max", "memory_swap_max"),
            ("limit", "memory_limit"),
            ("available", "memory_available"),
        ):
            value = _get(st, field)
            if value is not None:
                limits.append(f"{key}: {format_bytes(value)}")
        if limits:
            line += f" ({' '.join(limits)})"
        out.append(line)

    cpu = _get(st, "cpu_usage")
    if cpu is not None:
        out.append(_label("CPU") + timespan.format(cpu, accuracy=timedelta(milliseconds=1)))

    cgroup = _get(st, "control_group")
    if cgroup:
        out.append(_label("CGroup") + cgroup)
        if processes:
            columns = None if width is None else max(width - (_LABEL + 2), 0)
            out.extend(
                process_tree(
                    cgroup,
                    processes,
                    prefix=" " * (_LABEL + 2),
                    glyphs=glyphs,
                    style=style,
                    width=columns,
                )
            )

    if _get(st, "need_daemon_reload"):
        out.append(
            style(
                f"Warning: The unit file, source configuration file or drop-ins of {unit_id} "
                "changed on disk. Run 'sysd daemon-reload' to reload units.",
                RED,
            )
        )
    return out


def system_status_lines(
    manager: Any,
    *,
    host: str,
    style: Style,
    glyphs: Glyphs = UNICODE,
    now_usec: int | None = None,
    processes: Sequence[tuple[str, int, str]] | None = None,
    width: int | None = None,
) -> list[str]:
    """``systemctl status`` without units: the manager (a ``ManagerStatus`` snapshot)."""
    now = time.time_ns() // 1000 if now_usec is None else now_usec
    state = manager.system_state or None
    color = RED if state == "degraded" else GREEN if state == "running" else YELLOW
    prefix = " " * 11
    out = [
        f"{style(glyphs.black_circle, color)} {host}",
        f"    State: {style(state or 'n/a', color)}",
        f"    Units: {manager.n_names or 0} loaded (incl. loaded aliases)",
        f"     Jobs: {manager.n_jobs or 0} queued",
        f"   Failed: {manager.n_failed_units or 0} units",
        f"    Since: {timestamp_text(manager.userspace_timestamp, now) or 'n/a'}",
        f"  systemd: {manager.version}",
    ]
    if manager.tainted:
        out.append(f"  Tainted: {style(manager.tainted, YELLOW)}")
    cgroup = manager.control_group or "/"
    out.append(f"   CGroup: {cgroup}")
    if processes:
        columns = None if width is None else max(width - len(prefix), 0)
        out.extend(
            process_tree(
                cgroup, processes, prefix=prefix, glyphs=glyphs, style=style, width=columns
            )
        )
    return out


# --------------------------------------------------------------------------------- spinner


class Spinner:
    """Shows that something is waiting: ``⠋ start foo.service (2.3s)`` on a terminal.

    A daemon thread redraws one line of ``stream`` every ``interval`` seconds, starting
    after ``delay`` (quick jobs show nothing), and erases it on exit.  It never writes when
    ``stream`` is not a terminal, and it only writes: the work stays in the calling thread.
    """

    def __init__(
        self,
        text: str,
        *,
        stream: IO[str] | None = None,
        interval: float = 0.1,
        delay: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.text = text
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.delay = delay
        self.clock = clock
        self.glyphs = glyphs_for(self.stream)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False
        self._started = 0.0

    @property
    def active(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:
            return False

    def frame(self, n: int, elapsed: float) -> str:
        """The line drawn at tick ``n`` after ``elapsed`` seconds."""
        frames = self.glyphs.spinner
        if elapsed < 60:
            shown = f"{elapsed:.1f}s"
        else:
            shown = timespan.format(timedelta(seconds=int(elapsed)))
        return f"{frames[n % len(frames)]} {self.text} ({shown})"

    def __enter__(self) -> Spinner:
        if self.active:
            self._started = self.clock()
            self._thread = threading.Thread(target=self._run, name="sysd-spinner", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=1.0)
        self._thread = None

    def _run(self) -> None:
        try:
            if self._stop.wait(self.delay):
                return
            for n in itertools.count():
                self._write("\r\x1b[K" + self.frame(n, self.clock() - self._started))
                self._drawn = True
                if self._stop.wait(self.interval):
                    break
            self._write("\r\x1b[K")
        except (OSError, ValueError):  # the terminal went away: stop drawing
            return

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
