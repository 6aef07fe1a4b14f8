"""sysd.id128's pure parts against systemd 252's own expectations (src/test/test-id128.c,
sd-id128.c, id128-util.c) and vectors made with systemd-id128 itself."""

from __future__ import annotations

import errno
import pickle
import uuid

import pytest

from sysd import id128
from sysd._core import gpt
from sysd._core import id128 as core
from sysd.errors import Id128Error, InvalidId128Error, SysdError

WALDI = uuid.UUID(bytes=bytes(range(1, 17)))
STR_WALDI = "0102030405060708090a0b0c0d0e0f10"
UUID_WALDI = "01020304-0506-0708-090a-0b0c0d0e0f10"


@pytest.mark.parametrize(
    "text",
    [
        STR_WALDI,
        UUID_WALDI,
        STR_WALDI.upper(),
        UUID_WALDI.upper(),
        "0102030405060708090A0b0C0d0e0f10",
    ],
)
def test_parse_accepts_both_forms(text: str) -> None:
    assert id128.parse(text) == WALDI
    assert id128.is_valid(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "01020304-0506-0708-090a-0b0c0d0e0f101",  # test-id128.c
        "01020304-0506-0708-090a-0b0c0d0e0f10-",
        "01020304-0506-0708-090a0b0c0d0e0f10",
        "010203040506-0708-090a-0b0c0d0e0f10",
        "0102030405060708090a0b0c0d0e0f1",  # 31 digits
        "0102030405060708090a0b0c0d0e0f100",  # 33
        "0102030405060708090a0b0c0d0e0f1g",
        "{01020304-0506-0708-090a-0b0c0d0e0f10}",  # uuid.UUID takes these; systemd does not
        "urn:uuid:01020304-0506-0708-090a-0b0c0d0e0f10",
        " 0102030405060708090a0b0c0d0e0f10",
        "0102030405060708090a0b0c0d0e0f10\n",
        "01020304+0506-0708-090a-0b0c0d0e0f10",
        "0102030\uff1405060708090a0b0c0d0e0f10",  # a non-ASCII (fullwidth) digit
    ],
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(InvalidId128Error) as info:
        id128.parse(text)
    assert isinstance(info.value, ValueError)
    assert info.value.value == text
    assert "\n" not in str(info.value)
    assert not id128.is_valid(text)


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(InvalidId128Error):
        id128.parse(WALDI)  # type: ignore[arg-type]


def test_format_both_forms() -> None:
    assert id128.format(WALDI) == STR_WALDI
    assert id128.format(WALDI, uuid=True) == UUID_WALDI
    assert id128.format(UUID_WALDI.upper()) == STR_WALDI  # text is parsed first
    assert id128.format(bytes(range(1, 17)), uuid=True) == UUID_WALDI
    with pytest.raises(InvalidId128Error):
        id128.format(b"short")
    with pytest.raises(InvalidId128Error):
        id128.format(42)  # type: ignore[arg-type]


# Made with: unshare -m sh -c 'mount --bind FILE /etc/machine-id &&
#            systemd-id128 machine-id -a APP'   (systemd 252.39), FILE holding BASE.
APP_VECTORS = [
    line.split()
    for line in """
0102030405060708090a0b0c0d0e0f10 f03daaeb1c334b43a732172944bf772e fb9a2c5cf80b4980951b0fcf44503a0d
0102030405060708090a0b0c0d0e0f10 51df0b4bc3b04c9780e299b98ca373b8 b3839597c9d14dc19f26c92ecb5d3c73
ffffffffffffffffffffffffffffffff f03daaeb1c334b43a732172944bf772e 8a8c703e27b74ba5bcd772809a1f1d05
ffffffffffffffffffffffffffffffff 51df0b4bc3b04c9780e299b98ca373b8 e6c0539534414b60a505019ebea1ced7
3d1219c7c4c5404aaa1f6d2a48adfda4 f03daaeb1c334b43a732172944bf772e ed7a2a8ca5c04e069aab9eefc0fde564
3d1219c7c4c5404aaa1f6d2a48adfda4 51df0b4bc3b04c9780e299b98ca373b8 32cf33321b4b45e88b391992260e6eaa
00000000000000000000000000000001 f03daaeb1c334b43a732172944bf772e 6e09e735e3da436e8dd70ab172de5cd4
00000000000000000000000000000001 51df0b4bc3b04c9780e299b98ca373b8 00ad9fb5bc7042118f967861f4a69da3
""".strip().splitlines()
]


@pytest.mark.parametrize(("base", "app", "expected"), APP_VECTORS)
def test_app_specific_vectors(base: str, app: str, expected: str) -> None:
    got = id128.app_specific(base, app)
    assert got.hex == expected
    assert got.version == 4 and got.variant == uuid.RFC_4122
    # any accepted spelling of the inputs gives the same
    assert id128.app_specific(uuid.UUID(base), id128.parse(app).bytes) == got


def test_app_specific_bad_input_names_the_argument() -> None:
    with pytest.raises(InvalidId128Error, match="app ID"):
        id128.app_specific(WALDI, b"x" * 15)
    with pytest.raises(InvalidId128Error):
        id128.app_specific("nope", WALDI)


def test_random_is_v4() -> None:
    seen = {id128.random() for _ in range(64)}
    assert len(seen) == 64
    for ident in seen:
        assert ident.version == 4 and ident.variant == uuid.RFC_4122


