"""Unit files and drop-ins on the local disk, as systemd 252 finds and shows them (no I/O).

Which directory a manager reads a written unit from (``lookup_paths_init()`` in
``src/basic/path-lookup.c``), which names a unit file and a drop-in may have
(``unit_name_is_valid()``, ``conf_files_list()``), and the text ``systemctl cat``
prints for a unit (``cat_files()`` in ``src/shared/pretty-print.c`` with
``read_line()`` from ``src/basic/fileio.c``).  Everything here is a function of
strings, bytes and mappings; ``sysd._async.unitfiles`` does the I/O.

The error classes at the end belong in :mod:`sysd.errors` (they live here until
they move there)::

    SysdError
    ├── UnitFileError                (OSError)           reading or writing a file failed
    │   ├── UnitFilePermissionError  (PermissionError)   EACCES/EPERM
    │   └── UnitFileNotFoundError    (FileNotFoundError) no such file / no files for a unit
    └── InvalidUnitFileError         (ValueError)        bad drop-in name or text, no local dir
"""

from __future__ import annotations

import errno as _errno
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

from ..errors import (
    InvalidUnitFileError,
    InvalidUnitNameError,
    UnitFileError,
    UnitFileNotFoundError,
    UnitFilePermissionError,
)
from . import unitname

__all__ = [
    "DROPIN_DIR_SUFFIX",
    "DROPIN_SUFFIX",
    "LONG_LINE_MAX",
    "SYSTEM_CONFIG_UNIT_DIR",
    "SYSTEM_RUNTIME_UNIT_DIR",
    "USER_UNIT_SUBDIR",
    "InvalidUnitFileError",
    "UnitFileError",
    "UnitFileNotFoundError",
    "UnitFilePermissionError",
    "check_dropin_name",
    "check_local",
    "check_unit_file_name",
    "conf_files",
    "dropin_dir_name",
    "dropin_dirs",
    "encode_text",
    "error_from_os",
    "format_cat",
    "in_search_path",
    "manager_scope",
    "read_lines",
    "temp_name",
    "unit_dir",
]

SYSTEM_CONFIG_UNIT_DIR: Final = "/etc/systemd/system"
SYSTEM_RUNTIME_UNIT_DIR: Final = "/run/systemd/system"
#: Below ``$XDG_CONFIG_HOME`` (``~/.config``) and ``$XDG_RUNTIME_DIR``.
USER_UNIT_SUBDIR: Final = "systemd/user"
DROPIN_SUFFIX: Final = ".conf"
DROPIN_DIR_SUFFIX: Final = ".d"
#: read_line()'s limit in ``systemctl cat``: a longer line makes it fail.
LONG_LINE_MAX: Final = 1024 * 1024

_NAME_MAX: Final = 255
_TEMP_PREFIX: Final = b".#"  # hidden, and '#' is no unit name character: systemd skips it
_TEMP_RANDOM: Final = 16  # hex digits
_LOCAL_HINT: Final = "files are read and written on this host: use connect() or connect(user=True)"


# ------------------------------------------------------------------- errors


def error_from_os(exc: OSError, action: str, path: str) -> UnitFileError:
    """The typed error for an OSError while *action* (``"write"``...) on *path*."""
    code = exc.errno
    cls: type[UnitFileError] = UnitFileError
    if code in (_errno.EACCES, _errno.EPERM):
        cls = UnitFilePermissionError
    elif code == _errno.ENOENT:
        cls = UnitFileNotFoundError
    reason = exc.strerror or str(exc)
    hint = None
    if code == _errno.ELOOP:
        reason = "it is a symlink, and sysd does not write through symlinks"
        hint = "a symlinked unit is a mask, link or alias: remove the symlink first"
    elif code == _errno.EROFS:
        hint = "the file system is read-only; runtime=True writes below /run"
    return cls(f"cannot {action} {path}: {reason}", path=path, errno=code, hint=hint)


# -------------------------------------------------------------- directories


