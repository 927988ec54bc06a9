"""The preview as a terminal reads it, and as Markdown for a pull-request comment."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from platform_core.costs import Estimate
from platform_core.costs.report import money, signed
from platform_core.preview.diff import (
    Action,
    Change,
    EnvironmentDiff,
    ResourceDiff,
    Status,
    is_secret,
)
from platform_core.preview.render import SECRET_TEXT

__all__ = ["Header", "cost_changes", "markdown", "shown", "text"]

_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
_ABSENT = "(absent)"
#: GitHub refuses a comment over 65,536 characters; details are cut before that.
MARKDOWN_LIMIT = 60_000
_CENT = 0.005


@dataclass(frozen=True)
class Header:
    """What was compared with what."""

    base: str
    working: str
    #: The price sheet's date, or why there is no cost estimate.
    costs: str


def _plain(value: Any) -> str:
    if isinstance(value, str) and value.startswith(SECRET_TEXT):
        return "[secret]"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list):
        return f"[{', '.join(_plain(item) for item in value)}]"
    return json.dumps(value)


def shown(text: str | None) -> str:
    """A property value for reading: secrets masked, whole numbers without `.0`."""
    if text is None:
        return _ABSENT
    return _plain(json.loads(text))


def _list_change(before: list[Any], after: list[Any]) -> str | None:
    """What left and joined a list; None when only the order changed."""
    removed = [item for item in before if item not in after]
    added = [item for item in after if item not in before]
    if not removed and not added:
        return None
    return " ".join([*(f"-{_plain(item)}" for item in removed), *(f"+{_plain(i)}" for i in added)])


def _change_line(change: Change, created: bool = False) -> str:
    if created:
        return f"{change.key}: {shown(change.after)}"
    if is_secret(change.before) and is_secret(change.after):
        return f"{change.key}: [secret] (changed)"
    if change.before is not None and change.after is not None:
        before, after = json.loads(change.before), json.loads(change.after)
        if isinstance(before, list) and isinstance(after, list):
            moved = _list_change(before, after)
            if moved is not None:
                return f"{change.key}: {moved}"
    return f"{change.key}: {shown(change.before)} → {shown(change.after)}"


@dataclass(frozen=True)
class CostChange:
    service: str
    item: str
    resource: str
    before: float
    after: float


def cost_changes(before: Estimate | None, after: Estimate | None) -> list[CostChange]:
    """Line items whose monthly amount moved by a cent or more."""

    def amounts(estimate: Estimate | None) -> dict[tuple[str, str, str], float]:
        totals: dict[tuple[str, str, str], float] = {}
        for item in estimate.items if estimate else ():
            key = (item.service, item.item, item.resource)
            totals[key] = totals.get(key, 0.0) + item.monthly
        return totals

    if (before is not None and not before.estimated) or (after is not None and not after.estimated):
        return []  # a side without prices: no line moved by anything known
    old, new = amounts(before), amounts(after)
    return [
        CostChange(*key, old.get(key, 0.0), new.get(key, 0.0))
        for key in sorted(set(old) | set(new))
        if abs(new.get(key, 0.0) - old.get(key, 0.0)) >= _CENT
    ]


def _cost_summary(diff: EnvironmentDiff) -> str:
    before, after = diff.cost_before, diff.cost_after
    if before is None and after is None:
        return ""
    unknown = [e.not_estimated for e in (before, after) if e is not None and not e.estimated]
    if unknown:
        return f"cost not estimated: {unknown[-1]}"
    old = before.total if before else 0.0
    new = after.total if after else 0.0
    if abs(new - old) < _CENT:
        return f"{money(new)} a month"
    return f"{money(old)} → {money(new)} a month ({signed(new - old)})"


def _cost_cell(diff: EnvironmentDiff) -> str:
    summary = _cost_summary(diff)
    return summary.replace("(", "(**").replace(")", "**)") if "→" in summary else summary or "—"


def _counts(diff: EnvironmentDiff) -> str:
    if diff.status is Status.FAILED:
        return "does not render"
    if diff.status is Status.UNCHANGED:
        return "no changes"
    parts = [f"{diff.count(action)} to {action.value}" for action in Action if diff.count(action)]
    if diff.outputs:
        parts.append(f"{len(diff.outputs)} outputs changed")
    prefix = {Status.ADDED: "new environment: ", Status.REMOVED: "environment removed: "}
    return prefix.get(diff.status, "") + ", ".join(parts)


def _text_resource(resource: ResourceDiff, whole_environment: bool) -> list[str]:
    lines = [f"  {_SYMBOL[resource.action]} {resource.path}  ({resource.type})"]
    if whole_environment and resource.action is Action.CREATE:
        return lines
    created = resource.action is Action.CREATE
    return lines + [f"      {_change_line(change, created)}" for change in resource.changes]


def text(header: Header, diffs: Sequence[EnvironmentDiff]) -> str:
    """The preview for a terminal."""
    lines = [
        f"Offline preview: {header.working} against {header.base}",
        "Each side rendered from its own code under Pulumi's mock engine (no credentials, no "
        "state).",
        f"Monthly costs: {header.costs}",
        "",
    ]
    for diff in diffs:
        summary = ", ".join(part for part in (_counts(diff), _cost_summary(diff)) if part)
        lines.append(f"{diff.environment}: {summary}")
        if diff.error:
            lines += [f"  {line}" for line in diff.error.splitlines()]
        whole = diff.status in (Status.ADDED, Status.REMOVED)
        for resource in diff.resources:
            lines += _text_resource(resource, whole)
        if diff.outputs:
            lines.append("  outputs:")
            lines += [f"      {_change_line(change)}" for change in diff.outputs]
        changes = cost_changes(diff.cost_before, diff.cost_after)
        if changes and diff.status is not Status.FAILED:
            lines.append("  cost:")
            lines += [
                f"      {c.service} {c.item} ({c.resource}): {money(c.before)} → "
                f"{money(c.after)} ({signed(c.after - c.before)})"
                for c in changes
            ]
    return "\n".join(lines) + "\n"


def _base_markdown(base: str) -> str:
    """``abc123 (how it was chosen)`` with the revision as code."""
    revision, _, how = base.partition(" ")
    return f"`{revision}` {how}".rstrip()


def _code(value: str) -> str:
    """A table cell showing ``value`` literally (pipes, backticks and markup included)."""
    return f"<code>{html.escape(value).replace('|', '&#124;')}</code>"


def _cell(text: str | None) -> str:
    """A value in a table: text as it is, other values as JSON."""
    if text is None:
        return "—"
    if is_secret(text):
        return "*secret*"
    value = json.loads(text)
    plain = isinstance(value, str) and not value.startswith(SECRET_TEXT)
    return _code(value if plain else shown(text))


def _markdown_changes(changes: Sequence[Change], created: bool = False) -> list[str]:
    if created:
        lines = ["| property | value |", "|---|---|"]
        return lines + [f"| {_code(change.key)} | {_cell(change.after)} |" for change in changes]
    lines = ["| property | before | after |", "|---|---|---|"]
    for change in changes:
        after = _cell(change.after)
        if is_secret(change.before) and is_secret(change.after):
            after = "*secret (changed)*"
        lines.append(f"| {_code(change.key)} | {_cell(change.before)} | {after} |")
    return lines


def _markdown_environment(diff: EnvironmentDiff) -> list[str]:
    lines = [f"#### {diff.environment}: {_counts(diff)}", ""]
    if diff.error:
        lines += ["```", diff.error, "```", ""]
    whole = diff.status in (Status.ADDED, Status.REMOVED)
    for resource in diff.resources:
        symbol = _SYMBOL[resource.action]
        title = f"`{symbol}` {_code(resource.path)} ({_code(resource.type)})"
        if resource.action is Action.DELETE or (whole and resource.action is Action.CREATE):
            lines.append(f"- {title}")
        elif resource.action is Action.CREATE:
            lines += [
                f"- <details><summary>{title}</summary>",
                "",
                *_markdown_changes(resource.changes, created=True),
                "",
                "  </details>",
            ]
        else:
            lines += [f"- {title}", "", *_markdown_changes(resource.changes), ""]
    if diff.outputs:
        lines += ["", "Stack outputs:", "", *_markdown_changes(diff.outputs)]
    changes = cost_changes(diff.cost_before, diff.cost_after)
    if changes and diff.status is not Status.FAILED:
        lines += [
            "",
            "Cost, a month:",
            "",
            "| service | what | resource | before | after | change |",
            "|---|---|---|---:|---:|---:|",
            *(
                f"| {c.service} | {c.item} | {_code(c.resource)} | {money(c.before)} | "
                f"{money(c.after)} | {signed(c.after - c.before)} |"
                for c in changes
            ),
        ]
    return [*lines, ""]


def markdown(header: Header, diffs: Sequence[EnvironmentDiff], limit: int = MARKDOWN_LIMIT) -> str:
    """The preview as a pull-request comment: a summary table, then each changed environment."""
    lines = [
        "### Offline preview",
        "",
        f"{header.working.capitalize()} against {_base_markdown(header.base)}, each side "
        "rendered from its own "
        "code under "
        "Pulumi's mock engine (no credentials, no state). Monthly costs: "
        f"{header.costs}.",
        "",
        "| environment | changes | monthly cost |",
        "|---|---|---|",
        *(f"| {d.environment} | {_counts(d)} | {_cost_cell(d)} |" for d in diffs),
        "",
    ]
    summary = "\n".join(lines)
    details = "\n".join(
        line
        for diff in diffs
        if diff.status is not Status.UNCHANGED
        for line in _markdown_environment(diff)
    )
    if len(summary) + len(details) > limit:
        cut = details[: max(0, limit - len(summary))].rsplit("\n", 1)[0]
        details = (
            f"{cut}\n\n*The details are cut here: run `python -m platform_core.preview` for all.*\n"
        )
    return f"{summary}\n{details}".rstrip() + "\n"
