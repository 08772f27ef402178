"""Through the one pipeline: a collector reporting two errors on one source and origin (AWS
AccessDenied on a whole account, throttling, read timeouts) is judged, written and recorded."""

from __future__ import annotations

import json
import sqlite3

from builders import AS_OF, commitment, contract, days_ago, ev

from clausewatch.core.evidence import CollectionError
from clausewatch.pipeline.nightly import Nightly
from clausewatch.pipeline.run import Gathered, Run, execute

ORIGIN = "aws/111111111111/eu-west-1"


def test_two_errors_on_one_origin_record_cleanly(tmp_path):
    errors = [
        CollectionError(source="aws.ec2", origin=ORIGIN, kinds=("asset", "patch"),
                        operation="DescribeInstances", message="RequestLimitExceeded"),
        CollectionError(source="aws.ec2", origin=ORIGIN, kinds=("asset", "patch"),
                        operation="DescribeInstances", message="ReadTimeoutError"),
        CollectionError(source="aws.ec2", origin=ORIGIN + "/", kinds=("asset", "patch"),
                        message="AccessDenied"),
    ]
    other = ev("asset", "srv-other", {"asset_kind": "server", "name": "srv-other", "tags": {},
                                      "patch_assessed_at": days_ago(0, 1)},
               source="aws.ec2", origin="aws/222222222222/eu-west-1")
    k = contract(commitment("patch_lag", {"deadlines_days": {"critical": 7}}))
    history = tmp_path / "history.sqlite"
    run = Run(command="evaluate", contract=k, contract_bytes=b"contract: {}\n", as_of=AS_OF,
              started_at=AS_OF, gather=lambda _stage: Gathered(evidence=[other], errors=errors),
              out=tmp_path / "out", nightly=Nightly(history=history))
    ev_, _ = execute(run)
    (outcome,) = ev_.outcomes
    subjects = [r.subject for r in outcome.results]
    assert len(subjects) == len(set(subjects)) == 4  # srv-other and one gap per error
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(results["collection_errors"]) == 3
    with sqlite3.connect(history) as db:
        rows = db.execute("SELECT subject, status FROM results ORDER BY subject").fetchall()
    assert len(rows) == 4
    assert ("srv-other", "compliant") in rows
    assert sum(status == "no_evidence" for _, status in rows) == 3
