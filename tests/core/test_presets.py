"""The preset policy as systemd 252's unit_file_query_preset() decides it (no I/O)."""

from __future__ import annotations

import pytest

from sysd._core.presets import PresetRule, parse_presets, preset_files, query_preset

DEBIAN = """\
# comment
; another
enable remote-fs.target
enable getty@.service
disable console-getty.service
disable systemd-journal-gatewayd.*
enable serial-getty@.service ttyS0 ttyS1
disable *
"""


def test_parse() -> None:
    rules = parse_presets([DEBIAN, "  enable   x.service  \nbogus line\nenable\n"])
    assert rules[0] == PresetRule(True, "remote-fs.target")
    assert rules[4] == PresetRule(True, "serial-getty@.service", ("ttyS0", "ttyS1"))
    assert rules[-1] == PresetRule(True, "x.service")
    assert len(rules) == 7


@pytest.mark.parametrize(
    ("name", "enabled"),
    [
        ("remote-fs.target", True),
        ("getty@.service", True),
        ("console-getty.service", False),
        ("systemd-journal-gatewayd.socket", False),
        ("serial-getty@.service", True),
        ("serial-getty@ttyS1.service", True),
        ("serial-getty@ttyS9.service", False),  # not listed: falls through to disable *
        ("other.service", False),
    ],
)
def test_first_matching_rule_decides(name: str, enabled: bool) -> None:
    assert query_preset(parse_presets([DEBIAN]), name) is enabled


def test_no_rule_enables() -> None:
    assert query_preset([], "anything.service") is True
    assert query_preset(parse_presets(["disable a.service"]), "b.service") is True


def test_preset_files_first_directory_wins_and_names_sort() -> None:
    listing = [
        ("/etc/systemd/system-preset", ["90-systemd.preset", "README", ".hidden.preset"]),
        ("/usr/lib/systemd/system-preset", ["90-systemd.preset", "10-vendor.preset"]),
    ]
    assert preset_files(listing) == [
        "/usr/lib/systemd/system-preset/10-vendor.preset",
        "/etc/systemd/system-preset/90-systemd.preset",
    ]
