"""`sysd introspect` against busctl introspect, and `sysd call` with introspected types."""

from __future__ import annotations

import json
import subprocess

import pytest

from sysd.cli import main

HOSTNAMED = ("org.freedesktop.hostname1", "/org/freedesktop/hostname1")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _busctl_members(dest: str, path: str) -> set[tuple[str, str, str]]:
    proc = subprocess.run(
        ["busctl", "introspect", "--no-pager", "--no-legend", dest, path],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = set()
    for line in proc.stdout.splitlines():
        name, kind, sig = line.split()[:3]
        rows.add((name, kind, sig))
    return rows


@pytest.mark.parametrize(
    ("dest", "path"),
    [
        HOSTNAMED,
        ("org.freedesktop.timedate1", "/org/freedesktop/timedate1"),
        ("org.freedesktop.locale1", "/org/freedesktop/locale1"),
        ("org.freedesktop.login1", "/org/freedesktop/login1"),
        ("org.freedesktop.machine1", "/org/freedesktop/machine1"),
        ("org.freedesktop.systemd1", "/org/freedesktop/systemd1"),
    ],
)
def test_introspect_lists_what_busctl_lists(
    capsys: pytest.CaptureFixture[str], dest: str, path: str
) -> None:
    code, out, err = run(capsys, "introspect", dest, path, "--no-values")
    assert code == 0, err
    mine = {tuple(line.split()[:3]) for line in out.splitlines()[1:]}
    assert mine == _busctl_members(dest, path)


def test_introspect_shows_values_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "introspect", *HOSTNAMED, "hostname1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["destination"] == HOSTNAMED[0]
    (iface,) = doc["interfaces"]
    assert iface["name"] == "org.freedesktop.hostname1"
    props = {p["name"]: p for p in iface["properties"]}
    hostname = subprocess.run(
        ["busctl", "--json=short", "get-property", *HOSTNAMED, iface["name"], "Hostname"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert props["Hostname"]["value"] == json.loads(hostname.stdout)["data"]
    assert props["Hostname"]["signature"] == "s"
    methods = {m["name"]: m for m in iface["methods"]}
    assert methods["SetHostname"]["in_signature"] == "sb"
    assert methods["SetHostname"]["in_args"] == ["hostname", "interactive"]
    code, out, _ = run(capsys, "introspect", *HOSTNAMED)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith(".KernelName "))
    assert '"Linux"' in line and "const" in line


def test_introspect_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "introspect", "org.example.Nothing", "/")
    assert code == 1 and "ServiceUnknown" in err
    code, _, err = run(capsys, "introspect", HOSTNAMED[0], "/nowhere")
    assert code == 1 and "UnknownObject" in err
    code, _, err = run(capsys, "introspect", *HOSTNAMED, "org.example.Nope")
    assert code == 1 and "no interface 'org.example.Nope'" in err


def test_call_takes_the_signature_from_introspection(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["call", "--destination", HOSTNAMED[0], HOSTNAMED[1], "org.freedesktop.hostname1"]
    code, out, _ = run(capsys, *base, "Describe")
    assert code == 0 and "Hostname" in json.loads(json.loads(out))
    # without a signature, the JSON values are checked against the method's own types
    code, _, err = run(capsys, *base, "SetPrettyHostname", "1", "false")
    assert code == 1
    assert "argument 1 (hostname) must be a str, not int 1" in err
    code, _, err = run(capsys, *base, "SetPrettyHostname", '"x"')
    assert code == 1 and "missing" in err
    # with one, against that (a variant takes a plain JSON value)
    code, _, err = run(capsys, *base, "SetPrettyHostname", "sb", '"x"', "1")
    assert code == 1 and "argument 2 must be a bool" in err
    code, out, _ = run(
        capsys,
        "call",
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        "GetUnit",
        '"dbus.service"',
    )
    assert code == 0 and json.loads(out) == "/org/freedesktop/systemd1/unit/dbus_2eservice"
    code, out, _ = run(
        capsys,
        "call",
        "--destination",
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "GetNameOwner",
        "s",
        '"org.freedesktop.DBus"',
    )
    assert code == 0 and json.loads(out) == "org.freedesktop.DBus"