def _simplify(path: str) -> str:
    return posixpath.normpath(re.sub("/+", "/", path))


def _absolute(value: str | None) -> bool:
    return value is not None and value.startswith("/") and "\0" not in value


def unit_dir(
    scope: Literal["system", "user"] | str,
    *,
    runtime: bool,
    environ: Mapping[str, str],
    home: str | None = None,
) -> str:
    """The directory a manager of *scope* reads administrator units from.

    system: ``/etc/systemd/system`` (``/run/systemd/system`` with *runtime*).
    user: ``$XDG_CONFIG_HOME/systemd/user`` or ``$HOME/.config/systemd/user``
    (``$XDG_RUNTIME_DIR/systemd/user`` with *runtime*), as systemd 252's
    ``acquire_config_dirs()``.  *home* stands in for a missing or relative
    ``$HOME`` (the password database's entry, which the caller looks up).
    """
    if scope == "system":
        return SYSTEM_RUNTIME_UNIT_DIR if runtime else SYSTEM_CONFIG_UNIT_DIR
    if scope != "user":
        raise InvalidUnitFileError(
            f"no local unit directory for a {scope!r} manager", hint=_LOCAL_HINT
        )
    if runtime:
        base = environ.get("XDG_RUNTIME_DIR")
        if not _absolute(base):
            raise InvalidUnitFileError(
                "XDG_RUNTIME_DIR is not set (or not absolute): "
                "no runtime unit directory for the user manager",
                hint="log in with a session, or write persistent units (runtime=False)",
            )
        assert base is not None
        return _simplify(posixpath.join(base, USER_UNIT_SUBDIR))
    config = environ.get("XDG_CONFIG_HOME")
    if _absolute(config):
        assert config is not None
        return _simplify(posixpath.join(config, USER_UNIT_SUBDIR))
    home_env = environ.get("HOME")
    base = home_env if _absolute(home_env) else home
    if not _absolute(base):
        raise InvalidUnitFileError(
            "neither XDG_CONFIG_HOME nor HOME is an absolute path: "
            "no unit directory for the user manager",
            hint="set HOME",
        )
    assert base is not None
    return _simplify(posixpath.join(base, ".config", USER_UNIT_SUBDIR))


def check_local(scope: str, transport_kinds: Iterable[str], description: str = "") -> None:
    """Refuse connections whose manager may not share this host's files.

    ``remote`` (``host=``, ``machine=``) always; an explicit ``address=`` when it
    runs a program (``unixexec:``, possibly ssh) rather than a local socket.
    """
    where = f" ({description})" if description else ""
    if scope == "remote":
        raise InvalidUnitFileError(
            f"cannot use unit files of a remote manager{where}: sysd reads and writes "
            "them on this host only",
            hint=_LOCAL_HINT,
        )
    if scope == "address" and any(kind != "unix" for kind in transport_kinds):
        raise InvalidUnitFileError(
            f"cannot use unit files through the address{where}: it may lead to another "
            "host, and sysd reads and writes them on this host only",
            hint=_LOCAL_HINT,
        )


def manager_scope(scope: str, unit_path: Sequence[str]) -> Literal["system", "user"]:
    """System or user manager: from the connection, or for an explicit local
    ``address=`` from the manager's search path (``Manager.UnitPath``)."""
    if scope in ("system", "user"):
        return scope  # type: ignore[return-value]
    normalized = {_simplify(p) for p in unit_path if p}
    return "system" if SYSTEM_CONFIG_UNIT_DIR in normalized else "user"


def in_search_path(directory: str, unit_path: Sequence[str]) -> bool:
    """Whether the manager reads units from *directory* (its ``UnitPath``)."""
    want = _simplify(directory)
    return any(_simplify(p) == want for p in unit_path if p)


# -------------------------------------------------------------------- names


