"""The groups of systemd's unit property language, one module per ``bus_append_*_property()``.

:mod:`sysd._core.properties` is the entry point; this package holds the parts:

* ``_c`` -- the C string primitives (``extract_first_word``, ``safe_atou``, ``parse_size`` ...)
* ``_tables`` -- names systemd compiles in (signals, errno, capabilities, conditions ...)
* ``_kit`` -- the :class:`Assignment` record and the common value kinds
* ``cgroup``, ``execute``, ``kill``, ``service``, ``socket``, ``timer``, ``path``, ``mount``
  (with automount), ``scope``, ``unit`` -- the property groups, each a ``HANDLERS`` dict
"""
