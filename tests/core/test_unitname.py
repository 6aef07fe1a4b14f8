"""sysd._core.unitname against systemd 252's own vectors (test-unit-name.c, re-checked on 252)."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sysd import unitname as public
from sysd._core import unitname as u
from sysd.errors import InvalidUnitNameError, SysdError


def _conformance_dir() -> Path:
    override = os.environ.get("SYSD_CONFORMANCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "conformance"


VECTORS: dict[str, Any] = json.loads(
    (_conformance_dir() / "unitname_vectors.json").read_text(encoding="utf-8")
)

# --------------------------------------------------------------------- adapters
#
# Each C function of the vectors -> a call of the Python API returning (ret, out)
# in the vectors' terms.  Errors are signalled by InvalidUnitNameError.


def _ok(out: str | None) -> tuple[int, str | None]:
    return 0, out


def _mangle(name: str, flags: int) -> tuple[int, str]:
    out = u.mangle(name, glob=bool(flags & 1))
    return (1 if out != name else 0), out


def _parent(name: str) -> tuple[int, str | None]:
    parent = u.slice_parent(name)
    return (0 if parent is None else 1), parent


def _to_instance(name: str) -> tuple[int, str | None]:
    return int(u.classify(name)), u.instance(name)


def _specifier(name: str, spec: str) -> tuple[None, str]:
    assert spec.startswith("%") and len(spec) == 2
    return None, u.specifier(name, spec[1])  # type: ignore[arg-type]


ADAPTERS: dict[str, Callable[..., tuple[Any, Any]]] = {
    "unit_name_is_valid": lambda n, flags: (u.is_valid(n, u.NameKind(flags)), None),
    "unit_instance_is_valid": lambda i: (u.instance_is_valid(i), None),
    "unit_prefix_is_valid": lambda p: (u.prefix_is_valid(p), None),
    "slice_name_is_valid": lambda n: (u.slice_is_valid(n), None),
    "unit_name_is_hashed": lambda n: (u.is_hashed(n), None),
    "unit_name_prefix_equal": lambda a, b: (u.prefix_equal(a, b), None),
    "unit_name_replace_instance": lambda n, i: _ok(u.replace_instance(n, i)),
    "unit_name_from_path": lambda p, s: _ok(u.from_path(p, s)),
    "unit_name_from_path_instance": lambda pre, p, s: _ok(u.from_path_instance(pre, p, s)),
    "unit_name_to_path": lambda n: _ok(u.to_path(n)),
    "unit_name_mangle": _mangle,
    "slice_build_parent_slice": _parent,
    "slice_build_subslice": lambda s, n: _ok(u.slice_subslice(s, n)),
    "unit_name_template": lambda n: _ok(u.template(n)),
    "unit_name_path_unescape": lambda s: _ok(u.unescape_path(s)),
    "unit_name_to_prefix": lambda n: _ok(u.prefix(n)),
    "unit_name_from_dbus_path": lambda p: _ok(u.from_dbus_path(p)),
    "unit_name_change_suffix": lambda n, s: _ok(u.change_suffix(n, s)),
    "unit_name_build": lambda p, i, s: _ok(u.build(p, i, s)),
    "unit_name_to_instance": _to_instance,
    "unit_name_escape": lambda s: _ok(u.escape(s)),
    "unit_specifier": _specifier,
}


def _vector_id(v: dict[str, Any]) -> str:
    args = ",".join(repr(a) if len(repr(a)) <= 40 else repr(a)[:37] + "..." for a in v["args"])
    return f"{v['func']}({args})"


FUNCTION_VECTORS = VECTORS["functions"]


def test_every_vector_function_has_an_adapter() -> None:
    assert {v["func"] for v in FUNCTION_VECTORS} <= set(ADAPTERS)


@pytest.mark.parametrize("vector", FUNCTION_VECTORS, ids=[_vector_id(v) for v in FUNCTION_VECTORS])
def test_function_vector(vector: dict[str, Any]) -> None:
    call = ADAPTERS[vector["func"]]
    expect = vector["expect"]
    ret = expect.get("ret")
    if isinstance(ret, str):  # "-EINVAL", "<0": an error
        with pytest.raises(InvalidUnitNameError):
            call(*vector["args"])
        return
    got_ret, got_out = call(*vector["args"])
    if ret is not None:
        assert got_ret == ret
    assert got_out == expect.get("out")


# ------------------------------------------------------------------ error paths

INVALID_CALLS: list[tuple[str, Callable[[], object], str]] = [
    ("", lambda: u.prefix(""), "empty"),
    ("foo", lambda: u.prefix("foo"), "no unit type suffix"),
    (".service", lambda: u.prefix(".service"), "nothing before"),
    ("foo.waldo", lambda: u.unit_type("foo.waldo"), "not a unit type"),
    ("@bar.service", lambda: u.instance("@bar.service"), "starts with '@'"),
    ("foo bar.service", lambda: u.suffix("foo bar.service"), "character ' '"),
    ("a" * 250 + ".service", lambda: u.classify("a" * 250 + ".service"), "the limit is 255"),
    ("foo.service", lambda: u.template("foo.service"), "plain name"),
    ("foo.service", lambda: u.replace_instance("foo.service", "x"), "plain name"),
    ("a/b", lambda: u.replace_instance("foo@.service", "a/b"), "instance"),
    ("fo@o", lambda: u.build("fo@o", None, ".service"), "prefix"),
    ("service", lambda: u.build("foo", None, "service"), "unit suffix"),
    (".waldi", lambda: u.from_path("/foo", ".waldi"), "unit suffix"),
    ("/foo/../bar", lambda: u.from_path("/foo/../bar", ".mount"), "'..'"),
    ("..", lambda: u.escape_path(".."), "'..'"),
    (".", lambda: u.escape_path("."), "'.'"),
    ("/a\0b", lambda: u.escape_path("/a\0b"), "NUL"),
    ("/" + "x" * 256, lambda: u.escape_path("/" + "x" * 256), "longer than 255"),
    ("foo\\bar", lambda: u.unescape("foo\\bar"), "\\xNN"),
    ("foo\\x4", lambda: u.unescape("foo\\x4"), "\\xNN"),
    ("", lambda: u.unescape_path(""), "empty"),
    ("foo--bar", lambda: u.unescape_path("foo--bar"), "empty component"),
    ("-foo", lambda: u.unescape_path("-foo"), "starts or ends"),
    ("foo-..", lambda: u.unescape_path("foo-.."), "'..'"),
    (".-bar", lambda: u.unescape_path(".-bar"), "'.'"),
    ("a\\x00b", lambda: u.unescape_path("a\\x00b"), "NUL"),
    ("", lambda: u.mangle(""), "empty"),
    ("mount", lambda: u.mangle("foo", "mount"), "unit suffix"),
    ("foo.service", lambda: u.slice_parent("foo.service"), ".slice"),
    ("a--b.slice", lambda: u.slice_parent("a--b.slice"), "'--'"),
    ("a@b", lambda: u.slice_subslice("a.slice", "a@b"), "component"),
    ("/org/x", lambda: u.from_dbus_path("/org/x"), "does not start"),
    ("short.mount", lambda: u.hash_long("short.mount"), "shorter"),
    ("x" * 300, lambda: u.hash_long("x" * 300), "type suffix"),
    ("waldo", lambda: u.dbus_interface("waldo"), "service"),
    ("\ud800", lambda: u.escape("\ud800"), "lone surrogate"),
]


@pytest.mark.parametrize(
    ("shown", "call", "needle"), INVALID_CALLS, ids=[f"{c[0][:30]!r}" for c in INVALID_CALLS]
)
def test_invalid_input_raises_typed_error_naming_it(
    shown: str, call: Callable[[], object], needle: str
) -> None:
    with pytest.raises(InvalidUnitNameError) as info:
        call()
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, SysdError)
    assert repr(shown)[1:-1][:30] in str(err)
    assert needle in str(err)
    clone = pickle.loads(pickle.dumps(err))
    assert str(clone) == str(err)


def test_suffix_without_dot_gets_a_hint() -> None:
    with pytest.raises(InvalidUnitNameError) as info:
        u.from_path("/home", "mount")
    assert info.value.hint == "write '.mount'"


def test_unknown_specifier_is_a_typed_value_error() -> None:
    with pytest.raises(InvalidUnitNameError, match="%x") as info:
        u.specifier("foo.service", "x")  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError) and isinstance(info.value, SysdError)


TEMPLATE_TYPES = {"service", "socket", "target", "timer", "path"}  # unit_type_may_template


@pytest.mark.parametrize("type_", u.UNIT_TYPES)
def test_instances_of_types_that_cannot_have_them_are_refused(type_: str) -> None:
    # systemd 252 refuses b@a.mount, a@b.swap, _@a.slice (unit_add_name: EINVAL); they
    # pass unit_name_is_valid, so the vectors keep is_valid() true for them.
    for name, template in ((f"b@a.{type_}", False), (f"_@.{type_}", True)):
        assert u.is_valid(name)
        if type_ in TEMPLATE_TYPES:
            assert u.normalize(name, template=template) == name
            continue
        with pytest.raises(InvalidUnitNameError, match="cannot be templates or instances") as info:
            u.normalize(name, template=template)
        escaped = name.replace("@", "\\x40")
        assert repr(escaped) in str(info.value.hint)
        assert u.normalize(escaped) == escaped  # the hint's form is accepted


def test_normalize_against_the_validity_vectors() -> None:
    # every name systemd's own vectors call a valid plain or instance name normalizes,
    # except instances of the types that cannot have them
    names = [
        v["args"][0]
        for v in FUNCTION_VECTORS
        if v["func"] == "unit_name_is_valid" and v["args"][1] == 7 and v["expect"]["ret"]
    ]
    assert "user@1000.slice" in names
    for name in names:
        if u.is_template(name):
            continue
        if "@" in name and u.unit_type(name) not in TEMPLATE_TYPES:
            with pytest.raises(InvalidUnitNameError):
                u.normalize(name)
        else:
            assert u.normalize(name) == name


# ------------------------------------------------------------ further behaviour


@pytest.mark.parametrize(
    ("s", "escaped"),
    [
        ("", ""),
        (".", "\\x2e"),
        ("..", "\\x2e."),
        ("a.b", "a.b"),
        ("/.dotdir", "-.dotdir"),
        ("-", "\\x2d"),
        ("\\", "\\x5c"),
        ("ä", "\\xc3\\xa4"),
        ("\udcff", "\\xff"),  # an undecodable byte, as os.fsdecode gives it
        ("\0", "\\x00"),
    ],
)
def test_escape_edges(s: str, escaped: str) -> None:
    assert u.escape(s) == escaped
    assert u.unescape(escaped) == s


@pytest.mark.parametrize(
    ("path", "escaped"),
    [
        ("/.dotdir", "\\x2edotdir"),
        ("//./a/./b//", "a-b"),
        ("a/./b/.", "a-b"),
        ("./a", "a"),
        ("/a/b/.", "a-b"),
        ("/-", "\\x2d"),
        ("/dev/..", None),
    ],
)
def test_escape_path_simplifies(path: str, escaped: str | None) -> None:
    if escaped is None:
        with pytest.raises(InvalidUnitNameError):
            u.escape_path(path)
    else:
        assert u.escape_path(path) == escaped


def test_unescape_accepts_uppercase_hex() -> None:
    assert u.unescape("\\x2D\\x2d") == "--"


def test_name_length_limit_is_255() -> None:
    ok = "a" * (255 - len(".service")) + ".service"
    assert len(ok) == 255 and u.is_valid(ok)
    assert not u.is_valid("a" + ok)
    with pytest.raises(InvalidUnitNameError, match=r"the limit is 255"):
        u.build("a" * 248, None, ".service")


def test_long_paths_are_hashed_and_not_reversible() -> None:
    name = u.from_path("/" + "/".join(["d" * 200] * 3), ".mount")
    assert len(name) == 255 and u.is_hashed(name) and name.endswith(".mount")
    with pytest.raises(InvalidUnitNameError, match="hash"):
        u.to_path(name)
    with pytest.raises(InvalidUnitNameError, match="limit"):
        u.from_path_instance("x", "/" + "d" * 250, ".service")


@pytest.mark.parametrize(
    ("name", "mangled"),
    [
        ("sshd", "sshd.service"),
        ("foo.*", "foo.\\x2a.service"),
        ("/sys/class/net/eth0", "sys-class-net-eth0.device"),
        ("/dev", "dev.mount"),
        ("/dev/../x", "-dev-..-x.service"),
        ("a b", "a\\x20b.service"),
    ],
)
def test_mangle_edges(name: str, mangled: str) -> None:
    assert u.mangle(name) == mangled


def test_mangle_glob_keeps_patterns_and_suffix() -> None:
    assert u.mangle("foo.*", glob=True) == "foo.*"
    assert u.mangle("[ab]*", glob=True) == "[ab]*"
    assert u.mangle("foo", ".socket", glob=True) == "foo.socket"
    assert u.mangle("foo", u.UnitType.TIMER) == "foo.timer"


def test_dbus_path_round_trip() -> None:
    for name in ["getty@tty1.service", "-.mount", "", "1.service", "ü.service"]:
        path = u.to_dbus_path(name)
        assert path.startswith(u.UNIT_DBUS_PATH_PREFIX)
        assert u.from_dbus_path(path) == name
    assert u.to_dbus_path("1a.service") == u.UNIT_DBUS_PATH_PREFIX + "_31a_2eservice"
    assert u.bus_label_unescape("a_zz_2") == "a_zz_2"  # stray '_' stays literal


def test_types_and_interfaces() -> None:
    assert u.UNIT_TYPES[0] == "service" and len(u.UNIT_TYPES) == 11
    assert u.unit_type("a.socket") is u.UnitType.SOCKET
    assert u.suffix("a@b.timer") == ".timer"
    assert u.dbus_interface(u.UnitType.AUTOMOUNT) == "org.freedesktop.systemd1.Automount"
    assert u.prefix_and_instance("a@b.timer") == "a@b"
    assert u.build("a", None, u.UnitType.SLICE) == "a.slice"


def test_public_module_reexports_core() -> None:
    assert sorted(public.__all__) == sorted(u.__all__)
    for name in public.__all__:
        assert getattr(public, name) is getattr(u, name)


# ------------------------------------------------------------------- properties


@given(st.text() | st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_unescape_inverts_escape(s: str) -> None:
    escaped = u.escape(s)
    assert escaped.isascii()
    assert u.unescape(escaped) == s


_PATH_CHARS = st.characters(blacklist_categories=["Cs"], blacklist_characters="/\0")


@given(st.lists(st.text(alphabet=_PATH_CHARS, min_size=1)))
def test_unescape_path_inverts_escape_path(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    try:
        escaped = u.escape_path(path)
    except InvalidUnitNameError:  # ".." or an over-long component
        return
    normalized = "/" + "/".join(p for p in parts if p not in ("", "."))
    assert u.unescape_path(escaped) == normalized


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"])))
def test_mangle_gives_valid_names_and_is_idempotent(s: str) -> None:
    try:
        name = u.mangle(s)
    except InvalidUnitNameError:  # empty, or too long once escaped
        return
    assert u.is_valid(name)
    assert u.mangle(name) == name


@given(st.binary())
def test_bus_label_round_trip(raw: bytes) -> None:
    s = raw.decode("utf-8", "surrogateescape")
    label = u.bus_label_escape(s)
    assert label.isalnum() or "_" in label
    assert u.bus_label_unescape(label) == s


_ANY_TEXT = st.text() | st.sampled_from(["", "-", "/", ".", "@", "a@.service", "-.slice", "\ud800"])
_TEXT_FUNCS: list[Callable[[str], object]] = [
    u.escape,
    u.unescape,
    u.escape_path,
    u.unescape_path,
    u.to_path,
    u.mangle,
    lambda s: u.mangle(s, glob=True),
    u.prefix,
    u.instance,
    u.classify,
    u.template,
    u.unit_type,
    u.slice_parent,
    lambda s: u.from_path(s, ".mount"),
    lambda s: u.from_path_instance("p", s, ".service"),
    lambda s: u.replace_instance("a@.service", s),
    lambda s: u.build(s, s, ".service"),
    lambda s: u.slice_subslice("a.slice", s),
    u.from_dbus_path,
    u.bus_label_escape,
    u.bus_label_unescape,
    lambda s: u.specifier(s, "f"),
    u.hash_long,
]


@given(_ANY_TEXT)
def test_only_typed_errors_escape(s: str) -> None:
    for func in _TEXT_FUNCS:
        try:
            func(s)
        except InvalidUnitNameError:
            pass
    for predicate in (u.is_valid, u.slice_is_valid, u.is_hashed, u.path_is_valid):
        assert isinstance(predicate(s), bool)
