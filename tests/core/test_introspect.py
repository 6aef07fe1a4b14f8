"""The pure half of the proxy: introspection XML, names, signatures, argument conversion."""

from __future__ import annotations

from typing import Any

import pytest

from sysd import InvalidCallError, InvalidIntrospectionError, Variant
from sysd._core.introspect import (
    ArgInfo,
    convert,
    convert_args,
    parse,
    snake_case,
    split_signature,
)

HOSTNAME_XML = """<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
 <interface name="org.freedesktop.DBus.Properties">
  <method name="Get">
   <arg name="interface_name" direction="in" type="s"/>
   <arg name="property_name" direction="in" type="s"/>
   <arg name="value" direction="out" type="v"/>
  </method>
  <signal name="PropertiesChanged">
   <arg type="s" name="interface_name"/>
   <arg type="a{sv}" name="changed_properties"/>
   <arg type="as" name="invalidated_properties"/>
  </signal>
 </interface>
 <interface name="org.freedesktop.hostname1">
  <property name="Hostname" type="s" access="read">
   <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="false"/>
  </property>
  <property name="Chassis" type="s" access="readwrite"/>
  <method name="SetHostname">
   <arg type="s" name="hostname" direction="in"/>
   <arg type="b" name="interactive" direction="in"/>
  </method>
  <method name="GetProductUUID">
   <arg type="b" name="interactive" direction="in"/>
   <arg type="ay" name="uuid" direction="out"/>
  </method>
  <future-element><whatever/></future-element>
 </interface>
 <node name="child"/>
 <node name="other"><interface name="x.y"/></node>
</node>
"""


def test_parse_a_real_shape() -> None:
    node = parse(HOSTNAME_XML)
    assert list(node.interfaces) == ["org.freedesktop.DBus.Properties", "org.freedesktop.hostname1"]
    assert node.children == ("child", "other")
    host = node.interfaces["org.freedesktop.hostname1"]
    assert host.properties["Hostname"].signature == "s"
    assert host.properties["Hostname"].emits_change == "false"
    assert not host.properties["Hostname"].writable
    assert host.properties["Chassis"].writable
    set_hostname = host.method("set_hostname")
    assert set_hostname is host.methods["SetHostname"]
    assert set_hostname.in_signature == "sb"
    assert set_hostname.out_signature == ""
    uuid = host.method("GetProductUUID")
    assert uuid is not None
    assert (uuid.in_signature, uuid.out_signature) == ("b", "ay")
    changed = node.interfaces["org.freedesktop.DBus.Properties"].signal("properties_changed")
    assert changed is not None and changed.signature == "sa{sv}as"
    assert host.method("nope") is None


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        ("", "not XML"),
        ("<node>", "not XML"),
        ("<nod/>", "root element"),
        ('<node><interface name="nodots"/></node>', "interface name"),
        ('<node><interface name="a.b"><method/></interface></node>', "without a name"),
        (
            '<node><interface name="a.b"><property name="P" access="read"/></interface></node>',
            "no type",
        ),
        (
            '<node><interface name="a.b"><property name="P" type="a" access="read"/></interface>'
            "</node>",
            "invalid type",
        ),
        (
            '<node><interface name="a.b"><property name="P" type="ss" access="read"/></interface>'
            "</node>",
            "not a single",
        ),
        (
            '<node><interface name="a.b"><property name="P" type="s" access="rw"/></interface>'
            "</node>",
            "access",
        ),
        (
            '<node><interface name="a.b"><method name="M"><arg type="s" direction="sideways"/>'
            "</method></interface></node>",
            "direction",
        ),
        ('<node><node name="../x"/></node>', "child node name"),
        # entities, the "billion laughs" and external ones, are refused outright
        ('<!DOCTYPE node [<!ENTITY a "aaaa">]><node><interface name="a.b"/></node>', "entity"),
        ('<!DOCTYPE node [<!ENTITY a SYSTEM "file:///etc/passwd">]><node>&a;</node>', "entity"),
        ('<!DOCTYPE node [<!ENTITY % p SYSTEM "http://x/y">%p;]><node/>', "entity"),
        (b"<node>\xff</node>", "not XML"),
    ],
)
def test_bad_introspection_is_a_typed_error(xml: str | bytes, says: str) -> None:
    with pytest.raises(InvalidIntrospectionError, match=says):
        parse(xml)


def test_too_large_is_refused() -> None:
    with pytest.raises(InvalidIntrospectionError, match="bytes"):
        parse(b"<node>" + b" " * (16 * 1024 * 1024) + b"</node>")


@pytest.mark.parametrize(
    ("dbus", "python"),
    [
        ("SetHostname", "set_hostname"),
        ("GetUnitByPID", "get_unit_by_pid"),
        ("CPUUsageNSec", "cpu_usage_nsec"),
        ("TimeoutStartUSec", "timeout_start_usec"),
        ("IPAccounting", "ip_accounting"),
        ("NTPSynchronized", "ntp_synchronized"),
        ("Hostname", "hostname"),
        ("hostname1", "hostname1"),
        ("X11Layout", "x11_layout"),
        ("LoadState", "load_state"),
        ("IOReadBytes", "io_read_bytes"),
    ],
)
def test_snake_case(dbus: str, python: str) -> None:
    assert snake_case(dbus) == python


