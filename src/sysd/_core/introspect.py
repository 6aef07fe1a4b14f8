"""D-Bus introspection data and signatures without I/O: what a proxy is built from.

* :func:`parse` turns ``org.freedesktop.DBus.Introspectable.Introspect``'s XML into
  frozen :class:`NodeInfo` / :class:`InterfaceInfo` / :class:`MethodInfo` /
  :class:`PropertyInfo` / :class:`SignalInfo` records.  The XML comes from another
  process, so it is parsed as defusedxml does it: expat directly, entity
  declarations of any kind refused (no "billion laughs", no external entities), a
  size limit, and every name and signature checked; anything else raises
  :class:`~sysd.errors.InvalidIntrospectionError`.
* :func:`snake_case` -- the Python name of a D-Bus member (``GetUnitByPID`` ->
  ``get_unit_by_pid``, ``CPUUsageNSec`` -> ``cpu_usage_nsec``).
* :func:`split_signature` and :func:`convert` -- a Python value checked and converted
  for one complete D-Bus type before anything is sent; a mismatch raises
  :class:`~sysd.errors.InvalidCallError` naming the argument.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..errors import InvalidCallError, InvalidIntrospectionError

__all__ = [
    "ArgInfo",
    "InterfaceInfo",
    "MethodInfo",
    "NodeInfo",
    "PropertyInfo",
    "SignalInfo",
    "convert",
    "convert_args",
    "parse",
    "snake_case",
    "split_signature",
]

MAX_XML = 16 * 1024 * 1024  # systemd1's unit node lists every unit: ~50 bytes each

_INTERFACE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_MEMBER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_RE = re.compile(r"^/$|^(/[A-Za-z0-9_]+)+$")
_NODE_NAME_RE = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*$")
_BASIC = frozenset("ybnqiuxtdhsog")
_ACCESS = frozenset({"read", "write", "readwrite"})

# ------------------------------------------------------------------ records


class _Named(Protocol):
    @property
    def py_name(self) -> str: ...


_M = TypeVar("_M", bound=_Named)


@dataclass(frozen=True, slots=True)
class ArgInfo:
    """One argument of a method or signal: its name (may be empty) and D-Bus type."""

    name: str
    signature: str
    direction: str = "in"  # "in" or "out"

    @property
    def py_name(self) -> str:
        return snake_case(self.name) if self.name else ""


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """A method: ``in_args`` sent, ``out_args`` returned."""

    name: str
    in_args: tuple[ArgInfo, ...] = ()
    out_args: tuple[ArgInfo, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def py_name(self) -> str:
        return snake_case(self.name)

    @property
    def in_signature(self) -> str:
        return "".join(a.signature for a in self.in_args)

    @property
    def out_signature(self) -> str:
        return "".join(a.signature for a in self.out_args)

    @property
    def no_reply(self) -> bool:
        return self.annotations.get("org.freedesktop.DBus.Method.NoReply") == "true"


@dataclass(frozen=True, slots=True)
class PropertyInfo:
    """A property: its D-Bus type and ``access`` (read, write or readwrite)."""

    name: str
    signature: str
    access: str = "read"
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def py_name(self) -> str:
        return snake_case(self.name)

    @property
    def readable(self) -> bool:
        return self.access in ("read", "readwrite")

    @property
    def writable(self) -> bool:
        return self.access in ("write", "readwrite")

    @property
    def emits_change(self) -> str:
        """``true``, ``invalidates``, ``const`` or ``false`` (the annotation; default true)."""
        return self.annotations.get("org.freedesktop.DBus.Property.EmitsChangedSignal", "true")


@dataclass(frozen=True, slots=True)
class SignalInfo:
    """A signal and the arguments it carries."""

    name: str
    args: tuple[ArgInfo, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def py_name(self) -> str:
        return snake_case(self.name)

    @property
    def signature(self) -> str:
        return "".join(a.signature for a in self.args)


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    """One interface of an object: its members by D-Bus name."""

    name: str
    methods: Mapping[str, MethodInfo] = field(default_factory=dict)
    properties: Mapping[str, PropertyInfo] = field(default_factory=dict)
    signals: Mapping[str, SignalInfo] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def method(self, name: str) -> MethodInfo | None:
        """A method by its D-Bus name or its snake_case name (None when unknown)."""
        return _lookup(self.methods, name)

    def property(self, name: str) -> PropertyInfo | None:
        """A property by its D-Bus name or its snake_case name (None when unknown)."""
        return _lookup(self.properties, name)

    def signal(self, name: str) -> SignalInfo | None:
        """A signal by its D-Bus name or its snake_case name (None when unknown)."""
        return _lookup(self.signals, name)


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """An object: its interfaces by name and the names of its child nodes."""

    interfaces: Mapping[str, InterfaceInfo] = field(default_factory=dict)
    children: tuple[str, ...] = ()


def _lookup(members: Mapping[str, _M], name: str) -> _M | None:
    found = members.get(name)
    if found is not None:
        return found
    matches = [m for m in members.values() if m.py_name == name]
    return matches[0] if len(matches) == 1 else None


# --------------------------------------------------------------------- names


_SNAKE_1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SNAKE_2 = re.compile(r"([a-z0-9])([A-Z])")
# systemd's unit suffixes that read as one word: CPUUsageNSec, TimeoutUSec, RuntimeMaxUSec
_SNAKE_UNITS = re.compile(r"(?<=[a-z0-9])(N|U)Sec(?=[A-Z0-9]|$)")


def snake_case(name: str) -> str:
    """The Python name of a D-Bus member name.

    ``SetHostname`` -> ``set_hostname``, ``GetUnitByPID`` -> ``get_unit_by_pid``,
    ``CPUUsageNSec`` -> ``cpu_usage_nsec``, ``IPAccounting`` -> ``ip_accounting``.
    """
    name = _SNAKE_UNITS.sub(lambda m: m.group(1) + "sec", name)
    name = _SNAKE_1.sub(r"\1_\2", name)
    name = _SNAKE_2.sub(r"\1_\2", name)
    return name.lower()


# ------------------------------------------------------------------- parsing


class _Builder:
    """Element handlers building a :class:`NodeInfo` (one parse)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.root_seen = False
        self.interfaces: dict[str, InterfaceInfo] = {}
        self.children: list[str] = []
        self.iface: dict[str, Any] | None = None
        self.member: dict[str, Any] | None = None
        self.skipping = 0  # depth inside an element we do not know (ignored as D-Bus does)

    def fail(self, what: str) -> InvalidIntrospectionError:
        return InvalidIntrospectionError(f"invalid introspection data: {what}")

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else None
        self.stack.append(tag)
        if self.skipping:
            self.skipping += 1
            return
        if parent is None:
            if tag != "node":
                raise self.fail(f"the root element is <{tag}>, not <node>")
            self.root_seen = True
            return
        if parent == "node" and len(self.stack) == 2:
            if tag == "interface":
                name = self._name(attrs, "interface", _INTERFACE_RE)
                self.iface = {"name": name, "methods": {}, "properties": {}, "signals": {}}
                self.iface["annotations"] = {}
            elif tag == "node":
                child = attrs.get("name", "")
                if not _NODE_NAME_RE.match(child):
                    raise self.fail(f"child node name {child!r}")
                self.children.append(child)
                self.skipping = 1  # nested introspection of the child: not ours
            else:
                self.skipping = 1
            return
        if parent == "interface" and self.iface is not None:
            if tag in ("method", "signal"):
                name = self._name(attrs, tag, _MEMBER_RE)
                self.member = {"kind": tag, "name": name, "args": [], "annotations": {}}
            elif tag == "property":
                name = self._name(attrs, "property", _MEMBER_RE)
                sig = self._signature(attrs, f"property {name}", single=True)
                access = attrs.get("access", "")
                if access not in _ACCESS:
                    raise self.fail(f"property {name} has access {access!r}")
                self.member = {
                    "kind": "property",
                    "name": name,
                    "signature": sig,
                    "access": access,
                    "annotations": {},
                }
            elif tag == "annotation":
                self._annotation(self.iface["annotations"], attrs)
            else:
                self.skipping = 1
            return
        if parent in ("method", "signal", "property") and self.member is not None:
            kind = self.member["kind"]
            if tag == "arg" and kind != "property":
                where = f"an argument of {self.member['name']}"
                sig = self._signature(attrs, where, single=True)
                default = "in" if kind == "method" else "out"
                direction = attrs.get("direction", default)
                if direction not in ("in", "out") or (kind == "signal" and direction != "out"):
                    raise self.fail(f"{where} has direction {direction!r}")
                arg_name = attrs.get("name", "")
                if arg_name and not _MEMBER_RE.match(arg_name):
                    raise self.fail(f"{where} is named {arg_name!r}")
                self.member["args"].append(ArgInfo(arg_name, sig, direction))
            elif tag == "annotation":
                self._annotation(self.member["annotations"], attrs)
            else:
                self.skipping = 1
            return
        self.skipping = 1

    def end(self, tag: str) -> None:
        self.stack.pop()
        if self.skipping:
            self.skipping -= 1
            return
        depth = len(self.stack)
        if tag == "interface" and depth == 1 and self.iface is not None:
            iface = self.iface
            self.interfaces[iface["name"]] = InterfaceInfo(
                iface["name"],
                iface["methods"],
                iface["properties"],
                iface["signals"],
                iface["annotations"],
            )
            self.iface = None
        elif tag in ("method", "signal", "property") and self.member is not None:
            m, self.member = self.member, None
            assert self.iface is not None
            if tag == "method":
                args = m["args"]
                ins = tuple(a for a in args if a.direction == "in")
                outs = tuple(a for a in args if a.direction == "out")
                self.iface["methods"][m["name"]] = MethodInfo(
                    m["name"], ins, outs, m["annotations"]
                )
            elif tag == "signal":
                self.iface["signals"][m["name"]] = SignalInfo(
                    m["name"], tuple(m["args"]), m["annotations"]
                )
            else:
                self.iface["properties"][m["name"]] = PropertyInfo(
                    m["name"], m["signature"], m["access"], m["annotations"]
                )

    def _name(self, attrs: dict[str, str], what: str, grammar: re.Pattern[str]) -> str:
        name = attrs.get("name")
        if name is None:
            raise self.fail(f"<{what}> without a name")
        if len(name) > 255 or not grammar.match(name):
            raise self.fail(f"{what} name {name!r}")
        return name

    def _signature(self, attrs: dict[str, str], where: str, *, single: bool) -> str:
        sig = attrs.get("type")
        if sig is None:
            raise self.fail(f"{where} has no type")
        try:
            types = split_signature(sig)
        except ValueError:
            raise self.fail(f"{where} has the invalid type {sig!r}") from None
        if single and len(types) != 1:
            raise self.fail(f"{where} has {sig!r}, not a single complete type")
        return sig

    def _annotation(self, into: dict[str, str], attrs: dict[str, str]) -> None:
        name, value = attrs.get("name"), attrs.get("value")
        if name is None or value is None:
            raise self.fail("<annotation> without name or value")
        into[name] = value


