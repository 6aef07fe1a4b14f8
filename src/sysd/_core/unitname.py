"""Unit names, exactly as systemd 252 reads and writes them (no I/O).

A port of ``src/basic/unit-name.c`` (plus the helpers it relies on from
``path-util.c``, ``bus-label.c``, ``unit-def.c`` and the name-derived
specifiers of ``core/unit-printf.c``).  Every function here gives the same
answer as its C counterpart; the C name is given in each docstring.

Strings are ``str``.  systemd works on bytes: characters outside ASCII are
escaped as their UTF-8 bytes (``"ä"`` -> ``"\\xc3\\xa4"``), and bytes that
are not UTF-8 come back as lone surrogates, the way :func:`os.fsdecode`
does it, so ``unescape(escape(s)) == s`` for every ``str``.

Invalid input raises :class:`~sysd.errors.InvalidUnitNameError` (a
``ValueError``) whose message names the input and what is wrong with it.
Predicates (``is_valid``, ``slice_is_valid`` ...) never raise.

Deliberate differences from the C code, all for input C cannot receive:
a NUL character is refused in a file system path (C would stop reading at
it), and ``unescape_path`` refuses a name that decodes to a NUL byte (C
would silently cut the path there).  ``unescape`` itself keeps NUL bytes.
"""

from __future__ import annotations

import enum
import re
from typing import Final, Literal

from ..errors import InvalidUnitNameError

__all__ = [
    "NAME_SPECIFIERS",
    "ROOT_SLICE",
    "UNIT_DBUS_PATH_PREFIX",
    "UNIT_NAME_MAX",
    "UNIT_TYPES",
    "NameKind",
    "UnitType",
    "build",
    "bus_label_escape",
    "bus_label_unescape",
    "change_suffix",
    "classify",
    "dbus_interface",
    "escape",
    "escape_path",
    "from_dbus_path",
    "from_path",
    "from_path_instance",
    "hash_long",
    "instance",
    "instance_is_valid",
    "is_hashed",
    "is_instance",
    "is_plain",
    "is_template",
    "is_valid",
    "mangle",
    "normalize",
    "path_is_normalized",
    "path_is_valid",
    "prefix",
    "prefix_and_instance",
    "prefix_equal",
    "prefix_is_valid",
    "replace_instance",
    "slice_is_valid",
    "slice_parent",
    "slice_subslice",
    "specifier",
    "suffix",
    "suffix_is_valid",
    "template",
    "to_dbus_path",
    "to_path",
    "unescape",
    "unescape_path",
    "unit_type",
]


# ------------------------------------------------------------------ tables


class UnitType(enum.StrEnum):
    """The unit types of systemd 252, in systemd's order (``unit_type_table``)."""

    SERVICE = "service"
    SOCKET = "socket"
    TARGET = "target"
    DEVICE = "device"
    MOUNT = "mount"
    AUTOMOUNT = "automount"
    SWAP = "swap"
    TIMER = "timer"
    PATH = "path"
    SLICE = "slice"
    SCOPE = "scope"


class NameKind(enum.IntFlag):
    """The shapes of a unit name (``UnitNameFlags``); combine with ``|``."""

    PLAIN = 1  #: ``foo.service``
    TEMPLATE = 2  #: ``foo@.service``
    INSTANCE = 4  #: ``foo@bar.service``
    ANY = 7


UNIT_TYPES: Final[tuple[str, ...]] = tuple(t.value for t in UnitType)
#: A unit name is at most this many bytes *including* C's terminating NUL,
#: i.e. a valid name has at most 255 characters.
UNIT_NAME_MAX: Final = 256
ROOT_SLICE: Final = "-.slice"
UNIT_DBUS_PATH_PREFIX: Final = "/org/freedesktop/systemd1/unit/"
#: The specifier letters :func:`specifier` knows (those derived from the name alone).
NAME_SPECIFIERS: Final = "nNpPiIjJf"

_UNIT_TYPE_SET: Final = frozenset(UNIT_TYPES)
#: The types whose units may be templates and instances (unit_type_may_template):
#: systemd refuses ``b@a.mount`` or ``_@a.slice`` with EINVAL (unit_add_name).
_TEMPLATE_TYPES: Final = frozenset({"service", "socket", "target", "timer", "path"})
_PREFIX_CHARS_TEXT: Final = "only ASCII letters, digits and : - _ . \\ are allowed"
_INSTANCE_CHARS_TEXT: Final = "only ASCII letters, digits and : - _ . \\ @ are allowed"
_TYPES_TEXT: Final = ", ".join(UNIT_TYPES)
_DBUS_INTERFACES: Final = {t: "org.freedesktop.systemd1." + t.value.capitalize() for t in UnitType}

