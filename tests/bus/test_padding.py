"""Non-zero padding and missing string terminators in a body are ProtocolErrors (RELIABILITY
10, 12), as sd-bus refuses them; dbus-fast alone skips those bytes without a look.

The oracle is dbus-fast itself: a byte of a valid message that can be changed without
changing what dbus-fast's own unmarshaller reads (header and values) is padding or a
terminator, and sysd's decoder must refuse the message once it is not zero.  Every such
byte of every message below is tried, on a fresh decoder and on one that has just accepted
the clean message (whose header it then only compares: the body must still be checked).
"""

from __future__ import annotations

import io
import random
import struct

import pytest

from sysd._bus.codec import Unmarshaller
from sysd._bus.padding import walk_body
from sysd._bus.wire import RECV_SIZE, Decoder, Message, MessageType, Variant
from sysd.errors import ProtocolError


def _raw(sig: str, body: list[object], **fields: object) -> bytes:
    fields.setdefault("message_type", MessageType.METHOD_RETURN)
    fields.setdefault("reply_serial", 1)
    msg = Message(serial=2, signature=sig, body=body, validate=False, **fields)  # type: ignore[arg-type]
    return bytes(msg._marshall(False))


def _plain(data: bytes) -> tuple[object, ...] | None:
    """What dbus-fast alone reads from ``data`` (None: it refuses it)."""
    try:
        msg = Unmarshaller(io.BytesIO(data)).unmarshall()  # type: ignore[arg-type]
    except Exception:
        return None
    if msg is None:
        return None
    return (msg.message_type, msg.serial, msg.reply_serial, msg.signature, repr(msg.body))


def _decode(decoder: Decoder, data: bytes) -> str | None:
    """The ProtocolError's text, or None when the message is accepted."""
    decoder.feed(data)
    try:
        assert decoder.next() is not None
    except ProtocolError as exc:
        return str(exc)
    return None


ROW = ("a.service", "A unit", "loaded", "active", "running", "", "/u/a", 0, "", "/")
ROWS = [
    ROW,
    ("b.service", "", "not-found", "inactive", "dead", "", "/u/b", 7, "start", "/job/7"),
    ("c" * 300 + ".service", "Ünïcödé", "loaded", "failed", "failed", "x", "/u/c", 70000, "", "/"),
    ("", "", "", "", "", "", "/", 0, "", "/"),
]

BODIES: list[tuple[str, list[object]]] = [
    ("s", ["x"]),
    ("ys", [7, "ab"]),
    ("yt", [1, 2]),
    ("yd", [1, 1.5]),
    ("y(yt)", [1, [2, 3]]),
    ("yat", [1, [1, 2]]),
    ("yat", [1, []]),  # the padding to an empty array's first element is there too
    ("ya(ss)", [1, []]),
    ("yas", [1, ["a", "", "bcd"]]),
    ("yay", [1, b"\x00\x01"]),
    ("yg", [1, "a{sv}"]),
    ("v", [Variant("s", "active")]),
    ("v", [Variant("o", "/a/b")]),
    ("v", [Variant("u", 5)]),
    ("v", [Variant("b", True)]),
    ("v", [Variant("t", 5)]),
    ("v", [Variant("as", ["x", "yz"])]),
    ("v", [Variant("(is)", [1, "x"])]),
    ("yv", [1, Variant("t", 5)]),
    ("uoss", [1, "/job/1", "a.service", "done"]),
    (
        "a{sv}",
        [
            {
                "A": Variant("t", 5),
                "Bc": Variant("s", "x"),
                "D": Variant("as", ["p", "qr"]),
                "E": Variant("(ss)", ["a", "b"]),
                "F": Variant("ay", b"\x01\x02\x03"),
                "G": Variant("d", 1.5),
                "H": Variant("b", True),
                "I": Variant("g", "as"),
                "J": Variant("a(sasbttttuii)", [["/bin/x", ["x"], False, 1, 2, 3, 4, 5, 6, 7]]),
                "K": Variant("v", Variant("y", 1)),
                "L": Variant("o", "/x"),
                "M": Variant("i", -1),
            }
        ],
    ),
    ("sa{sv}as", ["org.x", {"A": Variant("u", 1), "B": Variant("s", "yz")}, ["C", "DE"]]),
    ("a{oa{sa{sv}}}", [{"/a": {"org.x": {"P": Variant("s", "v")}}}]),
    ("a(ssssssouso)", [[ROW]]),
    ("a(ssssssouso)", [ROWS]),
    ("a(ssssssouso)", [[]]),
    ("a(so)", [[("a", "/b"), ("cd", "/e/f")]]),
    ("a(sb)", [[("a", True), ("bcdef", False)]]),
]