def parse(data: str | bytes) -> NodeInfo:
    """Introspection XML -> :class:`NodeInfo`; InvalidIntrospectionError when it is not.

    Entity declarations (internal or external) and external references are refused, as
    defusedxml refuses them; the D-Bus DOCTYPE line itself is allowed.
    """
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_XML:
        raise InvalidIntrospectionError(
            f"invalid introspection data: {len(raw)} bytes (at most {MAX_XML})"
        )
    builder = _Builder()
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def forbidden(*_args: object) -> None:
        raise InvalidIntrospectionError(
            "invalid introspection data: it declares or references an entity (refused)"
        )

    def forbidden_ref(*_args: object) -> int:
        forbidden()
        return 0

    parser.EntityDeclHandler = forbidden
    parser.UnparsedEntityDeclHandler = forbidden
    parser.ExternalEntityRefHandler = forbidden_ref
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    try:
        parser.Parse(raw, True)
    except xml.parsers.expat.ExpatError as exc:
        raise InvalidIntrospectionError(f"invalid introspection data: not XML ({exc})") from None
    if not builder.root_seen:
        raise InvalidIntrospectionError("invalid introspection data: no <node> element")
    return NodeInfo(builder.interfaces, tuple(builder.children))


# ---------------------------------------------------------------- signatures


