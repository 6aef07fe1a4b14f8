"""Unit names sysd refuses locally are the ones systemd 252 refuses (RELIABILITY 15).

systemd's unit_name_is_valid() is syntax only (``b@a.mount`` passes it, see the
conformance vectors); the manager then refuses instances and templates of the types
that cannot have them (unit_type_may_template) with InvalidArgs.  sysd refuses
those names before any bus call; these tests ask the real systemd about the same
names and compare.
"""

from __future__ import annotations

import random

import pytest

import sysd
from sysd._core import unitname

MANAGER = ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")


def _systemd_refuses(sd: sysd.Systemd, member: str, name: str) -> bool:
    try:
        sd.call(sd.destination, *MANAGER, member, "s", (name,))
    except sysd.InvalidArgsError:
        return True
    except (sysd.NoSuchUnitError, sysd.NoSuchFileError):
        return False
    return False


def _sysd_refuses(name: str, *, template: bool = False) -> bool:
    try:
        unitname.normalize(name, template=template)
    except sysd.InvalidUnitNameError:
        return True
    return False


@pytest.mark.parametrize("type_", unitname.UNIT_TYPES)
def test_instances_and_templates_per_type(sd: sysd.Systemd, type_: str) -> None:
    instance = f"sysdt@x.{type_}"
    refused = _sysd_refuses(instance)
    assert refused is _systemd_refuses(sd, "LoadUnit", instance)
    assert refused is (type_ not in ("service", "socket", "target", "timer", "path"))
    if refused:
        with pytest.raises(sysd.InvalidUnitNameError, match="cannot be templates or instances"):
            sd.unit(instance)  # refused before the bus (it used to be UnknownObjectError)
    template = f"sysdt@.{type_}"
    assert _sysd_refuses(template, template=True) is _systemd_refuses(
        sd, "GetUnitFileState", template
    )


def test_random_names_refused_by_both_or_neither(sd: sysd.Systemd) -> None:
    # The reliability run found ~90 of 3000 random names that passed the local check and
    # failed on the bus; a bounded, seeded sample of the same kind of names.
    rng = random.Random(15)
    alphabet = "ab_-.:@\\x"
    checked = refused = 0
    while checked < 300:
        stem = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
        name = f"{stem}.{rng.choice(unitname.UNIT_TYPES)}"
        if not unitname.is_valid(name, unitname.NameKind.PLAIN | unitname.NameKind.INSTANCE):
            continue
        checked += 1
        local = _sysd_refuses(name)
        assert local is _systemd_refuses(sd, "LoadUnit", name), name
        refused += local
    assert refused > 10
