"""The GPT partition type UUIDs of systemd 252 (``systemd-id128 show``; src/shared/gpt.c).

Pure data and lookups: the table in systemd's order (first match wins, as
``gpt_partition_type_uuid_to_string()``), with the native and secondary architecture's
``root``/``usr`` entries placed where systemd compiled them in.
"""

from __future__ import annotations

import uuid

__all__ = ["NATIVE", "partition_types", "type_name", "type_uuid"]

_ARCH: tuple[tuple[str, str], ...] = (
    ("root-alpha", "6523f8ae3eb14e2aa05a18b695ae656f"),
    ("root-alpha-verity", "fc56d9e9e6e54c06be32e74407ce09a5"),
    ("root-alpha-verity-sig", "d46495b7a053414f80f7700c99921ef8"),
    ("usr-alpha", "e18cf08c33ec4c0d8246c6c6fb3da024"),
    ("usr-alpha-verity", "8cce0d25c0d04a44bd8746331bf1df67"),
    ("usr-alpha-verity-sig", "5c6e1c76076a457aa0fef3b4cd21ce6e"),
    ("root-arc", "d27f46ed29194cb8bd259531f3c16534"),
    ("root-arc-verity", "24b2d9750f974521afa1cd531e421b8d"),
    ("root-arc-verity-sig", "143a70bacbd34f06919f6c05683a78bc"),
    ("usr-arc", "7978a68363164922bbee38bff5a2fecc"),
    ("usr-arc-verity", "fca0598cd88045918c164eda05c7347c"),
    ("usr-arc-verity-sig", "94f9a9a19971427aa40050cb297f0f35"),
    ("root-arm", "69dad7102ce44e3cb16c21a1d49abed3"),
    ("root-arm-verity", "7386cdf2203c47a9a498f2ecce45a2d6"),
    ("root-arm-verity-sig", "42b0455feb11491d98d356145ba9d037"),
    ("usr-arm", "7d0359a302b34f0a865c654403e70625"),
    ("usr-arm-verity", "c215d7517bcd4649be906627490a4c05"),
    ("usr-arm-verity-sig", "d7ff812f37d14902a810d76ba57b975a"),
    ("root-arm64", "b921b0451df041c3af444c6f280d3fae"),
    ("root-arm64-verity", "df3300ced69f4c92978c9bfb0f38d820"),
    ("root-arm64-verity-sig", "6db69de629f44758a7a5962190f00ce3"),
    ("usr-arm64", "b0e01050ee5f4390949a9101b17104e9"),
    ("usr-arm64-verity", "6e11a4e7fbca4dedb9e9e1a512bb664e"),
    ("usr-arm64-verity-sig", "c23ce4ff44bd4b00b2d4b41b3419e02a"),
    ("root-ia64", "993d8d3df80e4225855a9daf8ed7ea97"),
    ("root-ia64-verity", "86ed10d5b60745bb8957d350f23d0571"),
    ("root-ia64-verity-sig", "e98b36ee32ba48829b120ce14655f46a"),
    ("usr-ia64", "4301d2a64e3b4b2abb949e0b2c4225ea"),
    ("usr-ia64-verity", "6a491e033be745458e3883320e0ea880"),
    ("usr-ia64-verity-sig", "8de58bc22a43460db14ea76e4a17b47f"),
    ("root-loongarch64", "77055800792c4f94b39a98c91b762bb6"),
    ("root-loongarch64-verity", "f3393b22e9af4613a9489d3bfbd0c535"),
    ("root-loongarch64-verity-sig", "5afb67ebecc84f85ae8eac1e7c50e7d0"),
    ("usr-loongarch64", "e611c702575c4cbe9a46434fa0bf7e3f"),
    ("usr-loongarch64-verity", "f46b2c2659ae48f09106c50ed47f673d"),
    ("usr-loongarch64-verity-sig", "b024f315d330444c846144bbde524e99"),
    ("root-mips", "e94345446e2c47ccbae212d6deafb44c"),
    ("root-mips-verity", "7a430799f7114c7e8e5b1d685bd48607"),
    ("root-mips-verity-sig", "bba210a29c5d45ee9e87ff2ccbd002d0"),
    ("usr-mips", "773b2abc2a9943988bf503baac40d02b"),
    ("usr-mips-verity", "6e5a1bc8d22349b7bca837a5fcceb996"),
    ("usr-mips-verity-sig", "97ae158df216497b8057f7f905770f54"),
    ("root-mips64", "d113af7680ef41b4bdb60cff4d3d4a25"),
    ("root-mips64-verity", "579536f86a334055a95adf2d5e2c42a8"),
    ("root-mips64-verity-sig", "43ce94d40f3d49998250b9deafd98e6e"),
    ("usr-mips64", "57e13958733143658e6e35eeee17c61b"),
    ("usr-mips64-verity", "81cf9d9074584df48dcfc8a3a404f09b"),
    ("usr-mips64-verity-sig", "05816ce2dd404ac6a61d37d32dc1ba7d"),
    ("root-mips-le", "37c58c8ad9134156a25f48b1b64e07f0"),
    ("root-mips-le-verity", "d7d150d22a044a338f1216651205ff7b"),
    ("root-mips-le-verity-sig", "c919cc1f44564eff918cf75e94525ca5"),
    ("usr-mips-le", "0f4868e999524706979f3ed3a473e947"),
    ("usr-mips-le-verity", "46b98d8db55c4e8faab337fca7f80752"),
    ("usr-mips-le-verity-sig", "3e23ca0ba4bc4b4e80875ab6a26aa8a9"),
    ("root-mips64-le", "700bda437a344507b179eeb93d7a7ca3"),
    ("root-mips64-le-verity", "16b417f83e064f578dd29b5232f41aa6"),
    ("root-mips64-le-verity-sig", "904e58ef5c654a319c576af5fc7c5de7"),
    ("usr-mips64-le", "c97c1f32ba0640b49f22236061b08aa8"),
    ("usr-mips64-le-verity", "3c3d61feb5f3414dbb718739a694a4ef"),
    ("usr-mips64-le-verity-sig", "f2c2c7eeadcc4351b5c6ee9816b66e16"),
    ("root-parisc", "1aacdb3b54444138bd9ee5c2239b2346"),
    ("root-parisc-verity", "d212a430fbc549f9a983a7feef2b8d0e"),
    ("root-parisc-verity-sig", "15de617065d3431c916eb0dcd8393f25"),
    ("usr-parisc", "dc4a448069174262a4ecdb9384949f25"),
    ("usr-parisc-verity", "5843d618ec3748d79f12cea8e08768b2"),
    ("usr-parisc-verity-sig", "450dd7d1322445ec9cf2a43a346d71ee"),
    ("root-ppc", "1de3f1effa9847b58dcd4a860a654d78"),
    ("root-ppc-verity", "98cfe649158846dcb2f0add147424925"),
    ("root-ppc-verity-sig", "1b31b5aaadd9463ab2edbd467fc857e7"),
    ("usr-ppc", "7d14fec5cc71415d9d6c06bf0b3c3eaf"),
    ("usr-ppc-verity", "df765d00270e49e5bc75f47bb2118b09"),
    ("usr-ppc-verity-sig", "7007891dd3714a8086a45cb875b9302e"),
    ("root-ppc64", "912ade1da83949138964a10eee08fbd2"),
    ("root-ppc64-verity", "9225a9a33c194d89b4f6eeff88f17631"),
    ("root-ppc64-verity-sig", "f5e2c20c45b24ffabce92a60737e1aaf"),
    ("usr-ppc64", "2c9739e2f06846b39fd001c5a9afbcca"),
    ("usr-ppc64-verity", "bdb528a5a259475fa87dda53fa736a07"),
    ("usr-ppc64-verity-sig", "0b888863d7f84d9e9766239fce4d58af"),
    ("root-ppc64-le", "c31c45e63f39412e80fb4809c4980599"),
    ("root-ppc64-le-verity", "906bd94445894aaea4e4dd983917446a"),
    ("root-ppc64-le-verity-sig", "d4a236e7e8734c07bf1dbf6cf7f1c3c6"),
    ("usr-ppc64-le", "15bb03af77e74d4ab12bc0d084f7491c"),
    ("usr-ppc64-le-verity", "ee2b998321e8415386d9b6901a54d1ce"),
    ("usr-ppc64-le-verity-sig", "c8bfbd1e268e45218bbabf314c399557"),
    ("root-riscv32", "60d5a7fe8e7d435cb7143dd8162144e1"),
    ("root-riscv32-verity", "ae0253be11674007ac6843926c14c5de"),
    ("root-riscv32-verity-sig", "3a112a7587294380b4cf764d79934448"),
    ("usr-riscv32", "b933fb225c3f4f91af90e2bb0fa50702"),
    ("usr-riscv32-verity", "cb1ee4e38cd04136a0a4aa61a32e8730"),
    ("usr-riscv32-verity-sig", "c3836a13313745bab583b16c50fe5eb4"),
    ("root-riscv64", "72ec70a6cf7440e6bd494bda08e8f224"),
    ("root-riscv64-verity", "b6ed5582440b4209b8da5ff7c419ea3d"),
    ("root-riscv64-verity-sig", "efe0f087ea8d4469821a4c2a96a8386a"),
    ("usr-riscv64", "beaec34b8442439ba40b984381ed097d"),
    ("usr-riscv64-verity", "8f1056be9b0547c481d6be53128e5b54"),
    ("usr-riscv64-verity-sig", "d2f9000a7a18453fb5cd4d32f77a7b32"),
    ("root-s390", "08a7acea624c4a2091e86e0fa67d23f9"),
    ("root-s390-verity", "7ac63b47b25c463b8df8b4a94e6c90e1"),
    ("root-s390-verity-sig", "3482388e4254435aa241766a065f9960"),
    ("usr-s390", "cd0f869bd0fb4ca0b1419ea87cc78d66"),
    ("usr-s390-verity", "b663c618e7bc4d6d90aa11b756bb1797"),
    ("usr-s390-verity-sig", "17440e4fa8d0467fa46e3912ae6ef2c5"),
    ("root-s390x", "5eead9a9fe094a1ea1d7520d00531306"),
    ("root-s390x-verity", "b325bfbec7be4ab88357139e652d2f6b"),
    ("root-s390x-verity-sig", "c80187a573a3491a901a017c3fa953e9"),
    ("usr-s390x", "8a4f577050aa4ed3874a99b710db6fea"),
    ("usr-s390x-verity", "31741cc41a2a4111a581e00b447d2d06"),
    ("usr-s390x-verity-sig", "3f324816667b46ae86ee9b0c0c6c11b4"),
    ("root-tilegx", "c50cdd7038624cc390e1809a8c93ee2c"),
    ("root-tilegx-verity", "966061ec28e44b2eb4a51f0a825a1d84"),
    ("root-tilegx-verity-sig", "b367143997b04a5390f72d5a8f3ad47b"),
    ("usr-tilegx", "55497029c7c144ccaa39815ed1558630"),
    ("usr-tilegx-verity", "2fb4bf5607fa42da81326b139f2026ae"),
    ("usr-tilegx-verity-sig", "4ede75e26ccc4cc8b9c770334b087510"),
    ("root-x86", "44479540f29741b29af7d131d5f0458a"),
    ("root-x86-verity", "d13c5d3bb5d1422ab29f9454fdc89d76"),
    ("root-x86-verity-sig", "5996fc05109c48de808b23fa0830b676"),
    ("usr-x86", "75250d768cc6458ebd66bd47cc81a812"),
    ("usr-x86-verity", "8f461b0d14ee4e819aa9049b6fb97abd"),
    ("usr-x86-verity-sig", "974a71c0de4143c3be5d5c5ccd1ad2c0"),
    ("root-x86-64", "4f68bce3e8cd4db196e7fbcaf984b709"),
    ("root-x86-64-verity", "2c7357edebd246d9aec123d437ec2bf5"),
    ("root-x86-64-verity-sig", "41092b059fc84523994f2def0408b176"),
    ("usr-x86-64", "8484680c952148c69c11b0720656f69e"),
    ("usr-x86-64-verity", "77ff5f63e7b64633acf41565b864c0e6"),
    ("usr-x86-64-verity-sig", "e7bb33fb06cf4e818273e543b413e2e2"),
)