def _element_end(sig: str, i: int, depth: int) -> int:
    """The index after the complete type starting at ``sig[i]``; ValueError if invalid."""
    if depth > 64 or i >= len(sig):
        raise ValueError(sig)
    c = sig[i]
    if c in _BASIC or c == "v":
        return i + 1
    if c == "a":
        if sig.startswith("{", i + 1):
            if i + 2 >= len(sig) or sig[i + 2] not in _BASIC:
                raise ValueError(sig)
            j = _element_end(sig, i + 3, depth + 1)
            if not sig.startswith("}", j):
                raise ValueError(sig)
            return j + 1
        return _element_end(sig, i + 1, depth + 1)
    if c == "(":
        j = i + 1
        if sig.startswith(")", j):
            raise ValueError(sig)
        while not sig.startswith(")", j):
            j = _element_end(sig, j, depth + 1)
        return j + 1
    raise ValueError(sig)


def split_signature(sig: str) -> list[str]:
    """A signature's complete types (``"sa{sv}as"`` -> ``["s", "a{sv}", "as"]``).

    ValueError when it is not a valid signature (at most 255 characters).
    """
    if len(sig) > 255:
        raise ValueError(sig)
    types = []
    i = 0
    while i < len(sig):
        j = _element_end(sig, i, 0)
        types.append(sig[i:j])
        i = j
    return types


