"""The generated documents: README's settings table, the environment report, the schema of
the stack files and the cost estimate.

All are written from the code (the table of dials, the rendered programs, the cost files), so
they cannot drift from what is deployed; `--check` (run by the tests) fails when a committed
copy is stale.

    python -m platform_core.docs           # rewrite them
    python -m platform_core.docs --check   # exit 1 when one is stale
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from platform_core.consistency import compare, inventory, unexplained
from platform_core.costs.report import COSTS_REPORT_PATH, costs_document
from platform_core.environment_report import REPORT_PATH, build_report, render_environments
from platform_core.environments import REPO_ROOT, STACKS_DIR
from platform_core.errors import PlatformError
from platform_core.offline import RenderedStack, RenderError, close_event_loop
from platform_core.schema import SCHEMA_PATH, schema_text
from platform_core.settings_table import settings_table

__all__ = ["README", "Document", "documents", "main", "replace_section"]

README = REPO_ROOT / "README.md"
COMMAND = "python -m platform_core.docs"
_START, _END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


@dataclass(frozen=True)
class Document:
    """A generated file: where it lives and how its new text is made from the current one."""

    path: Path
    render: Callable[[str], str]


def replace_section(text: str, content: str) -> str:
    """``text`` with what lies between the settings-table markers replaced by ``content``."""
    pattern = re.compile(rf"{re.escape(_START)}\n.*?{re.escape(_END)}", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"README.md has no {_START} … {_END} section")
    return pattern.sub(lambda _: f"{_START}\n{content}{_END}", text, count=1)


def _report(rendered: Mapping[str, RenderedStack]) -> str:
    faults = unexplained(compare({env: inventory(rendered[env], env) for env in rendered}))
    for fault in faults:
        print(f"unexplained difference: {fault.path} {fault.key} {dict(fault.values)}",
              file=sys.stderr)  # fmt: skip
    return build_report(rendered)


def documents(stacks_dir: Path = STACKS_DIR) -> list[Document]:
    rendered = functools.cache(lambda: render_environments(stacks_dir))
    return [
        Document(README, lambda current: replace_section(current, settings_table())),
        Document(REPORT_PATH, lambda _current: _report(rendered())),
        Document(SCHEMA_PATH, lambda _current: schema_text()),
        Document(COSTS_REPORT_PATH, lambda _current: costs_document(rendered(), stacks_dir.parent)),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--check", action="store_true", help="only compare; exit 1 when a document is stale"
    )
    args = parser.parse_args(argv)
    stale = []
    for document in documents():
        current = document.path.read_text() if document.path.exists() else ""
        try:
            fresh = document.render(current)
        except RenderError as error:
            if not isinstance(error.__cause__, PlatformError):
                raise
            print(f"error: {error}", file=sys.stderr)
            return 2
        except PlatformError as error:  # a cost file is malformed
            print(f"error: {error}", file=sys.stderr)
            return 2
        if fresh == current:
            continue
        stale.append(document.path)
        if not args.check:
            document.path.parent.mkdir(parents=True, exist_ok=True)
            document.path.write_text(fresh)
            print(f"wrote {document.path.relative_to(REPO_ROOT)}")
    if args.check and stale:
        for path in stale:
            print(f"{path.relative_to(REPO_ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        status = main()
    finally:
        close_event_loop()  # the renders' loop: not left for the interpreter's exit
    sys.exit(status)
