"""The ``unitwise-lint`` command: ``check`` (the default), ``rules`` and ``explain``.

Exit status: 0 nothing found, 1 findings (or, with ``--diff``, changes to make), 2 a usage or
configuration error or a file that could not be checked. Errors are one line on stderr,
``unitwise-lint: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__, output
from .cache import CACHE_DIR
from .config import ConfigError, check_codes, discover_config, rule_lookup, select_rules
from .discovery import discover
from .finding import FileError, Finding
from .registry import all_rules
from .rule import Rule
from .runner import Mode, Settings, run

PROG = "unitwise-lint"
COMMANDS = ("check", "rules", "explain")


class UsageError(Exception):
    """A mistake on the command line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def _number(value: str, kind: type[int] | type[float], least: int) -> float:
    """``value`` as an ``int`` or ``float`` of at least ``least``, or a one-line usage error."""
    try:
        number = kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}")
    return number


def _jobs(value: str) -> int:
    return int(_number(value, int, 1))


def _seconds(value: str) -> float:
    return _number(value, float, 0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``check`` is implied when the first argument is a path)."""
    parser = _Parser(
        prog=PROG,
        description="Find the habits that make data-processing scripts fail in production.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="check files and directories (the default command)")
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default .)")
    check.add_argument("--config", metavar="FILE", help="use this configuration file")
    selection = check.add_argument_group("rule selection (comma-separated codes or prefixes)")
    selection.add_argument("--select", type=_codes, metavar="CODES", help="replace the selection")
    selection.add_argument(
        "--extend-select",
        type=_codes,
        metavar="CODES",
        action="append",
        default=[],
        help="select these in addition",
    )
    selection.add_argument(
        "--ignore",
        type=_codes,
        metavar="CODES",
        action="append",
        default=[],
        help="ignore these in addition",
    )
    check.add_argument(
        "--format", choices=output.FORMATS, default="text", help="output format (default text)"
    )
    check.add_argument("--statistics", action="store_true", help="count findings per code")
    fixing = check.add_mutually_exclusive_group()
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    fixing.add_argument(
        "--diff", action="store_true", help="print the fixes as a unified diff, change nothing"
    )
    check.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="worker processes (default: the number of CPUs; 1 runs in-process)",
    )
    check.add_argument(
        "--file-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="give up on a file the parser is slow on after this long, as a file error "
        "(default 20; 0: no bound; config key file-timeout)",
    )
    check.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    check.add_argument("--cache-dir", metavar="DIR", help=f"cache directory (default {CACHE_DIR})")
    check.add_argument(
        "--extend-exclude",
        type=_codes,
        action="append",
        default=[],
        metavar="PATTERNS",
        help="exclude these glob patterns too",
    )
    check.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply exclusions to files named on the command line too (for pre-commit)",
    )
    check.add_argument(
        "--no-respect-gitignore",
        dest="respect_gitignore",
        action="store_false",
        help="check files that .gitignore excludes",
    )

    commands.add_parser("rules", help="list the rules")
    explain = commands.add_parser("explain", help="explain a rule, with examples")
    explain.add_argument("code", metavar="CODE", help="a rule code (or name)")
    return parser


def _flatten(groups: Sequence[Sequence[str]]) -> list[str]:
    return [code for group in groups for code in group]


def _rules_table(rules: Sequence[type[Rule]]) -> str:
    width = max((len(rule.name) for rule in rules), default=0)
    return "".join(f"{rule.code}  {rule.name:<{width}}  {rule.message}\n" for rule in rules)


def _indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


def explain(rule: type[Rule]) -> str:
    """The rationale, options and examples of a rule, for ``explain``."""
    parts = [f"{rule.code} ({rule.name}): {rule.message}", "", rule.rationale.strip(), ""]
    if rule.FIXABLE:
        parts += ["Fix: safe fixes are available with --fix.", ""]
    if rule.OPTIONS:
        parts.append(f"Options ([tool.unitwise-lint.{rule.code}]):")
        for name, option in rule.OPTIONS.items():
            parts.append(f"  {name} (default {option.default!r}): {option.help}")
        parts.append("")
    for title, examples in (("Flagged", rule.INVALID), ("Accepted", rule.VALID)):
        for example in examples:
            notes = ["in a notebook cell"] if example.notebook else []
            if example.options:
                notes.append(f"with {dict(example.options)!r}")
            suffix = f" ({', '.join(notes)})" if notes else ""
            parts += [f"{title}{suffix}:", "", _indent(example.code.rstrip("\n")), ""]
            fixed = getattr(example, "fixed", None)
            if fixed is not None:
                parts += ["Fixed:", "", _indent(fixed.rstrip("\n")), ""]
    return "\n".join(parts).rstrip("\n") + "\n"


def _settings(args: argparse.Namespace, rules: Sequence[type[Rule]]) -> Settings:
    config = discover_config(args.config, args.paths, rules)
    select = args.select if args.select is not None else config.select
    extend = (*config.extend_select, *_flatten(args.extend_select))
    ignore = (*config.ignore, *_flatten(args.ignore))
    if args.select is not None:
        check_codes(args.select, rules, "--select")
    check_codes(_flatten(args.extend_select), rules, "--extend-select")
    check_codes(_flatten(args.ignore), rules, "--ignore")
    if args.file_timeout is not None:
        config = dataclasses.replace(config, file_timeout=args.file_timeout)
    return Settings(select_rules(rules, select, extend, ignore), config)


def _report(
    args: argparse.Namespace,
    settings: Settings,
    findings: list[Finding],
    errors: list[FileError],
) -> None:
    lookup = rule_lookup(all_rules())
    lookup.update({rule.code: rule for rule in settings.rules})
    if args.statistics:
        sys.stdout.write(output.statistics(findings, lookup, args.format == "json"))
    elif args.format == "text":
        sys.stdout.write(output.text(findings))
    elif args.format == "json":
        sys.stdout.write(output.as_json(findings, lookup))
    elif args.format == "sarif":
        sys.stdout.write(output.sarif(findings, settings.rules, errors))
    else:
        sys.stdout.write(output.github(findings, lookup, errors))
    for error in errors:
        print(f"{PROG}: error: {error}", file=sys.stderr)


def check(args: argparse.Namespace) -> int:
    """The ``check`` command; returns the exit status."""
    if args.statistics and args.format in ("sarif", "github"):
        raise UsageError("--statistics works with --format text or json")
    args.paths = args.paths or ["."]
    rules = all_rules()
    settings = _settings(args, rules)
    found = discover(
        args.paths,
        root=settings.config.root,
        exclude=(*settings.config.exclude, *_flatten(args.extend_exclude)),
        respect_gitignore=args.respect_gitignore,
        force_exclude=args.force_exclude,
    )
    mode: Mode = "fix" if args.fix else "diff" if args.diff else "check"
    cache_dir = None
    if not args.no_cache:
        cache_dir = Path(args.cache_dir) if args.cache_dir else settings.config.root / CACHE_DIR
    jobs = args.jobs or os.cpu_count() or 1
    # Everything imported so far lives as long as the process: keep it out of collections.
    gc.freeze()
    results = run(found.targets, settings, mode=mode, jobs=jobs, cache_dir=cache_dir)

    findings = sorted(finding for result in results for finding in result.findings)
    errors = sorted([*found.errors, *(FileError(r.display, r.error) for r in results if r.error)])
    if mode == "diff":
        sys.stdout.write("".join(result.diff for result in results))
        for error in errors:
            print(f"{PROG}: error: {error}", file=sys.stderr)
    else:
        _report(args, settings, findings, errors)
    for result in results:
        if result.note:
            print(f"{PROG}: {result.display}: {result.note}", file=sys.stderr)
    if mode == "fix":
        fixed = sum(result.fixed for result in results)
        print(f"{PROG}: fixed {fixed}, {len(findings)} remaining", file=sys.stderr)
    if not found.targets and not found.errors:
        print(f"{PROG}: warning: no Python files found", file=sys.stderr)
    if errors:
        return 2
    if mode == "diff":
        # As in ruff: --diff answers "is there anything to fix?", not "is anything wrong?".
        return 1 if any(result.diff for result in results) else 0
    return 1 if findings else 0


def _normalize(argv: list[str]) -> list[str]:
    """``unitwise-lint PATH...`` means ``unitwise-lint check PATH...``."""
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help", "--version")):
        return argv
    return ["check", *argv]


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(_normalize(arguments))
        if args.command == "rules":
            sys.stdout.write(_rules_table(all_rules()))
            return 0
        if args.command == "explain":
            rule = rule_lookup(all_rules()).get(args.code) or rule_lookup(all_rules()).get(
                args.code.upper()
            )
            if rule is None:
                raise UsageError(f"unknown rule {args.code!r} (see '{PROG} rules')")
            sys.stdout.write(explain(rule))
            return 0
        return check(args)
    except (UsageError, ConfigError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into ``head`` and closed: not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
