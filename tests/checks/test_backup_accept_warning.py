"""backup_freshness with ``accept_warning``: a backup completed with warnings (``partial``)
counts only when the commitment says so; a failed one never does."""

from __future__ import annotations

import jsonschema
import pytest
from builders import AS_OF, asset, commitment, days_ago, ev

from clausewatch.checks.backup_freshness import PARAMS_SCHEMA, backup_freshness
from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.core.result import Status


def backup(subject, completed, outcome):
    return ev("backup", subject, {"outcome": outcome, "completed_at": completed})


def judge(records, **params):
    c = commitment("backup_freshness", {"rpo_hours": 24, **params}, asset_kinds=("server",))
    return {r.subject: r for r in backup_freshness(c, EvidenceView(records), AS_OF)}


ONLY_WARNINGS = [asset("fs01"), backup("fs01", days_ago(0, 3), "partial"),
                 backup("fs01", days_ago(1, 3), "partial")]


def test_only_warnings_are_breached_by_default():
    out = judge(ONLY_WARNINGS)["fs01"]
    assert out.status is Status.BREACHED
    assert out.reason == ("fs01: in scope but never backed up successfully (2 with warnings, "
                          "not accepted (accept_warning: false)).")
    assert out.expected == {"rpo_hours": 24.0}


def test_only_warnings_are_compliant_with_accept_warning():
    out = judge(ONLY_WARNINGS, accept_warning=True)["fs01"]
    assert out.status is Status.COMPLIANT
    assert out.reason.endswith("completed with warnings (accepted).")
    assert out.measured["last_success"] == days_ago(0, 3)
    assert out.expected == {"rpo_hours": 24.0, "accept_warning": True}


def test_failed_never_counts_even_with_accept_warning():
    out = judge([asset("db"), backup("db", days_ago(0, 1), "failed"),
                 backup("db", days_ago(0, 2), "aborted")], accept_warning=True)["db"]
    assert out.status is Status.BREACHED
    assert "(2 failed attempt(s))" in out.reason


def test_a_warning_newer_than_the_last_success_is_not_a_success_by_default():
    records = [asset("vm"), backup("vm", days_ago(0, 30), "success"),
               backup("vm", days_ago(0, 2), "partial")]
    assert judge(records)["vm"].status is Status.BREACHED  # the success is 30 h old
    assert judge(records, accept_warning=True)["vm"].status is Status.COMPLIANT


def test_the_param_is_a_boolean_in_the_schema():
    jsonschema.validate({"rpo_hours": 24, "accept_warning": True}, PARAMS_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"rpo_hours": 24, "accept_warning": "yes"}, PARAMS_SCHEMA)
