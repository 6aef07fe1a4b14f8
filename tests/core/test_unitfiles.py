"""sysd._core.unitfiles: directories, names, and systemctl cat's format, pure (tables)."""

from __future__ import annotations

import errno
import os
import pickle

import pytest

from sysd._core import unitfiles as uf
from sysd._core import unitname
from sysd.errors import InvalidUnitNameError, SysdError

# ---------------------------------------------------------------- directories

ENV = {"HOME": "/home/ann", "XDG_RUNTIME_DIR": "/run/user/1000"}


@pytest.mark.parametrize(
    ("scope", "runtime", "environ", "home", "expected"),
    [
        ("system", False, {}, None, "/etc/systemd/system"),
        ("system", True, {}, None, "/run/systemd/system"),
        ("system", False, ENV, None, "/etc/systemd/system"),
        ("user", False, ENV, None, "/home/ann/.config/systemd/user"),
        ("user", True, ENV, None, "/run/user/1000/systemd/user"),
        ("user", False, {**ENV, "XDG_CONFIG_HOME": "/cfg"}, None, "/cfg/systemd/user"),
        ("user", True, {**ENV, "XDG_CONFIG_HOME": "/cfg"}, None, "/run/user/1000/systemd/user"),
        # a relative XDG_CONFIG_HOME is ignored (XDG spec), then HOME
        ("user", False, {**ENV, "XDG_CONFIG_HOME": "cfg"}, None, "/home/ann/.config/systemd/user"),
        ("user", False, {"HOME": "/home/ann/"}, None, "/home/ann/.config/systemd/user"),
        ("user", False, {"HOME": "//home//ann"}, None, "/home/ann/.config/systemd/user"),
        # HOME missing or relative: the password database's home, given by the caller
        ("user", False, {}, "/var/home/ann", "/var/home/ann/.config/systemd/user"),
        ("user", False, {"HOME": "ann"}, "/var/home/ann", "/var/home/ann/.config/systemd/user"),
        ("user", False, {"HOME": ""}, "/root", "/root/.config/systemd/user"),
    ],
)
def test_unit_dir(
    scope: str, runtime: bool, environ: dict[str, str], home: str | None, expected: str
) -> None:
    assert uf.unit_dir(scope, runtime=runtime, environ=environ, home=home) == expected


@pytest.mark.parametrize(
    ("scope", "runtime", "environ", "home", "needle"),
    [
        ("user", True, {"HOME": "/home/ann"}, None, "XDG_RUNTIME_DIR"),
        ("user", True, {"XDG_RUNTIME_DIR": "run/user/1"}, None, "XDG_RUNTIME_DIR"),
        ("user", False, {}, None, "HOME"),
        ("user", False, {"HOME": "x"}, "y", "HOME"),
        ("remote", False, ENV, None, "'remote'"),
        ("address", False, ENV, None, "'address'"),
    ],
)
def test_unit_dir_refused(
    scope: str, runtime: bool, environ: dict[str, str], home: str | None, needle: str
) -> None:
    with pytest.raises(uf.InvalidUnitFileError) as info:
        uf.unit_dir(scope, runtime=runtime, environ=environ, home=home)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("scope", "kinds", "ok"),
    [
        ("system", ["unix"], True),
        ("user", ["unix"], True),
        ("address", ["unix"], True),
        ("address", ["unix", "unix"], True),
        ("address", ["unixexec"], False),
        ("address", ["unix", "unixexec"], False),
        ("remote", ["unixexec"], False),
        ("remote", [], False),
    ],
)
def test_check_local(scope: str, kinds: list[str], ok: bool) -> None:
    if ok:
        uf.check_local(scope, kinds, "x")
        return
    with pytest.raises(uf.InvalidUnitFileError) as info:
        uf.check_local(scope, kinds, "system manager on h (ssh)")
    assert "this host" in str(info.value) and "(ssh)" in str(info.value)
    assert "connect(user=True)" in str(info.value)  # the hint


