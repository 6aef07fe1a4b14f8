"""``sysd.analyze.verify()`` (both flavours) and ``sysd lint``: files in, findings out, and
every kind of bad input a typed error naming the file -- never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

import sysd.aio
import sysd.analyze
from sysd.cli import main
from sysd.errors import (
    InvalidUnitFileError,
    SysdError,
    UnitFileError,
    UnitFileNotFoundError,
)

BAD = "[Unit]\nDescription=x\nFoo=1\n[Service]\nExecStart=/bin/true\nRestart=sometimes\n"
FATAL = "[Service]\nUser=%Z\n"


def _write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    return str(path)


def test_verify_both_flavours(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.service", BAD)
    dropin = _write(tmp_path, "x.timer.d/a.conf", "[Timer]\nPersistent=maybe\n")
    report = sysd.analyze.verify([bad, Path(dropin)])
    assert [(f.path, f.line, f.severity, f.key) for f in report.findings] == [
        (bad, 3, "warning", "Foo"),
        (bad, 6, "warning", "Restart"),
        (dropin, 2, "warning", "Persistent"),
    ]
    assert report.ok and not report.errors and len(report.warnings) == 3
    assert report.paths == (bad, dropin)
    strict = asyncio.run(sysd.aio.analyze.verify(bad, strict=True))
    assert strict.findings == report.findings[:2]
    assert not strict.ok
    fatal = sysd.analyze.verify(_write(tmp_path, "f.service", FATAL))
    assert not fatal.ok and [f.line for f in fatal.errors] == [2]


def test_masked(tmp_path: Path) -> None:
    link = tmp_path / "m.service"
    link.symlink_to(os.devnull)
    empty = _write(tmp_path, "e.service", "")
    report = sysd.analyze.verify([str(link), empty])
    assert [str(f) for f in report.findings] == [
        f"{link}:0: Unit m.service is masked.",
        f"{empty}:0: Unit e.service is masked.",
    ]
    assert not report.ok


def _error(paths: object) -> SysdError:
    with pytest.raises(SysdError) as exc:
        sysd.analyze.verify(paths)  # type: ignore[arg-type]
    return exc.value


def test_bad_input_is_a_typed_error_naming_the_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.service")
    e = _error(missing)
    assert isinstance(e, UnitFileNotFoundError) and missing in str(e)

    directory = tmp_path / "dir.service"
    directory.mkdir()
    e = _error(str(directory))
    assert type(e) is UnitFileError and str(directory) in str(e) and "directory" in str(e)
    e = _error(str(tmp_path))
    assert type(e) is UnitFileError and "directory" in str(e)

    garbage = _write(tmp_path, "g.service", bytes(range(256)) * 8)
    e = _error(garbage)
    assert isinstance(e, InvalidUnitFileError) and garbage in str(e) and "binary" in str(e)

    huge = _write(tmp_path, "h.service", b"# padding\n" * (1024 * 1024))
    e = _error(huge)
    assert isinstance(e, InvalidUnitFileError) and huge in str(e) and "too large" in str(e)

    fifo = tmp_path / "p.service"
    os.mkfifo(fifo)
    e = _error(str(fifo))
    assert type(e) is UnitFileError and "not a regular file" in str(e)

    name = _write(tmp_path, "notes.txt", BAD)
    e = _error(name)
    assert isinstance(e, InvalidUnitFileError) and name in str(e)

    e = _error([b"/x.service"])
    assert isinstance(e, InvalidUnitFileError)
    for e in (_error(missing), _error(garbage), _error(str(directory))):
        assert "\n" not in str(e)


def test_unreadable_file(tmp_path: Path, as_user) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, "secret.service", BAD)
    os.chmod(path, 0o600)
    tmp_path.chmod(0o755)
    proc = as_user(
        f"""
        import sysd.analyze
        try:
            sysd.analyze.verify({path!r})
        except PermissionError as e:
            print(type(e).__name__, isinstance(e, sysd.SysdError), e.path == {path!r})
            print(e)
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "UnitFilePermissionError True True"
    assert path in lines[1]


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, "bad.service", BAD)
    good = _write(tmp_path, "good.service", "[Service]\nExecStart=/bin/true\n")
    fatal = _write(tmp_path, "f.service", FATAL)
    assert main(["lint", good]) == 0
    assert capsys.readouterr().out == ""
    assert main(["lint", good, bad]) == 0  # warnings only
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{bad}:3: Unknown key 'Foo' in section [Unit], ignoring.",
        f"{bad}:6: Failed to parse service restart specifier, ignoring: sometimes",
    ]
    assert main(["lint", "--strict", bad]) == 1
    capsys.readouterr()
    assert main(["lint", fatal, good]) == 1
    assert capsys.readouterr().out == (
        f"{fatal}:2: Failed to resolve unit specifiers in %Z: Invalid slot\n"
    )
    assert main(["lint", "--json", bad, str(tmp_path / "nope.service"), str(tmp_path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["strict"] is False
    assert doc["findings"][0] == {
        "path": bad,
        "line": 3,
        "severity": "warning",
        "section": "Unit",
        "key": "Foo",
        "message": "Unknown key 'Foo' in section [Unit], ignoring.",
    }
    assert [f["error"] for f in doc["failed"]] == ["UnitFileNotFoundError", "UnitFileError"]


def test_cli_bad_input_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = _write(tmp_path, "g.service", os.urandom(4096) + b"\0")
    good = _write(tmp_path, "good.service", "[Service]\nExecStart=/bin/true\n")
    assert main(["lint", garbage, str(tmp_path), good]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert len(err) == 2 and "Traceback" not in captured.err
    assert garbage in err[0] and str(tmp_path) in err[1]
    assert main(["lint"]) != 0
    capsys.readouterr()
