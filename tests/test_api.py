"""The public surface: names, the error tree, pickling, and what importing costs."""

from __future__ import annotations

import inspect
import pickle
import subprocess
import sys
import types

import pytest

import sysd
import sysd.aio
from sysd import errors


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name in dir(sysd)
        if not name.startswith("_") and not isinstance(getattr(sysd, name), types.ModuleType)
    }
    public |= {"aio", "__version__"}
    assert set(sysd.__all__) == public
    for name in sysd.__all__:
        assert getattr(sysd, name) is not None


def test_aio_has_the_same_names() -> None:
    assert {"connect", "DEFAULT", "Variant"} <= set(sysd.aio.__all__)
    assert set(sysd.aio.__all__) <= set(vars(sysd.aio))


ERROR_CLASSES = [
    obj
    for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, BaseException) and name in errors.__all__
]

BUILTIN = {
    errors.BusConnectError: ConnectionError,
    errors.NotBootedError: ConnectionError,
    errors.BusDisconnectedError: ConnectionError,
    errors.ProtocolError: ConnectionError,
    errors.BusTimeoutError: TimeoutError,
    errors.UsedAfterForkError: RuntimeError,
    errors.AccessDeniedError: PermissionError,
    errors.InteractiveAuthorizationRequiredError: PermissionError,
    errors.NoSuchUnitError: LookupError,
    errors.UnknownPropertyError: LookupError,
    errors.InvalidArgsError: ValueError,
    errors.InvalidCallError: ValueError,
    errors.InvalidUnitNameError: ValueError,
    errors.InvalidPropertyError: ValueError,
    errors.InvalidTimespanError: ValueError,
    errors.InvalidCalendarSpecError: ValueError,
    errors.SandboxError: RuntimeError,
}


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_is_a_sysd_error_that_pickles(cls: type[errors.SysdError]) -> None:
    assert issubclass(cls, errors.SysdError)
    assert cls.__name__ in cls.__module__ + errors.__doc__ or cls is errors.SysdError
    exc = cls("something went wrong")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls
    assert str(back) == str(exc)
    if isinstance(exc, errors.DBusError):
        assert back.name == exc.name
        assert back.message == exc.message


@pytest.mark.parametrize(("cls", "builtin"), list(BUILTIN.items()), ids=lambda c: c.__name__)
def test_errors_subclass_the_nearest_builtin(cls: type, builtin: type) -> None:
    assert issubclass(cls, builtin)


def test_dbus_error_names_map_to_classes() -> None:
    exc = errors.error_from_dbus(
        "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
        "Interactive authentication required.",
    )
    assert isinstance(exc, errors.InteractiveAuthorizationRequiredError)
    assert isinstance(exc, PermissionError)
    assert "interactive=True" in str(exc)
    unknown = errors.error_from_dbus("com.example.Future.Error", "new")
    assert type(unknown) is errors.DBusError
    assert unknown.name == "com.example.Future.Error"
    assert str(unknown) == "com.example.Future.Error: new"
    fields = pickle.loads(pickle.dumps(exc))
    assert fields.name == exc.name and fields.hint == exc.hint


def test_blocking_import_pulls_in_no_asyncio_and_no_threads() -> None:
    code = (
        "import sys, threading, sysd\n"
        "sd = None\n"
        "try:\n"
        "    sysd.connect(address='unix:path=/nonexistent')\n"
        "except sysd.BusConnectError:\n"
        "    pass\n"
        "print('asyncio' in sys.modules, threading.active_count())\n"
        "import dbus_fast\n"
        "print(dbus_fast.Message is sysd._bus.codec.Message,"
        " hasattr(dbus_fast, 'unpack_variants'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["False 1", "True True"], out.stderr
