"""Unit files and drop-ins written from Python, and ``systemctl cat``: the source of truth.

``src/sysd/_sync/unitfiles.py`` is generated from this file by
``tools/unasync.py``: write async code here, never edit the generated twin.

Files are written on this host, where a local manager reads them: the system
manager's ``/etc/systemd/system`` (``/run/systemd/system`` with ``runtime``),
the user manager's ``~/.config/systemd/user`` (``$XDG_RUNTIME_DIR/systemd/user``).
The directory is checked against the manager's own search path
(``Manager.UnitPath``) before anything is written.  Writes are atomic: a hidden
temporary file in the same directory (``O_EXCL``, mode 0644, fsync), renamed
over the target, the directory fsynced.  Blocking file I/O runs off the event
loop (``to_thread``) in the async flavour.
"""

from __future__ import annotations

import errno
import os
import pwd
import secrets
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .._core import unitname
from .._core.systemd1 import UNIT_INTERFACE
from .._core.unitfiles import (
    DROPIN_SUFFIX,
    InvalidUnitFileError,
    UnitFileError,
    UnitFileNotFoundError,
    check_dropin_name,
    check_local,
    check_unit_file_name,
    conf_files,
    dropin_dir_name,
    dropin_dirs,
    encode_text,
    error_from_os,
    format_cat,
    in_search_path,
    manager_scope,
    temp_name,
    unit_dir,
)
from ..errors import UnitMaskedError
from ._backend import to_thread

if TYPE_CHECKING:
    from .._core.presets import PresetRule
    from .systemd import AsyncSystemd
    from .unit import AsyncUnit

