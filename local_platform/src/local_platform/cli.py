"""`python -m local_platform` (`make demo`): options, errors without tracebacks, the report."""

from __future__ import annotations

import argparse
import json
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
        "production's definitions.",
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
        help="market-data file to upload under incoming/, keeping its name: JSON Lines, a JSON "
        'array, {"trades": [...]} or CSV with a header, each optionally .gz '
        "(default: samples/market-data.jsonl)",
    )
    source.add_argument(
        "--invoke",
        type=Path,
        metavar="PAYLOAD",
        help='invoke the handler directly with this JSON file as the event ({"trades": [...]} '
        'or {"trade_data": {...}}) instead of uploading a file',
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


def _check(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, in one sentence; None if nothing."""
    if args.invoke is not None:
        if not args.invoke.is_file():
            return f"payload file {args.invoke} does not exist"
        try:
            json.loads(args.invoke.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return f"payload file {args.invoke} is not JSON: {error}"
    elif not args.file.is_file():
        return f"market-data file {args.file} does not exist"
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
    return 0