_GENERIC: tuple[tuple[str, str], ...] = (
    ("esp", "c12a7328f81f11d2ba4b00a0c93ec93b"),
    ("xbootldr", "bc13c2ff59e64262a352b275fd6f7172"),
    ("swap", "0657fd6da4ab43c484e50933c84b4f4f"),
    ("home", "933ac7e12eb44f13b8440e14e2aef915"),
    ("srv", "3b8f842520e04f3b907f1a25a76f98e8"),
    ("var", "4d21b016b53445c2a9fb5c16e091fd2d"),
    ("tmp", "7ec6f5573bc54acab29316ef5df639d1"),
    ("user-home", "773f91ef66d449b5bd83d683bf40ad16"),
    ("linux-generic", "0fc63daf848347728e793d69d8477de4"),
)

#: platform.machine() -> (native architecture, secondary architecture or None), as the
#: SD_GPT_ROOT_NATIVE / SD_GPT_ROOT_SECONDARY defines of sd-gpt.h pick them.
NATIVE: dict[str, tuple[str, str | None]] = {
    "x86_64": ("x86-64", "x86"),
    "i386": ("x86", None),
    "i486": ("x86", None),
    "i586": ("x86", None),
    "i686": ("x86", None),
    "aarch64": ("arm64", "arm"),
    "armv7l": ("arm", None),
    "armv6l": ("arm", None),
    "alpha": ("alpha", None),
    "arc": ("arc", None),
    "ia64": ("ia64", None),
    "loongarch64": ("loongarch64", None),
    "mips": ("mips", None),
    "mips64": ("mips64", None),
    "parisc": ("parisc", None),
    "ppc": ("ppc", None),
    "ppc64": ("ppc64", None),
    "ppc64le": ("ppc64-le", None),
    "riscv32": ("riscv32", None),
    "riscv64": ("riscv64", None),
    "s390": ("s390", None),
    "s390x": ("s390x", None),
}


