"""``sysd lint FILE... [--strict] [--json]``: unit files checked offline (analyze.verify).

One line per problem, ``FILE:LINE: message`` as systemd 252 logs it when it loads the file
(``systemd-analyze verify`` without a manager, a bus or root).  Exit status: 0 when no file has
an error (warnings are printed but pass), 1 when one has -- or, with ``--strict``, when there is
any warning -- or when a file cannot be read (named on stderr; the other files are still
checked).  ``--json``: one object, ``{"ok", "findings": [...], "failed": [...]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import print_error

__all__ = ["add_parsers"]


def _lint(args: argparse.Namespace) -> int:
    from .. import analyze
    from ..errors import SysdError

    findings: list[analyze.LintFinding] = []
    failed: list[dict[str, str]] = []
    for path in args.files:
        try:
            report = analyze.verify([path], strict=args.strict)
        except SysdError as exc:
            failed.append({"path": path, "error": type(exc).__name__, "message": exc.text})
            if not args.json:
                print_error(exc.text)
            continue
        findings += report.findings
        if not args.json:
            for f in report.findings:
                print(f)
    report = analyze.LintReport(tuple(findings), tuple(args.files), args.strict)
    ok = report.ok and not failed
    if args.json:
        out: dict[str, Any] = {
            "ok": ok,
            "strict": args.strict,
            "findings": [f._asdict() for f in findings],
            "failed": failed,
        }
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0 if ok else 1


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "lint",
        help="check unit files offline: unknown keys, bad values (systemd-analyze verify)",
        description="Check unit files and drop-ins as systemd 252 parses them, without a "
        "running systemd: FILE:LINE: message for each problem. Exit 1 on an error (or, with "
        "--strict, a warning), else 0.",
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="unit files, drop-ins (NAME.TYPE.d/*.conf)"
    )
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_lint)