SYSTEM_PATH = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/lib/systemd/system",
]
USER_PATH = [
    "/home/ann/.config/systemd/user.control",
    "/home/ann/.config/systemd/user",
    "/etc/systemd/user",
    "/run/user/1000/systemd/user",
    "/run/systemd/user",
]


@pytest.mark.parametrize(
    ("scope", "unit_path", "expected"),
    [
        ("system", USER_PATH, "system"),
        ("user", SYSTEM_PATH, "user"),
        ("address", SYSTEM_PATH, "system"),
        ("address", USER_PATH, "user"),
        ("address", ["/etc/systemd/system/"], "system"),
        ("address", [], "user"),
    ],
)
def test_manager_scope(scope: str, unit_path: list[str], expected: str) -> None:
    assert uf.manager_scope(scope, unit_path) == expected


@pytest.mark.parametrize(
    ("directory", "unit_path", "expected"),
    [
        ("/etc/systemd/system", SYSTEM_PATH, True),
        ("/run/systemd/system", SYSTEM_PATH, True),
        ("/etc/systemd/system/", SYSTEM_PATH, True),
        ("/etc/systemd", SYSTEM_PATH, False),
        ("/home/ann/.config/systemd/user", USER_PATH, True),
        ("/home/bob/.config/systemd/user", USER_PATH, False),
        ("/etc/systemd/system", [], False),
        ("/etc/systemd/system", [""], False),
    ],
)
def test_in_search_path(directory: str, unit_path: list[str], expected: bool) -> None:
    assert uf.in_search_path(directory, unit_path) is expected


# ----------------------------------------------------------------------- names

GOOD_UNITS = [
    "foo.service",
    "foo@.service",  # a template's fragment
    "foo@bar.service",  # an instance may have its own fragment (looked up first)
    "foo-.service",  # prefix name: its .d applies to foo-*.service
    "a.b-c:d_e\\x20.socket",
    ".hidden.service",  # systemd reads hidden unit files (FOREACH_DIRENT_ALL)
    "x" * 247 + ".service",  # 255 characters
]
BAD_UNITS = [
    ("", "empty"),
    ("foo", "no unit type suffix"),
    ("foo.txt", "not a unit type suffix"),
    ("../foo.service", "'/'"),
    ("a/b.service", "'/'"),
    ("/etc/systemd/system/foo.service", "'/'"),
    ("@foo.service", "starts with '@'"),
    ("foo\0.service", "'\\x00'"),
    ("foo .service", "' '"),
    ("x" * 248 + ".service", "limit is 255"),
    (".service", "nothing before"),
]


@pytest.mark.parametrize("name", GOOD_UNITS)
def test_unit_file_names_good(name: str) -> None:
    assert uf.check_unit_file_name(name) == name
    assert uf.dropin_dir_name(name) == name + ".d"


@pytest.mark.parametrize(("name", "why"), BAD_UNITS)
def test_unit_file_names_bad(name: str, why: str) -> None:
    with pytest.raises(InvalidUnitNameError) as info:
        uf.check_unit_file_name(name)
    assert why in str(info.value), str(info.value)
    with pytest.raises(InvalidUnitNameError):
        uf.dropin_dir_name(name)


def test_unit_file_name_hints() -> None:
    with pytest.raises(InvalidUnitNameError) as info:
        uf.check_unit_file_name("nginx")
    assert info.value.hint == "did you mean 'nginx.service'?"
    with pytest.raises(InvalidUnitNameError) as info:
        uf.check_unit_file_name("/etc/systemd/system/x.service")
    assert info.value.hint == "give a unit name, not a path"
    with pytest.raises(InvalidUnitNameError, match="expected a str"):
        uf.check_unit_file_name(b"foo.service")


@pytest.mark.parametrize("unit_type", unitname.UNIT_TYPES)
def test_dropin_dir_of_a_unit_type(unit_type: str) -> None:
    """Top-level drop-ins (``service.d``) apply to every unit of the type (systemd 252)."""
    assert uf.dropin_dir_name(unit_type) == unit_type + ".d"


