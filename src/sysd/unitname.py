r"""Unit names as systemd 252 makes and reads them: escaping, templates, slices, paths.

Pure string functions, no bus needed::

    >>> from sysd import unitname
    >>> unitname.escape("My Container 1")
    'My\\x20Container\\x201'
    >>> unitname.replace_instance("systemd-nspawn@.service", unitname.escape("My Container 1"))
    'systemd-nspawn@My\\x20Container\\x201.service'
    >>> unitname.from_path("/home/lennart", ".mount")
    'home-lennart.mount'
    >>> unitname.mangle("sshd"), unitname.instance("getty@tty1.service")
    ('sshd.service', 'tty1')

Invalid input raises :class:`sysd.errors.InvalidUnitNameError` (a ``ValueError``).
"""

from __future__ import annotations

from ._core.unitname import (
    NAME_SPECIFIERS,
    ROOT_SLICE,
    UNIT_DBUS_PATH_PREFIX,
    UNIT_NAME_MAX,
    UNIT_TYPES,
    NameKind,
    UnitType,
    build,
    bus_label_escape,
    bus_label_unescape,
    change_suffix,
    classify,
    dbus_interface,
    escape,
    escape_path,
    from_dbus_path,
    from_path,
    from_path_instance,
    hash_long,
    instance,
    instance_is_valid,
    is_hashed,
    is_instance,
    is_plain,
    is_template,
    is_valid,
    mangle,
    normalize,
    path_is_normalized,
    path_is_valid,
    prefix,
    prefix_and_instance,
    prefix_equal,
    prefix_is_valid,
    replace_instance,
    slice_is_valid,
    slice_parent,
    slice_subslice,
    specifier,
    suffix,
    suffix_is_valid,
    template,
    to_dbus_path,
    to_path,
    unescape,
    unescape_path,
    unit_type,
)

__all__ = [
    "NAME_SPECIFIERS",
    "ROOT_SLICE",
    "UNIT_DBUS_PATH_PREFIX",
    "UNIT_NAME_MAX",
    "UNIT_TYPES",
    "NameKind",
    "UnitType",
    "build",
    "bus_label_escape",
    "bus_label_unescape",
    "change_suffix",
    "classify",
    "dbus_interface",
    "escape",
    "escape_path",
    "from_dbus_path",
    "from_path",
    "from_path_instance",
    "hash_long",
    "instance",
    "instance_is_valid",
    "is_hashed",
    "is_instance",
    "is_plain",
    "is_template",
    "is_valid",
    "mangle",
    "normalize",
    "path_is_normalized",
    "path_is_valid",
    "prefix",
    "prefix_and_instance",
    "prefix_equal",
    "prefix_is_valid",
    "replace_instance",
    "slice_is_valid",
    "slice_parent",
    "slice_subslice",
    "specifier",
    "suffix",
    "suffix_is_valid",
    "template",
    "to_dbus_path",
    "to_path",
    "unescape",
    "unescape_path",
    "unit_type",
]