__all__ = ["cat", "local_unit_dir", "presets", "remove_dropin", "write_dropin", "write_unit"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_SUBDIR_FLAGS = _DIR_FLAGS | os.O_NOFOLLOW
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
_FILE_MODE = 0o644
_DIR_MODE = 0o755


# ------------------------------------------------------------------ public


async def write_unit(
    sd: AsyncSystemd,
    name: str,
    text: str | bytes,
    *,
    runtime: bool = False,
    reload: bool = True,
) -> Path:
    """Write the unit file *name* (``foo.service``, ``foo@.service``, ``foo@bar.service``)
    atomically; then daemon-reload unless ``reload=False``.  Returns its path."""
    name = check_unit_file_name(name)
    data = encode_text(text)
    directory = await local_unit_dir(sd, runtime=runtime)
    path = await to_thread(_write_atomic, directory, None, name, data)
    if reload:
        await sd.daemon_reload()
    return path


async def write_dropin(
    sd: AsyncSystemd,
    unit: str | AsyncUnit,
    name: str,
    text: str | bytes,
    *,
    runtime: bool = False,
    reload: bool = True,
) -> Path:
    """Write the drop-in ``<unit>.d/<name>`` (*name* ends in ``.conf``) atomically; then
    daemon-reload unless ``reload=False``.  Returns its path.

    *unit* is a unit name (plain, template, instance, or a ``foo-.service``
    prefix name) or a unit type such as ``"service"`` (read for all of them).
    """
    subdir = dropin_dir_name(_name_of(unit))
    name = check_dropin_name(name)
    data = encode_text(text)
    directory = await local_unit_dir(sd, runtime=runtime)
    path = await to_thread(_write_atomic, directory, subdir, name, data)
    if reload:
        await sd.daemon_reload()
    return path


async def remove_dropin(
    sd: AsyncSystemd,
    unit: str | AsyncUnit,
    name: str,
    *,
    runtime: bool = False,
    reload: bool = True,
) -> bool:
    """Remove the drop-in ``<unit>.d/<name>`` and the directory when it is left empty.

    Returns False when there was no such drop-in (then nothing is reloaded);
    otherwise daemon-reloads unless ``reload=False``.
    """
    subdir = dropin_dir_name(_name_of(unit))
    name = check_dropin_name(name)
    directory = await local_unit_dir(sd, runtime=runtime)
    removed = await to_thread(_remove, directory, subdir, name)
    if removed and reload:
        await sd.daemon_reload()
    return removed


async def cat(sd: AsyncSystemd, unit: str | AsyncUnit) -> str:
    """The unit's fragment and drop-ins as ``systemctl cat NAME`` prints them.

    ``# /path`` then the file's lines, the fragment first, a blank line between
    files.  The files are read on this host, as systemd has them loaded
    (``FragmentPath``, ``DropInPaths``).  Bytes that are not UTF-8 come back as
    lone surrogates: ``.encode("utf-8", "surrogateescape")`` gives systemctl's
    bytes.  A masked unit raises UnitMaskedError; a unit without files
    UnitFileNotFoundError (``No files found for NAME.``).  A template
    (``getty@.service``), which the manager cannot load, is looked up in the
    manager's ``UnitPath`` on this host, as systemctl does.
    """
    target = sd.target
    check_local(target.scope, (t.kind for t in target.transports), target.description)
    if isinstance(unit, str) and unitname.is_template(unit):
        search_path: list[str] = list(await sd.manager_property("UnitPath"))
        return await to_thread(_cat_template, unit, search_path)
    handle = await sd.unit(unit) if isinstance(unit, str) else unit
    load_state: str = await sd.get_property(handle.path, UNIT_INTERFACE, "LoadState")
    fragment = ""
    dropins: list[str] = []
    if load_state == "masked":
        raise UnitMaskedError(f"Unit {handle.name} is masked.")
    if load_state not in ("loaded", "bad-setting", "not-found"):
        _error_name, message = await sd.get_property(handle.path, UNIT_INTERFACE, "LoadError")
        reason = f" ({message})" if message else ""
        raise UnitFileError(f"Unit {handle.name} could not be loaded{reason}.")
    if load_state != "not-found":
        fragment = await sd.get_property(handle.path, UNIT_INTERFACE, "FragmentPath")
        dropins = list(await sd.get_property(handle.path, UNIT_INTERFACE, "DropInPaths"))
    if not fragment and not dropins:
        raise UnitFileNotFoundError(f"No files found for {handle.name}.", errno=errno.ENOENT)
    text = await to_thread(_read_cat, fragment or None, dropins)
    return text


async def local_unit_dir(sd: AsyncSystemd, *, runtime: bool = False) -> str:
    """The directory on this host that *sd*'s manager reads written units from.

    Refuses remote managers, and a directory the manager does not search (its
    ``UnitPath``, e.g. when it runs with another ``XDG_CONFIG_HOME`` than we do).
    """
    target = sd.target
    check_local(target.scope, (t.kind for t in target.transports), target.description)
    unit_path: list[str] = list(await sd.manager_property("UnitPath"))
    scope = manager_scope(target.scope, unit_path)
    environ = dict(os.environ)
    home = None
    if scope == "user" and not runtime and not environ.get("HOME", "").startswith("/"):
        home = await to_thread(_passwd_home)
    directory = unit_dir(scope, runtime=runtime, environ=environ, home=home)
    if not in_search_path(directory, unit_path):
        searched = ":".join(unit_path)
        raise InvalidUnitFileError(
            f"the {scope} manager does not read units from {directory}",
            hint=f"it reads {searched}; use the manager's HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR",
        )
    return directory


async def presets(sd: AsyncSystemd, names: Iterable[str]) -> dict[str, bool]:
    """Whether the preset policy enables each unit file (``systemctl list-unit-files``'
    PRESET column): the ``*.preset`` files of the manager's scope, read on this host."""
    from .._core.presets import PRESET_DIRS, query_preset

    scope = "user" if sd.target.scope == "user" else "system"
    rules = await to_thread(_read_presets, PRESET_DIRS[scope])
    return {name: query_preset(rules, name) for name in names}


def _name_of(unit: str | AsyncUnit) -> str:
    return unit if isinstance(unit, str) else unit.name


# ------------------------------------------------------------ blocking I/O


def _passwd_home() -> str | None:
    uid = os.getuid()
    if uid == 0:
        return "/root"  # as systemd's get_home_dir(), without asking NSS
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return None


def _makedirs(directory: str) -> None:
    """Create *directory* and missing parents, each exactly 0755."""
    missing = []
    current = directory
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, _DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile (or not a directory: opening it will say so)
        os.chmod(path, _DIR_MODE)


def _open_subdir(dirfd: int, subdir: str, create: bool) -> int:
    """The drop-in directory below *dirfd*, never through a symlink."""
    created = False
    if create:
        try:
            os.mkdir(subdir, _DIR_MODE, dir_fd=dirfd)
            created = True
        except FileExistsError:
            pass
    st = os.stat(subdir, dir_fd=dirfd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
    fd = os.open(subdir, _SUBDIR_FLAGS, dir_fd=dirfd)
    if created:
        os.fchmod(fd, _DIR_MODE)
    return fd


def _check_target(dirfd: int, filename: str) -> None:
    """Refuse to replace a symlink (a mask, link or alias) or a directory."""
    try:
        st = os.stat(filename, dir_fd=dirfd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
    if stat.S_ISDIR(st.st_mode):
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))


def _replace(dirfd: int, filename: str, data: bytes) -> None:
    tmp = temp_name(os.fsencode(filename), secrets.token_hex(8))
    fd = os.open(tmp, _TEMP_FLAGS, _FILE_MODE, dir_fd=dirfd)
    try:
        try:
            os.fchmod(fd, _FILE_MODE)  # whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, filename, src_dir_fd=dirfd, dst_dir_fd=dirfd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dirfd)
        except OSError:
            pass
        raise
    os.fsync(dirfd)  # the rename itself survives a crash


def _write_atomic(directory: str, subdir: str | None, filename: str, data: bytes) -> Path:
    where = os.path.join(directory, subdir) if subdir else directory
    path = os.path.join(where, filename)
    step, at = "create directory", directory
    try:
        _makedirs(directory)
        step = "open directory"
        dirfd = os.open(directory, _DIR_FLAGS)
        try:
            fd = dirfd
            if subdir is not None:
                step, at = "create directory", where
                fd = _open_subdir(dirfd, subdir, create=True)
            try:
                step, at = "write", path
                _check_target(fd, filename)
                _replace(fd, filename, data)
            finally:
                if fd != dirfd:
                    os.close(fd)
        finally:
            os.close(dirfd)
    except OSError as exc:
        raise error_from_os(exc, step, at) from exc
    return Path(path)


def _remove(directory: str, subdir: str, filename: str) -> bool:
    where = os.path.join(directory, subdir)
    step, at = "open directory", where
    try:
        try:
            dirfd = os.open(directory, _DIR_FLAGS)
        except FileNotFoundError:
            return False
        try:
            try:
                fd = _open_subdir(dirfd, subdir, create=False)
            except FileNotFoundError:
                return False
            try:
                step, at = "remove", os.path.join(where, filename)
                try:
                    os.unlink(filename, dir_fd=fd)
                except FileNotFoundError:
                    return False
            finally:
                os.close(fd)
            step, at = "remove directory", where
            try:
                os.rmdir(subdir, dir_fd=dirfd)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            return True
        finally:
            os.close(dirfd)
    except OSError as exc:
        raise error_from_os(exc, step, at) from exc


def _read_cat(fragment: str | None, dropins: list[str]) -> str:
    fragment_file = (fragment, _read(fragment)) if fragment else None
    dropin_files = [(path, _read(path)) for path in dropins]
    return format_cat(fragment_file, dropin_files).decode("utf-8", "surrogateescape")


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:  # missing, not a directory, not readable: nothing there, as systemd
        return []


def _read_presets(directories: Sequence[str]) -> list[PresetRule]:
    from .._core.presets import parse_presets, preset_files

    texts = []
    for path in preset_files((d, _listdir(d)) for d in _resolve_dirs(directories)):
        try:
            texts.append(_read(path).decode("utf-8", "replace"))
        except UnitFileError:
            continue
    return parse_presets(texts)


def _cat_template(name: str, search_path: list[str]) -> str:
    """``systemctl cat`` of a template, found on disk as systemctl 252 finds it: the
    first file of that name in the search path, symlinks followed by name (a link to
    ``/dev/null`` shows as itself, empty, without drop-ins); drop-ins of the template,
    its dash prefixes and its type (``service.d``) when there is a file."""
    fragment = None
    for directory in search_path:
        candidate = f"{directory.rstrip('/')}/{name}"
        if os.path.lexists(candidate):
            fragment = _follow(candidate)
            break
    if fragment is None:
        raise UnitFileNotFoundError(f"No files found for {name}.", errno=errno.ENOENT)
    if os.path.islink(fragment):  # masked: the link alone, no drop-ins
        return _read_cat(fragment, [])
    names = [name]
    alias = os.path.basename(fragment)
    if alias != name and unitname.is_template(alias):
        names.append(alias)
    dirs = _resolve_dirs(dropin_dirs(names, search_path))
    dropins = conf_files(((d, _listdir(d)) for d in dirs), DROPIN_SUFFIX)
    return _read_cat(fragment, dropins)


def _resolve_dirs(dirs: Iterable[str]) -> list[str]:
    """The directories that exist, symlinks resolved, each once (the first place kept):
    ``path_strv_resolve_uniq()``, which makes ``/lib/...`` read as ``/usr/lib/...``."""
    return list(dict.fromkeys(os.path.realpath(d) for d in dirs if os.path.isdir(d)))


def _follow(path: str) -> str:
    """Where a chain of symlinks ends, by name; a link to /dev/null stays (a masked unit)."""
    for _ in range(32):
        try:
            target = os.readlink(path)
        except OSError:  # not a symlink (or gone): the file itself
            return path
        if target == "/dev/null":
            return path
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return path


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise error_from_os(exc, "read", path) from exc
