"""Hints that fit the call, against the real systemd, dbus-daemon and polkit (as a user)."""

from __future__ import annotations

from typing import Any


def test_hints_of_refusals_fit_the_call(as_user: Any) -> None:
    proc = as_user(
        """
        import sysd
        unit = "/org/freedesktop/systemd1/unit/dbus_2eservice"
        with sysd.connect() as sd:
            try:  # enable() uses EnableUnitFiles, as systemctl: polkit decides
                sd.enable("sysd-test-nothing.service")
            except sysd.InteractiveAuthorizationRequiredError as e:
                print(type(e).__name__, "|", e.hint)
            for call in (
                # the *WithFlags variant is outside the system bus policy for users
                lambda: sd.call(None, "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "EnableUnitFilesWithFlags",
                                "ast", (["sysd-test-nothing.service"], 0)),
                lambda: sd.call(None, unit, "org.freedesktop.DBus.Properties", "Set", "ssv",
                                ("org.freedesktop.systemd1.Unit", "Description",
                                 sysd.Variant("s", "x"))),
            ):
                try:
                    call()
                except sysd.AccessDeniedError as e:
                    print(type(e).__name__, "|", e.hint)
        with sysd.connect(interactive=True) as sd:
            try:
                sd.call(None, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                        "StartUnit", "ss", ("sysd-test-nothing.service", "replace"))
            except sysd.InteractiveAuthorizationRequiredError as e:
                print(type(e).__name__, "|", e.hint)
        """
    )
    assert proc.returncode == 0, proc.stderr
    polkit, enable, set_, start = proc.stdout.splitlines()
    assert polkit.startswith("InteractiveAuthorizationRequiredError |")
    # an enable refused by dbus-daemon's policy: nothing about Properties.Set
    assert enable.startswith("AccessDeniedError |") and "bus policy" in enable
    assert "Properties.Set" not in enable and "set_properties" not in enable
    assert set_.startswith("AccessDeniedError |") and "set_properties" in set_
    # interactive=True already: not told to pass it
    assert start.startswith("InteractiveAuthorizationRequiredError |")
    assert "interactive=True" not in start and "agent" in start
