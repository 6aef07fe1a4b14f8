"""What the unit verbs share: argument types, unit resolution and output helpers.

The verbs are in :mod:`sysd.cli.units` (the queries), :mod:`sysd.cli.lists` (the unit,
unit-file and job lists) and :mod:`sysd.cli.control` (jobs, unit actions, unit files, the
manager).  Argument types check unit names while parsing, as the library will check
them, so a bad name exits before anything connects; :func:`resolve` expands names, PIDs
and glob patterns as systemctl's ``expand_unit_names()`` does.
"""

from __future__ import annotations

import argparse
import signal as _signal
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._core.unitname import is_template, normalize
from .._sync.install import unit_file_names
from .._sync.systemd import Systemd, UnitInfo
from .._sync.unit import Unit
from ..errors import InvalidUnitNameError, SysdError
from . import lazy_module
from .basic import add_connection_options

if TYPE_CHECKING:
    from . import _render as R
else:  # a one-shot `sysd is-active` needs no renderer
    R = lazy_module("sysd.cli._render")

__all__ = [
    "Out",
    "cat_arg",
    "display_options",
    "emit_json",
    "is_glob",
    "lines_arg",
    "pattern_options",
    "resolve",
    "signal_arg",
    "split_values",
    "types_and_states",
    "unit_arg",
    "unit_file_arg",
    "unit_name_arg",
    "unit_or_job_arg",
    "unit_or_pid_arg",
    "verb_parser",
    "visible",
]

# --------------------------------------------------------------------------- arguments

_GLOB_CHARS = frozenset("*?[")


def is_glob(name: str) -> bool:
    return any(c in _GLOB_CHARS for c in name)


def unit_arg(text: str) -> str:
    """A unit name or a glob pattern, checked as the library will check it."""
    if is_glob(text):
        return text
    try:
        normalize(text)
    except InvalidUnitNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def cat_arg(text: str) -> str:
    """A unit name, a template (``getty@.service``: its file, as systemctl cat) or a glob."""
    return text if is_glob(text) else unit_name_arg(text)


def unit_or_job_arg(text: str) -> str:
    """``show``: a number is a job id, as for systemctl show."""
    return text if text.isdigit() else unit_arg(text)


def unit_or_pid_arg(text: str) -> str:
    if text.isdigit():
        return text
    return unit_arg(text)


def unit_file_arg(text: str) -> str:
    """A unit file name (templates too) or an absolute path, as enable/disable take them."""
    try:
        unit_file_names([text])
    except (InvalidUnitNameError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def unit_name_arg(text: str) -> str:
    """A unit name or template (no patterns), as is-enabled takes it."""
    try:
        normalize(text, template=True)
    except InvalidUnitNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def signal_arg(text: str) -> int:
    """``TERM``, ``SIGTERM``, ``15`` or ``RTMIN+3``."""
    value = text.strip()
    if value.isdigit():
        number = int(value)
        if 0 < number < _signal.NSIG:
            return number
    else:
        name = value.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        if name.startswith("SIGRTMIN+") and name[9:].isdigit():
            number = int(_signal.SIGRTMIN) + int(name[9:])
            if number <= int(_signal.SIGRTMAX):
                return number
        elif name in _signal.Signals.__members__:
            return int(_signal.Signals[name])
    raise argparse.ArgumentTypeError(f"unknown signal {text!r}")


def lines_arg(text: str) -> int:
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"lines must be a number >= 0, not {text!r}")


def split_values(values: Iterable[str] | None) -> list[str]:
    """``--state=a,b --state=c`` -> ``[a, b, c]``."""
    out: list[str] = []
    for value in values or ():
        out.extend(v for v in value.split(",") if v)
    return out


# ----------------------------------------------------------------------------- helpers


