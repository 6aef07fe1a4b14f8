"""Unit files and drop-ins written from Python, and cat(), against the real systemd 252.

Runs inside the sandbox as root (system manager) and as the unprivileged test
user (user manager).  Every file written is removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import sysd
import sysd.aio
from sysd._async import unitfiles as aunitfiles
from sysd._bus.address import resolve
from sysd._sync.unitfiles import cat, local_unit_dir, remove_dropin, write_dropin, write_unit
from sysd.errors import (
    InvalidUnitFileError,
    UnitFileError,
    UnitFileNotFoundError,
    UnitFilePermissionError,
)

ETC = Path("/etc/systemd/system")
RUN = Path("/run/systemd/system")
ONESHOT = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n"


class Written:
    """Unique unit names; stops the units and removes every file and .d dir after the test."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.names: list[str] = []

    def name(self, stem: str, suffix: str = "service") -> str:
        name = f"sysdt-{stem}-{self.tag}.{suffix}"
        self.names.append(name)
        return name

    def cleanup(self) -> None:
        with sysd.connect() as sd:
            for name in self.names:
                if "@." not in name:
                    try:
                        sd.manager_call("StopUnit", "ss", (name, "replace"))
                        sd.manager_call("ResetFailedUnit", "s", (name,))
                    except sysd.DBusError:
                        pass
                for base in (ETC, RUN):
                    path = base / name
                    if path.is_symlink() or path.exists():
                        path.unlink()
                    dropins = base / (name + ".d")
                    if dropins.is_dir():
                        for child in dropins.iterdir():
                            child.unlink()
                        dropins.rmdir()
            sd.daemon_reload()


@pytest.fixture
def written() -> Iterator[Written]:
    w = Written()
    yield w
    w.cleanup()


def systemctl_cat(name: str, *, user: bool = False) -> subprocess.CompletedProcess[bytes]:
    argv = ["systemctl", "--user"] if user else ["systemctl"]
    return subprocess.run([*argv, "cat", "--no-pager", name], capture_output=True, check=False)


