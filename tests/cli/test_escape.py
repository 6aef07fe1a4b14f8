"""``sysd escape`` against systemd-escape 252 runs (unitname_vectors.json), in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sysd.cli import main


def _conformance_dir() -> Path:
    override = os.environ.get("SYSD_CONFORMANCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "conformance"


CLI_VECTORS: list[dict[str, Any]] = json.loads(
    (_conformance_dir() / "unitname_vectors.json").read_text(encoding="utf-8")
)["systemd_escape_cli"]


def _id(v: dict[str, Any]) -> str:
    text = " ".join(repr(a) if (not a or " " in a or "\n" in a) else a for a in v["argv"][1:])
    return text if len(text) <= 60 else text[:57] + "..."


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["escape", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("vector", CLI_VECTORS, ids=[_id(v) for v in CLI_VECTORS])
def test_systemd_escape_vector(vector: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert vector["argv"][0] == "systemd-escape"
    rc, out, err = run(capsys, *vector["argv"][1:])
    assert rc == vector["rc"]
    if vector["stdout"] is None:
        assert out == ""
    else:
        assert out == vector["stdout"] + "\n"
    if vector["stderr"] is None:
        assert err == ""
    else:
        assert err.strip() == vector["stderr"]


# Checked against systemd-escape 252 on this machine.
@pytest.mark.parametrize(
    ("argv", "rc", "out", "err"),
    [
        ((), 1, "", "Not enough arguments."),
        (("--suffix=waldo", "x"), 1, "", 'Invalid unit suffix type "waldo".'),
        (("--suffix=waldo", "--suffix=mount", "x"), 1, "", 'Invalid unit suffix type "waldo".'),
        (("--suffix=mount", "--suffix=swap", "x"), 0, "x.swap\n", ""),
        (("--template=foo.service", "x"), 1, "", "Template name foo.service is not valid."),
        (("--template=a@.service", "--suffix=mount", "x"), 1, "", "may not be combined"),
        (("-m", "--suffix=mount", "x"), 1, "", "not compatible with --mangle"),
        (("-u", "--suffix=mount", "x"), 1, "", "--suffix is not compatible with --unescape."),
        (("-m", "-p", "x"), 1, "", "--path may not be combined with --mangle."),
        (("--instance", "x"), 1, "", "--instance must be used in conjunction with --unescape."),
        (("-u", "--instance", "--template=a@.service", "a@b.service"), 1, "", "may not be"),
        (("-u", "-m", "x"), 0, "x.service\n", ""),  # the last of -u/-m wins
        (("-m", "-u", "a-b"), 0, "a/b\n", ""),
        (("a b", "c"), 0, "a\\x20b c\n", ""),
        (("-p", "/a", ".."), 1, "a", "not an absolute file system path, failed to escape"),
        (("-p", "/a/" + "x" * 256), 1, "", "not a valid file system path, failed to escape"),
        (("-u", "--instance", "foo.service"), 1, "", "Unit foo.service is missing the instance"),
        (("-u", "--instance", "foo@.service"), 1, "", "is missing the instance name"),
        (("-u", "--instance", "foo"), 1, "", "Failed to extract instance: Invalid argument"),
        (
            ("-u", "--template=a@.service", "b@x.service"),
            1,
            "",
            "Unit b@x.service template b@.service does not match specified template a@.service.",
        ),
        (("-u", "-p", "--instance", "a@dev-sda.service"), 0, "/dev/sda\n", ""),
        (("-u", "a\\x00b"), 0, "a\n", ""),  # C prints up to the NUL
        (("-u", "a\\b"), 1, "", "Failed to unescape string: Invalid argument"),
        (("--template=a@.service", "x" * 300), 1, "", "Failed to replace instance"),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, tuple) else None,
)
def test_options_and_errors(
    argv: tuple[str, ...], rc: int, out: str, err: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got_rc, got_out, got_err = run(capsys, *argv)
    assert (got_rc, got_out) == (rc, out)
    assert err in got_err
    if not err:
        assert got_err == ""


def test_undecodable_bytes_are_written_raw(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["escape", "-u", "a\\xffb", "\\xc3\\xa4"]) == 0
    assert capsysbinary.readouterr().out == b"a\xffb \xc3\xa4\n"  # as systemd-escape writes it


def test_unknown_option_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["escape", "--waldo", "x"]) == 1
    assert "--waldo" in capsys.readouterr().err
