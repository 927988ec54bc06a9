"""`python -m operations query|redrive`: an operator's commands for one environment.

Both work against a deployed environment (names from its stack's outputs, credentials from the
usual AWS chain: AWS_PROFILE, environment variables, SSO) and against the local emulator
(`python -m local_platform --keep-running` prints the endpoint and the keys to use).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from botocore.utils import is_valid_endpoint_url

from operations.errors import OperationsError
from operations.query import BarRange, parse_moment, print_bars, read_bars
from operations.redrive import check_queue_url, lambda_invoke, redrive
from operations.stack import environments, output, stack_outputs

__all__ = ["main", "parser"]


def _common(command: argparse.ArgumentParser) -> None:
    where = command.add_argument_group("which environment")
    where.add_argument(
        "--environment",
        "-e",
        metavar="ENV",
        help=f"the deployed environment ({', '.join(environments())}): names are read from its "
        "stack's outputs (`pulumi stack output --json` in stacks/ENV)",
    )
    where.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="the stack's outputs saved from `pulumi stack output --json`, instead of running "
        "the Pulumi CLI",
    )
    where.add_argument(
        "--region",
        metavar="REGION",
        help="AWS region (default: the stack's `region` output, else AWS_DEFAULT_REGION)",
    )
    where.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="talk to this endpoint instead of AWS, e.g. the local emulator's "
        "http://127.0.0.1:PORT (AWS_ENDPOINT_URL works too)",
    )


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m operations",
        description="An operator's commands for one environment, deployed or local: query its "
        "bars, redrive its failure queue.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    query = commands.add_parser(
        "query",
        help="print the one-minute bars of a symbol over a time range",
        description="Print the one-minute bars of SYMBOL whose minute starts in [--from, --to).",
    )
    query.add_argument("--symbol", required=True, help="the symbol, e.g. AAPL (any case)")
    query.add_argument(
        "--from",
        dest="start",
        metavar="TIME",
        help="first minute wanted: ISO-8601 with a zone (2026-11-20T14:30Z) or a date "
        "(default: the first bar)",
    )
    query.add_argument(
        "--to",
        dest="end",
        metavar="TIME",
        help="end of the range, excluded: ISO-8601 with a zone or a date (default: the last bar)",
    )
    query.add_argument("--table", metavar="NAME", help="the table, instead of the stack's output")
    query.add_argument(
        "--json",
        action="store_true",
        help="JSON Lines (numbers as exact strings) instead of a table",
    )
    _common(query)

    drive = commands.add_parser(
        "redrive",
        help="replay the failure queue's events (dry run unless --apply)",
        description="Read the failure queue's invocation records and show what would be "
        "replayed; with --apply, invoke the function again with each original event and "
        "delete each message only once the function applied it (a replay that raised, or that "
        "the function refused or rejected, keeps its message; exit status 1). A batch already "
        "applied changes nothing when replayed (the processor deduplicates).",
    )
    drive.add_argument(
        "--apply",
        action="store_true",
        help="replay and delete; without it nothing is invoked or deleted",
    )
    drive.add_argument(
        "--queue-url", metavar="URL", help="the failure queue, instead of the stack's output"
    )
    drive.add_argument(
        "--function", metavar="NAME", help="the function, instead of the stack's output"
    )
    drive.add_argument(
        "--max", type=int, metavar="N", help="handle at most N messages (default: all)"
    )
    _common(drive)
    return parser


def _outputs(args: argparse.Namespace, needed: dict[str, str | None]) -> dict[str, str]:
    """Each needed name: given on the command line, else from the stack's outputs."""
    missing = {key: option for key, option in needed.items() if option is None}
    resolved = {key: value for key, value in needed.items() if value is not None}
    if not missing and args.region:
        return resolved
    if args.environment is None and args.outputs is None:
        if missing:
            options = ", ".join(f"--{key.replace('_', '-')}" for key in missing)
            raise OperationsError(f"give --environment ENV (or --outputs FILE), or {options}")
        return resolved
    outputs = stack_outputs(args.environment or "", args.outputs)
    names = {"table": "dynamodb_table_name", "queue_url": "failure_queue_url",
             "function": "lambda_function_name"}  # fmt: skip
    for key in missing:
        resolved[key] = output(outputs, names[key], f"--{key.replace('_', '-')}")
    if not args.region and isinstance(outputs.get("region"), str):
        args.region = outputs["region"]
    return resolved