# ----------------------------------------------------------------- converting

_INT_RANGES = {
    "y": (0, 2**8 - 1),
    "n": (-(2**15), 2**15 - 1),
    "q": (0, 2**16 - 1),
    "i": (-(2**31), 2**31 - 1),
    "u": (0, 2**32 - 1),
    "x": (-(2**63), 2**63 - 1),
    "t": (0, 2**64 - 1),
}
_TYPE_NAMES = {
    "y": "a byte (int 0..255)",
    "b": "a bool",
    "n": "an int16",
    "q": "a uint16",
    "i": "an int32",
    "u": "a uint32",
    "x": "an int64",
    "t": "a uint64",
    "d": "a float",
    "h": "a file descriptor (int or object with fileno())",
    "s": "a str",
    "o": "an object path (str)",
    "g": "a signature (str)",
    "v": "a Variant (or a bool, int, float, str, bytes or list of str)",
}


def _describe(sig: str) -> str:
    if sig in _TYPE_NAMES:
        return _TYPE_NAMES[sig]
    if sig == "ay":
        return "bytes"
    if sig.startswith("a{"):
        return f"a mapping ({sig})"
    if sig.startswith("a"):
        return f"a list ({sig})"
    return f"a tuple ({sig})"


class _Mismatch(Exception):
    def __init__(self, where: str, sig: str, value: Any, why: str = "") -> None:
        super().__init__(where)
        self.where, self.sig, self.value, self.why = where, sig, value, why


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def convert(sig: str, value: Any, what: str = "the value") -> Any:
    """``value`` checked and converted for the complete type ``sig``.

    ints and bools are not mixed (``True`` is not a D-Bus int, ``1`` not a bool),
    floats take ints, ``ay`` takes bytes-like values (or a list of ints), arrays take
    any iterable but str/bytes, structs take tuples or lists of the right length,
    dicts take mappings, ``h`` takes an int or anything with ``fileno()``, and ``v`` a
    :class:`~sysd.Variant` or a plain bool/int/float/str/bytes/list of str (whose type
    is guessed: ``b``, ``i`` or ``x`` or ``t``, ``d``, ``s``, ``ay``, ``as``).
    A mismatch raises InvalidCallError naming ``what`` and where inside it.
    """
    try:
        return _convert(sig, value, "")
    except _Mismatch as m:
        inside = f" at {m.where}" if m.where else ""
        why = f": {m.why}" if m.why else ""
        raise InvalidCallError(
            f"{what}{inside} must be {_describe(m.sig)}, not {type(m.value).__name__}"
            f" {_short(m.value)}{why}"
        ) from None