@pytest.mark.parametrize(
    ("sig", "types"),
    [
        ("", []),
        ("sa{sv}as", ["s", "a{sv}", "as"]),
        ("a(sso)u", ["a(sso)", "u"]),
        ("aa{s(ii)}", ["aa{s(ii)}"]),
    ],
)
def test_split_signature(sig: str, types: list[str]) -> None:
    assert split_signature(sig) == types


@pytest.mark.parametrize("sig", ["a", "()", "a{vs}", "a{s}", "(s", "z", "{ss}", "a" * 70 + "s"])
def test_split_signature_refuses(sig: str) -> None:
    with pytest.raises(ValueError):
        split_signature(sig)


@pytest.mark.parametrize(
    ("sig", "value", "out"),
    [
        ("s", "x", "x"),
        ("o", "/a/b", "/a/b"),
        ("g", "a{sv}", "a{sv}"),
        ("b", True, True),
        ("y", 255, 255),
        ("t", 2**64 - 1, 2**64 - 1),
        ("x", -(2**63), -(2**63)),
        ("d", 1, 1.0),
        ("ay", b"\x00\x01", b"\x00\x01"),
        ("ay", [1, 2], b"\x01\x02"),
        ("ay", bytearray(b"z"), b"z"),
        ("as", ("a", "b"), ["a", "b"]),
        ("as", iter(["a"]), ["a"]),
        ("a{ss}", {"k": "v"}, {"k": "v"}),
        ("(sb)", ("a", False), ["a", False]),
        ("a(sv)", [("CPUQuota", 1)], [["CPUQuota", Variant("i", 1)]]),
        ("v", "x", Variant("s", "x")),
        ("v", True, Variant("b", True)),
        ("v", 2**40, Variant("x", 2**40)),
        ("v", 2**64 - 1, Variant("t", 2**64 - 1)),
        ("v", 0.5, Variant("d", 0.5)),
        ("v", b"\x01", Variant("ay", b"\x01")),
        ("v", ["a"], Variant("as", ["a"])),
        ("v", Variant("u", 3), Variant("u", 3)),
        ("h", 0, 0),
    ],
)
def test_convert(sig: str, value: Any, out: Any) -> None:
    assert convert(sig, value) == out


class _File:
    def fileno(self) -> int:
        return 7


def test_convert_fd_from_fileno() -> None:
    assert convert("h", _File()) == 7


@pytest.mark.parametrize(
    ("sig", "value", "says"),
    [
        ("s", 1, "must be a str, not int 1"),
        ("s", "a\0b", "NUL"),
        ("o", "not/a/path", "object path"),
        ("g", "a", "signature"),
        ("b", 1, "must be a bool"),
        ("u", True, "must be a uint32, not bool"),
        ("u", -1, "out of range 0..4294967295"),
        ("y", 256, "out of range"),
        ("d", "1.0", "must be a float"),
        ("as", "abc", "must be a list"),
        ("as", [1], r"at \[0\] must be a str"),
        ("a{ss}", [("a", "b")], "must be a mapping"),
        ("a{ss}", {"a": 1}, r"at \['a'\] must be a str"),
        ("(sb)", ("a",), "2 fields, 1 given"),
        ("(sb)", "ab", "must be a tuple"),
        ("a(sv)", [("x", object())], r"at \[0\]\[1\] must be a Variant"),
        ("h", -1, "file descriptor"),
        ("v", 2**70, "too large"),
    ],
)
def test_convert_refuses_naming_where(sig: str, value: Any, says: str) -> None:
    with pytest.raises(InvalidCallError, match=says):
        convert(sig, value, "the thing")


ARGS = (ArgInfo("hostname", "s"), ArgInfo("interactive", "b"))


def test_convert_args_positional_and_by_name() -> None:
    assert convert_args(ARGS, ["h", False], {}, "M") == ["h", False]
    assert convert_args(ARGS, ["h"], {"interactive": True}, "M") == ["h", True]
    assert convert_args(ARGS, [], {"interactive": True, "hostname": "h"}, "M") == ["h", True]


@pytest.mark.parametrize(
    ("args", "kwargs", "says"),
    [
        (["h", False, 1], {}, "takes 2 arguments"),
        (["h"], {}, r"argument 2 \(interactive\) of type 'b' is missing"),
        ([1, False], {}, r"M: argument 1 \(hostname\) must be a str"),
        (["h"], {"nope": 1}, "no argument named 'nope'"),
        (["h"], {"hostname": "x"}, "twice"),
    ],
)
def test_convert_args_refuses(args: list[Any], kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidCallError, match=says):
        convert_args(ARGS, args, kwargs, "M")