def test_make_v4_as_id128_make_v4_uuid() -> None:
    assert core.make_v4(uuid.UUID(int=0)).hex == "00000000000040008000000000000000"
    assert core.make_v4(uuid.UUID(int=2**128 - 1)).hex == "ffffffffffff4fffbfffffffffffffff"
    assert core.from_random_bytes(bytes(16)) == core.make_v4(uuid.UUID(int=0))
    with pytest.raises(InvalidId128Error):
        core.from_random_bytes(b"")


PLAIN = STR_WALDI.encode()
DASHED = UUID_WALDI.encode()


# (file content, accept, result or errno) -- id128_read_fd() and test-id128.c
FILE_CASES = [
    (PLAIN + b"\n", "plain", WALDI),
    (PLAIN, "plain", WALDI),
    (PLAIN + b"\n", "any", WALDI),
    (PLAIN + b"\n", "uuid", errno.EINVAL),
    (DASHED + b"\n", "uuid", WALDI),
    (DASHED, "uuid", WALDI),
    (DASHED + b"\n", "any", WALDI),
    (DASHED + b"\n", "plain", errno.EINVAL),
    (DASHED, "plain", errno.EINVAL),
    (PLAIN + b"\n\n", "any", errno.EINVAL),
    (PLAIN + b" ", "any", errno.EINVAL),
    (DASHED + b"x", "any", errno.EINVAL),
    (b"", "any", errno.ENOMEDIUM),
    (b"uninitialized", "any", errno.ENOPKG),
    (b"uninitialized\n", "any", errno.ENOPKG),
    (b"uninitialized\nfoo", "any", errno.EINVAL),
    (b"uninit", "any", errno.EINVAL),
    (b"uninitializeX", "any", errno.EINVAL),
    (b"\n", "any", errno.EINVAL),
    (PLAIN.upper() + b"\n", "plain", WALDI),
    (b"0102030405060708090a0b0c0d0e0f1\xff", "any", errno.EINVAL),
]


@pytest.mark.parametrize(("data", "accept", "expected"), FILE_CASES)
def test_parse_file(data: bytes, accept: str, expected: uuid.UUID | int) -> None:
    if isinstance(expected, uuid.UUID):
        assert core.parse_file(data, accept=accept) == expected  # type: ignore[arg-type]
        return
    with pytest.raises(Id128Error) as info:
        core.parse_file(data, accept=accept, path="/etc/machine-id")  # type: ignore[arg-type]
    assert info.value.errno == expected
    assert isinstance(info.value, OSError)
    assert info.value.path == "/etc/machine-id"
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("description", "trusted"),
    [
        (b"user;0;0;0b0b0000;invocation_id\0", True),  # what PID 1 sets (execute.c)
        (b"user;0;0;01010000;invocation_id\0", True),  # less is fine
        (b"user;1000;0;0b0b0000;invocation_id\0", False),  # not root's
        (b"user;0;100;0b0b0000;invocation_id\0", False),
        (b"user;0;0;3f010000;invocation_id\0", False),  # possessor may write: forgeable
        (b"user;0;0;0b0f0000;invocation_id\0", False),
    ],
)
def test_keyring_trust(description: bytes, trusted: bool) -> None:
    uid, gid, perm = core.parse_keyring_description(description)
    assert core.keyring_key_trusted(uid, gid, perm) is trusted


@pytest.mark.parametrize("description", [b"", b"user;x;0;1;invocation_id", b"a;b"])
def test_keyring_description_malformed(description: bytes) -> None:
    with pytest.raises(Id128Error) as info:
        core.parse_keyring_description(description)
    assert info.value.errno == errno.EIO


def test_invocation_id_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOCATION_ID", STR_WALDI)
    assert id128.invocation_id() == WALDI
    monkeypatch.setenv("INVOCATION_ID", UUID_WALDI)
    assert id128.invocation_id() == WALDI
    monkeypatch.setenv("INVOCATION_ID", "garbage")
    with pytest.raises(InvalidId128Error, match=r"\$INVOCATION_ID"):
        id128.invocation_id()


def test_errors_pickle() -> None:
    exc = Id128Error("gone", errno=errno.ENOENT, path="/etc/machine-id")
    back = pickle.loads(pickle.dumps(exc))
    assert (back.errno, back.path, str(back)) == (errno.ENOENT, "/etc/machine-id", str(exc))
    assert isinstance(back, SysdError) and isinstance(back, OSError)
    bad = pickle.loads(pickle.dumps(InvalidId128Error("no", value="x")))
    assert bad.value == "x"


GPT_NATIVE = {
    "x86_64": ("x86-64", "x86"),
    "aarch64": ("arm64", "arm"),
    "riscv64": ("riscv64", None),
    "sparc": (None, None),
}


@pytest.mark.parametrize("machine", sorted(GPT_NATIVE))
def test_gpt_native_entries(machine: str) -> None:
    native, secondary = GPT_NATIVE[machine]
    rows = dict(gpt.partition_types(machine))
    if native is None:
        assert "root" not in rows
    else:
        assert rows["root"] == rows[f"root-{native}"]
        assert rows["usr-verity-sig"] == rows[f"usr-{native}-verity-sig"]
        # the first name wins: the architecture's own
        assert gpt.type_name(rows["root"], machine) == f"root-{native}"
    assert ("root-secondary" in rows) is (secondary is not None)
    assert gpt.type_uuid("esp", machine) == uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
    assert gpt.type_uuid("nope", machine) is None
    assert gpt.type_name(WALDI, machine) is None