GOOD_DROPINS = ["x.conf", "50-override.conf", "a.b.conf", "ä.conf", "x" * 250 + ".conf"]
BAD_DROPINS = [
    ("", "empty"),
    ("../x.conf", "'/'"),
    ("a/b.conf", "'/'"),
    ("/etc/x.conf", "'/'"),
    ("x.txt", "'.conf'"),
    ("x.conf.bak", "'.conf'"),
    ("x.conf~", "'.conf'"),
    ("x", "'.conf'"),
    (".", "starts with '.'"),
    ("..", "starts with '.'"),
    (".conf", "starts with '.'"),
    (".x.conf", "starts with '.'"),
    ("x\0.conf", "NUL"),
    ("x" * 251 + ".conf", "limit is 255"),
    ("ä" * 126 + ".conf", "257 bytes"),
    ("\ud800.conf", "encoded"),  # a lone surrogate that stands for no byte
]


@pytest.mark.parametrize("name", GOOD_DROPINS)
def test_dropin_names_good(name: str) -> None:
    assert uf.check_dropin_name(name) == name


@pytest.mark.parametrize(("name", "why"), BAD_DROPINS)
def test_dropin_names_bad(name: str, why: str) -> None:
    with pytest.raises(uf.InvalidUnitFileError) as info:
        uf.check_dropin_name(name)
    assert why in str(info.value), str(info.value)
    assert isinstance(info.value, ValueError)


def test_dropin_name_type_and_hint() -> None:
    with pytest.raises(uf.InvalidUnitFileError, match="expected a str"):
        uf.check_dropin_name(None)
    with pytest.raises(uf.InvalidUnitFileError) as info:
        uf.check_dropin_name("override.txt")
    assert info.value.hint == "e.g. '50-override.conf'"


def test_surrogate_escaped_dropin_name_is_a_file_name() -> None:
    name = os.fsdecode(b"\xff.conf")  # a byte that is not UTF-8, as os.listdir gives it
    assert uf.check_dropin_name(name) == name


# ------------------------------------------------------------------------ text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", b""),
        ("[Unit]\nDescription=ä\n", b"[Unit]\nDescription=\xc3\xa4\n"),
        (b"[Unit]\n\xff\n", b"[Unit]\n\xff\n"),
        (bytearray(b"x"), b"x"),
    ],
)
def test_encode_text(text: str | bytes, expected: bytes) -> None:
    assert uf.encode_text(text) == expected


def test_encode_text_refusals() -> None:
    with pytest.raises(uf.InvalidUnitFileError, match="NUL byte at offset 3"):
        uf.encode_text("abc\0def")
    with pytest.raises(uf.InvalidUnitFileError, match="NUL byte at offset 0"):
        uf.encode_text(b"\0")
    with pytest.raises(uf.InvalidUnitFileError, match="lone surrogate"):
        uf.encode_text("a\udcffb")
    with pytest.raises(TypeError, match="str or bytes, not int"):
        uf.encode_text(42)


@pytest.mark.parametrize("filename", [b"foo.service", b"50-x.conf", b"x" * 255, "ä".encode() * 127])
def test_temp_name(filename: bytes) -> None:
    tmp = uf.temp_name(filename, "0123456789abcdef")
    assert tmp.startswith(b".#") and tmp.endswith(b"0123456789abcdef")
    assert len(tmp) <= 255
    name = os.fsdecode(tmp)
    assert not unitname.is_valid(name)  # never read as a unit
    assert not name.endswith(".conf")  # never read as a drop-in


# ------------------------------------------------------------- systemctl cat