def _flip_bools(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, Variant):
        return Variant(value.signature, _flip_bools(value.value))
    if isinstance(value, dict):
        return {k: _flip_bools(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_flip_bools(v) for v in value]
    return value


def _boolean_bytes(sig: str, body: list[object], clean: bytes) -> set[int]:
    """The bytes of booleans: dbus-fast reads any non-zero u32 as True, so changing one
    of their zero bytes leaves its value alone though it is not padding."""
    flipped = _raw(sig, [_flip_bools(v) for v in body])
    return {i + k for i in range(len(clean)) if clean[i] != flipped[i] for k in range(4)}


@pytest.mark.parametrize(
    ("sig", "body"), BODIES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(BODIES)]
)
def test_every_padding_and_terminator_byte_is_checked(sig: str, body: list[object]) -> None:
    clean = _raw(sig, body)
    assert _decode(Decoder(), clean) is None
    seen = _plain(clean)
    fields_len = int.from_bytes(clean[12:16], "little")
    start = 16 + ((fields_len + 7) & ~7)
    booleans = _boolean_bytes(sig, body, clean)
    checked = 0
    for i in range(start, len(clean)):
        if i in booleans:
            continue
        data = bytearray(clean)
        data[i] = data[i] ^ 0x20 if data[i] else 0x20
        if _plain(bytes(data)) != seen:
            continue  # a byte of a value: dbus-fast reads it
        if clean[i]:
            # an array's length that ends inside its last element reads the same: dbus-fast
            # reads on while it is not reached (sd-bus refuses it; not checked here)
            continue
        why = _decode(Decoder(), bytes(data))
        assert why is not None, f"byte {i} of the body of {sig} changed and accepted"
        assert "padding" in why or "terminating NUL" in why, why
        known = Decoder()
        assert _decode(known, clean) is None
        why = _decode(known, bytes(data))
        assert why is not None and ("padding" in why or "terminating NUL" in why), why
        checked += 1
    assert checked >= 1


def test_padding_of_a_large_message_arriving_in_pieces() -> None:
    # larger than one receive: the decoder streams it to dbus-fast piece by piece and
    # gathers it once more for the check
    rows = [ROW] * 900 + [("zq", "", "", "", "", "", "/u/z", 0, "", "/")] + [ROW] * 100
    clean = _raw("a(ssssssouso)", [rows])
    assert len(clean) > RECV_SIZE
    at = clean.index(b"\x02\x00\x00\x00zq\x00")
    for i, why in ((at + 7, "padding"), (at + 6, "terminating NUL")):
        data = bytearray(clean)
        data[i] = 0x41
        for decoder in (Decoder(), Decoder()):
            got = None
            for k in range(0, len(data), 4096):
                decoder.feed(bytes(data[k : k + 4096]))
                try:
                    msg = decoder.next()
                except ProtocolError as exc:
                    got = str(exc)
                    break
                assert msg is None or k + 4096 >= len(data)
            assert got is not None and why in got, got
    decoder = Decoder()
    for k in range(0, len(clean), 4096):
        decoder.feed(clean[k : k + 4096])
        msg = decoder.next()
    assert msg is not None and len(msg.body[0]) == 1001


def _big_endian(sig: str, body: bytes) -> bytes:
    """A big-endian method return (dbus-fast marshals only little-endian)."""
    fields = b"\x05\x01u\x00" + struct.pack(">I", 1)
    fields += b"\x08\x01g\x00" + bytes([len(sig)]) + sig.encode() + b"\x00"
    head = b"B\x02\x00\x01" + struct.pack(">III", len(body), 2, len(fields)) + fields
    return head + bytes(-len(head) % 8) + body


def test_big_endian_bodies_are_walked() -> None:
    clean = _big_endian("ys", b"\x07\x00\x00\x00" + struct.pack(">I", 2) + b"ab\x00")
    assert _decode(Decoder(), clean) is None
    start = len(clean) - 11
    for i, why in ((start + 1, "padding"), (start + 3, "padding"), (len(clean) - 1, "NUL")):
        data = bytearray(clean)
        data[i] = 0x41
        got = _decode(Decoder(), bytes(data))
        assert got is not None and why in got, got
    rows = _big_endian(
        "a(so)",
        struct.pack(">I", 15)
        + bytes(4)
        + struct.pack(">I", 1)
        + b"a\x00\x00\x00"
        + struct.pack(">I", 2)
        + b"/b\x00",
    )
    assert _decode(Decoder(), rows) is None
    bad = bytearray(rows)
    bad[len(rows) - 15 + 6] = 0x41  # the padding after "a"
    got = _decode(Decoder(), bytes(bad))
    assert got is not None and "padding" in got, got


def test_the_counting_proofs_never_accept_what_the_walk_refuses() -> None:
    # The decoder proves most bodies by counting zero bytes and walks only when the count
    # does not come out; the walk is the reference.  Mutate bytes of valid bodies (seeded,
    # bounded): whatever the decoder accepts, the walk accepts too.
    rng = random.Random(12)
    samples = [_raw(sig, body) for sig, body in BODIES]
    for _ in range(4000):
        data = bytearray(rng.choice(samples))
        fields_len = int.from_bytes(data[12:16], "little")
        start = 16 + ((fields_len + 7) & ~7)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(start, len(data))
            data[i] = rng.choice([0, 0x20, 0xFF, rng.randrange(256)])
        if _decode(Decoder(), bytes(data)) is not None:
            continue
        decoder = Decoder()
        decoder.feed(bytes(data))
        msg = decoder.next()
        assert msg is not None
        walk_body(data, 0, start, len(data), msg.signature, True)
