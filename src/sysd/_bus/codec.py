"""dbus-fast's message codec, imported without dbus-fast's asyncio MessageBus.

``import dbus_fast`` runs its package ``__init__``, which imports its asyncio
MessageBus and with it all of asyncio (about 15 ms, and the blocking API
promises not to import asyncio at all).  sysd needs only the codec modules, so
when dbus_fast is not imported yet we register the package module *without*
running its ``__init__``, import the codec submodules into it, and leave a
module ``__getattr__`` that runs the real ``__init__`` in that same module
object the first time anyone asks it for something else (``dbus_fast.MessageBus``
in a program that also uses dbus-fast directly keeps working).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any


def _register_lazy_package() -> None:
    if "dbus_fast" in sys.modules:
        return
    spec = importlib.util.find_spec("dbus_fast")
    if spec is None or spec.loader is None:  # pragma: no cover - a broken install
        importlib.import_module("dbus_fast")
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def __getattr__(name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, name)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules["dbus_fast"] = package


_register_lazy_package()

# The order matters: dbus_fast's modules import each other in a cycle that only
# resolves when message comes first (as dbus_fast's own __init__ does it).
from dbus_fast.message import Message  # noqa: E402, I001
from dbus_fast._private.unmarshaller import Unmarshaller  # noqa: E402
from dbus_fast._private.marshaller import Marshaller  # noqa: E402
from dbus_fast.constants import MessageFlag, MessageType  # noqa: E402
from dbus_fast.signature import SignatureType, Variant, get_signature_tree  # noqa: E402

# dbus-fast <= 5.2.0 (compiled) dereferences the root type of the empty signature
# tree when a message carries a variant whose signature is empty, and the process
# dies with SIGSEGV (found by sysd's fuzz test).  The tree is cached and its
# root_type is writable: give it a type no reader knows, so the parser raises
# KeyError instead (which the decoder turns into ProtocolError).  The decoder
# re-pins the cached tree before every message (see pin_empty_signature).
_NO_TYPE = SignatureType("\x00")


def pin_empty_signature() -> None:
    """Make sure the cached empty signature tree carries the guard type."""
    tree = get_signature_tree("")
    if tree.root_type is None:
        tree.root_type = _NO_TYPE


pin_empty_signature()

__all__ = [
    "Marshaller",
    "Message",
    "MessageFlag",
    "MessageType",
    "Unmarshaller",
    "Variant",
    "get_signature_tree",
    "map_fds",
    "pin_empty_signature",
]


def map_fds(signature: str, body: list[Any], fn: Any) -> list[Any]:
    """Return ``body`` with every value of D-Bus type ``h`` replaced by ``fn(value)``.

    (dbus-fast's own helper lives in a module that imports ``inspect``; this
    is the same walk, only for bodies whose signature contains ``h``.)
    """
    types = get_signature_tree(signature).types
    return [_map(t, v, fn) for t, v in zip(types, body, strict=False)]


def _map(t: SignatureType, value: Any, fn: Any) -> Any:
    sig = t.signature
    if "h" not in sig and "v" not in sig:
        return value
    token = t.token
    if token == "h":
        return fn(value)
    if token == "v":
        if isinstance(value, Variant):
            return Variant(value.type, _map(value.type, value.value, fn))
        return value
    if token == "a":
        child = t.children[0]
        if child.token == "{":
            kt, vt = child.children
            return {_map(kt, k, fn): _map(vt, v, fn) for k, v in value.items()}
        return [_map(child, v, fn) for v in value]
    if token == "(":
        return [_map(c, v, fn) for c, v in zip(t.children, value, strict=False)]
    return value