def check_unit_file_name(name: object) -> str:
    """A unit file name: a valid plain, template or instance name.

    An instance may have its own fragment (``foo@bar.service`` is looked up
    before ``foo@.service``), as in systemd's ``unit_file_find_fragment()``.
    """
    if not isinstance(name, str):
        raise InvalidUnitNameError(f"invalid unit name {name!r}: expected a str")
    if not unitname.is_valid(name, unitname.NameKind.ANY):
        _raise_name_problem(name)
    return name


def _raise_name_problem(name: str) -> None:
    hint = None
    if "/" in name:
        hint = "give a unit name, not a path"
    elif "." not in name and unitname.is_valid(name + ".service"):
        hint = f"did you mean {name + '.service'!r}?"
    try:
        unitname.unit_type(name)  # raises with systemd's reason
    except InvalidUnitNameError as exc:
        raise InvalidUnitNameError(exc.text, hint=hint or exc.hint) from None
    raise InvalidUnitNameError(f"invalid unit name {name!r}", hint=hint)  # pragma: no cover


def dropin_dir_name(unit: object) -> str:
    """``<unit>.d``: the drop-in directory of a unit name (plain, template or
    instance), of a ``-`` prefix name (``foo-.service``), or of a whole unit
    type (``"service"`` -> ``service.d``, read for every service)."""
    if isinstance(unit, str) and unit in unitname.UNIT_TYPES:
        return unit + DROPIN_DIR_SUFFIX
    return check_unit_file_name(unit) + DROPIN_DIR_SUFFIX


def check_dropin_name(name: object) -> str:
    """A drop-in file name: one path component ending in ``.conf``, not hidden
    (systemd skips names starting with ``.``), at most 255 bytes."""
    if not isinstance(name, str):
        raise InvalidUnitFileError(f"invalid drop-in name {name!r}: expected a str")
    problem = None
    if not name:
        problem = "it is empty"
    elif "\0" in name:
        problem = "it contains a NUL character"
    elif "/" in name:
        problem = "it contains '/': give a file name, the directory is chosen for you"
    elif name.startswith("."):
        problem = "it starts with '.', and systemd ignores hidden drop-in files"
    elif not name.endswith(DROPIN_SUFFIX):
        problem = f"it does not end in {DROPIN_SUFFIX!r}, and systemd reads only those"
    else:
        try:
            size = len(os.fsencode(name))
        except UnicodeEncodeError:
            problem = "it cannot be encoded as a file name"
        else:
            if size > _NAME_MAX:
                problem = f"it is {size} bytes long, the limit is {_NAME_MAX}"
    if problem is not None:
        hint = None
        if name and not name.endswith(DROPIN_SUFFIX) and "/" not in name:
            hint = "e.g. '50-override.conf'"
        raise InvalidUnitFileError(f"invalid drop-in name {name!r}: {problem}", hint=hint)
    return name


def encode_text(text: object) -> bytes:
    """The bytes to write: a str as UTF-8, bytes as they are.  No NUL: systemd
    would end the line there."""
    if isinstance(text, str):
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidUnitFileError(
                f"unit file text is not valid Unicode: {text[exc.start]!r} at position "
                f"{exc.start} is a lone surrogate"
            ) from None
    elif isinstance(text, (bytes, bytearray)):
        data = bytes(text)
    else:
        raise TypeError(f"unit file text must be str or bytes, not {type(text).__name__}")
    nul = data.find(b"\0")
    if nul >= 0:
        raise InvalidUnitFileError(
            f"unit file text contains a NUL byte at offset {nul}: systemd would end the line there"
        )
    return data


def temp_name(filename: bytes, random_hex: str) -> bytes:
    """A hidden temporary name next to *filename* that systemd ignores (``.#name<random>``),
    shortened to fit a path component like systemd's ``tempfn_random()``."""
    room = _NAME_MAX - len(_TEMP_PREFIX) - _TEMP_RANDOM
    return _TEMP_PREFIX + filename[:room] + random_hex.encode("ascii")[:_TEMP_RANDOM]


# ------------------------------------------------------------------ cat


