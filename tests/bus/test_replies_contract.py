"""systemd's replies are checked against its schema before sysd converts them (RELIABILITY 12).

A method reply of another signature, or a property of another type, is a ProtocolError:
never a value the typed conversions were not written for (the live fuzzer,
tests/reliability/test_fuzz_live.py, found ``unit()`` getting None for ``Id``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sysd._bus.wire import (
    Message,
    MessageType,
    Variant,
    check_properties,
    check_property,
    reply_value,
)
from sysd._core.schema import INTERFACES
from sysd.errors import ProtocolError

ROOT = Path(__file__).resolve().parents[2]
MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"


def _reply(sig: str, body: list[object]) -> Message:
    return Message(message_type=MessageType.METHOD_RETURN, reply_serial=1, signature=sig, body=body)


def test_the_reply_table_is_generated_from_the_schema() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_replies.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_method_replies_of_the_wrong_signature_are_protocol_errors() -> None:
    assert reply_value(_reply("o", ["/x"]), MANAGER, "GetUnit") == "/x"
    for sig, body in (("", []), ("s", ["/x"]), ("oo", ["/a", "/b"])):
        with pytest.raises(ProtocolError, match=r"GetUnit: signature"):
            reply_value(_reply(sig, body), MANAGER, "GetUnit")
    with pytest.raises(ProtocolError, match="Get: signature ''"):
        reply_value(_reply("", []), "org.freedesktop.DBus.Properties", "Get")
    # methods sysd knows nothing about: anything goes
    assert reply_value(_reply("s", ["x"]), "org.example.Thing", "Do") == "x"


def test_every_schema_method_has_its_reply_signature() -> None:
    for name, iface in INTERFACES.items():
        for m in iface.methods:
            args = {"": [], "o": ["/a"]}
            if m.out_signature in args:
                assert reply_value(
                    _reply(m.out_signature, args[m.out_signature]), name, m.name
                ) in (
                    None,
                    "/a",
                )


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("Id", "a.service", None),
        ("Id", "a.service", 3),
        ("Names", ["a.service"], "a.service"),
        ("InvocationID", b"\x01" * 16, [1, 2]),
        ("ActiveEnterTimestamp", 5, True),  # a bool is not a 't'
        ("CanStart", True, 1),
        ("Conditions", [["a", False, False, "x", 0]], {}),
        ("Requires", [], ()),
    ],
)
def test_properties_of_the_wrong_type_are_protocol_errors(
    name: str, good: object, bad: object
) -> None:
    check_property(UNIT, name, good)
    with pytest.raises(ProtocolError, match=f"{UNIT}.{name}"):
        check_property(UNIT, name, bad)
    with pytest.raises(ProtocolError, match=name):
        check_properties(UNIT, {"Id": "a.service", name: bad} if name != "Id" else {name: bad})
    check_property(UNIT, "NoSuchPropertyYet", object())  # a newer systemd's: not judged
    check_property("org.example.Thing", name, bad)  # not systemd's


def test_a_variant_property_is_never_judged() -> None:
    check_properties("org.example.Thing", {"x": Variant("s", "y")})