# test-fileio.c (systemd 252): test_read_line_one_file's buffer, read_line4's EOF endings
FILEIO_BUFFER = (
    b"Some test data\n" + "루Non-ascii chars: ąę„”\n".encode() + b"terminators\r\n"
    b"and even more\n\r"
    b"now the same with a NUL\n\0"
    b"and more\r\0"
    b"and even more\r\n\0"
    b"and yet even more\n\r\0"
    b"With newlines, and a NUL byte\0"
    b"\n"
    b"an empty line\n"
)
FILEIO_LINES = [
    b"Some test data",
    "루Non-ascii chars: ąę„”".encode(),
    b"terminators",
    b"and even more",
    b"now the same with a NUL",
    b"and more",
    b"and even more",
    b"and yet even more",
    b"With newlines, and a NUL byte",
    b"",
    b"an empty line",
]


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (FILEIO_BUFFER, FILEIO_LINES),
        *[
            (b"foo" + end, [b"foo"])
            for end in [
                b"",
                b"\n",
                b"\r",
                b"\0",
                b"\n\0",
                b"\r\0",
                b"\r\n",
                b"\n\r",
                b"\r\n\0",
                b"\n\r\0",
            ]
        ],
        (b"", []),
        (b"\n", [b""]),
        (b"\n\n", [b"", b""]),
        (b"a\n\nb", [b"a", b"", b"b"]),
        (b"a\r\n\r\nb", [b"a", b"", b"b"]),
        (b"a\r\rb", [b"a", b"", b"b"]),
        (b"a\0\nb", [b"a", b"", b"b"]),  # after a NUL any character starts a line
        (b"a\0\0", [b"a", b""]),
        (b"\xff\xfe\n", [b"\xff\xfe"]),
    ],
)
def test_read_lines(data: bytes, lines: list[bytes]) -> None:
    assert uf.read_lines(data) == lines


FRAG = ("/etc/systemd/system/foo.service", b"[Service]\nExecStart=/bin/true\n")
D1 = ("/etc/systemd/system/foo.service.d/10-a.conf", b"[Service]\nEnvironment=A=1\n")
D2 = ("/run/systemd/system/foo.service.d/20-b.conf", b"[Unit]\nDescription=b")  # no final \n


@pytest.mark.parametrize(
    ("fragment", "dropins", "expected"),
    [
        (FRAG, [], b"# /etc/systemd/system/foo.service\n[Service]\nExecStart=/bin/true\n"),
        (
            FRAG,
            [D1, D2],
            b"# /etc/systemd/system/foo.service\n[Service]\nExecStart=/bin/true\n"
            b"\n# /etc/systemd/system/foo.service.d/10-a.conf\n[Service]\nEnvironment=A=1\n"
            b"\n# /run/systemd/system/foo.service.d/20-b.conf\n[Unit]\nDescription=b\n",
        ),
        (
            None,
            [D1, D2],
            b"# /etc/systemd/system/foo.service.d/10-a.conf\n[Service]\nEnvironment=A=1\n"
            b"\n# /run/systemd/system/foo.service.d/20-b.conf\n[Unit]\nDescription=b\n",
        ),
        (("/x.service", b""), [], b"# /x.service\n"),
        (
            ("/x.service", b""),
            [("/x.service.d/a.conf", b"")],
            b"# /x.service\n\n# /x.service.d/a.conf\n",
        ),
        (("/x.service", b"a\r\nb\r\n"), [], b"# /x.service\na\nb\n"),
        (("/x.service", b"\n\n"), [], b"# /x.service\n\n\n"),
        (None, [], b""),
    ],
)
def test_format_cat(
    fragment: tuple[str, bytes] | None, dropins: list[tuple[str, bytes]], expected: bytes
) -> None:
    assert uf.format_cat(fragment, dropins) == expected


def test_format_cat_refuses_a_line_systemctl_cannot_read() -> None:
    limit = uf.LONG_LINE_MAX
    assert uf.format_cat(("/x", b"a" * (limit - 1)), []).endswith(b"a\n")
    with pytest.raises(uf.UnitFileError) as info:
        uf.format_cat(("/x", b"a" * limit + b"\n"), [])
    assert info.value.errno == errno.ENOBUFS and info.value.path == "/x"


# ---------------------------------------------------------------------- errors

ERRORS = [
    (uf.UnitFileError, OSError),
    (uf.UnitFilePermissionError, PermissionError),
    (uf.UnitFileNotFoundError, FileNotFoundError),
    (uf.InvalidUnitFileError, ValueError),
]


