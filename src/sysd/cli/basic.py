"""Connection options shared by every verb, and the foundation's verbs.

``sysd version``   systemd's version, read over D-Bus
``sysd manager``   the manager's properties (``-p NAME`` to pick, ``--json``)
``sysd call``      any D-Bus method on systemd (arguments as JSON)
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from . import USAGE_ERROR, print_error

if TYPE_CHECKING:
    import sysd


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """The options every verb that talks to systemd takes (systemctl's names)."""
    group = parser.add_argument_group("connection")
    group.add_argument("--user", action="store_true", help="talk to the calling user's manager")
    group.add_argument("--system", action="store_true", help="talk to the system manager (default)")
    group.add_argument("-H", "--host", help="[USER@]HOST[:PORT][/CONTAINER] over ssh")
    group.add_argument("-M", "--machine", help="a local container")
    group.add_argument("--address", help="any D-Bus address (unix:path=..., unixexec:...)")
    group.add_argument(
        "--private",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="systemd's private socket (default: when root and present)",
    )
    group.add_argument(
        "--timeout", type=float, default=25.0, metavar="SEC", help="deadline of each call"
    )
    ask = group.add_mutually_exclusive_group()
    ask.add_argument(
        "--interactive",
        dest="interactive",
        action="store_true",
        default=False,
        help="let polkit ask for a password",
    )
    ask.add_argument(
        "--no-ask-password",
        dest="interactive",
        action="store_false",
        help="never ask (default)",
    )
    group.add_argument("--json", action="store_true", help="machine-readable output")
    group.add_argument(
        "--no-pager", action="store_true", help="do not pipe long output into a pager"
    )


def connect(args: argparse.Namespace) -> sysd.Systemd:
    from .._sync.systemd import connect

    return connect(
        user=args.user,
        address=args.address,
        private=args.private,
        host=args.host,
        machine=args.machine,
        timeout=args.timeout,
        interactive=args.interactive,
    )


def jsonable(value: Any) -> Any:
    """Turn D-Bus values into JSON: bytes as lists of ints, tuples as lists."""
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def _version(args: argparse.Namespace) -> int:
    import json

    with connect(args) as sd:
        version = sd.version
        if args.json:
            print(json.dumps({"version": version, "address": sd.target.description}))
        else:
            print(version)
    return 0


def _manager(args: argparse.Namespace) -> int:
    import json

    from .._sync.systemd import MANAGER_INTERFACE, MANAGER_PATH

    with connect(args) as sd:
        if args.property:
            props = {
                name: sd.get_property(MANAGER_PATH, MANAGER_INTERFACE, name)
                for name in args.property
            }
        else:
            props = sd.get_all(MANAGER_PATH, MANAGER_INTERFACE)
    if args.json:
        print(json.dumps(jsonable(props), indent=2, sort_keys=True))
    elif args.value:
        for value in props.values():
            print(_text(value))
    else:
        for name in sorted(props):
            print(f"{name}={_text(props[name])}")
    return 0


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    return str(value)


def _call(args: argparse.Namespace) -> int:
    import json

    signature = args.signature
    given = list(args.args)
    if signature and not _is_signature(signature):
        # not a signature but a JSON value: the first argument, the signature left out
        given.insert(0, signature)
        signature = ""
    try:
        values = [json.loads(a) for a in given]
    except json.JSONDecodeError as exc:
        print_error(f"sysd call: arguments must be JSON values: {exc}", prefix="")
        return USAGE_ERROR
    destination = args.destination or None
    if args.private is None and destination not in (None, "org.freedesktop.systemd1"):
        args.private = False  # systemd's private socket reaches systemd only
    with connect(args) as sd:
        if signature:
            values = _converted(signature, values)
        elif values:
            # no signature given: the method's own, from the object's introspection
            from .._core.introspect import convert_args

            method = sd.proxy(destination, args.path).interface(args.interface).method(args.member)
            signature = method.info.in_signature
            values = convert_args(
                method.info.in_args, values, {}, f"{args.interface}.{args.member}"
            )
        result = sd.call(
            destination,
            args.path,
            args.interface,
            args.member,
            signature,
            values,
        )
    print(json.dumps(jsonable(result), indent=None if args.json else 2))
    return 0


def _is_signature(text: str) -> bool:
    from .._core.introspect import split_signature

    try:
        split_signature(text)
    except ValueError:
        return False
    return True


def _converted(signature: str, values: list[Any]) -> list[Any]:
    """JSON values checked against ``signature`` (a variant takes a plain JSON value)."""
    from .._core.introspect import convert, split_signature
    from ..errors import InvalidCallError

    try:
        types = split_signature(signature)
    except ValueError:
        raise InvalidCallError(f"invalid D-Bus signature {signature!r}") from None
    if len(types) != len(values):
        raise InvalidCallError(
            f"signature {signature!r} has {len(types)} arguments, {len(values)} given"
        )
    return [
        convert(t, v, f"argument {i + 1}")
        for i, (t, v) in enumerate(zip(types, values, strict=True))
    ]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("version", help="print systemd's version (over D-Bus)")
    add_connection_options(p)
    p.set_defaults(func=_version)

    p = sub.add_parser("manager", help="show the manager's properties")
    add_connection_options(p)
    p.add_argument("-p", "--property", action="append", metavar="NAME", help="only these")
    p.add_argument("--value", action="store_true", help="print values only")
    p.set_defaults(func=_manager)

    p = sub.add_parser("call", help="call any D-Bus method (arguments as JSON values)")
    add_connection_options(p)
    p.add_argument("--destination", default="", help="bus name (default: systemd)")
    p.add_argument("path")
    p.add_argument("interface")
    p.add_argument("member")
    p.add_argument(
        "signature",
        nargs="?",
        default="",
        help="argument types (default: the method's own, from introspection)",
    )
    p.add_argument("args", nargs="*", help="one JSON value per argument")
    p.set_defaults(func=_call)
