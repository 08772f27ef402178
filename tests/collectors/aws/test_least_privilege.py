"""docs/aws-readonly-policy.json: read-only, and the recorder that enforces it really records."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

POLICY = Path(__file__).resolve().parents[3] / "docs" / "aws-readonly-policy.json"
READ_ONLY = re.compile(r"^[a-z0-9-]+:(List|Get|Describe)[A-Za-z]*$")
#: Not named List/Get/Describe, yet change nothing: a report snapshot and a session.
ALSO_READ_ONLY = {"iam:GenerateCredentialReport", "sts:AssumeRole"}


def test_policy_grants_only_read_actions() -> None:
    doc = json.loads(POLICY.read_text(encoding="utf-8"))
    actions = [a for st in doc["Statement"] for a in st["Action"]]
    assert len(actions) == len(set(actions))
    assert [a for a in actions if not READ_ONLY.match(a) and a not in ALSO_READ_ONLY] == []
    assert not any("*" in a for a in actions)


def test_the_recorder_sees_stubbed_calls_and_flags_unlisted_ones(
    aws_client: Any, api_calls: Any, outside_policy: Any
) -> None:
    iam = aws_client("iam")
    with Stubber(iam) as st:
        st.add_response("get_account_summary", {"SummaryMap": {}})
        st.add_response("list_users", {"Users": []})
        iam.get_account_summary()
        iam.list_users()
    assert api_calls.actions == ["iam:GetAccountSummary", "iam:ListUsers"]
    assert outside_policy(api_calls.actions) == ["iam:ListUsers"]
    api_calls.actions.clear()  # this test's own deliberate violation
