"""The report of a run whose input the function did not apply: said so, never `Batch None`.

The outcomes are shaped as the processor renders them (services/processor/README.md,
"Contract"); the exit status they give is the command's (`main` returns 1 for them).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from local_platform.report import _batch
from local_platform.run import LocalRun, Options

pytestmark = pytest.mark.integration  # see tests/conftest.py: kinds of test


def outcome(status: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "batch_id": None, "status": status, "source": "event", "accepted": 0, "rejected": [],
        "rejected_total": 0, "bars": [], "bars_total": 0, "bars_truncated": False,
    }  # fmt: skip
    return base | fields


def rendered(response: dict[str, Any], invoke: bool) -> tuple[str, LocalRun]:
    options = Options(invoke=Path("payload.json")) if invoke else Options()
    result = LocalRun(options, response=response, redelivery=response)
    out = io.StringIO()
    _batch(result, out)
    return out.getvalue(), result


def test_a_refused_event_is_reported_as_refused_and_not_applied():
    refused = outcome("refused", message="event is a list; allowed: a JSON object")
    text, result = rendered(refused, invoke=True)
    assert "\nREFUSED by the function: nothing read or written\n" in text
    assert "  event is a list; allowed: a JSON object\n" in text
    assert "Batch None" not in text and "accepted" not in text.split("Redelivery")[1]
    assert "Redelivery of the same invocation: refused again" in text
    assert result.applied is False


def test_an_input_rejected_whole_is_the_whole_input_not_record_none():
    reason = "object: not UTF-8 text (UTF-16); nothing from this input was applied"
    rejected = outcome(
        "rejected", batch_id="s3-ab12", rejected=[{"index": None, "trade_id": None,
                                                   "reason": reason}], rejected_total=1,
    )  # fmt: skip
    text, result = rendered({"batches": [rejected]}, invoke=False)
    assert "REJECTED as a whole: nothing applied (kept under rejected/ of the archive)" in text
    assert f"  the whole input: {reason}\n" in text
    assert "record None" not in text and "trade_id None" not in text
    assert result.applied is False


def test_records_are_listed_by_index_and_trade_id():
    applied = outcome(
        "applied", batch_id="desk-7", accepted=2, rejected_total=2,
        rejected=[{"index": 2, "trade_id": "d3", "reason": "price: '-1' is not positive"},
                  {"index": 4, "trade_id": None, "reason": "missing field(s) trade_id"}],
    )  # fmt: skip
    text, result = rendered(applied, invoke=True)
    assert "Batch desk-7: 2 accepted, 2 rejected\n" in text
    assert "  record 2 (trade_id 'd3'): price: '-1' is not positive\n" in text
    assert "  record 4 (no trade_id): missing field(s) trade_id\n" in text
    assert "Redelivery of the same invocation: 2 accepted, bars unchanged" in text
    assert result.applied is True


@pytest.mark.parametrize(
    ("statuses", "applied"),
    [(["applied"], True), (["duplicate"], True), (["applied", "skipped"], False),
     (["conflict"], False), ([], False)],
)  # fmt: skip
def test_applied_means_every_batch_applied(statuses, applied):
    response = {"batches": [outcome(s) for s in statuses]}
    assert LocalRun(Options(), response=response).applied is applied
