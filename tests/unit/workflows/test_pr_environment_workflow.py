"""The pull-request environment's workflow: which events deploy and which destroy (its jobs'
conditions evaluated on the events GitHub sends), where they run, and that one pull request's
runs never overlap. Its script: tests/e2e/test_pr_environment_script.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.repository import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pr-environment.yml"
LABEL = "pr-environment"
REPOSITORY = "org/repo"


def load() -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


def lookup(context: dict[str, Any], path: str) -> Any:
    """A context path, with `.*.` mapping over a list as GitHub's object filter does."""
    value: Any = context
    parts = path.split(".")
    for index, part in enumerate(parts):
        if part == "*":
            rest = ".".join(parts[index + 1 :])
            return [lookup(item, rest) if rest else item for item in value]
        value = value.get(part) if isinstance(value, dict) else None
    return value


TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*')|(?P<op>==|!=|&&|\|\||[(),!])|(?P<name>[A-Za-z_][\w.*-]*))"
)


def evaluate(expression: str, context: dict[str, Any]) -> bool:
    """The subset of GitHub's expression syntax the workflow's conditions use, as Python."""
    python, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = TOKEN.match(expression, position)
        assert match, expression[position:]
        position = match.end()
        if match["string"] is not None:
            python.append(repr(match["string"][1:-1]))
        elif match["op"] is not None:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(match["op"], match["op"]))
        elif match["name"] == "contains":
            python.append("contains")
        else:
            python.append(repr(lookup(context, match["name"])))
    source = "".join(python)

    def contains(haystack: Any, needle: Any) -> bool:
        return needle in (haystack or [])

    return bool(eval(source, {"__builtins__": {}, "contains": contains}))


def event(action: str, labels: list[str], label: str | None = None, fork: bool = False):
    return {
        "github": {
            "repository": REPOSITORY,
            "event": {
                "action": action,
                "label": {"name": label} if label else None,
                "pull_request": {
                    "number": 42,
                    "labels": [{"name": name} for name in labels],
                    "head": {"repo": {"full_name": "someone/fork" if fork else REPOSITORY}},
                    "base": {"ref": "main"},
                },
            },
        }
    }


def runs(context: dict[str, Any]) -> set[str]:
    jobs = load()["jobs"]
    return {name for name, job in jobs.items() if evaluate(job["if"], context)}


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (event("labeled", [LABEL], LABEL), {"deploy"}),
        (event("labeled", [LABEL, "docs"], "docs"), set()),  # another label: nothing new
        (event("labeled", ["docs"], "docs"), set()),
        (event("synchronize", [LABEL]), {"deploy"}),  # each push deploys again
        (event("synchronize", []), set()),
        (event("reopened", [LABEL]), {"deploy"}),
        (event("closed", [LABEL]), {"destroy"}),  # merged or not
        (event("closed", []), set()),
        (event("unlabeled", [], LABEL), {"destroy"}),
        (event("unlabeled", [LABEL], "docs"), set()),
        (event("labeled", [LABEL], LABEL, fork=True), set()),  # a fork's code never gets the role
        (event("closed", [LABEL], fork=True), set()),
    ],
    ids=["label", "other label", "no label", "push", "push unlabelled", "reopen", "close",
         "close unlabelled", "unlabel", "unlabel other", "fork label", "fork close"],
)  # fmt: skip
def test_which_events_deploy_and_which_destroy(context, expected):
    assert runs(context) == expected


def test_runs_of_one_pull_request_queue_and_are_never_cancelled():
    workflow = load()
    assert workflow["on"] == {
        "pull_request": {"types": ["labeled", "unlabeled", "synchronize", "reopened", "closed"]}
    }
    assert workflow["concurrency"] == {
        "group": "pr-environment-${{ github.event.pull_request.number }}",
        "cancel-in-progress": False,
    }
    assert workflow["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("job", ["deploy", "destroy"])
def test_both_run_with_devs_deploy_role_and_may_only_comment_besides(job):
    spec = load()["jobs"][job]
    assert spec["environment"] == "dev"  # the GitHub environment dev's deploy role trusts
    assert spec["permissions"] == {
        "contents": "read", "id-token": "write", "pull-requests": "write"
    }  # fmt: skip
    assert spec["env"]["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true"
    steps = spec["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[0]["with"]["persist-credentials"] is False
    labels = [step.get("uses", step.get("run", "")).split("@")[0] for step in steps]
    installer = steps[labels.index("pulumi/actions")]
    assert installer["with"] == {"pulumi-version-file": ".pulumi-version"}
    credentials = steps[labels.index("aws-actions/configure-aws-credentials")]["with"]
    assert credentials["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    last = steps[-1]
    assert last["run"] == f'.venv/bin/python scripts/pr_environment.py {job} "$NUMBER" --comment'
    # The pull request's number reaches the script as data, never spliced into it.
    assert last["env"] == {
        "NUMBER": "${{ github.event.pull_request.number }}",
        "GH_TOKEN": "${{ github.token }}",
    }


def test_the_destroy_runs_mains_code_not_the_pull_requests():
    checkout = load()["jobs"]["destroy"]["steps"][0]
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.ref }}"
    assert "ref" not in load()["jobs"]["deploy"]["steps"][0]["with"]