class Out:
    """Where text goes and how it looks: colours and glyphs for stdout, width on a TTY."""

    def __init__(self, full: bool = False) -> None:
        self.style = R.Style(R.color_enabled(sys.stdout))
        self.glyphs = R.glyphs_for(sys.stdout)
        tty = _isatty(sys.stdout)
        self.width = None if full or not tty else _terminal_columns()

    def table(self, header: list[str], rows: list[list[Any]], *, legend: bool) -> None:
        """Print ``rows`` as systemctl's tables (the header only with ``legend``); fitted to
        the terminal only when no pager shows them (systemd: ``pager_have()``)."""
        from ._pager import active

        lines = R.table(
            header, rows, style=self.style, width=None if active() else self.width,
            glyphs=self.glyphs, show_header=legend,
        )  # fmt: skip
        if lines:
            print("\n".join(lines))


def _terminal_columns() -> int:
    import shutil

    return shutil.get_terminal_size().columns


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def emit_json(data: dict[str, Any]) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def visible(info: UnitInfo, show_all: bool, states: Sequence[str]) -> bool:
    """systemctl's ``output_show_unit()`` without the pattern and type checks."""
    if show_all:
        return True
    if info.following:
        return False
    if states:
        return True
    return info.job_id > 0 or info.active_state != "inactive"


def resolve(
    sd: Systemd,
    names: Sequence[str],
    args: argparse.Namespace,
    *,
    pids: bool = False,
    templates: bool = False,
) -> list[Any]:
    """Units as systemctl's ``expand_unit_names()`` gives them.

    With ``pids`` (``status``) numbers are processes, and come first; then the names as
    given, duplicates included; then the units the glob patterns match, all patterns in
    one ``ListUnitsByPatterns`` call, in the manager's order, filtered as ``list`` filters
    (inactive units only with ``--all``; ``--state``, ``--type`` when the verb has them).
    With ``templates`` (``cat``) a template name stays a name (no unit is loaded for it),
    and patterns match inactive units too, as systemctl cat's do.
    """
    by_pid: list[Unit] = []
    named: list[Unit | str] = []
    globs: list[str] = []
    for name in names:
        if is_glob(name):
            globs.append(name)
        elif pids and name.isdigit():
            by_pid.append(sd.unit_by_pid(int(name)))
        elif templates and is_template(name):
            named.append(name)
        else:
            named.append(sd.unit(name))
    units: list[Any] = [*by_pid, *named]
    if globs:
        types, states = types_and_states(args)
        rows = sd.list_units(globs, states=states, types=types)
        # systemctl cat lists every loaded unit a pattern matches, --all or not
        show_all = bool(getattr(args, "all", False)) or templates
        units += [sd.unit(r.name) for r in rows if visible(r, show_all, states)]
    return units


_UNIT_TYPES = (
    "service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path",
    "slice", "scope",
)  # fmt: skip
_LOAD_STATES = ("stub", "loaded", "not-found", "bad-setting", "error", "merged", "masked")


def types_and_states(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """``-t``/``--type`` takes unit types and load states, as systemctl's; ``--state``."""
    types, states = [], split_values(getattr(args, "state", None))
    for given in split_values(getattr(args, "type", None)):
        word = given.lstrip(".")
        if word in _UNIT_TYPES:
            types.append(word)
        elif word in _LOAD_STATES:
            states.append(word)
        else:
            raise SysdError(
                f"Unknown unit type or load state '{word}'.",
                hint="-t takes " + ", ".join(_UNIT_TYPES + _LOAD_STATES),
            )
    return types, states


# ------------------------------------------------------------------------------ parsers


def verb_parser(
    sub: Any, name: str, help_text: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    add_connection_options(p)
    p.set_defaults(func=func)
    return p


def display_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-l", "--full", action="store_true", help="do not ellipsize")


def pattern_options(p: argparse.ArgumentParser, *, all_help: str | None = None) -> None:
    """What selects the units a glob pattern matches, as for ``list``."""
    if all_help:
        p.add_argument("-a", "--all", action="store_true", help=all_help)
    p.add_argument(
        "--state", action="append", metavar="STATE", help="patterns match units in these states"
    )
    p.add_argument("-t", "--type", action="append", metavar="TYPE", help="and of these types")