def convert_args(
    args: Sequence[ArgInfo], values: Sequence[Any], kwargs: Mapping[str, Any], where: str
) -> list[Any]:
    """The arguments of a call to ``where`` checked against its introspected ``args``.

    Positional ``values`` first, then ``kwargs`` by argument name (D-Bus or
    snake_case).  Missing, extra or mistyped arguments raise InvalidCallError.
    """
    if len(values) > len(args):
        raise InvalidCallError(
            f"{where} takes {len(args)} argument{'s' if len(args) != 1 else ''}"
            f" ({''.join(a.signature for a in args) or 'none'}), {len(values)} given"
        )
    given: list[Any] = list(values)
    by_name: dict[str, int] = {}
    for i, a in enumerate(args):
        if a.name:
            by_name[a.name] = i
            by_name.setdefault(a.py_name, i)
    slots: list[Any] = given + [_MISSING] * (len(args) - len(given))
    for key, value in kwargs.items():
        i = by_name.get(key, -1)
        if i < 0:
            names = ", ".join(a.name for a in args if a.name) or "none"
            raise InvalidCallError(f"{where} has no argument named {key!r} (arguments: {names})")
        if slots[i] is not _MISSING:
            raise InvalidCallError(f"{where} got argument {key!r} twice")
        slots[i] = value
    out = []
    for i, (a, value) in enumerate(zip(args, slots, strict=True)):
        label = f"argument {i + 1}" + (f" ({a.name})" if a.name else "")
        if value is _MISSING:
            raise InvalidCallError(f"{where}: {label} of type {a.signature!r} is missing")
        out.append(convert(a.signature, value, f"{where}: {label}"))
    return out


class _MissingType:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _MissingType()


def _convert(sig: str, value: Any, where: str) -> Any:
    c = sig[0]
    if c in _INT_RANGES:
        if type(value) is bool or not isinstance(value, int):
            raise _Mismatch(where, sig, value)
        low, high = _INT_RANGES[c]
        if not low <= value <= high:
            raise _Mismatch(where, sig, value, f"out of range {low}..{high}")
        return int(value)
    if c == "b":
        if not isinstance(value, bool):
            raise _Mismatch(where, sig, value)
        return value
    if c == "d":
        if type(value) is bool or not isinstance(value, (int, float)):
            raise _Mismatch(where, sig, value)
        return float(value)
    if c in "sog":
        if not isinstance(value, str):
            raise _Mismatch(where, sig, value)
        if "\0" in value:
            raise _Mismatch(where, sig, value, "it contains a NUL character")
        if c == "o" and not _PATH_RE.match(value):
            raise _Mismatch(where, sig, value, "not a valid object path")
        if c == "g":
            try:
                split_signature(value)
            except ValueError:
                raise _Mismatch(where, sig, value, "not a valid signature") from None
        return str(value)
    if c == "h":
        fd = value
        if not isinstance(fd, int) and hasattr(fd, "fileno"):
            fd = fd.fileno()
        if type(fd) is bool or not isinstance(fd, int) or fd < 0:
            raise _Mismatch(where, sig, value)
        return int(fd)
    if c == "v":
        return _variant(value, where)
    if c == "(":
        fields = split_signature(sig[1:-1])
        if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Sequence):
            raise _Mismatch(where, sig, value)
        if len(value) != len(fields):
            raise _Mismatch(where, sig, value, f"{len(fields)} fields, {len(value)} given")
        pairs = enumerate(zip(fields, value, strict=True))
        return [_convert(f, v, f"{where}[{i}]") for i, (f, v) in pairs]
    # arrays
    child = sig[1:]
    if child.startswith("{"):
        key_sig = child[1]
        value_sig = child[2:-1]
        if not isinstance(value, Mapping):
            raise _Mismatch(where, sig, value)
        return {
            _convert(key_sig, k, f"{where}[{k!r}] (key)"): _convert(value_sig, v, f"{where}[{k!r}]")
            for k, v in value.items()
        }
    if child == "y" and isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise _Mismatch(where, sig, value)
    items = [_convert(child, v, f"{where}[{i}]") for i, v in enumerate(value)]
    return bytes(items) if child == "y" else items


def _variant(value: Any, where: str) -> Any:
    from .._bus.codec import Variant  # the codec's own class: what the marshaller takes

    if isinstance(value, Variant):
        return value
    if isinstance(value, bool):
        return Variant("b", value)
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return Variant("i", value)
        if -(2**63) <= value < 2**63:
            return Variant("x", value)
        if 0 <= value < 2**64:
            return Variant("t", value)
        raise _Mismatch(where, "v", value, "too large for any D-Bus integer")
    if isinstance(value, float):
        return Variant("d", value)
    if isinstance(value, str):
        return Variant("s", _convert("s", value, where))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Variant("ay", bytes(value))
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return Variant("as", _convert("as", value, where))
    raise _Mismatch(where, "v", value, "pass sysd.Variant(signature, value) for other types")
