"""`python -m local_platform` (`make demo`): options, errors without tracebacks, the report."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import TextIO

from local_platform.emulator import check_port_free, check_region
from local_platform.errors import EmulatorError, IdentityError, RegionError, UnsupportedPolicyError
from local_platform.report import report
from local_platform.run import DEFAULT_SAMPLE, LocalRun, Options, run
from local_platform.serve import keep_running
from platform_core import PlatformError, discover_environments
from platform_core.offline import RenderError

__all__ = ["main", "parser"]

_DESCRIPTION = """\
Run one environment of the platform on an embedded AWS emulator (moto's server on 127.0.0.1,
no AWS account): the table, buckets, failure queue and the function's IAM role are created
from the rendered stack program, IAM is enforced, and the real handler processes a market-data
file (uploaded under incoming/, delivered as an S3 notification) or a direct-invocation
payload, as its role.
"""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_platform",
        description=_DESCRIPTION,
        epilog="`make demo` runs it with the shipped sample; `make demo ENV=production` with "
        "production's definitions. Exit status: 0 when the function applied the input; 1 when "
        "it raised, refused or rejected the input as a whole, or a probe was not answered as "
        "AWS answers; 2 for bad arguments or an emulator that cannot start.",
    )
    parser.add_argument(
        "--environment",
        "-e",
        choices=discover_environments(),
        default="dev",
        help="whose stack program to run (default: dev)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--file",
        type=Path,
        default=DEFAULT_SAMPLE,
        metavar="PATH",
        help="market-data file (a regular file) to upload under incoming/, keeping its name: "
        'JSON Lines, a JSON array, {"trades": [...]} or CSV with a header, each optionally .gz '
        "(default: samples/market-data.jsonl)",
    )
    source.add_argument(
        "--invoke",
        type=Path,
        metavar="PAYLOAD",
        help='invoke the handler directly with this JSON file as the event ({"trades": [...]} '
        'or {"trade_data": {...}}, not both) instead of uploading a file',
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="after the report, keep the emulator running: print its endpoint, ready-to-paste "
        "environment variables and aws commands, process uploads to incoming/ as they come; "
        "Ctrl-C stops it",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        metavar="N",
        help="emulator port on 127.0.0.1 (default 0: any free port)",
    )
    parser.add_argument(
        "--region",
        metavar="REGION",
        help="run the environment in this region, instead of its stack's aws:region "
        "(a region of AWS's standard partition, e.g. eu-west-1)",
    )
    return parser


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _file_problem(path: Path, what: str) -> str | None:
    """Why ``path`` cannot be read as ``what``, naming what it is; None for a regular file.

    (`Path.is_file` is False for a directory, a pipe and a device alike: each gets its name.)
    """
    try:
        mode = path.stat().st_mode  # follows a symbolic link: what would be read
    except FileNotFoundError:
        dangling = " (a symbolic link to nothing)" if path.is_symlink() else ""
        return f"{what} {path} does not exist{dangling}"
    except OSError as error:
        return f"{what} {path} cannot be read: {error.strerror}"
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        link = f" (a symbolic link to {os.path.realpath(path)})" if path.is_symlink() else ""
        return f"{what} {path} is {kind}{link}; allowed: a regular file"
    if not os.access(path, os.R_OK):
        return f"{what} {path} cannot be read: permission denied"
    return None


def _payload_problem(path: Path) -> str | None:
    problem = _file_problem(path, "payload file")
    if problem:
        return problem
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"payload file {path} is not JSON: {error}"
    return None  # what the function refuses in a payload, it says itself


def _check(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, in one sentence; None if nothing."""
    problem = (
        _payload_problem(args.invoke)
        if args.invoke is not None
        else _file_problem(args.file, "market-data file")
    )
    if problem:
        return problem
    if not 0 <= args.port <= 65535:
        return f"--port {args.port}: allowed 0 (any free port) to 65535"
    if args.port:
        try:
            check_port_free(args.port)
        except EmulatorError as error:
            return str(error)
    if args.region is not None:
        try:
            check_region(args.region)
        except RegionError as error:
            return f"--region: {error}"
    return None


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    problem = _check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    options = Options(args.environment, args.file, args.invoke, args.port, args.region)

    def after(result: LocalRun) -> None:
        report(result, out, running=args.keep_running)
        if args.keep_running:
            keep_running(result, out)

    try:
        result = run(options, out, while_running=after)
    except KeyboardInterrupt:  # before --keep-running's own handling: the emulator is stopped
        print("\ninterrupted; the emulator is stopped", file=sys.stderr)
        return 130
    except EmulatorError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 2
    except (RenderError, PlatformError) as error:
        print(f"\nerror: stacks/{args.environment} does not render: {error}", file=sys.stderr)
        return 2
    except (IdentityError, UnsupportedPolicyError) as error:
        print(f"\nerror: the function's role cannot be enforced locally: {error}", file=sys.stderr)
        return 2
    if args.keep_running:
        out.write("stopped.\n")
    if result.handler_error is not None or not all(p.as_expected for p in result.probes):
        return 1
    return 0 if result.applied else 1