def _check_region(region: str) -> None:
    session = boto3.session.Session()
    known = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("dynamodb", partition_name=partition)
    }
    if region not in known:
        raise OperationsError(
            f"--region {region!r} is not an AWS region; e.g. us-east-1, eu-west-1 "
            f"({len(known)} known)"
        )


def _check_endpoint(args: argparse.Namespace) -> None:
    """An endpoint botocore would refuse with a traceback, named with where it came from."""
    source, url = "--endpoint-url", args.endpoint_url
    if url is None:
        source, url = "AWS_ENDPOINT_URL", os.environ.get("AWS_ENDPOINT_URL") or None
    if url is not None and not is_valid_endpoint_url(url):
        raise OperationsError(
            f"{source} {url!r} is not an endpoint URL; allowed: http:// or https:// and a "
            "host, e.g. the local emulator's http://127.0.0.1:PORT"
        )


def _client(service: str, args: argparse.Namespace) -> Any:
    config = Config(retries={"mode": "standard"}, read_timeout=900)
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=args.region,
        endpoint_url=args.endpoint_url,
        config=config,
    )


def _query(args: argparse.Namespace, out: TextIO) -> int:
    wanted = BarRange(
        args.symbol,
        parse_moment(args.start, "--from") if args.start else None,
        parse_moment(args.end, "--to") if args.end else None,
    )
    table = _outputs(args, {"table": args.table})["table"]
    ddb = _client("dynamodb", args)
    try:
        count = print_bars(read_bars(ddb, table, wanted), out, args.json)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        raise OperationsError(
            f"no table {table!r} in region {ddb.meta.region_name} at {ddb.meta.endpoint_url}; "
            "give the environment's table (its stack output dynamodb_table_name) and the "
            "region it is in"
        ) from None
    if not count:
        print(f"no bars of {args.symbol.upper()} in that range of {table}", file=sys.stderr)
    return 0


def _redrive(args: argparse.Namespace, out: TextIO) -> int:
    if args.max is not None and args.max < 1:
        raise OperationsError(f"--max {args.max}: allowed 1 or more")
    names = _outputs(args, {"queue_url": args.queue_url, "function": args.function})
    queue_url = check_queue_url(names["queue_url"])
    mode = "replaying" if args.apply else "dry run: nothing is invoked or deleted"
    out.write(f"Failure queue {queue_url} ({mode})\n")
    summary = redrive(
        _client("sqs", args),
        queue_url,
        names["function"],
        lambda_invoke(_client("lambda", args)),
        out,
        apply=args.apply,
        limit=args.max,
    )
    out.write(
        f"{summary.listed} message(s): {summary.replayed} replayed, {summary.failed} failed, "
        + (f"{summary.not_applied} not applied (kept), " if summary.not_applied else "")
        + f"{summary.skipped} not replayable"
        + ("" if args.apply or not summary.listed else "; run again with --apply to replay")
        + "\n"
    )
    return 1 if summary.failed or summary.not_applied else 0


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parser().parse_args(argv)
    try:
        if args.region:
            _check_region(args.region)
        _check_endpoint(args)
        return _query(args, out) if args.command == "query" else _redrive(args, out)
    except OperationsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print(
            "error: no AWS credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY), or use the keys the local platform printed",
            file=sys.stderr,
        )
        return 2
    except NoRegionError:
        print("error: no region; give --region or set AWS_DEFAULT_REGION", file=sys.stderr)
        return 2
    except ClientError as error:
        detail = error.response.get("Error", {})
        print(f"error: AWS refused: {detail.get('Code')}: {detail.get('Message')}", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
