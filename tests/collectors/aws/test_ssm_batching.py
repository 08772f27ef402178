"""Patch states in batches: lists read only where the counts show updates, errors per batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.stub import Stubber
from builders import commitment, contract

from clausewatch.checks.engine import evaluate
from clausewatch.collectors.aws.ssm import COUNTS, WANTED_STATES, PatchCollector, ReleaseDates
from clausewatch.core.evidence import CollectionError, Evidence

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
REGION = "eu-west-3"
SCANNED = AS_OF - timedelta(hours=2)
FILTERS = [{"Key": "State", "Values": WANTED_STATES}]


def _arn(iid: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid}"


def _instances(ids: list[str]) -> dict[str, Any]:
    return {"Reservations": [{"ReservationId": f"r-{i[2:]}", "OwnerId": ACCOUNT, "Instances": [
        {"InstanceId": i, "State": {"Code": 16, "Name": "running"}}]} for i in ids]}


def _state(iid: str, **counts: int) -> dict[str, Any]:
    return {"InstanceId": iid, "PatchGroup": "prod", "BaselineId": "pb-0c10e65780EXAMPLE",
            "OperationStartTime": SCANNED - timedelta(minutes=4), "OperationEndTime": SCANNED,
            "Operation": "Scan", "NotApplicableCount": 900, **counts}


def _zero(**override: int) -> dict[str, int]:
    return {**dict.fromkeys(COUNTS, 0), **override}


@contextmanager
def _region(aws_client: Any, ids: list[str]) -> Iterator[tuple[Stubber, Any]]:
    """EC2 and SSM of the region stubbed with ``ids`` running and online; yields the SSM
    stubber (to program the patch calls) and ``collect(raw)``; on exit, every programmed
    answer was asked for."""
    ec2, ssm = aws_client("ec2", REGION), aws_client("ssm", REGION)
    with Stubber(ec2) as e, Stubber(ssm) as st:
        e.add_response("describe_instances", _instances(ids), {"MaxResults": 1000})
        st.add_response("describe_instance_information", {"InstanceInformationList": [
            {"InstanceId": i, "PingStatus": "Online", "ResourceType": "EC2Instance"}
            for i in ids]}, {"MaxResults": 50})

        def collect(raw: Any) -> tuple[list[Evidence], list[CollectionError]]:
            items = list(PatchCollector(ACCOUNT, REGION, {"ec2": ec2, "ssm": ssm}.__getitem__,
                                        raw, AS_OF, ReleaseDates()).collect())
            return ([i for i in items if isinstance(i, Evidence)],
                    [i for i in items if isinstance(i, CollectionError)])

        yield st, collect
        e.assert_no_pending_responses()
        st.assert_no_pending_responses()


def _patch_lag(ev: list[Evidence], errors: list[CollectionError]) -> dict[str, Any]:
    """The ``patch_lag`` result (critical within 7 days) of each subject."""
    out = evaluate(contract(commitment("patch_lag", {"deadlines_days": {"critical": 7}})),
                   ev, errors, AS_OF).outcomes[0]
    return {r.subject: r for r in out.results}


def test_only_nodes_whose_counts_show_updates_are_listed(aws_client: Any, raw: Any) -> None:
    clean, late, old_api = "i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"
    ids = [clean, late, old_api]
    with _region(aws_client, ids) as (st, collect):
        st.add_response("describe_instance_patch_states", {"InstancePatchStates": [
            _state(clean, **_zero()),
            _state(late, **_zero(InstalledCount=1, MissingCount=1)),
            # no AvailableSecurityUpdateCount (an older answer): counts unknown, list read
            _state(old_api, **{k: 0 for k in COUNTS if k != "AvailableSecurityUpdateCount"}),
        ]}, {"InstanceIds": ids, "MaxResults": 50})
        # the clean node is not listed: the Stubber fails on any call not programmed here
        st.add_response("describe_instance_patches", {"Patches": [
            {"Title": "KB5044281", "KBId": "KB5044281", "Classification": "SecurityUpdates",
             "Severity": "Critical", "State": "MISSING",
             "InstalledTime": datetime(1970, 1, 1, tzinfo=UTC)},
            {"Title": "KB5043050", "KBId": "KB5043050", "Classification": "SecurityUpdates",
             "Severity": "Critical", "State": "INSTALLED",
             "InstalledTime": AS_OF - timedelta(days=3)}]},
            {"InstanceId": late, "Filters": FILTERS, "MaxResults": 100})
        st.add_response("describe_instance_patches", {"Patches": []},
                        {"InstanceId": old_api, "Filters": FILTERS, "MaxResults": 100})
        st.add_response("describe_available_patches", {"Patches": [
            {"Id": "1", "KbNumber": "KB5044281", "ReleaseDate": AS_OF - timedelta(days=20)},
            {"Id": "2", "KbNumber": "KB5043050", "ReleaseDate": AS_OF - timedelta(days=40)}]},
            {"Filters": [{"Key": "PATCH_ID", "Values": ["KB5043050", "KB5044281"]}]})
        ev, errors = collect(raw)
    assert errors == []
    assets = {x.subject: x for x in ev if x.kind == "asset"}
    patches = {(x.subject, x.facts["update_id"]): x for x in ev if x.kind == "patch"}
    # the clean node: its own record, its own assessment time, the counts it rests on
    facts = assets[_arn(clean)].facts
    assert facts["patch_assessed_at"] == SCANNED
    assert facts["patch_counts"] == _zero() and facts["patch_state_ref"].startswith(
        "raw/aws.ssm/aws/123456789012/eu-west-3/DescribeInstancePatchStates-0001.json#sha256=")
    # the node with updates still gets one record per update, observed at its scan
    missing = patches[(_arn(late), "KB5044281")]
    assert missing.facts["state"] == "missing" and missing.observed_at == SCANNED
    assert patches[(_arn(late), "KB5043050")].facts["installed_at"] == AS_OF - timedelta(days=3)
    assert "patch_counts" not in assets[_arn(late)].facts
    assert assets[_arn(old_api)].facts["patch_assessed_at"] == SCANNED
    # the verdicts: the clean node compliant on its own asset record, the late one breached
    by = _patch_lag(ev, errors)
    assert by[_arn(clean)].status.value == "compliant"
    assert by[_arn(clean)].evidence_ids == (assets[_arn(clean)].id,)
    assert by[_arn(late)].status.value == "breached"
    assert missing.id in by[_arn(late)].evidence_ids


def test_a_throttled_batch_covers_exactly_its_nodes(aws_client: Any, raw: Any) -> None:
    ids = [f"i-{n:017x}" for n in range(60)]
    first, second = ids[:50], ids[50:]
    with _region(aws_client, ids) as (st, collect):
        st.add_client_error("describe_instance_patch_states", "ThrottlingException",
                            "Rate exceeded", 400,
                            expected_params={"InstanceIds": first, "MaxResults": 50})
        st.add_response("describe_instance_patch_states", {"InstancePatchStates": [
            _state(i, **_zero()) for i in second]}, {"InstanceIds": second, "MaxResults": 50})
        ev, errors = collect(raw)
    assert sorted(x.subject for x in errors) == sorted(_arn(i) for i in first)
    assert {(x.operation, x.kinds, x.retryable) for x in errors} == {
        ("DescribeInstancePatchStates", ("patch",), True)}
    assessed = {x.subject: x.facts["patch_assessed_at"] for x in ev if x.kind == "asset"}
    assert all(assessed[_arn(i)] is None for i in first)
    assert all(assessed[_arn(i)] == SCANNED for i in second)
    status = {subject: r.status.value for subject, r in _patch_lag(ev, errors).items()}
    assert {status[_arn(i)] for i in first} == {"no_evidence"}
    assert {status[_arn(i)] for i in second} == {"compliant"}
