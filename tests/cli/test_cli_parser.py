"""systemctl's habits in the argument layer: options before the verb, no verb, --version,
one-line errors with systemctl's exit status, option values that begin with '-'.

Nothing here connects: parse() returns the namespace a verb would get, and every error
path tested is refused before a bus is opened."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sysd
from sysd import cli
from sysd.cli import main, parse


@pytest.mark.parametrize(
    ("argv", "verb", "expect"),
    [
        (["--user", "status", "x.service"], "status", {"user": True, "units": ["x.service"]}),
        (["-H", "web1", "list"], "list", {"host": "web1"}),
        (["--host=web1", "list"], "list", {"host": "web1"}),
        (["-M", "c1", "--timeout", "5", "is-active", "x"], "is-active", {"timeout": 5.0}),
        (["--no-pager", "logs"], "logs", {"no_pager": True}),
        (["--no-pager", "status"], "status", {"no_pager": True}),
        (["status", "--user", "x"], "status", {"user": True}),  # after the verb, as before
        ([], "list", {"user": False}),  # systemctl without a verb: list-units
        (["--user"], "list", {"user": True}),
        (["-a"], "list", {"all": True}),
        (["--state", "failed"], "list", {"state": ["failed"]}),
    ],
)
def test_options_before_the_verb(argv: list[str], verb: str, expect: dict[str, object]) -> None:
    args = parse(argv)
    assert args.verb == verb
    for name, value in expect.items():
        assert getattr(args, name) == value, name


def test_values_that_begin_with_a_dash() -> None:
    """As getopt takes them: `logs -S -1h -U -1h -u -.slice` (the --help text's own form)."""
    args = parse(["logs", "-S", "-1h", "-U", "-1h", "-u", "-.slice"])
    assert args.unit == ["-.slice"]
    assert args.since is not None and args.until is not None
    args = parse(["logs", "--since", "-2h", "--until=-1h"])
    assert args.since < args.until
    args = parse(["run", "-u", "-x", "--", "true"])
    assert args.unit == "-x" and args.command[-1] == "true"
    # after the command line starts, the words are the command's
    args = parse(["run", "ls", "-u", "-x"])
    assert args.unit is None and args.command == ["ls", "-u", "-x"]
    args = parse(["kill", "-s", "TERM", "--", "-.slice"])
    assert args.units == ["-.slice"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"sysd {sysd.__version__}\n"


def test_help_lists_every_verb_without_importing_them() -> None:
    code = (
        "import sys\nfrom sysd.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(proc.stderr.split())
    assert not {m for m in loaded if m.startswith("sysd.cli.")}
    assert not {"sysd.errors", "typing", "argparse", "asyncio"} & loaded
    lines = proc.stdout.splitlines()
    for verbs in cli._VERB_INDEX.values():
        for verb in verbs:
            assert any(line.split()[:1] == [verb] for line in lines), verb
    assert "--no-pager" in proc.stdout and "--version" in proc.stdout


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["stauts"], "sysd: Unknown command verb stauts, did you mean 'status'?"),
        (["is-actvie", "x"], "sysd: Unknown command verb is-actvie, did you mean 'is-active'?"),
        (["--user", "frobnicate"], "sysd: Unknown command verb frobnicate."),
    ],
)
def test_unknown_verb_is_one_line_and_exits_1(
    capsys: pytest.CaptureFixture[str], argv: list[str], line: str
) -> None:
    assert main(argv) == 1  # systemctl: "Unknown command verb foo." and EXIT_FAILURE
    out, err = capsys.readouterr()
    assert (out, err) == ("", line + "\n")


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["run", "-p", "CPUQuota=abc", "true"], "sysd run: invalid CPUQuota='abc'"),
        (["status", "-n", "x"], "sysd status: argument -n/--lines: "),
        (["list", "--bogus"], "sysd list: unrecognized arguments: --bogus"),
        (["is-active"], "sysd is-active: the following arguments are required: UNIT"),
        (["set-property", "x.service", "CPUQuota=many"], "sysd: invalid CPUQuota="),
        (["call", "/", "i", "m", "s", "{bad json"], "sysd call: arguments must be JSON"),
        (["-H"], "sysd list: argument -H/--host: expected one argument"),
    ],
)
def test_bad_values_are_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], argv: list[str], start: str
) -> None:
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(start) and err.count("\n") == 1, err


def test_error_lines_are_bold_red_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("SYSTEMD_COLORS", "1")  # as on a terminal (ansi_highlight_red())
    assert main(["stauts"]) == 1
    err = capsys.readouterr().err
    assert err == "\x1b[0;1;31msysd: Unknown command verb stauts, did you mean 'status'?\x1b[0m\n"
    monkeypatch.delenv("SYSTEMD_COLORS")
    assert main(["stauts"]) == 1  # captured: not a terminal
    assert "\x1b" not in capsys.readouterr().err


def test_split_verb() -> None:
    split = cli._split_verb
    assert split(["-H", "list", "status"]) == (["-H", "list"], "status", [])
    assert split(["--user", "bogus", "x"]) == (["--user"], "bogus", ["x"])
    assert split(["-x", "value", "show", "u"]) == (["-x", "value"], "show", ["u"])
    assert split(["-x", "show", "u"]) == (["-x"], "show", ["u"])  # a verb's name wins
    assert split(["-q"]) == (["-q"], None, [])


def test_the_program_ends_with_all_its_output_and_status() -> None:
    """As a program, main() skips the interpreter's teardown: nothing may be lost."""
    names = [f"a/{i}" for i in range(20000)]
    proc = subprocess.run(
        [sys.executable, "-m", "sysd", "escape", *names],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == " ".join(f"a-{i}" for i in range(20000)) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "sysd", "stauts"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "sysd: Unknown command verb stauts, did you mean 'status'?\n"