def journal_tail() -> str:
    """The last journal lines: why a unit of the user manager failed (for assertion messages)."""
    out = subprocess.run(
        ["journalctl", "--no-pager", "-n", "30", "-o", "cat"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "\njournal:\n" + out.stdout


def listing() -> dict[str, list[str]]:
    return {str(d): sorted(os.listdir(d)) for d in (ETC, RUN) if d.is_dir()}


# ------------------------------------------------------------------ writing


def test_write_unit_is_loaded_and_starts(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("start")
    path = write_unit(sd, name, ONESHOT)
    assert path == ETC / name
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o644 and stat.S_ISREG(st.st_mode)
    assert path.read_text() == ONESHOT
    unit = sd.unit(name)  # the implicit daemon-reload loaded it
    assert unit.get("LoadState") == "loaded"
    assert unit.get("FragmentPath") == str(path)
    assert unit.start().result == "done"
    assert unit.is_active()


def test_write_unit_replaces_and_reload_false(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("replace")
    write_unit(sd, name, "[Unit]\nDescription=first\n" + ONESHOT)
    sd.unit(name).start()  # active: stays loaded (an idle unit is collected, then read anew)
    assert sd.unit(name).get("Description") == "first"
    write_unit(sd, name, b"[Unit]\nDescription=second\n" + ONESHOT.encode(), reload=False)
    assert (ETC / name).read_bytes().startswith(b"[Unit]\nDescription=second\n")
    assert sd.unit(name).get("Description") == "first"  # not reloaded
    assert sd.unit(name).get("NeedDaemonReload") is True
    sd.daemon_reload()
    assert sd.unit(name).get("Description") == "second"


def test_dropin_takes_effect_after_restart(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("env")
    out = Path(f"/run/sysdt-env-{written.tag}.out")
    write_unit(
        sd,
        name,
        "[Service]\nType=oneshot\nRemainAfterExit=yes\n"
        f"ExecStart=/bin/sh -c 'echo \"[$FOO]\" > {out}'\n",
    )
    try:
        unit = sd.unit(name)
        unit.start()
        assert out.read_text() == "[]\n"
        path = write_dropin(sd, name, "50-env.conf", "[Service]\nEnvironment=FOO=bar\n")
        assert path == ETC / (name + ".d") / "50-env.conf"
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert unit.get("DropInPaths") == [str(path)]
        unit.restart()
        assert out.read_text() == "[bar]\n"
    finally:
        out.unlink(missing_ok=True)


def test_runtime_writes_below_run(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("runtime")
    path = write_unit(sd, name, ONESHOT, runtime=True)
    assert path == RUN / name and not (ETC / name).exists()
    dropin = write_dropin(sd, name, "x.conf", "[Unit]\nDescription=rt\n", runtime=True)
    assert dropin == RUN / (name + ".d") / "x.conf"
    unit = sd.unit(name)
    assert unit.get("FragmentPath") == str(path)
    assert unit.get("Description") == "rt"
    assert local_unit_dir(sd, runtime=True) == str(RUN)
    assert local_unit_dir(sd) == str(ETC)


def test_template_dropin_reaches_instances(sd: sysd.Systemd, written: Written) -> None:
    template = f"sysdt-tpl-{written.tag}@.service"
    written.names.append(template)
    instance = template.replace("@.", "@one.")
    written.names.append(instance)
    write_unit(sd, template, "[Unit]\nDescription=tpl %i\n" + ONESHOT)
    write_dropin(sd, template, "10-all.conf", "[Unit]\nDescription=all %i\n")
    write_dropin(sd, instance, "20-one.conf", "[Unit]\nDescription=only %i\n")
    unit = sd.unit(instance)
    assert unit.get("Description") == "only one"
    assert unit.start().result == "done"
    assert cat(sd, instance).encode() == systemctl_cat(instance).stdout
    # an instance may have its own fragment, which systemd prefers to the template
    write_unit(sd, instance, "[Unit]\nDescription=own\n" + ONESHOT)
    assert sd.unit(instance).get("FragmentPath") == str(ETC / instance)


def test_remove_dropin(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("remove")
    write_unit(sd, name, ONESHOT)
    a = write_dropin(sd, name, "a.conf", "[Unit]\nDescription=a\n", reload=False)
    b = write_dropin(sd, name, "b.conf", "[Unit]\nDescription=b\n")
    unit = sd.unit(name)
    assert unit.get("Description") == "b"
    assert remove_dropin(sd, name, "b.conf") is True
    assert not b.exists() and a.exists()  # the directory stays while not empty
    assert unit.get("Description") == "a"  # reloaded
    assert remove_dropin(sd, unit, "b.conf") is False  # nothing there: no error
    assert remove_dropin(sd, unit, "a.conf") is True
    assert not a.parent.exists()  # the empty <unit>.d went too
    assert unit.get("DropInPaths") == []
    assert remove_dropin(sd, name, "a.conf") is False
    assert remove_dropin(sd, name, "a.conf", runtime=True) is False


def test_large_text_is_written_whole(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("large")
    comment = "".join(f"# line {i} {'x' * 100}\n" for i in range(40_000))  # ~4.5 MB
    text = comment + ONESHOT
    path = write_unit(sd, name, text)
    assert path.read_text() == text
    assert [p for p in os.listdir(ETC) if p.startswith(".#")] == []
    assert sd.unit(name).get("LoadState") == "loaded"


def test_readers_never_see_a_half_written_file(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("atomic")
    texts = [("# A\n" * 200_000) + ONESHOT, ("# B\n" * 150_000) + ONESHOT]
    write_unit(sd, name, texts[0], reload=False)
    path = ETC / name
    seen: set[int] = set()
    bad: list[int] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            data = path.read_text()
            if data in texts:
                seen.add(texts.index(data))
            else:
                bad.append(len(data))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(30):
            write_unit(sd, name, texts[i % 2], reload=False)
    finally:
        done.set()
        thread.join()
    assert bad == []
    assert seen  # the reader did read
    assert [p for p in os.listdir(ETC) if p.startswith(".#")] == []


def test_symlinks_are_not_written_through(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("masked")
    (ETC / name).symlink_to("/dev/null")  # a mask
    with pytest.raises(UnitFileError) as info:
        write_unit(sd, name, ONESHOT)
    assert "symlink" in str(info.value) and info.value.path == str(ETC / name)
    assert (ETC / name).is_symlink()  # untouched
    # a symlinked drop-in directory leads outside the unit directory: refused
    elsewhere = Path(f"/run/sysdt-elsewhere-{written.tag}")
    elsewhere.mkdir()
    other = written.name("linkeddir")
    (ETC / (other + ".d")).symlink_to(elsewhere)
    try:
        with pytest.raises(UnitFileError, match="symlink"):
            write_dropin(sd, other, "x.conf", "[Unit]\n")
        assert list(elsewhere.iterdir()) == []
    finally:
        (ETC / (other + ".d")).unlink()
        elsewhere.rmdir()


@pytest.mark.parametrize(
    "call",
    [
        lambda sd: write_unit(sd, "../x.service", ONESHOT),
        lambda sd: write_unit(sd, "a/b.service", ONESHOT),
        lambda sd: write_unit(sd, "/etc/systemd/system/x.service", ONESHOT),
        lambda sd: write_unit(sd, "sysdt-noext", ONESHOT),
        lambda sd: write_unit(sd, "x.txt", ONESHOT),
        lambda sd: write_unit(sd, "sysdt-nul.service", "a\0b"),
        lambda sd: write_dropin(sd, "sysdt-x.service", "../x.conf", "[Unit]\n"),
        lambda sd: write_dropin(sd, "sysdt-x.service", "a/b.conf", "[Unit]\n"),
        lambda sd: write_dropin(sd, "sysdt-x.service", "x.txt", "[Unit]\n"),
        lambda sd: write_dropin(sd, "sysdt-x.service", ".x.conf", "[Unit]\n"),
        lambda sd: write_dropin(sd, "sysdt-x.service", "..", "[Unit]\n"),
        lambda sd: write_dropin(sd, "../sysdt-x.service", "x.conf", "[Unit]\n"),
        lambda sd: write_dropin(sd, "sysdt-x", "x.conf", "[Unit]\n"),
        lambda sd: remove_dropin(sd, "sysdt-x.service", "../x.conf"),
        lambda sd: remove_dropin(sd, "a/b.service", "x.conf"),
    ],
)
def test_invalid_input_is_refused_before_touching_the_disk(sd: sysd.Systemd, call) -> None:  # type: ignore[no-untyped-def]
    before = listing()
    with pytest.raises(ValueError) as info:
        call(sd)
    assert isinstance(info.value, (sysd.InvalidUnitNameError, InvalidUnitFileError))
    assert listing() == before


def test_wrong_text_type(sd: sysd.Systemd) -> None:
    with pytest.raises(TypeError):
        write_unit(sd, "sysdt-type.service", 42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- cat


def test_cat_equals_systemctl_cat_with_two_dropins(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("cat")
    write_unit(sd, name, "[Unit]\nDescription=cat me\n\n" + ONESHOT, reload=False)
    write_dropin(sd, name, "10-a.conf", "[Service]\r\nEnvironment=A=1\r\n", reload=False)
    write_dropin(sd, name, "20-b.conf", b"# caf\xe9 (latin-1)\n[Unit]\nDescription=b", runtime=True)
    text = cat(sd, name)
    expected = systemctl_cat(name)
    assert expected.returncode == 0, expected.stderr
    assert text.encode("utf-8", "surrogateescape") == expected.stdout
    assert text.startswith(f"# {ETC / name}\n[Unit]\nDescription=cat me\n\n[Service]\n")
    assert f"\n\n# {ETC / (name + '.d')}/10-a.conf\n[Service]\nEnvironment=A=1\n" in text
    assert text.endswith(
        f"\n\n# {RUN / (name + '.d')}/20-b.conf\n# caf\udce9 (latin-1)\n[Unit]\nDescription=b\n"
    )
    assert cat(sd, sd.unit(name)) == text


def test_cat_vendor_units(sd: sysd.Systemd, test_user: tuple[str, int]) -> None:
    _name, uid = test_user
    names = ["systemd-journald.service", f"user@{uid}.service", f"user-{uid}.slice", "init.scope"]
    for name in names:
        expected = systemctl_cat(name)
        if expected.returncode:  # init.scope: no file; both say so
            with pytest.raises(UnitFileNotFoundError, match=f"No files found for {name}"):
                cat(sd, name)
            assert f"No files found for {name}." in expected.stderr.decode()
            continue
        assert cat(sd, name).encode("utf-8", "surrogateescape") == expected.stdout, name
    # user@UID.service: the template's fragment and the vendor drop-in of user@.service.d
    text = cat(sd, f"user@{uid}.service")
    assert "\n\n# " in text and "user@.service.d/" in text


def test_cat_masked_and_missing(sd: sysd.Systemd, written: Written) -> None:
    name = written.name("catmask")
    sd.mask(name, runtime=True)
    with pytest.raises(sysd.UnitMaskedError) as info:
        cat(sd, name)
    assert f"Unit {name} is masked." in str(info.value)
    assert systemctl_cat(name).stdout.decode() == f"# Unit {name} is masked.\n"
    sd.unmask(name, runtime=True)
    missing = written.name("nothing")
    with pytest.raises(UnitFileNotFoundError) as nf:
        cat(sd, missing)
    assert str(nf.value) == f"No files found for {missing}."
    assert isinstance(nf.value, FileNotFoundError)
    assert systemctl_cat(missing).stderr.decode() == f"No files found for {missing}.\n"


def test_cat_of_a_template_is_systemctls(sd: sysd.Systemd) -> None:
    """A template cannot be loaded; its file and drop-ins are found on disk (issue 10)."""
    for name in ("user@.service", "getty@.service", "autovt@.service"):
        expected = systemctl_cat(name)
        assert expected.returncode == 0, expected.stderr
        assert cat(sd, name).encode("utf-8", "surrogateescape") == expected.stdout, name
    assert "\n# /" in cat(sd, "user@.service")  # with the vendor drop-in of user@.service.d
    with pytest.raises(UnitFileNotFoundError, match=r"No files found for nosuch@\.service"):
        cat(sd, "nosuch@.service")


# ------------------------------------------------------------- connections


class _NoBus:
    """A stand-in for a connection we must not use: only its target is read."""

    def __init__(self, **kwargs: str) -> None:
        self.target = resolve(**kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"{name} used on a remote connection")


@pytest.mark.parametrize(
    "kwargs",
    [{"host": "root@example.invalid"}, {"machine": "other"}, {"address": "unixexec:path=ssh"}],
)
def test_remote_is_refused(kwargs: dict[str, str]) -> None:
    sd = _NoBus(**kwargs)
    for call in (
        lambda: write_unit(sd, "x.service", ONESHOT),  # type: ignore[arg-type]
        lambda: write_dropin(sd, "x.service", "x.conf", "[Unit]\n"),  # type: ignore[arg-type]
        lambda: remove_dropin(sd, "x.service", "x.conf"),  # type: ignore[arg-type]
        lambda: cat(sd, "x.service"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidUnitFileError, match="this host") as info:
            call()
        assert "connect(user=True)" in str(info.value)


def test_local_address_is_the_system_manager(written: Written) -> None:
    name = written.name("address")
    with sysd.connect(address="unix:path=/run/dbus/system_bus_socket") as sd:
        assert sd.target.scope == "address"
        assert write_unit(sd, name, ONESHOT, runtime=True) == RUN / name
        assert sd.unit(name).get("LoadState") == "loaded"


# -------------------------------------------------------------------- async


def test_async_twin(written: Written) -> None:
    name = written.name("async")

    async def main() -> tuple[str, bool, bool]:
        async with sysd.aio.connect() as sd:
            path = await aunitfiles.write_unit(sd, name, ONESHOT)
            assert path == ETC / name
            await aunitfiles.write_dropin(sd, name, "a.conf", "[Unit]\nDescription=async\n")
            unit = await sd.unit(name)
            await unit.start()
            text = await aunitfiles.cat(sd, unit)
            removed = await aunitfiles.remove_dropin(sd, name, "a.conf")
            gone = not (ETC / (name + ".d")).exists()
            return text, removed, gone

    text, removed, gone = asyncio.run(main())
    assert removed and gone
    assert f"# {ETC / name}\n" in text and "Description=async" in text


def test_async_refusals() -> None:
    async def main() -> None:
        async with sysd.aio.connect() as sd:
            with pytest.raises(InvalidUnitFileError):
                await aunitfiles.write_dropin(sd, "x.service", "a/b.conf", "")
            with pytest.raises(UnitFileNotFoundError):
                await aunitfiles.cat(sd, f"sysdt-none-{uuid.uuid4().hex[:8]}.service")

    asyncio.run(main())


# ------------------------------------------------------- unprivileged user


def test_user_manager_writes_its_own_units(as_user, test_user) -> None:  # type: ignore[no-untyped-def]
    user, uid = test_user
    tag = uuid.uuid4().hex[:8]
    proc = as_user(
        f"""
        import os, subprocess, sysd
        from sysd._sync.unitfiles import cat, remove_dropin, write_dropin, write_unit
        name = "sysdt-user-{tag}.service"
        text = "[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n"
        with sysd.connect(user=True) as sd:
            try:
                print(write_unit(sd, name, text))
                print(write_dropin(sd, name, "a.conf", "[Unit]\\nDescription=mine\\n"))
                print(write_unit(sd, "rt-" + name, text, runtime=True))
                unit = sd.unit(name)
                print(unit.start().result, unit.is_active(), unit.get("Description"))
                got = cat(sd, name).encode()
                want = subprocess.run(["systemctl", "--user", "cat", name],
                                      capture_output=True).stdout
                print("cat", got == want, len(got) > 0)
                print("removed", remove_dropin(sd, name, "a.conf"))
            finally:
                for n in (name, "rt-" + name):
                    try:
                        sd.unit(n).stop()
                    except sysd.SysdError:
                        pass
                for p in (os.path.expanduser("~/.config/systemd/user/" + name),
                          os.environ["XDG_RUNTIME_DIR"] + "/systemd/user/rt-" + name):
                    if os.path.exists(p):
                        os.unlink(p)
                sd.daemon_reload()
        """
    )
    assert proc.returncode == 0, proc.stderr + journal_tail()
    lines = proc.stdout.splitlines()
    config = f"/home/{user}/.config/systemd/user"
    assert lines[0] == f"{config}/sysdt-user-{tag}.service"
    assert lines[1] == f"{config}/sysdt-user-{tag}.service.d/a.conf"
    assert lines[2] == f"/run/user/{uid}/systemd/user/rt-sysdt-user-{tag}.service"
    assert lines[3:] == ["done True mine", "cat True True", "removed True"]


def test_unprivileged_system_write_is_a_typed_permission_error(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import sysd
        from sysd._sync.unitfiles import write_dropin, write_unit
        with sysd.connect() as sd:
            for call in (lambda: write_unit(sd, "sysdt-denied.service", "[Unit]\\n"),
                         lambda: write_dropin(sd, "sysdt-denied.service", "a.conf", "")):
                try:
                    call()
                except PermissionError as e:
                    print(type(e).__name__, isinstance(e, sysd.SysdError), e.errno, e.path)
                    print(str(e))
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"UnitFilePermissionError True 13 {ETC}/sysdt-denied.service"
    assert "connect(user=True)" in lines[1]  # the hint
    assert lines[2].startswith("UnitFilePermissionError True 13 ")
    assert not (ETC / "sysdt-denied.service").exists()
    assert UnitFilePermissionError.__mro__.index(PermissionError) > 0


def test_user_dir_the_manager_does_not_read_is_refused(as_user) -> None:  # type: ignore[no-untyped-def]
    proc = as_user(
        """
        import sysd
        from sysd._sync.unitfiles import write_unit
        with sysd.connect(user=True) as sd:
            try:
                write_unit(sd, "sysdt-elsewhere.service", "[Unit]\\n")
            except ValueError as e:
                print(type(e).__name__, e)
        """,
        env={"XDG_CONFIG_HOME": "/tmp/sysdt-elsewhere"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        "InvalidUnitFileError the user manager does not read units from "
        "/tmp/sysdt-elsewhere/systemd/user"
    ), proc.stdout
    assert not os.path.exists("/tmp/sysdt-elsewhere")