def read_lines(data: bytes) -> list[bytes]:
    """The lines of *data* as systemd's ``read_line()`` splits them.

    Line ends are ``\\n``, ``\\r``, ``\\0`` and their combinations ``\\r\\n``,
    ``\\n\\r`` (each optionally followed by ``\\0``); a repeated marker starts a
    new (empty) line.  A last line without an end counts; an empty file has no
    lines.
    """
    lines: list[bytes] = []
    n = len(data)
    i = 0
    while i < n:
        start = i
        while i < n and data[i] not in (0x0A, 0x0D, 0x00):
            i += 1
        line = data[start:i]
        seen = 0  # EOL_ZERO 1, EOL_TEN 2, EOL_THIRTEEN 4
        while i < n:
            c = data[i]
            eol = 2 if c == 0x0A else 4 if c == 0x0D else 1 if c == 0x00 else 0
            if seen & 1 or eol == 0 or seen & eol:
                break
            seen |= eol
            i += 1
        lines.append(line)
    return lines


def format_cat(fragment: tuple[str, bytes] | None, dropins: Sequence[tuple[str, bytes]]) -> bytes:
    """What ``systemctl cat`` prints for one unit: ``# PATH`` and the lines of each
    file, the fragment first, a blank line between files."""
    out = bytearray()
    files = ([fragment] if fragment is not None else []) + list(dropins)
    for index, (path, data) in enumerate(files):
        if index:
            out += b"\n"
        out += b"# " + os.fsencode(path) + b"\n"
        for line in read_lines(data):
            if len(line) >= LONG_LINE_MAX:
                raise UnitFileError(
                    f"cannot show {path}: a line is longer than {LONG_LINE_MAX} bytes",
                    path=path,
                    errno=_errno.ENOBUFS,
                )
            out += line + b"\n"
    return bytes(out)


# --------------------------------------------------------- files of a unit not loaded


def dropin_dirs(names: Sequence[str], search_path: Sequence[str]) -> list[str]:
    """Where drop-ins for a unit file called ``names`` (its name and aliases) may be, in
    the order ``unit_file_find_dropin_paths()`` looks (``systemctl cat`` of a template).

    For each name and each directory of the search path: ``NAME.d``, then for an instance
    its template's, then the dash prefixes (``foo-bar-.service.d``, ``foo-.service.d``);
    last the type's own (``service.d``) in every directory.
    """
    dirs: list[str] = []

    def add(directory: str, name: str) -> None:
        dirs.append(f"{directory.rstrip('/')}/{name}{DROPIN_DIR_SUFFIX}")
        if unitname.is_instance(name):
            add(directory, unitname.template(name))
        prefix = _dash_prefix(name)
        if prefix is not None:
            add(directory, prefix)

    for name in names:
        for directory in search_path:
            add(directory, name)
    if names:
        kind = names[0].rpartition(".")[2]
        dirs += [f"{d.rstrip('/')}/{kind}{DROPIN_DIR_SUFFIX}" for d in search_path]
    return list(dict.fromkeys(dirs))


def _dash_prefix(name: str) -> str | None:
    """``foo-bar-waldo.service`` -> ``foo-bar-.service`` -> ``foo-.service`` -> None."""
    stem, dot, suffix = name.rpartition(".")
    prefix = stem.partition("@")[0]
    chopped = False
    while True:
        dash = prefix.rfind("-")
        if dash <= 0:
            return None
        if dash + 1 < len(prefix) or chopped:
            prefix = prefix[: dash + 1]
            break
        prefix = prefix[:dash]
        chopped = True
    return prefix + dot + suffix


def conf_files(listing: Iterable[tuple[str, Iterable[str]]], suffix: str) -> list[str]:
    """``conf_files_list()``: the files ending in ``suffix`` of ``(directory, file names)``
    given in priority order; the first file of a name hides later ones; sorted by name."""
    chosen: dict[str, str] = {}
    for directory, names in listing:
        for name in names:
            if name.endswith(suffix) and not name.startswith("."):
                chosen.setdefault(name, f"{directory.rstrip('/')}/{name}")
    return [chosen[name] for name in sorted(chosen)]
