"""Print the monthly cost estimate of each environment of this checkout.

    python -m platform_core.costs                    # every environment: totals by service
    python -m platform_core.costs --environment dev  # one, item by item
    python -m platform_core.costs --format markdown  # what docs/costs.md holds

The stacks are rendered offline (no credentials); the workload is costs/usage.yaml and the
prices costs/prices.yaml. Exit status 2 when a stack does not render or a cost file is wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from platform_core.costs import environment_profiles, estimate_all, load_inputs
from platform_core.costs.pricing import Estimate
from platform_core.costs.report import costs_document, money, quantity, unit_price
from platform_core.environments import REPO_ROOT, STACKS_DIR, discover_environments
from platform_core.errors import PlatformError
from platform_core.offline import RenderError, close_event_loop, render_stack


def _text(estimates: dict[str, Estimate], itemised: bool) -> str:
    lines = []
    for environment, estimate in estimates.items():
        if not estimate.estimated:
            lines.append(
                f"{environment} ({estimate.region}): not estimated: {estimate.not_estimated}"
            )
            continue
        lines.append(f"{environment} ({estimate.region}): {money(estimate.total)} a month")
        if itemised:
            lines += [
                f"  {money(item.monthly):>10}  {item.service} {item.item} ({item.resource}): "
                f"{quantity(item.quantity)} {item.unit} x {unit_price(item.unit_price)}"
                for item in estimate.items
            ]
        else:
            lines += [
                f"  {money(amount):>10}  {service}"
                for service, amount in sorted(estimate.by_service().items())
            ]
        lines += [f"  note: {note}" for note in estimate.notes]
        lines += [f"  not priced: {path}" for path in estimate.unpriced]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m platform_core.costs",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--environment", metavar="ENV", action="append", default=[],
                        help="only this environment, item by item (repeatable)")  # fmt: skip
    parser.add_argument("--format", choices=("text", "markdown"), default="text",
                        help="text (default), or the Markdown of docs/costs.md")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        known = discover_environments(STACKS_DIR)
    except PlatformError as error:  # a stack file that is not YAML
        print(f"error: {error}", file=sys.stderr)
        return 2
    unknown = [env for env in args.environment if env not in known]
    if unknown:
        parser.error(f"no such environment: {', '.join(unknown)} (there are {', '.join(known)})")
    environments = [env for env in known if not args.environment or env in args.environment]
    try:
        inputs = load_inputs(REPO_ROOT)
        rendered = {env: render_stack(STACKS_DIR / env) for env in environments}
        profiles = environment_profiles(STACKS_DIR, environments)
        estimates = estimate_all(rendered, profiles, inputs)
        document = costs_document(rendered) if args.format == "markdown" else None
    except (PlatformError, RenderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(document or _text(estimates, itemised=bool(args.environment)))
    return 0


if __name__ == "__main__":
    try:
        status = main()
    finally:
        close_event_loop()  # the renders' loop: not left for the interpreter's exit
    sys.exit(status)
