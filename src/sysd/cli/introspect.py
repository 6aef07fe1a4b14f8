"""``sysd introspect DEST PATH [INTERFACE]``: an object's interfaces, as busctl shows them.

Methods with their signatures, properties with their signatures, current values and
flags, signals; ``--json`` for the same as one JSON object (schema in docs/proxy.md).
Built on :meth:`sysd.Systemd.proxy`: the object is introspected once, the values are
read with one GetAll per interface (property by property where GetAll fails).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ..errors import DBusError
from .basic import add_connection_options, jsonable

if TYPE_CHECKING:
    from .._core.introspect import InterfaceInfo, PropertyInfo
    from .._sync.proxy import Proxy

SYSTEMD = "org.freedesktop.systemd1"
VALUE_WIDTH = 60  # longer values are cut in the table (--full shows them whole)


def _connect(args: argparse.Namespace) -> Any:
    from .._sync.systemd import connect

    private = args.private
    if private is None and args.destination not in ("", SYSTEMD):
        private = False  # systemd's private socket reaches systemd only
    return connect(
        user=args.user,
        address=args.address,
        private=private,
        host=args.host,
        machine=args.machine,
        timeout=args.timeout,
        interactive=args.interactive,
    )


def _values(p: Proxy, iface: InterfaceInfo) -> dict[str, tuple[str, Any]]:
    """Property name -> ("value", v) or ("error", D-Bus error name)."""
    readable = [prop for prop in iface.properties.values() if prop.readable]
    if not readable:
        return {}
    proxy_iface = p.interface(iface.name)
    try:
        every = proxy_iface.get_all()
    except DBusError:
        every = {}
    out: dict[str, tuple[str, Any]] = {}
    for prop in readable:
        if prop.name in every:
            out[prop.name] = ("value", every[prop.name])
            continue
        try:
            out[prop.name] = ("value", proxy_iface.get(prop.name))
        except DBusError as exc:
            out[prop.name] = ("error", exc.name)
    return out


def _flags(prop: PropertyInfo) -> list[str]:
    flags = []
    emits = prop.emits_change
    if emits == "const":
        flags.append("const")
    elif emits == "true":
        flags.append("emits-change")
    elif emits == "invalidates":
        flags.append("emits-invalidation")
    if prop.writable:
        flags.append("writable")
    return flags


def _text(value: Any) -> str:
    """A value as busctl prints it: strings quoted, containers as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(jsonable(value), ensure_ascii=False, separators=(",", ":"))


def _document(p: Proxy, names: list[str], values: bool) -> dict[str, Any]:
    interfaces = []
    for name in names:
        info = p.node.interfaces[name]
        current = _values(p, info) if values else {}
        props = []
        for prop in info.properties.values():
            entry: dict[str, Any] = {
                "name": prop.name,
                "signature": prop.signature,
                "access": prop.access,
                "flags": _flags(prop),
            }
            if prop.name in current:
                kind, v = current[prop.name]
                entry[kind] = jsonable(v)
            props.append(entry)
        interfaces.append(
            {
                "name": name,
                "methods": [
                    {
                        "name": m.name,
                        "in_signature": m.in_signature,
                        "out_signature": m.out_signature,
                        "in_args": [a.name for a in m.in_args],
                        "out_args": [a.name for a in m.out_args],
                        "flags": ["no-reply"] if m.no_reply else [],
                    }
                    for m in info.methods.values()
                ],
                "properties": props,
                "signals": [
                    {"name": s.name, "signature": s.signature, "args": [a.name for a in s.args]}
                    for s in info.signals.values()
                ],
            }
        )
    return {
        "destination": p.destination,
        "path": p.path,
        "interfaces": interfaces,
        "children": list(p.children),
    }


def _introspect(args: argparse.Namespace) -> int:
    from . import print_error

    with _connect(args) as sd:
        p = sd.proxy(args.destination or None, args.path)
        names = [p.interface(args.interface).name] if args.interface else sorted(p.interfaces)
        doc = _document(p, names, not args.no_values)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    rows: list[tuple[str, str, str, str, str]] = []
    for iface in doc["interfaces"]:
        rows.append((iface["name"], "interface", "-", "-", "-"))
        members: list[tuple[str, tuple[str, str, str, str, str]]] = []
        for m in iface["methods"]:
            row = (
                "." + m["name"],
                "method",
                m["in_signature"] or "-",
                m["out_signature"] or "-",
                " ".join(m["flags"]) or "-",
            )
            members.append((m["name"], row))
        for prop in iface["properties"]:
            if "value" in prop:
                value = _text(prop["value"])
                if len(value) > VALUE_WIDTH and not args.full:
                    value = value[: VALUE_WIDTH - 3] + "..."
            elif "error" in prop:
                value = f"({prop['error'].rpartition('.')[2]})"
            else:
                value = "-"
            row = (
                "." + prop["name"],
                "property",
                prop["signature"],
                value,
                " ".join(prop["flags"]),
            )
            members.append((prop["name"], row))
        for s in iface["signals"]:
            members.append(
                (s["name"], ("." + s["name"], "signal", s["signature"] or "-", "-", "-"))
            )
        rows.extend(row for _, row in sorted(members))
    header = ("NAME", "TYPE", "SIGNATURE", "RESULT/VALUE", "FLAGS")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    out = sys.stdout
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        out.write(" ".join([*cells, row[4]]).rstrip() + "\n")
    if not rows:
        print_error(f"{args.path} has no interfaces", prefix="")
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "introspect",
        help="show an object's interfaces, methods, properties (with values) and signals",
    )
    add_connection_options(p)
    p.add_argument("destination", help="bus name (org.freedesktop.hostname1, ...)")
    p.add_argument("path", help="object path (/org/freedesktop/hostname1)")
    p.add_argument("interface", nargs="?", default="", help="only this interface")
    p.add_argument("--no-values", action="store_true", help="do not read property values")
    p.add_argument("-l", "--full", action="store_true", help="do not shorten long values")
    p.set_defaults(func=_introspect)