@pytest.mark.parametrize(("cls", "builtin"), ERRORS, ids=lambda c: c.__name__)
def test_errors_are_sysd_errors_that_pickle(cls: type[SysdError], builtin: type) -> None:
    assert issubclass(cls, SysdError) and issubclass(cls, builtin)
    exc = cls("something went wrong")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls and str(back) == str(exc)


def test_unit_file_error_fields_pickle() -> None:
    exc = uf.UnitFilePermissionError(
        "cannot write /etc/x", path="/etc/x", errno=errno.EACCES, hint="be root"
    )
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is uf.UnitFilePermissionError
    assert (back.path, back.filename, back.errno, back.strerror, back.hint) == (
        "/etc/x",
        "/etc/x",
        errno.EACCES,
        os.strerror(errno.EACCES),
        "be root",
    )
    assert str(back) == "cannot write /etc/x (hint: be root)"
    default = pickle.loads(pickle.dumps(uf.UnitFilePermissionError("x")))
    assert default.hint == uf.UnitFilePermissionError.hint and default.errno is None


@pytest.mark.parametrize(
    ("code", "cls", "in_text"),
    [
        (errno.EACCES, uf.UnitFilePermissionError, os.strerror(errno.EACCES)),
        (errno.EPERM, uf.UnitFilePermissionError, os.strerror(errno.EPERM)),
        (errno.ENOENT, uf.UnitFileNotFoundError, os.strerror(errno.ENOENT)),
        (errno.ENOSPC, uf.UnitFileError, os.strerror(errno.ENOSPC)),
        (errno.EROFS, uf.UnitFileError, os.strerror(errno.EROFS)),
        (errno.ELOOP, uf.UnitFileError, "symlink"),
    ],
)
def test_error_from_os(code: int, cls: type[uf.UnitFileError], in_text: str) -> None:
    exc = uf.error_from_os(OSError(code, os.strerror(code)), "write", "/etc/systemd/system/x")
    assert type(exc) is cls
    assert exc.errno == code and exc.path == "/etc/systemd/system/x"
    assert str(exc).startswith("cannot write /etc/systemd/system/x: ")
    assert in_text in str(exc)


# ------------------------------------------------------ files of a unit not loaded


def test_dropin_dirs_of_an_instance_and_dash_prefixes() -> None:
    path = ["/etc/systemd/system", "/usr/lib/systemd/system"]
    assert uf.dropin_dirs(["a-b-c@x.service"], path) == [
        "/etc/systemd/system/a-b-c@x.service.d",
        "/etc/systemd/system/a-b-c@.service.d",
        "/etc/systemd/system/a-b-.service.d",
        "/etc/systemd/system/a-.service.d",
        "/usr/lib/systemd/system/a-b-c@x.service.d",
        "/usr/lib/systemd/system/a-b-c@.service.d",
        "/usr/lib/systemd/system/a-b-.service.d",
        "/usr/lib/systemd/system/a-.service.d",
        "/etc/systemd/system/service.d",
        "/usr/lib/systemd/system/service.d",
    ]
    assert uf.dropin_dirs(["getty@.service", "autovt@.service"], path[:1]) == [
        "/etc/systemd/system/getty@.service.d",
        "/etc/systemd/system/autovt@.service.d",
        "/etc/systemd/system/service.d",
    ]
    assert uf.dropin_dirs(["-.slice"], path[:1]) == [
        "/etc/systemd/system/-.slice.d",
        "/etc/systemd/system/slice.d",
    ]


def test_conf_files_first_directory_wins_sorted_by_name() -> None:
    listing = [
        ("/run/x.d", ["b.conf", "a.txt"]),
        ("/usr/lib/x.d/", ["b.conf", "a.conf", ".c.conf"]),
    ]
    assert uf.conf_files(listing, ".conf") == ["/usr/lib/x.d/a.conf", "/run/x.d/b.conf"]