def _sextet(arch: str, label: str) -> list[tuple[str, str]]:
    """The six entries of ``arch`` renamed: ``root-x86-64`` -> ``root`` (label "") or
    ``root-secondary`` (label "secondary")."""
    by_name = dict(_ARCH)
    out = []
    for part in ("root", "usr"):
        for suffix in ("", "-verity", "-verity-sig"):
            name = f"{part}-{label}{suffix}" if label else f"{part}{suffix}"
            out.append((name, by_name[f"{part}-{arch}{suffix}"]))
    return out


def partition_types(machine: str | None = None) -> list[tuple[str, uuid.UUID]]:
    """``systemd-id128 show``'s table for ``machine`` (``platform.machine()`` by default)."""
    if machine is None:
        import platform

        machine = platform.machine()
    rows = list(_ARCH)
    native, secondary = NATIVE.get(machine, (None, None))
    if native is not None:
        rows += _sextet(native, "")
    if secondary is not None:
        rows += _sextet(secondary, "secondary")
    rows += _GENERIC
    return [(name, uuid.UUID(hex=value)) for name, value in rows]


def type_name(value: uuid.UUID, machine: str | None = None) -> str | None:
    """The first name of a partition type UUID, None when systemd does not know it."""
    for name, known in partition_types(machine):
        if known == value:
            return name
    return None


def type_uuid(name: str, machine: str | None = None) -> uuid.UUID | None:
    """The UUID of a partition type name (``"esp"``, ``"root-x86-64"``...), None if unknown."""
    for known, value in partition_types(machine):
        if known == name:
            return value
    return None
