"""Preset policy: whether ``systemctl preset`` would enable a unit file (pure; no I/O).

systemd 252's ``unit_file_query_preset()`` (src/shared/install.c): the ``*.preset`` files
of the preset directories, one list ordered by file name (a name in an earlier directory
hides the same name in a later one); in it the first rule whose pattern matches the unit
file's name decides; ``enable`` when no rule does.  ``systemctl list-unit-files`` shows the
answer in its PRESET column.  ``sysd._async.unitfiles.presets`` reads the files.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple

from . import unitname
from .unitfiles import conf_files

__all__ = ["PRESET_DIRS", "PresetRule", "parse_presets", "preset_files", "query_preset"]

#: lookup_paths_init() preset directories, by manager scope, highest priority first.
PRESET_DIRS: Final = {
    "system": (
        "/etc/systemd/system-preset",
        "/run/systemd/system-preset",
        "/usr/local/lib/systemd/system-preset",
        "/usr/lib/systemd/system-preset",
        "/lib/systemd/system-preset",
    ),
    "user": (
        "/etc/systemd/user-preset",
        "/run/systemd/user-preset",
        "/usr/local/lib/systemd/user-preset",
        "/usr/lib/systemd/user-preset",
    ),
}


class PresetRule(NamedTuple):
    """``enable PATTERN [INSTANCE...]`` or ``disable PATTERN``."""

    enable: bool
    pattern: str
    instances: tuple[str, ...] = ()


def preset_files(listing: Iterable[tuple[str, Iterable[str]]]) -> list[str]:
    """The preset files to read, in order, from ``(directory, file names)`` in priority
    order (``conf_files_list()``: ``*.preset``, the first of a name wins, sorted by name)."""
    return conf_files(listing, ".preset")


def parse_presets(texts: Iterable[str]) -> list[PresetRule]:
    """The rules of preset files' texts, in order; lines that are not rules are skipped."""
    rules = []
    for text in texts:
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            words = re.split(r"\s+", line)
            if words[0] == "enable" and len(words) >= 2:
                rules.append(PresetRule(True, words[1], tuple(words[2:])))
            elif words[0] == "disable" and len(words) >= 2:
                rules.append(PresetRule(False, words[1]))
    return rules


def _matches_instances(rule: PresetRule, name: str) -> bool:
    """``pattern_match_multiple_instances()``: ``enable foo@.service a b`` covers
    ``foo@a.service`` and ``foo@b.service``."""
    if not rule.instances or not unitname.is_template(rule.pattern):
        return False
    if unitname.is_template(name):
        return fnmatch.fnmatchcase(name, rule.pattern)
    if unitname.is_instance(name):
        instance = unitname.instance(name)
        return unitname.template(name) == rule.pattern and instance in rule.instances
    return False


def query_preset(rules: Sequence[PresetRule], name: str) -> bool:
    """True when the presets enable the unit file ``name`` (the default when no rule
    matches), False when they disable it."""
    for rule in rules:
        if _matches_instances(rule, name) or fnmatch.fnmatchcase(name, rule.pattern):
            return rule.enable
    return True