_DIGITS: Final = "0123456789"
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALID_CHARS: Final = _DIGITS + _LETTERS + ":-_.\\"
_VALID_CHARS_WITH_AT: Final = "@" + _VALID_CHARS
_VALID_CHARS_GLOB: Final = _VALID_CHARS_WITH_AT + "[]!-*?"
_GLOB_CHARS: Final = "*?["
_VALID_SET: Final = frozenset(_VALID_CHARS)
_VALID_WITH_AT_SET: Final = frozenset(_VALID_CHARS_WITH_AT)
_VALID_GLOB_SET: Final = frozenset(_VALID_CHARS_GLOB)

_CLASS: Final = r"0-9A-Za-z:\-_.\\"
_NAME_RE: Final = re.compile(
    rf"[{_CLASS}]+(?:@(?P<instance>[{_CLASS}@]*))?\.(?P<type>{'|'.join(UNIT_TYPES)})"
)
_PREFIX_RE: Final = re.compile(rf"[{_CLASS}]+")
_INSTANCE_RE: Final = re.compile(rf"[{_CLASS}@]+")
_GLOB_RE: Final = re.compile(r"[*?\[]")
_HASHED_RE: Final = re.compile(r"_[0-9a-f]{16}")

_HASH_LENGTH: Final = 16
# LONG_UNIT_NAME_HASH_KEY, SD_ID128_MAKE(ec,f2,37,fb,58,32,4a,32,84,9f,06,9b,0d,21,eb,9a)
_HASH_KEY: Final = bytes.fromhex("ecf237fb58324a32849f069b0d21eb9a")

_NAME_MAX: Final = 255  # longest path component in bytes (NAME_MAX)
_PATH_MAX: Final = 4096  # longest path in bytes including the NUL (PATH_MAX)


def _escaped_byte(b: int) -> str:
    return f"\\x{b:02x}"


def _byte_table(keep: str, slash: str | None) -> dict[int, str]:
    """A str.translate table over code points 0..255 (latin-1 view of bytes)."""
    table = {b: _escaped_byte(b) for b in range(256) if chr(b) not in keep}
    if slash is not None:
        table[0x2F] = slash
    return table


# unit_name_escape: '/' -> '-', keep VALID_CHARS except '-' and '\', escape the rest
_ESCAPE_TABLE: Final = _byte_table(_VALID_CHARS.replace("-", "").replace("\\", ""), "-")
# do_escape_mangle: '/' -> '-', keep VALID_CHARS_WITH_AT (or the glob set), escape the rest
_MANGLE_TABLE: Final = _byte_table(_VALID_CHARS_WITH_AT, "-")
_MANGLE_GLOB_TABLE: Final = _byte_table(_VALID_CHARS_GLOB, "-")
# bus_label_escape: keep ASCII letters (and digits unless first), '_xx' for the rest
_BUS_LABEL_TABLE: Final = {b: f"_{b:02x}" for b in range(256) if chr(b) not in _LETTERS + _DIGITS}

_UNESCAPE_RE: Final = re.compile(r"\\x[0-9a-fA-F]{2}|-")
_BAD_BACKSLASH_RE: Final = re.compile(r"\\(?!x[0-9a-fA-F]{2})")
_UNESCAPE_MAP: Final = {"-": "/"} | {
    f"\\x{h}{lo}": chr(int(h + lo, 16))
    for h in "0123456789abcdefABCDEF"
    for lo in "0123456789abcdefABCDEF"
}
_BUS_UNESCAPE_RE: Final = re.compile(r"_[0-9a-fA-F]{2}")


# ------------------------------------------------------------------ helpers


def _to_bytes(s: str) -> bytes:
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise _error(
            "string",
            s,
            f"character {s[exc.start]!r} at position {exc.start} is a lone surrogate "
            "that stands for no byte",
        ) from None


def _from_bytes(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _latin1_view(s: str) -> str:
    """The UTF-8 bytes of *s*, one code point 0..255 per byte."""
    return s if s.isascii() else _to_bytes(s).decode("latin-1")


def _from_latin1_view(s: str) -> str:
    return s if s.isascii() else _from_bytes(s.encode("latin-1"))


def _error(what: str, value: str, problem: str, hint: str | None = None) -> InvalidUnitNameError:
    return InvalidUnitNameError(f"invalid {what} {value!r}: {problem}", hint=hint)


_KIND_NAMES: Final = (
    (NameKind.PLAIN, "plain"),
    (NameKind.TEMPLATE, "template"),
    (NameKind.INSTANCE, "instance"),
)


def _kind_text(kind: NameKind) -> str:
    return " or ".join(text for k, text in _KIND_NAMES if kind & k) or "no"


def _name_problem(name: str, kind: NameKind) -> str | None:
    """Why ``unit_name_is_valid(name, kind)`` is false (None when it is true)."""
    if not name:
        return "it is empty"
    size = len(_to_bytes(name))
    if size >= UNIT_NAME_MAX:
        return f"it is {size} bytes long, the limit is {UNIT_NAME_MAX - 1}"
    dot = name.rfind(".")
    if dot < 0:
        return "it has no unit type suffix (such as '.service')"
    if dot == 0:
        return "there is nothing before the unit type suffix"
    if name[dot + 1 :] not in _UNIT_TYPE_SET:
        return f"{name[dot:]!r} is not a unit type suffix (types: {_TYPES_TEXT})"
    for c in name[:dot]:
        if c not in _VALID_WITH_AT_SET:
            return f"character {c!r} is not allowed ({_INSTANCE_CHARS_TEXT})"
    at = name.find("@")
    if at == 0:
        return "it starts with '@'"
    if at < 0:
        actual = NameKind.PLAIN
    elif at + 1 == dot:
        actual = NameKind.TEMPLATE
    else:
        actual = NameKind.INSTANCE
    if kind & actual:
        return None
    return f"it is a {_kind_text(actual)} name, expected a {_kind_text(kind)} name"


def _check_name(name: str, kind: NameKind = NameKind.ANY, what: str = "unit name") -> None:
    if not is_valid(name, kind):
        problem = _name_problem(name, kind) or "it is not valid"
        raise _error(what, name, problem)


def _suffix_arg(suffix: str | UnitType) -> str:
    return "." + suffix.value if isinstance(suffix, UnitType) else suffix


def _check_suffix(suffix: str) -> None:
    if not suffix_is_valid(suffix):
        hint = None
        if suffix in _UNIT_TYPE_SET:
            hint = f"write '.{suffix}'"
        raise _error(
            "unit suffix", suffix, f"expected '.' and a unit type ({_TYPES_TEXT})", hint=hint
        )


# --------------------------------------------------------- path helpers (bytes)
#
# Ports of path-util.c, on bytes because NAME_MAX and PATH_MAX count bytes.


def _skip_slash_or_dot(p: bytes, i: int) -> int:
    n = len(p)
    while i < n:
        if p[i] == 0x2F or (p[i] == 0x2E and i + 1 < n and p[i + 1] == 0x2F):  # '/' or "./"
            i += 1
        else:
            break
    return i


def _first_component(p: bytes, i: int, accept_dot_dot: bool) -> tuple[int, int, int]:
    """path_find_first_component() from index *i*.

    Returns (length, start, next): length 0 at the end, -1 for an invalid component
    (then next == i, nothing consumed).
    """
    n = len(p)
    first = _skip_slash_or_dot(p, i)
    if first == n or (first == n - 1 and p[first] == 0x2E):
        return 0, first, n
    end = p.find(b"/", first)
    if end < 0:
        end = n
    length = end - first
    if length > _NAME_MAX or (not accept_dot_dot and p[first:end] == b".."):
        return -1, first, i
    nxt = _skip_slash_or_dot(p, end)
    if nxt == n - 1 and p[nxt] == 0x2E:
        nxt = n
    return length, first, nxt


def _path_simplify(p: bytes) -> bytes:
    """path_simplify(): drop duplicate and trailing slashes and "." components."""
    if not p:
        return p
    out = bytearray()
    i = 0
    if p[0] == 0x2F:
        out.append(0x2F)
        i = 1
    add_slash = False
    while True:
        length, start, nxt = _first_component(p, i, True)
        if length == 0:
            break
        if add_slash:
            out.append(0x2F)
        if length < 0:  # refuse to simplify the invalid rest
            out += p[i:]
            return bytes(out)
        out += p[start : start + length]
        i = nxt
        add_slash = True
    return bytes(out) if out else b"."


def _path_is_valid_full(p: bytes, accept_dot_dot: bool) -> bool:
    if not p:
        return False
    i = 0
    while True:
        length, _, i = _first_component(p, i, accept_dot_dot)
        if length < 0 or i >= _PATH_MAX:
            return False
        if i == len(p):
            return True


def _path_is_valid(p: bytes) -> bool:
    return _path_is_valid_full(p, True)


def _path_is_normalized(p: bytes) -> bool:
    if not _path_is_valid_full(p, False):  # path_is_safe()
        return False
    if p == b"." or p.startswith(b"./") or p.endswith(b"/.") or b"/./" in p:
        return False
    return b"//" not in p


def _empty_or_root(p: bytes) -> bool:
    if not p:
        return True
    return p[0] == 0x2F and _first_component(p, 0, True)[0] == 0


def _path_startswith(path: bytes, prefix: bytes) -> bytes | None:
    """path_startswith(): the rest of *path* after the components of *prefix*, or None."""
    if path.startswith(b"/") != prefix.startswith(b"/"):
        return None
    i = j = 0
    while True:
        m, ps, ni = _first_component(path, i, True)
        if m < 0:
            return None
        n, qs, nj = _first_component(prefix, j, True)
        if n < 0:
            return None
        if n == 0:
            return path[ps:] if m > 0 else b""
        if m != n or path[ps : ps + m] != prefix[qs : qs + n]:
            return None
        i, j = ni, nj


def _is_device_path(path: bytes) -> bool:
    for pfx in (b"/dev/", b"/sys/"):
        rest = _path_startswith(path, pfx)
        if rest is not None:
            return rest != b""
    return False


def _path_problem(p: bytes) -> str:
    """Why a path is not normalized (for error messages)."""
    if not _path_is_valid(p):
        if len(p) >= _PATH_MAX - 1:
            return f"it is longer than {_PATH_MAX - 1} bytes"
        return f"a component is longer than {_NAME_MAX} bytes"
    if not _path_is_valid_full(p, False):
        return "it contains a '..' component"
    if p == b".":
        return "it is '.', not an absolute path"
    if p.startswith(b"./") or p.endswith(b"/.") or b"/./" in p:
        return "it contains a '.' component"
    if b"//" in p:
        return "it contains an empty component"
    return "it is not a normalized path"


def path_is_valid(path: str) -> bool:
    """Whether systemd takes *path* for a file system path at all (path_is_valid).

    Non-empty, no component longer than 255 bytes, shorter than 4096 bytes.
    """
    if "\0" in path:
        return False
    try:
        return _path_is_valid(_to_bytes(path))
    except InvalidUnitNameError:
        return False


def path_is_normalized(path: str) -> bool:
    """Whether *path* is valid, without "." or ".." components or "//" (path_is_normalized)."""
    if "\0" in path:
        return False
    try:
        return _path_is_normalized(_to_bytes(path))
    except InvalidUnitNameError:
        return False


def _path_bytes(path: str, what: str = "path") -> bytes:
    if "\0" in path:
        raise _error(what, path, "it contains a NUL character")
    return _to_bytes(path)


# ------------------------------------------------------------------ validity


def is_valid(name: str, kind: NameKind = NameKind.ANY) -> bool:
    """Whether *name* is a valid unit name of one of the shapes in *kind* (unit_name_is_valid).

    >>> is_valid("foo@bar.service"), is_valid("foo@bar.service", NameKind.PLAIN)
    (True, False)
    """
    if len(name) >= UNIT_NAME_MAX:
        return False
    m = _NAME_RE.fullmatch(name)
    if m is None:
        return False
    inst = m.group("instance")
    if inst is None:
        return bool(kind & NameKind.PLAIN)
    if inst:
        return bool(kind & NameKind.INSTANCE)
    return bool(kind & NameKind.TEMPLATE)


def is_plain(name: str) -> bool:
    """``foo.service``: valid and without '@'."""
    return is_valid(name, NameKind.PLAIN)


def is_template(name: str) -> bool:
    """``foo@.service``: valid, '@' directly before the type suffix."""
    return is_valid(name, NameKind.TEMPLATE)


def is_instance(name: str) -> bool:
    """``foo@bar.service``: valid, with a non-empty instance."""
    return is_valid(name, NameKind.INSTANCE)


def prefix_is_valid(p: str) -> bool:
    """Whether *p* can be the part before '@' or the type suffix (unit_prefix_is_valid)."""
    return _PREFIX_RE.fullmatch(p) is not None


def instance_is_valid(i: str) -> bool:
    """Whether *i* can be an instance string; '@' is allowed (unit_instance_is_valid)."""
    return _INSTANCE_RE.fullmatch(i) is not None


def suffix_is_valid(s: str) -> bool:
    """Whether *s* is '.' and a unit type, such as ``".service"`` (unit_suffix_is_valid)."""
    return s[:1] == "." and s[1:] in _UNIT_TYPE_SET


def slice_is_valid(name: str) -> bool:
    """Whether *name* is a valid slice name (slice_name_is_valid).

    ``-.slice``, or a plain ``.slice`` name whose prefix has no leading,
    trailing or doubled '-'.
    """
    if not is_valid(name, NameKind.PLAIN):
        return False
    if name == ROOT_SLICE:
        return True
    if not name.endswith(".slice"):
        return False
    p = name[: -len(".slice")]
    return not (p.startswith("-") or p.endswith("-") or "--" in p)


def is_hashed(name: str) -> bool:
    """Whether *name* was shortened by :func:`hash_long` (unit_name_is_hashed)."""
    if not is_valid(name, NameKind.PLAIN):
        return False
    dot = name.rfind(".")
    if dot < _HASH_LENGTH + 1:
        return False
    return _HASHED_RE.fullmatch(name, dot - _HASH_LENGTH - 1, dot) is not None


def prefix_equal(a: str, b: str) -> bool:
    """Whether two valid names have the same prefix (unit_name_prefix_equal)."""
    if not is_valid(a) or not is_valid(b):
        return False
    return _prefix_of_valid(a) == _prefix_of_valid(b)


# ------------------------------------------------------------------ parts


def _prefix_of_valid(name: str) -> str:
    at = name.find("@")
    return name[:at] if at >= 0 else name[: name.rfind(".")]


def prefix(name: str) -> str:
    """The part before '@' or the type suffix: ``foo@bar.service`` -> ``foo``.

    (unit_name_to_prefix)
    """
    _check_name(name)
    return _prefix_of_valid(name)


def instance(name: str) -> str | None:
    """The instance: ``bar`` for ``foo@bar.service``, ``""`` for a template, None for a plain name.

    (unit_name_to_instance)
    """
    _check_name(name)
    at = name.find("@")
    if at < 0:
        return None
    return name[at + 1 : name.rfind(".")]


def classify(name: str) -> NameKind:
    """PLAIN, TEMPLATE or INSTANCE (unit_name_classify)."""
    inst = instance(name)
    if inst is None:
        return NameKind.PLAIN
    return NameKind.INSTANCE if inst else NameKind.TEMPLATE


def prefix_and_instance(name: str) -> str:
    """The name without its type suffix: ``foo@bar`` (unit_name_to_prefix_and_instance)."""
    _check_name(name)
    return name[: name.rfind(".")]


def unit_type(name: str) -> UnitType:
    """The type of a valid unit name: ``UnitType.SERVICE`` for ``foo.service``.

    (unit_name_to_type)
    """
    _check_name(name)
    return UnitType(name[name.rfind(".") + 1 :])


def suffix(name: str) -> str:
    """The type suffix of a valid unit name, with its dot: ``".service"``."""
    _check_name(name)
    return name[name.rfind(".") :]


def template(name: str) -> str:
    """The template of an instance (or template) name: ``foo@.service`` (unit_name_template)."""
    _check_name(name, NameKind.INSTANCE | NameKind.TEMPLATE, "instance or template name")
    return name[: name.find("@") + 1] + name[name.rfind(".") :]


def dbus_interface(type_: UnitType | str) -> str:
    """The D-Bus interface of a unit type: ``org.freedesktop.systemd1.Service``.

    (unit_dbus_interface_from_type)
    """
    if type_ not in _UNIT_TYPE_SET:
        raise _error("unit type", str(type_), f"expected one of {_TYPES_TEXT}")
    return _DBUS_INTERFACES[UnitType(type_)]


# ------------------------------------------------------------------ building


def change_suffix(name: str, suffix: str | UnitType) -> str:
    """Replace the type suffix: ``foo.mount`` + ``.service`` -> ``foo.service``.

    (unit_name_change_suffix)
    """
    suffix = _suffix_arg(suffix)
    _check_name(name)
    _check_suffix(suffix)
    result = name[: name.rfind(".")] + suffix
    _check_name(result, what="unit name (after changing the suffix)")
    return result


def build(prefix: str, instance: str | None, suffix: str | UnitType) -> str:
    """``prefix[@instance]suffix``, checked (unit_name_build).

    >>> build("getty", "tty1", ".service")
    'getty@tty1.service'
    """
    suffix = _suffix_arg(suffix)
    _check_suffix(suffix)
    if not prefix_is_valid(prefix):
        raise _error("unit name prefix", prefix, _PREFIX_CHARS_TEXT)
    if instance is None:
        result = prefix + suffix
        _check_name(result, NameKind.PLAIN)
        return result
    if not instance_is_valid(instance):
        raise _error("unit name instance", instance, _INSTANCE_CHARS_TEXT)
    result = f"{prefix}@{instance}{suffix}"
    _check_name(result, NameKind.INSTANCE)
    return result


def replace_instance(name: str, instance: str) -> str:
    """Put *instance* into a template or instance name (unit_name_replace_instance).

    *instance* must already be escaped (see :func:`escape`).

    >>> replace_instance("getty@.service", "tty1")
    'getty@tty1.service'
    """
    _check_name(name, NameKind.INSTANCE | NameKind.TEMPLATE, "template or instance name")
    if not instance_is_valid(instance):
        raise _error(
            "unit name instance",
            instance,
            _INSTANCE_CHARS_TEXT,
            hint="escape it first with sysd.unitname.escape()",
        )
    result = name[: name.find("@") + 1] + instance + name[name.rfind(".") :]
    _check_name(result, NameKind.INSTANCE, "unit name (after replacing the instance)")
    return result


def slice_parent(name: str) -> str | None:
    """The parent slice: ``a-b.slice`` -> ``a.slice`` -> ``-.slice`` -> None.

    (slice_build_parent_slice)
    """
    if not slice_is_valid(name):
        raise _error("slice name", name, _slice_problem(name))
    if name == ROOT_SLICE:
        return None
    dash = name.rfind("-")
    return name[:dash] + ".slice" if dash >= 0 else ROOT_SLICE


def slice_subslice(slice_: str, name: str) -> str:
    """A child slice: ``a.slice`` + ``b`` -> ``a-b.slice`` (slice_build_subslice)."""
    if not slice_is_valid(slice_):
        raise _error("slice name", slice_, _slice_problem(slice_))
    if not prefix_is_valid(name):
        raise _error("slice name component", name, _PREFIX_CHARS_TEXT)
    if slice_ == ROOT_SLICE:
        return name + ".slice"
    return f"{slice_[: -len('.slice')]}-{name}.slice"


def _slice_problem(name: str) -> str:
    problem = _name_problem(name, NameKind.PLAIN)
    if problem is not None:
        return problem
    if not name.endswith(".slice"):
        return "it is not a .slice unit"
    return "the part before '.slice' starts or ends with '-' or contains '--'"


# ------------------------------------------------------------------ escaping


def _escape_latin1(s: str) -> str:
    if s.startswith("."):  # no unit names with a leading '.', e.g. for "/.dotdir"
        return "\\x2e" + s[1:].translate(_ESCAPE_TABLE)
    return s.translate(_ESCAPE_TABLE)


def escape(s: str) -> str:
    r"""Escape any string so it can be part of a unit name (unit_name_escape).

    '/' becomes '-'; '-', '\', a leading '.' and everything outside
    ``[A-Za-z0-9:_.]`` become ``\xNN`` (one per UTF-8 byte).

    >>> escape("/dev/disk/by-label/My Disk")
    '-dev-disk-by\\x2dlabel-My\\x20Disk'
    """
    return _escape_latin1(_latin1_view(s))


def unescape(s: str) -> str:
    r"""Undo :func:`escape`: ``\xNN`` -> byte, '-' -> '/' (unit_name_unescape).

    Raises InvalidUnitNameError for a '\' that does not start ``\xNN``.
    """
    if "\\" not in s:
        return s.replace("-", "/")
    m = _BAD_BACKSLASH_RE.search(s)
    if m is not None:
        raise _error(
            "escaped string",
            s,
            f"'\\' at position {m.start()} does not start a \\xNN escape",
        )
    return _from_latin1_view(_UNESCAPE_RE.sub(_unescape_match, _latin1_view(s)))


def _unescape_match(m: re.Match[str]) -> str:
    return _UNESCAPE_MAP[m.group()]


def _path_escape_bytes(path: str) -> str:
    p = _path_simplify(_path_bytes(path))
    if _empty_or_root(p):
        return "-"
    if not _path_is_normalized(p):
        raise _error("path", path, _path_problem(p))
    return _escape_latin1(p.strip(b"/").decode("latin-1"))


def escape_path(path: str) -> str:
    r"""Escape a file system path for a unit name (unit_name_path_escape).

    The path is simplified first (duplicate slashes and "." components
    go); "/" and "" become "-"; leading and trailing slashes are dropped.
    A path with a ".." component is refused.

    >>> escape_path("/tmp//waldi/foobar/")
    'tmp-waldi-foobar'
    """
    return _path_escape_bytes(path)


def unescape_path(s: str) -> str:
    """Undo :func:`escape_path`: ``tmp-waldi`` -> ``/tmp/waldi`` (unit_name_path_unescape).

    Refuses strings that would give leading, trailing or doubled slashes,
    "." or ".." components.
    """
    if not s:
        raise _error("escaped path", s, "it is empty")
    if s == "-":
        return "/"
    w = unescape(s)
    if w.startswith("/") or w.endswith("/"):
        raise _error("escaped path", s, "it starts or ends with '-' (an empty path component)")
    result = "/" + w
    if "\0" in result:
        raise _error("escaped path", s, "it decodes to a NUL byte")
    p = _to_bytes(result)
    if not _path_is_normalized(p):
        raise _error("escaped path", s, _path_problem(p))
    return result


# ------------------------------------------------------------------ paths


def hash_long(name: str) -> str:
    """Shorten a too-long name to 255 bytes with a hash, as systemd does (unit_name_hash_long).

    The name must be at least 256 bytes and end in a valid type suffix.
    """
    raw = _to_bytes(name)
    if len(raw) < UNIT_NAME_MAX:
        raise _error(
            "long unit name",
            name,
            f"it is shorter than {UNIT_NAME_MAX} bytes, there is nothing to shorten",
        )
    dot = raw.rfind(b".")
    if dot < 0 or raw[dot + 1 :].decode("latin-1") not in _UNIT_TYPE_SET:
        raise _error("long unit name", name, f"it has no unit type suffix ({_TYPES_TEXT})")
    digest = _siphash24(raw + b"\0", _HASH_KEY).to_bytes(8, "little").hex()
    sfx = raw[dot:]
    keep = UNIT_NAME_MAX - 1 - (len(sfx) - 1) - _HASH_LENGTH - 2
    return _from_bytes(raw[:keep] + b"_" + digest.encode() + sfx)


def from_path(path: str, suffix: str | UnitType) -> str:
    """The unit name for a path: ``/home/lennart`` + ``.mount`` -> ``home-lennart.mount``.

    (unit_name_from_path) Names longer than 255 bytes are shortened with
    :func:`hash_long`, as systemd does for mount units of deep paths.
    """
    suffix = _suffix_arg(suffix)
    _check_suffix(suffix)
    name = _path_escape_bytes(path) + suffix
    if len(name) >= UNIT_NAME_MAX:
        name = hash_long(name)
    _check_name(name, NameKind.PLAIN, f"unit name (made from path {path!r})")
    return name


def from_path_instance(prefix: str, path: str, suffix: str | UnitType) -> str:
    """``prefix@<escaped path>suffix`` (unit_name_from_path_instance).

    >>> from_path_instance("systemd-fsck", "/dev/sda1", ".service")
    'systemd-fsck@dev-sda1.service'
    """
    suffix = _suffix_arg(suffix)
    if not prefix_is_valid(prefix):
        raise _error("unit name prefix", prefix, _PREFIX_CHARS_TEXT)
    _check_suffix(suffix)
    name = f"{prefix}@{_path_escape_bytes(path)}{suffix}"
    if len(name) >= UNIT_NAME_MAX:
        raise _error(
            "unit name (made from path)",
            name,
            f"it is {len(name)} bytes long, the limit is {UNIT_NAME_MAX - 1}",
        )
    _check_name(name, NameKind.INSTANCE, f"unit name (made from path {path!r})")
    return name


def to_path(name: str) -> str:
    """The path a unit name stands for: ``home-lennart.mount`` -> ``/home/lennart``.

    (unit_name_to_path) Hashed names (see :func:`is_hashed`) cannot be turned back into paths.
    """
    p = prefix(name)
    if is_hashed(name):
        raise _error(
            "unit name",
            name,
            "it was shortened with a hash and cannot be turned back into a path",
        )
    return unescape_path(p)


def normalize(name: str, *, template: bool = False) -> str:
    """A unit name as sysd's API takes it: validated, ``.service`` added to a bare name.

    Unlike :func:`mangle` nothing is escaped behind the caller's back: a name
    that is not valid raises InvalidUnitNameError with the escaped form as the
    hint.  Template names (``foo@.service``) are refused unless ``template``.
    """
    if not isinstance(name, str) or not name:
        raise _error("unit name", str(name), "empty")
    if "@" in name and is_valid(name, NameKind.TEMPLATE | NameKind.INSTANCE):
        _check_may_template(name)
    kinds = NameKind.PLAIN | NameKind.INSTANCE | (NameKind.TEMPLATE if template else 0)
    if is_valid(name, kinds):
        return name
    if not template and is_valid(name, NameKind.TEMPLATE):
        raise InvalidUnitNameError(
            f"{name!r} is a template: give an instance name",
            hint=f"e.g. {replace_instance(name, 'INSTANCE')!r}",
        )
    if "." not in name and is_valid(name + ".service", kinds):
        return name + ".service"
    try:
        suggestion: str | None = mangle(name)
    except InvalidUnitNameError:
        suggestion = None
    raise InvalidUnitNameError(
        f"invalid unit name {name!r}",
        hint=f"the escaped form is {suggestion!r} (sysd.unitname.mangle)" if suggestion else None,
    )


def _check_may_template(name: str) -> None:
    """Refuse a template or instance name of a type that cannot have instances."""
    dot = name.rfind(".")
    type_ = name[dot + 1 :]
    if type_ not in _TEMPLATE_TYPES:
        raise InvalidUnitNameError(
            f"invalid unit name {name!r}: .{type_} units cannot be templates or instances "
            f"(only {', '.join(sorted(_TEMPLATE_TYPES))} units can)",
            hint=f"for an '@' in the name itself, escape it: {escape(name[:dot]) + name[dot:]!r}",
        )


def mangle(name: str, suffix: str | UnitType = ".service", *, glob: bool = False) -> str:
    r"""Turn what a user typed into a unit name, as systemctl does (unit_name_mangle_with_suffix).

    A valid name is returned unchanged; ``/dev/...`` and ``/sys/...`` become
    ``.device`` units and other absolute paths ``.mount`` units; otherwise
    invalid characters are escaped and *suffix* is appended when there is no
    valid type suffix.  With ``glob=True`` a pattern such as ``foo*`` is kept.

    >>> mangle("sshd"), mangle("/home"), mangle("ü*", glob=True)
    ('sshd.service', 'home.mount', '\\xc3\\xbc*')
    """
    suffix = _suffix_arg(suffix)
    if not name:
        raise _error("unit name", name, "it is empty and cannot be made valid")
    _check_suffix(suffix)
    if is_valid(name):
        return name
    if glob and _GLOB_RE.search(name) is not None and set(name) <= _VALID_GLOB_SET:
        return name
    if name.startswith("/") and "\0" not in name:
        raw = _to_bytes(name)
        if _is_device_path(raw):
            try:
                return from_path(name, ".device")
            except InvalidUnitNameError:
                pass
        try:
            return from_path(name, ".mount")
        except InvalidUnitNameError:
            pass
    s = _latin1_view(name).translate(_MANGLE_GLOB_TABLE if glob else _MANGLE_TABLE)
    if (not glob or _GLOB_RE.search(s) is None) and not is_valid(s):
        s += suffix
    if not glob:
        _check_name(s, what=f"unit name (mangled from {name!r})")
    return s


# ------------------------------------------------------------------ D-Bus


def bus_label_escape(s: str) -> str:
    """Escape a string for a D-Bus object path label (bus_label_escape).

    Keeps ASCII letters and non-leading digits, writes ``_xx`` for every
    other byte; ``""`` becomes ``"_"``.
    """
    if not s:
        return "_"
    v = _latin1_view(s)
    if v[0] in _DIGITS:
        return f"_{ord(v[0]):02x}" + v[1:].translate(_BUS_LABEL_TABLE)
    return v.translate(_BUS_LABEL_TABLE)


def bus_label_unescape(label: str) -> str:
    """Undo :func:`bus_label_escape` (bus_label_unescape); a stray '_' is kept literally."""
    if label == "_":
        return ""
    if "_" not in label:
        return label
    return _from_latin1_view(_BUS_UNESCAPE_RE.sub(_bus_unescape_match, _latin1_view(label)))


def _bus_unescape_match(m: re.Match[str]) -> str:
    return chr(int(m.group()[1:], 16))


def to_dbus_path(name: str) -> str:
    """The object path of a unit: ``/org/freedesktop/systemd1/unit/foo_2eservice``.

    (unit_dbus_path_from_name)
    """
    return UNIT_DBUS_PATH_PREFIX + bus_label_escape(name)


def from_dbus_path(path: str) -> str:
    """The unit name in a unit object path (unit_name_from_dbus_path).

    >>> from_dbus_path("/org/freedesktop/systemd1/unit/getty_40tty1_2eservice")
    'getty@tty1.service'
    """
    if not path.startswith(UNIT_DBUS_PATH_PREFIX):
        raise _error("unit object path", path, f"it does not start with {UNIT_DBUS_PATH_PREFIX!r}")
    return bus_label_unescape(path[len(UNIT_DBUS_PATH_PREFIX) :])


# ------------------------------------------------------------------ specifiers

_Specifier = Literal["n", "N", "p", "P", "i", "I", "j", "J", "f"]


def specifier(name: str, letter: _Specifier) -> str:
    """What ``%<letter>`` expands to in the unit file of unit *name* (core/unit-printf.c).

    Only the specifiers that depend on the name alone: ``%n`` name,
    ``%N`` name without suffix, ``%p`` prefix, ``%P`` unescaped prefix,
    ``%i`` instance, ``%I`` unescaped instance, ``%j`` last '-' component
    of the prefix, ``%J`` unescaped, ``%f`` the path the name stands for.

    >>> specifier("getty@tty1.service", "i"), specifier("home-lennart.mount", "f")
    ('tty1', '/home/lennart')
    """
    if letter not in NAME_SPECIFIERS or len(letter) != 1:
        raise _error("name specifier", f"%{letter}", f"known: {NAME_SPECIFIERS}")
    _check_name(name)
    inst = instance(name)
    if letter == "n":
        return name
    if letter == "N":
        return prefix_and_instance(name)
    if letter == "p":
        return prefix(name)
    if letter == "P":
        return unescape(prefix(name))
    if letter == "i":
        return inst or ""
    if letter == "I":
        return unescape(inst or "")
    if letter in "jJ":
        p = prefix(name)
        last = p[p.rfind("-") + 1 :]
        return last if letter == "j" else unescape(last)
    # "f"
    return unescape_path(inst) if inst is not None else to_path(name)


# ------------------------------------------------------------------ siphash

_M64: Final = 0xFFFFFFFFFFFFFFFF


def _siphash24(data: bytes, key: bytes) -> int:
    """SipHash-2-4 of *data* with a 16-byte key (siphash24.c)."""
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:16], "little")
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & _M64
            v1 = ((v1 << 13) | (v1 >> 51)) & _M64
            v1 ^= v0
            v0 = ((v0 << 32) | (v0 >> 32)) & _M64
            v2 = (v2 + v3) & _M64
            v3 = ((v3 << 16) | (v3 >> 48)) & _M64
            v3 ^= v2
            v0 = (v0 + v3) & _M64
            v3 = ((v3 << 21) | (v3 >> 43)) & _M64
            v3 ^= v0
            v2 = (v2 + v1) & _M64
            v1 = ((v1 << 17) | (v1 >> 47)) & _M64
            v1 ^= v2
            v2 = ((v2 << 32) | (v2 >> 32)) & _M64

    full = len(data) - len(data) % 8
    for off in range(0, full, 8):
        m = int.from_bytes(data[off : off + 8], "little")
        v3 ^= m
        rounds(2)
        v0 ^= m
    last = int.from_bytes(data[full:], "little") | ((len(data) & 0xFF) << 56)
    v3 ^= last
    rounds(2)
    v0 ^= last
    v2 ^= 0xFF
    rounds(4)
    return v0 ^ v1 ^ v2 ^ v3
